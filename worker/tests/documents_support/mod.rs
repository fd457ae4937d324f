//! Test PDFs written byte by byte (no generator, no fonts to install): text
//! in Helvetica (a standard font, WinAnsi encoding, so `º`, `ç`, `ã` are one
//! byte each), every table cell placed at its own x, y; plus the broken files
//! of issue #7 (not a PDF, truncated, corrupt, a decompression bomb). Shared
//! by worker/tests/documents.rs and api-lite/tests/documents.rs (via `#[path]`).
#![allow(dead_code)]

use std::io::Write;

/// One piece of text: x, y (points from the bottom left), size, text.
pub type Cell = (f32, f32, f32, &'static str);

/// Latin-1 bytes of `s` (WinAnsi agrees on the accented letters used here).
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            let n = c as u32;
            assert!(n < 256, "{c:?} is not in Latin-1");
            n as u8
        })
        .collect()
}

fn escape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// A PDF of `pages` (each a list of cells), objects with a correct xref.
pub fn pdf(pages: &[Vec<(f32, f32, f32, String)>]) -> Vec<u8> {
    // 1 catalog, 2 pages, 3 font, then per page: page object, contents.
    let mut objs: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    objs.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objs.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objs.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, cells) in pages.iter().enumerate() {
        let mut content = Vec::new();
        for (x, y, size, text) in cells {
            write!(content, "BT /F1 {size} Tf {x} {y} Td (").unwrap();
            content.extend(escape(&latin1(text)));
            content.extend_from_slice(b") Tj ET\n");
        }
        objs.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend_from_slice(b"\nendstream");
        objs.push(stream);
    }
    assemble(&objs)
}

fn assemble(objs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).unwrap();
    for off in offsets {
        writeln!(out, "{off:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objs.len() + 1
    )
    .unwrap();
    out
}

fn cells(list: &[Cell]) -> Vec<(f32, f32, f32, String)> {
    list.iter()
        .map(|(x, y, s, t)| (*x, *y, *s, t.to_string()))
        .collect()
}

/// One subject row of [`boletim`]: name, four terms, média, faltas, frequência, situação.
pub struct Row {
    pub name: &'static str,
    pub code: &'static str,
    pub terms: [&'static str; 4],
    pub final_grade: &'static str,
    pub absences: &'static str,
    pub freq: &'static str,
}

pub const ROWS: [Row; 3] = [
    Row {
        name: "Matemática",
        code: "matematica",
        terms: ["7,5", "8,0", "6,5", "9,0"],
        final_grade: "7,8",
        absences: "4",
        freq: "95,0",
    },
    Row {
        name: "Língua Portuguesa",
        code: "lingua-portuguesa",
        terms: ["8,5", "9,0", "7,0", "8,0"],
        final_grade: "8,1",
        absences: "2",
        freq: "97,5",
    },
    Row {
        name: "História",
        code: "historia",
        terms: ["5,0", "6,0", "4,5", "5,5"],
        final_grade: "5,3",
        absences: "12",
        freq: "85,0",
    },
];

/// A one-page text boletim in table layout for `registration`
/// (student "Maria Clara Souza", year 2024).
pub fn boletim(registration: &'static str) -> Vec<u8> {
    let mut page = cells(&[
        (50.0, 780.0, 14.0, "ESCOLA MUNICIPAL MONTEIRO LOBATO"),
        (50.0, 750.0, 12.0, "BOLETIM ESCOLAR - ANO LETIVO 2024"),
        (50.0, 725.0, 10.0, "Aluno(a): Maria Clara Souza"),
        (50.0, 709.0, 10.0, "Data de Nascimento: 10/05/2012"),
        (350.0, 709.0, 10.0, "Turma: 6º Ano A"),
    ]);
    page.push((350.0, 725.0, 10.0, format!("Matrícula: {registration}")));
    let cols = [50.0, 180.0, 225.0, 270.0, 315.0, 360.0, 405.0, 450.0, 505.0];
    let header = [
        "Disciplina",
        "1º Bim",
        "2º Bim",
        "3º Bim",
        "4º Bim",
        "Média",
        "Faltas",
        "Freq. (%)",
        "Situação",
    ];
    let mut y = 680.0;
    for (x, h) in cols.iter().zip(header) {
        page.push((*x, y, 9.0, h.to_string()));
    }
    for r in &ROWS {
        y -= 20.0;
        let status = if r.final_grade < "6" {
            "Reprovado"
        } else {
            "Aprovado"
        };
        let values = [
            r.name,
            r.terms[0],
            r.terms[1],
            r.terms[2],
            r.terms[3],
            r.final_grade,
            r.absences,
            r.freq,
            status,
        ];
        for (x, v) in cols.iter().zip(values) {
            page.push((*x, y, 10.0, v.to_string()));
        }
    }
    page.push((50.0, y - 30.0, 10.0, "Frequência Global: 92,5%".to_string()));
    pdf(&[page])
}

/// A valid PDF of `n` pages with a line of text each.
pub fn pages(n: usize) -> Vec<u8> {
    let pages: Vec<_> = (0..n)
        .map(|i| vec![(50.0, 800.0, 12.0, format!("Página {}", i + 1))])
        .collect();
    pdf(&pages)
}

/// The first 200 bytes of a valid boletim: the catalog, no page, no xref,
/// no trailer. (Cut inside the content stream instead, see [`cut_in_content`].)
pub fn truncated() -> Vec<u8> {
    boletim("1")[..200].to_vec()
}

/// A boletim cut in the middle of its page content (no xref, no trailer).
pub fn cut_in_content() -> Vec<u8> {
    let full = boletim("1");
    let at = full
        .windows(6)
        .position(|w| w == b"stream")
        .expect("the boletim has a content stream")
        + 40;
    full[..at].to_vec()
}

/// A PDF header and then noise: no object can be read.
pub fn corrupt() -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        out.push((x >> 16) as u8);
    }
    out.extend_from_slice(b"\n%%EOF\n");
    out
}

