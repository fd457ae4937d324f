//! Loading a PDF without trusting it: the header check, lopdf's bounded
//! loader (object and xref streams capped at `max_inflated_bytes`), the
//! encryption and page-count checks, all under `catch_unwind`. [`inspect`]
//! is the cheap subset the upload API runs before accepting a file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lopdf::{Document, LoadOptions};

use crate::{ExtractError, Options};

/// What the upload API needs to know before storing a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfInfo {
    pub pages: u32,
    pub encrypted: bool,
}

/// Checks that `bytes` are a loadable PDF within the page limit: `not_pdf`,
/// `empty`, `corrupt`, `decompression_bomb`, `too_many_pages` otherwise. An
/// encrypted file is reported (`encrypted: true`), not refused: the caller
/// decides (extraction will fail with `encrypted`).
pub fn inspect(bytes: &[u8], opts: &Options) -> Result<PdfInfo, ExtractError> {
    let doc = load(bytes, opts)?;
    let encrypted = is_encrypted(&doc);
    let pages = doc.get_pages().len() as u32;
    if !encrypted {
        check_pages(pages, opts)?;
    }
    Ok(PdfInfo { pages, encrypted })
}

/// Loads `bytes` with every stream decoded at load time bounded by
/// `opts.max_inflated_bytes`. Lenient: lopdf repairs broken xref tables.
pub(crate) fn load(bytes: &[u8], opts: &Options) -> Result<Document, ExtractError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::new("empty", "the file is empty"));
    }
    // The spec allows junk before the header (within the first 1 KB).
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(ExtractError::new(
            "not_pdf",
            "the file does not start with a %PDF- header",
        ));
    }
    let options = LoadOptions {
        max_decompressed_size: Some(limit(opts)),
        ..LoadOptions::default()
    };
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        Document::load_mem_with_options(bytes, options)
    }));
    let doc = match loaded {
        Err(_) => {
            return Err(ExtractError::new(
                "corrupt",
                "the PDF parser gave up on this file (panic)",
            ))
        }
        Ok(Err(e)) => return Err(classify(&e)),
        Ok(Ok(doc)) => doc,
    };
    if !is_encrypted(&doc) && doc.get_pages().is_empty() {
        return Err(ExtractError::new(
            "corrupt",
            "the PDF has no pages (damaged page tree?)",
        ));
    }
    Ok(doc)
}

/// Encrypted with a password we do not have. lopdf opens files whose user
/// password is empty by itself (they keep `encryption_state`, but their
/// objects are decrypted), so only a remaining `/Encrypt` counts.
pub(crate) fn is_encrypted(doc: &Document) -> bool {
    doc.is_encrypted() && doc.encryption_state.is_none()
}

pub(crate) fn check_pages(pages: u32, opts: &Options) -> Result<(), ExtractError> {
    if pages > opts.max_pages {
        return Err(ExtractError::new(
            "too_many_pages",
            format!("{pages} pages, more than the limit of {}", opts.max_pages),
        ));
    }
    Ok(())
}

/// The per-stream cap as lopdf wants it.
pub(crate) fn limit(opts: &Options) -> usize {
    usize::try_from(opts.max_inflated_bytes).unwrap_or(usize::MAX)
}

/// Maps a lopdf error to our codes.
pub(crate) fn classify(e: &lopdf::Error) -> ExtractError {
    use lopdf::Error as E;
    match e {
        E::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit }) => ExtractError::new(
            "decompression_bomb",
            format!("a stream inflates past the limit of {limit} bytes"),
        ),
        E::Decryption(_) | E::InvalidPassword => {
            ExtractError::new("encrypted", "the PDF is encrypted with a password")
        }
        other => ExtractError::new("corrupt", format!("the PDF cannot be read: {other}")),
    }
}

/// Decodes every Flate/LZW/... stream of the document under the cap, so a
/// bomb in an image or a font fails here and not in the renderer. Streams in
/// formats lopdf does not decode (DCT, CCITT, JBIG2, JPX) are left to the
/// renderer, which bounds them by the image size.
#[cfg(feature = "extract")]
pub(crate) fn scan_for_bombs(doc: &Document, opts: &Options) -> Result<(), ExtractError> {
    let cap = limit(opts);
    for object in doc.objects.values() {
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        if stream.dict.get(b"Filter").is_err() {
            continue;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            stream.decompressed_content_with_limit(cap)
        }));
        if let Ok(Err(
            e @ lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }),
        )) = result
        {
            return Err(classify(&e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_non_pdf() {
        let o = Options::default();
        assert_eq!(inspect(b"", &o).unwrap_err().code, "empty");
        assert_eq!(inspect(b"  \n", &o).unwrap_err().code, "empty");
        assert_eq!(inspect(b"hello, world", &o).unwrap_err().code, "not_pdf");
        assert_eq!(
            inspect(b"\x89PNG\r\n\x1a\n", &o).unwrap_err().code,
            "not_pdf"
        );
        assert_eq!(inspect(b"%PDF-1.4\n%%EOF", &o).unwrap_err().code, "corrupt");
    }
}
