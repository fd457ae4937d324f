//! PDF output: compiles a typst template over a data JSON in a
//! [`ReportWorld`], and concatenates batch PDFs into one document (lopdf),
//! so a 1,000-student class is laid out 25 students at a time instead of as
//! one giant document in memory.

use std::collections::BTreeMap;

use lopdf::{Document, Object, ObjectId};
use typst::diag::Severity;

use jobs::kinds::reports::branding::Logo;

use crate::world::ReportWorld;

const COMMON: &str = include_str!("../templates/common.typ");

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The template did not compile (a bug in a template, or data it did not expect).
    #[error("template error: {0}")]
    Template(String),
    #[error("PDF export: {0}")]
    Export(String),
    #[error("PDF merge: {0}")]
    Merge(String),
}

/// A compiled PDF and its page count.
pub struct Pdf {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Compiles `template` (which imports `common.typ` and reads `data.json`;
/// the tenant's `logo`, when given, is the file `logo`).
pub fn compile(
    template: &str,
    data: &serde_json::Value,
    today: chrono::NaiveDate,
    logo: Option<&Logo>,
) -> Result<Pdf, PdfError> {
    let json = serde_json::to_vec(data).map_err(|e| PdfError::Template(e.to_string()))?;
    let mut files = vec![
        ("common.typ", COMMON.as_bytes().to_vec()),
        ("data.json", json),
    ];
    if let Some(logo) = logo {
        files.push(("logo", logo.bytes.clone()));
    }
    let world = ReportWorld::new(template, files, today);
    // The document type (typst_layout's PagedDocument) is inferred from typst_pdf::pdf.
    let out = typst::compile(&world);
    let doc = out.output.map_err(|diags| {
        PdfError::Template(
            diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let options = typst_pdf::PdfOptions {
        // Batches are concatenated: a structure tree per batch would not survive the merge.
        tagged: false,
        ..Default::default()
    };
    let bytes = typst_pdf::pdf(&doc, &options).map_err(|diags| {
        PdfError::Export(
            diags
                .iter()
                .map(|d| d.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let pages = doc.pages().len();
    drop(doc);
    // typst memoises layouts across compilations; a long render must not keep them all.
    typst::comemo::evict(0);
    Ok(Pdf { bytes, pages })
}

fn merr(e: impl std::fmt::Display) -> PdfError {
    PdfError::Merge(e.to_string())
}

/// Appends `more`'s pages to `base` (both typst output): its objects are
/// renumbered past `base`'s, its pages re-parented under `base`'s page tree.
pub fn append(base: &mut Document, mut more: Document) -> Result<(), PdfError> {
    more.renumber_objects_with(base.max_id + 1);
    let root_pages = base
        .catalog()
        .map_err(merr)?
        .get(b"Pages")
        .and_then(Object::as_reference)
        .map_err(merr)?;
    let pages: Vec<ObjectId> = more.get_pages().into_values().collect();
    let skip: Vec<ObjectId> = more
        .objects
        .iter()
        .filter(|(_, o)| {
            o.as_dict()
                .ok()
                .and_then(|d| d.get(b"Type").ok())
                .and_then(|t| t.as_name().ok())
                .is_some_and(|t| t == b"Catalog" || t == b"Pages")
        })
        .map(|(id, _)| *id)
        .collect();
    let objects: BTreeMap<ObjectId, Object> = std::mem::take(&mut more.objects)
        .into_iter()
        .filter(|(id, _)| !skip.contains(id))
        .collect();
    base.max_id = base.max_id.max(more.max_id);
    base.objects.extend(objects);
    for p in &pages {
        if let Ok(Object::Dictionary(d)) = base.get_object_mut(*p) {
            d.set("Parent", Object::Reference(root_pages));
        }
    }
    let tree = base
        .get_object_mut(root_pages)
        .and_then(Object::as_dict_mut)
        .map_err(merr)?;
    let mut kids = tree
        .get(b"Kids")
        .and_then(Object::as_array)
        .cloned()
        .unwrap_or_default();
    kids.extend(pages.iter().map(|p| Object::Reference(*p)));
    let count = kids.len() as i64;
    tree.set("Kids", Object::Array(kids));
    tree.set("Count", Object::Integer(count));
    Ok(())
}

/// Concatenates PDFs read one at a time from `parts` into `out`.
pub fn concat<W: std::io::Write>(
    parts: impl IntoIterator<Item = Result<Vec<u8>, std::io::Error>>,
    out: &mut W,
) -> Result<usize, PdfError> {
    let mut base: Option<Document> = None;
    for part in parts {
        let bytes = part.map_err(merr)?;
        let doc = Document::load_mem(&bytes).map_err(merr)?;
        match &mut base {
            None => base = Some(doc),
            Some(b) => append(b, doc)?,
        }
    }
    let mut doc = base.ok_or_else(|| PdfError::Merge("nothing to merge".into()))?;
    let pages = doc.get_pages().len();
    doc.save_to(out).map_err(merr)?;
    Ok(pages)
}
