//! Debugging aid: prints each page's text as the extractor sees it (text
//! layer lines or OCR), then the extraction JSON.
//! `cargo run -p documents --example dump -- [--no-ocr] [--dpi N] <pdf>`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, path) = match documents::cli::parse_args(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::read(&path).expect("read the pdf");
    match documents::page_texts(&bytes, &opts) {
        Ok(pages) => {
            for (info, text) in pages {
                println!(
                    "=== page {} ({:?}, conf {:.0}, rotation {:.1}) ===\n{text}",
                    info.page, info.method, info.confidence, info.rotation
                );
            }
        }
        Err(e) => println!("page_texts: {e}"),
    }
    match documents::extract(&bytes, &opts) {
        Ok(x) => println!("{}", serde_json::to_string_pretty(&x).unwrap()),
        Err(e) => println!("extract: {e}"),
    }
}
