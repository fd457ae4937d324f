//! Phone numbers to E.164, pure. Brazilian numbers are the common case and
//! arrive every way people type them: `(11) 98765-4321`, `11 8765-4321` (a
//! mobile saved before the 9th digit), `+55 11 98765 4321`, `5511987654321`,
//! `011 98765-4321`. Other countries need their `+` (or `00`) prefix.
//! An invalid number is an [`PhoneError`] the caller reports per row.

/// Why a number could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty")]
    Empty,
    #[error("has characters other than digits, spaces and + ( ) - .")]
    BadCharacters,
    #[error("wrong length for a Brazilian number ({0} digits)")]
    BadLength(usize),
    #[error("unknown Brazilian area code {0}")]
    BadAreaCode(String),
    #[error("9-digit Brazilian numbers are mobiles and start with 9")]
    BadMobile,
    #[error("an international number needs 8 to 15 digits")]
    BadInternational,
}

/// Brazil's area codes (DDD) in use.
const DDD: [u8; 67] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77,
    79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
];

/// Normalises `raw` to E.164 (`+5511987654321`).
pub fn normalize(raw: &str) -> Result<String, PhoneError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut digits = String::with_capacity(s.len());
    let mut plus = false;
    for (i, c) in s.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '(' | ')' | '-' | '.' | '\u{a0}' => {}
            _ => return Err(PhoneError::BadCharacters),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if !plus {
        if let Some(rest) = digits.strip_prefix("00") {
            // international call prefix: 00 55 11 ...
            plus = true;
            digits = rest.to_string();
        }
    }
    if plus {
        if let Some(national) = digits.strip_prefix("55") {
            return brazil(national);
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::BadInternational);
        }
        return Ok(format!("+{digits}"));
    }
    // No country code given: Brazilian. `55` + DDD + number is 12 or 13 digits;
    // a national number is 10 or 11; a trunk `0` makes 11 or 12.
    match digits.len() {
        12 | 13 if digits.starts_with("55") => brazil(&digits[2..]),
        11 | 12 if digits.starts_with('0') => brazil(&digits[1..]),
        _ => brazil(&digits),
    }
}

/// DDD + subscriber number (10 or 11 digits) → `+55…`, adding the mobile 9th digit.
fn brazil(national: &str) -> Result<String, PhoneError> {
    let n = national.len();
    if n != 10 && n != 11 {
        return Err(PhoneError::BadLength(n));
    }
    let ddd = &national[..2];
    if !DDD.contains(&ddd.parse::<u8>().unwrap_or(0)) {
        return Err(PhoneError::BadAreaCode(ddd.to_string()));
    }
    let sub = &national[2..];
    match sub.len() {
        9 if sub.starts_with('9') => Ok(format!("+55{national}")),
        9 => Err(PhoneError::BadMobile),
        // 8 digits starting 6-9: a mobile written without its 9th digit (Anatel, 2016).
        _ if matches!(sub.as_bytes()[0], b'6'..=b'9') => Ok(format!("+55{ddd}9{sub}")),
        // 2-5: a landline (WhatsApp Business can live on one).
        _ if matches!(sub.as_bytes()[0], b'2'..=b'5') => Ok(format!("+55{national}")),
        _ => Err(PhoneError::BadLength(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brazilian_mobiles_in_every_spelling() {
        for raw in [
            "+55 11 98765-4321",
            "+5511987654321",
            "5511987654321",
            "(11) 98765-4321",
            "11987654321",
            "011 98765 4321",
            "0055 11 98765.4321",
            "11 8765-4321",
            "+55 (11) 8765-4321",
            "55 11 8765 4321",
        ] {
            assert_eq!(normalize(raw).as_deref(), Ok("+5511987654321"), "{raw}");
        }
    }

    #[test]
    fn landlines_keep_eight_digits() {
        assert_eq!(normalize("(81) 3222-1234").as_deref(), Ok("+558132221234"));
        assert_eq!(
            normalize("+55 81 3222 1234").as_deref(),
            Ok("+558132221234")
        );
    }

    #[test]
    fn other_countries_need_their_prefix() {
        assert_eq!(
            normalize("+1 (415) 555-2671").as_deref(),
            Ok("+14155552671")
        );
        assert_eq!(
            normalize("00351 912 345 678").as_deref(),
            Ok("+351912345678")
        );
        assert_eq!(normalize("+1234"), Err(PhoneError::BadInternational));
    }

    #[test]
    fn invalid_numbers_say_why() {
        assert_eq!(normalize("  "), Err(PhoneError::Empty));
        assert_eq!(normalize("11 9876-abcd"), Err(PhoneError::BadCharacters));
        assert_eq!(normalize("98765-4321"), Err(PhoneError::BadLength(9)));
        assert_eq!(
            normalize("(20) 98765-4321"),
            Err(PhoneError::BadAreaCode("20".into()))
        );
        assert_eq!(normalize("(11) 88765-4321"), Err(PhoneError::BadMobile));
        assert_eq!(normalize("+55 11 987654"), Err(PhoneError::BadLength(8)));
        assert_eq!(normalize("11 1765-4321"), Err(PhoneError::BadLength(10)));
    }
}
