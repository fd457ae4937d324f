//! The typst [`World`] reports compile in: one main template, in-memory
//! files (the data JSON, shared template parts), and fonts embedded in the
//! binary from `typst-assets` (Libertinus Serif, New Computer Modern, DejaVu
//! Sans Mono). Nothing is read from disk or the network at render time and
//! there is no system font lookup.
//!
//! File names are fixed (`main.typ`, `data.json`, …): typst interns every
//! file id for the life of the process, so per-report names would leak.

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The embedded fonts, loaded once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

/// The raw bytes of an embedded font by family name and weight (the charts
/// measure text with it).
pub fn font_bytes(family: &str, bold: bool) -> Option<&'static [u8]> {
    typst_assets::fonts().find(|data| {
        Font::iter(Bytes::new(*data)).any(|f| {
            let i = f.info();
            i.family == family
                && (i.variant.weight.to_number() >= 600) == bold
                && i.variant.style == typst::text::FontStyle::Normal
        })
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

fn file_id(name: &str) -> FileId {
    let path = VirtualPath::new(name).expect("a fixed, valid template path");
    FileId::new(RootedPath::new(VirtualRoot::Project, path))
}

/// One compilation's world: `main.typ` plus named in-memory files.
pub struct ReportWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
    today: Datetime,
}

impl ReportWorld {
    /// `main` is the template; `files` are other files it reads by name
    /// (`("data.json", bytes)`, `("common.typ", bytes)`).
    pub fn new(main: &str, files: Vec<(&'static str, Vec<u8>)>, today: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        ReportWorld {
            main: Source::new(file_id("main.typ"), main.to_string()),
            files: files
                .into_iter()
                .map(|(name, bytes)| (file_id(name), Bytes::new(bytes)))
                .collect(),
            today: Datetime::from_ymd(today.year(), today.month() as u8, today.day() as u8)
                .expect("a real date"),
        }
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_string()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
