//! `AppJson` and `AppQuery`: axum's extractors with our error shape. Malformed
//! JSON is a 400 `malformed_json`, a well-formed body of the wrong shape a 422
//! `invalid_body` naming the field, a body over `api.body_limit` a 413.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// JSON body in, JSON body out, errors in our shape.
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // `Bytes` honours `DefaultBodyLimit`, set from `api.body_limit` in routes/mod.rs.
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "request body is over the size limit",
                )
            } else {
                ApiError::bad_request("unreadable_body", e.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON; syntax errors are 400, shape errors 422 with the field path.
/// What PostgreSQL cannot store or give back (see [`unstorable`]) is a 422 here,
/// not a 500 deep inside a handler or on every later read of the row.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(why) = unstorable(bytes) {
        return Err(ApiError::invalid_field("invalid_body", "body", why));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(de);
    value.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            ApiError::invalid_field("invalid_body", &field, inner.to_string())
        } else {
            ApiError::bad_request(
                "malformed_json",
                format!("request body is not valid JSON: {inner}"),
            )
        }
    })
}

/// A 422 when an uploaded text (CSV, a form field) holds a NUL byte: PostgreSQL's
/// text cannot store it, so it must be refused before anything is parsed or written.
pub fn refuse_nul(bytes: &[u8], field: &str) -> Result<(), ApiError> {
    if bytes.contains(&0) {
        return Err(ApiError::invalid_field(
            "invalid_body",
            field,
            "text may not contain NUL bytes",
        ));
    }
    Ok(())
}

/// What a JSON text holds that PostgreSQL cannot store or give back, found in one
/// pass over the bytes (no second parse): an escaped NUL (`\u0000`) inside a string
/// (text and jsonb cannot hold NUL), or a number of magnitude 1e300 or more (jsonb
/// keeps it as an exact numeric, which does not read back into an f64: the row would
/// then fail every later read). Numbers inside strings are text and are not looked at.
fn unstorable(bytes: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => {
                    if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                        return Some("strings may not contain NUL (\\u0000)");
                    }
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'-' | b'0'..=b'9' => {
                let (len, magnitude) = number_magnitude(&bytes[i..]);
                if magnitude >= 300 {
                    return Some("numbers must lie between -1e300 and 1e300");
                }
                i += len.max(1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The length of the number token at the start of `t` and its decimal order of
/// magnitude (`1234.5` → 3, `0.01` → -2, `5e10` → 10; 0 for zero).
fn number_magnitude(t: &[u8]) -> (usize, i64) {
    let mut i = usize::from(t.first() == Some(&b'-'));
    let (mut int_digits, mut leading_zeros, mut seen_nonzero) = (0i64, 0i64, false);
    while i < t.len() && t[i].is_ascii_digit() {
        if t[i] != b'0' || seen_nonzero {
            seen_nonzero = true;
            int_digits += 1;
        }
        i += 1;
    }
    if i < t.len() && t[i] == b'.' {
        i += 1;
        while i < t.len() && t[i].is_ascii_digit() {
            if !seen_nonzero {
                if t[i] == b'0' {
                    leading_zeros += 1;
                } else {
                    seen_nonzero = true;
                }
            }
            i += 1;
        }
    }
    let mut exp: i64 = 0;
    if i < t.len() && (t[i] == b'e' || t[i] == b'E') {
        i += 1;
        let neg = t.get(i) == Some(&b'-');
        if matches!(t.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        while i < t.len() && t[i].is_ascii_digit() {
            exp = (exp * 10 + i64::from(t[i] - b'0')).min(1_000_000);
            i += 1;
        }
        if neg {
            exp = -exp;
        }
    }
    let magnitude = if !seen_nonzero {
        0
    } else if int_digits > 0 {
        int_digits - 1 + exp
    } else {
        -(leading_zeros + 1) + exp
    };
    (i, magnitude)
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string, errors in our shape (400 `invalid_query`).
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| AppQuery(q))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_escaped_nul_is_found_and_an_escaped_backslash_is_not() {
        assert!(unstorable(br#"{"a": "x\u0000y"}"#).is_some());
        assert!(unstorable(br#"{"a\u0000": 1}"#).is_some());
        assert!(unstorable(br#"{"a": "\\\u0000"}"#).is_some());
        assert!(unstorable(br#"{"a": "\\u0000"}"#).is_none());
        assert!(unstorable(br#"{"a": "u0000", "b": "\"u0000"}"#).is_none());
    }

    #[test]
    fn numbers_jsonb_cannot_give_back_are_found_outside_strings_only() {
        for bad in [
            "1.7976931348623157e+308",
            "-1e300",
            "1E+300",
            "0.5e301",
            "1000e297",
        ] {
            let body = format!(r#"{{"a": [{bad}]}}"#);
            assert!(unstorable(body.as_bytes()).is_some(), "{bad}");
        }
        for ok in [
            "1e299",
            "-7.4e-305",
            "5e-324",
            "0",
            "-0.0",
            "506063840288184205312",
            "0.000001e5",
        ] {
            let body = format!(r#"{{"a": [{ok}]}}"#);
            assert!(unstorable(body.as_bytes()).is_none(), "{ok}");
        }
        assert!(unstorable(br#"{"a": "1e999"}"#).is_none());
    }

    #[test]
    fn a_nul_byte_in_uploaded_text_is_a_422_naming_the_field() {
        let e = refuse_nul(b"a,b\n1,\0\n", "file").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (422, "invalid_body"));
        assert_eq!(e.details["field"], "file");
        assert!(refuse_nul("nome;média\n".as_bytes(), "file").is_ok());
    }

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
    }

    #[test]
    fn syntax_error_is_400_and_shape_error_names_field() {
        let e = parse_json::<Body>(b"{\"n\": ").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (400, "malformed_json"));
        let e = parse_json::<Body>(b"{\"n\": \"x\"}").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (422, "invalid_body"));
        assert_eq!(e.details["field"], "n");
    }
}
