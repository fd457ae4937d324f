//! `worker extract [flags] <path>`: reads one file, extracts it and prints
//! exactly one line of JSON ([`ExtractOutput`]) on stdout. The worker runs it
//! as a subprocess with rlimits and a timeout, so a crash or a runaway file
//! fails only that job. Exit status 0 for a result *or* an extraction error
//! (both are answers); 2 for bad usage.

use crate::{extract_with_text, DocType, ExtractError, ExtractOutput, Options};

const USAGE: &str = "usage: worker extract [--max-pages N] [--max-inflated-bytes N] [--no-ocr] \
[--languages por+eng] [--dpi 300] [--grade-scale-max 10] [--doc-type boletim|historico] \
[--page-text N] <path>";

/// Runs the subcommand; `args` exclude the program and the subcommand names.
/// `--page-text N` (the LLM fallback's input) first prints one line
/// `{"page_text": [...]}` with each page's text, at most N chars in all, when
/// the extraction gives a result; the result stays the last line.
pub fn run(args: &[String]) -> i32 {
    let (page_text, args) = match page_text_flag(args) {
        Ok(split) => split,
        Err(msg) => {
            eprintln!("worker extract: {msg}\n{USAGE}");
            return 2;
        }
    };
    let (opts, path) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(msg) => {
            eprintln!("worker extract: {msg}\n{USAGE}");
            return 2;
        }
    };
    let output = match std::fs::read(&path) {
        Ok(bytes) => match extract_with_text(&bytes, &opts) {
            Ok((extraction, texts)) => {
                if let Some(max) = page_text {
                    let texts = cap_chars(texts, max);
                    if let Ok(line) =
                        serde_json::to_string(&serde_json::json!({ "page_text": texts }))
                    {
                        println!("{line}");
                    }
                }
                ExtractOutput::Ok(Box::new(extraction))
            }
            Err(e) => ExtractOutput::Error(e),
        },
        Err(e) => ExtractOutput::Error(ExtractError::new(
            "internal",
            format!("cannot read {path}: {e}"),
        )),
    };
    match serde_json::to_string(&output) {
        Ok(line) => println!("{line}"),
        Err(e) => println!(
            "{}",
            serde_json::json!({"error": {"code": "internal", "message": format!("cannot encode the result: {e}")}})
        ),
    }
    0
}

/// Takes `--page-text N` out of `args` (it is not an extraction option).
fn page_text_flag(args: &[String]) -> Result<(Option<usize>, Vec<String>), String> {
    let mut rest = Vec::new();
    let mut max = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--page-text" {
            let v = it.next().ok_or("--page-text needs a value")?;
            max = Some(number("--page-text", v)?);
        } else if let Some(v) = a.strip_prefix("--page-text=") {
            max = Some(number("--page-text", v)?);
        } else {
            rest.push(a.clone());
        }
    }
    Ok((max, rest))
}

/// The pages' texts, cut so that together they hold at most `max` chars.
pub fn cap_chars(texts: Vec<String>, max: usize) -> Vec<String> {
    let mut left = max;
    texts
        .into_iter()
        .map(|t| {
            let kept: String = t.chars().take(left).collect();
            left -= kept.chars().count();
            kept
        })
        .collect()
}

/// Flags to [`Options`], plus the one positional path.
pub fn parse_args(args: &[String]) -> Result<(Options, String), String> {
    let mut opts = Options::default();
    let mut path = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "--max-pages" => opts.max_pages = number(flag, &value(flag)?)?,
            "--max-inflated-bytes" => opts.max_inflated_bytes = number(flag, &value(flag)?)?,
            "--no-ocr" => opts.ocr = false,
            "--languages" => opts.languages = value(flag)?,
            "--dpi" => opts.dpi = number(flag, &value(flag)?)?,
            "--grade-scale-max" => opts.grade_scale_max = number(flag, &value(flag)?)?,
            "--doc-type" => {
                opts.doc_type = Some(match value(flag)?.as_str() {
                    "boletim" => DocType::Boletim,
                    "historico" => DocType::Historico,
                    other => return Err(format!("--doc-type: unknown type {other:?}")),
                })
            }
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown flag {f}")),
            _ if path.is_none() => path = Some(arg.clone()),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if !(72..=1200).contains(&opts.dpi) {
        return Err("--dpi must be within 72..=1200".into());
    }
    if opts.grade_scale_max.is_nan() || opts.grade_scale_max <= 0.0 {
        return Err("--grade-scale-max must be positive".into());
    }
    let path = path.ok_or("missing <path>")?;
    Ok((opts, path))
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag}: not a number: {v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_map_to_options() {
        let (o, p) = parse_args(&args(
            "--max-pages 3 --max-inflated-bytes=1000 --no-ocr --languages por --dpi 200 \
             --grade-scale-max 100 --doc-type historico f.pdf",
        ))
        .unwrap();
        assert_eq!(p, "f.pdf");
        assert_eq!(o.max_pages, 3);
        assert_eq!(o.max_inflated_bytes, 1000);
        assert!(!o.ocr);
        assert_eq!(o.languages, "por");
        assert_eq!(o.dpi, 200);
        assert_eq!(o.grade_scale_max, 100.0);
        assert_eq!(o.doc_type, Some(DocType::Historico));
    }

    #[test]
    fn usage_errors_return_2() {
        assert!(parse_args(&args("--dpi")).is_err());
        assert!(parse_args(&args("--bogus x.pdf")).is_err());
        assert!(parse_args(&args("--max-pages x f.pdf")).is_err());
        assert!(parse_args(&args("")).is_err());
        assert_eq!(run(&args("--doc-type nope f.pdf")), 2);
        assert_eq!(run(&args("--page-text x f.pdf")), 2);
    }

    #[test]
    fn page_text_is_taken_out_and_capped() {
        let (max, rest) = page_text_flag(&args("--no-ocr --page-text 5 f.pdf")).unwrap();
        assert_eq!((max, rest), (Some(5), args("--no-ocr f.pdf")));
        let (max, _) = page_text_flag(&args("--page-text=7 f.pdf")).unwrap();
        assert_eq!(max, Some(7));
        let texts = vec!["Matemática".to_string(), "História".to_string()];
        assert_eq!(cap_chars(texts.clone(), 12), ["Matemática", "Hi"]);
        assert_eq!(cap_chars(texts, 4), ["Mate", ""]);
    }
}
