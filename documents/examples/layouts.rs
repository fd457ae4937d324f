//! Measurement driver for the layout families (issue 14):
//!
//! `layouts <dir> [name-substring] [-v]` — extracts every document
//! `tests/layouts/gen_layouts.py` and/or `tests/layouts/gen_families.py`
//! wrote into `<dir>` (those whose name contains the substring, e.g.
//! `famtune` for the new tune families only), prints the Markdown report of
//! `tests/layouts/measure.rs` (per split, per family, time per page,
//! look-alikes) and, with `-v`, every wrong field.
//! `layouts <dir> <file.pdf> --text` prints the file's lines as the parser
//! sees them; `layouts <dir> <file.pdf> --json` its extraction.
//! `bench/documents_layouts.sh` generates the set and runs it.

#[path = "../tests/common/score.rs"]
mod score;

#[path = "../tests/layouts/measure.rs"]
mod measure;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: layouts <dir> [name-substring] [-v]");
        std::process::exit(2);
    };
    let verbose = args.iter().any(|a| a == "-v");
    if args.iter().any(|a| a == "--json") {
        // The extraction of one file, as JSON.
        let bytes = std::fs::read(&args[1]).expect("file");
        match documents::extract(&bytes, &documents::Options::default()) {
            Ok(x) => println!("{}", serde_json::to_string(&x).unwrap()),
            Err(e) => println!("error {e}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--text") {
        // The lines as the parser sees them, for one file.
        let bytes = std::fs::read(&args[1]).expect("file");
        for (info, text) in documents::page_texts(&bytes, &documents::Options::default()).unwrap() {
            println!("--- page {} ({:?})\n{text}", info.page, info.method);
        }
        return;
    }
    let filter = args
        .iter()
        .skip(1)
        .find(|a| *a != "-v" && *a != "--text")
        .cloned()
        .unwrap_or_default();
    let out = measure::run_dir(std::path::Path::new(dir), |n| n.contains(&filter));
    if verbose {
        for o in &out {
            let verdict = match &o.result {
                Err(e) => format!("error {e}"),
                Ok(x) => format!(
                    "{} {:?}",
                    o.verdict(),
                    serde_json::to_value(x).unwrap()["review_reasons"]
                ),
            };
            println!("## {} {}/{} {verdict}", o.name, o.right, o.total);
            for w in o.wrong.iter().take(12) {
                println!("   {w}");
            }
        }
    }
    print!("{}", measure::report(&out));
}