/// One page whose content stream inflates to `mib` MiB of spaces (Flate).
pub fn bomb(mib: usize) -> Vec<u8> {
    // A stored-block-free deflate of spaces: zlib via a tiny encoder is not at
    // hand, so use fixed-Huffman runs written by `deflate_spaces`.
    let data = deflate_spaces(mib << 20);
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_vec(),
    ];
    let mut stream = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        data.len()
    )
    .into_bytes();
    stream.extend(data);
    stream.extend_from_slice(b"\nendstream");
    objs.push(stream);
    assemble(&objs)
}

/// A zlib stream of `n` spaces: one literal, then back-references of length
/// 258 at distance 1, in fixed-Huffman blocks (about 1 bit per 258 bytes... a
/// little more, so ~ n/1000 bytes).
fn deflate_spaces(n: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        len: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, bits: u32) {
            self.acc |= (value as u64) << self.len;
            self.len += bits;
            while self.len >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.len -= 8;
            }
        }
        /// Huffman codes are sent most significant bit first.
        fn code(&mut self, code: u32, bits: u32) {
            let mut rev = 0;
            for i in 0..bits {
                rev |= ((code >> i) & 1) << (bits - 1 - i);
            }
            self.put(rev, bits);
        }
    }
    let mut b = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        len: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman
    b.code(0x30 + 32, 8); // literal ' ' (0-143: 0x30 + value, 8 bits)
    let mut left = n - 1;
    while left >= 258 {
        b.code(0b1100_0101, 8); // length code 285 (280-287: 0xC0 + (code-280), 8 bits) = 258
        b.code(0, 5); // distance code 0 = 1
        left -= 258;
    }
    while left >= 3 {
        let l = left.min(10) as u32; // length codes 257-264 = lengths 3-10, 7 bits
        b.code(l - 3 + 1, 7);
        b.code(0, 5);
        left -= l as usize;
    }
    for _ in 0..left {
        b.code(0x30 + 32, 8);
    }
    b.code(0, 7); // end of block (256)
    if b.len > 0 {
        b.put(0, 8 - b.len);
    }
    // Adler-32 of n spaces.
    let (mut a, mut s) = (1u32, 0u32);
    for _ in 0..n {
        a = (a + 32) % 65521;
        s = (s + a) % 65521;
    }
    b.out.extend_from_slice(&s.to_be_bytes()[2..]);
    b.out.extend_from_slice(&a.to_be_bytes()[2..]);
    let _ = b.out.flush();
    b.out
}

/// The encrypted real-world file of ../shared/testdata/pdfs (pdfplumber's test corpus).
pub fn encrypted() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata/pdfs/pdfplumber-password-example.pdf"
    );
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (../shared beside the checkout)"))
}
