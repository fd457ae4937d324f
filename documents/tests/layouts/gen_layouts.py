"""Layout families for measuring the documents extractor on layouts it was
not built around (issue 14). Written independently of tests/gen/make_pdfs.py.

    gen_layouts.py OUT [--tune N] [--holdout N] [--scans K] [--rejects]

Writes OUT/<split>-<family>-<seed>.pdf and .json (ground truth, same schema
as make_pdfs.py's: doc_type, year, student, school, subjects, years, plus
family, split, seed, scale, kind = academic | reject, scan_dpi).

Split by seed: TUNE seeds are 1000.., HOLDOUT seeds 5000..; every family is
drawn for every seed, with its variations (fonts, spacing, column order,
header words, term names, grade scale, label wordings) chosen by the seed.
`--scans K` also writes K scanned copies per split (alternating 150 and
300 dpi, slight rotation, noise, JPEG) named <...>-scan<dpi>.pdf.
`--rejects` writes the non-academic look-alikes (NFS-e, invoice, receipt,
contract, timetable, enrolment declaration) as reject-<kind>-<seed>.pdf.

Families:
  grid_table       one table, ruled or not, any header words / term names / order
  heading_block    subject as a heading, then `B1: 9,5 B2: 8,0 ... Média: 8,0`
                   and `Faltas: 3 Frequência: 98,1%` lines
  rotated_header   table whose column headers are turned 90 degrees
  nota_faltas      `1º Bim` over `Nota | Faltas` for each term, then totals
  wrapped_names    subject names wrapped over two lines in a table
  hist_years_cols  histórico: subjects as rows, school years as columns
  hist_code_tables histórico: one table per year, a code column before the subject
Needs reportlab, Pillow, img2pdf, pdftoppm and the DejaVu/Liberation fonts.
"""

import io
import json
import os
import random
import subprocess
import sys

import img2pdf
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = A4

TTF = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "DejaVuSerif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "DejaVuSansMono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "LiberationSans": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "LiberationSans-Bold": "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
}
for _n, _p in TTF.items():
    if os.path.exists(_p):
        pdfmetrics.registerFont(TTFont(_n, _p))

# (regular, bold) pairs; standard 14 fonts and embedded TrueType.
FONT_PAIRS = [
    ("Helvetica", "Helvetica-Bold"),
    ("Times-Roman", "Times-Bold"),
    ("Courier", "Courier-Bold"),
    ("DejaVuSans", "DejaVuSans-Bold"),
    ("LiberationSans", "LiberationSans-Bold"),
    ("DejaVuSerif", "DejaVuSans-Bold"),
]

# canonical code -> spellings a school may print
SUBJECTS = {
    "lingua-portuguesa": ["Língua Portuguesa", "LÍNGUA PORTUGUESA", "L. Portuguesa", "Português", "Port.", "Lingua Portuguesa"],
    "matematica": ["Matemática", "MATEMÁTICA", "Mat.", "Matematica"],
    "historia": ["História", "HISTÓRIA", "Hist.", "Historia"],
    "geografia": ["Geografia", "GEOGRAFIA", "Geo."],
    "ciencias": ["Ciências", "CIÊNCIAS", "Ciências Naturais", "Ciencias"],
    "arte": ["Arte", "ARTE", "Artes"],
    "educacao-fisica": ["Educação Física", "EDUCAÇÃO FÍSICA", "Ed. Física", "Educacao Fisica"],
    "lingua-inglesa": ["Língua Inglesa", "LÍNGUA INGLESA", "Inglês", "Língua Estrangeira - Inglês"],
    "ensino-religioso": ["Ensino Religioso", "ENSINO RELIGIOSO", "Ens. Religioso"],
}
HS_SUBJECTS = {
    "fisica": ["Física", "FÍSICA", "Fisica"],
    "quimica": ["Química", "QUÍMICA", "Quimica"],
    "biologia": ["Biologia", "BIOLOGIA"],
    "filosofia": ["Filosofia", "FILOSOFIA"],
    "sociologia": ["Sociologia", "SOCIOLOGIA"],
}
# long names for the wrapped family: (code, first line, second line)
LONG_NAMES = [
    ("lingua-portuguesa", "Língua Portuguesa e", "Literatura"),
    ("lingua-inglesa", "Língua Estrangeira", "Moderna - Inglês"),
    ("educacao-fisica", "Educação Física e", "Práticas Corporais"),
    ("ciencias", "Ciências da Natureza", "e suas Tecnologias"),
    ("ensino-religioso", "Ensino Religioso e", "Valores Humanos"),
]
# canonical names (the extractor's `name` for each code)
CANON = {
    "lingua-portuguesa": "Língua Portuguesa", "matematica": "Matemática", "historia": "História",
    "geografia": "Geografia", "ciencias": "Ciências", "arte": "Arte",
    "educacao-fisica": "Educação Física", "lingua-inglesa": "Língua Inglesa",
    "ensino-religioso": "Ensino Religioso", "fisica": "Física", "quimica": "Química",
    "biologia": "Biologia", "filosofia": "Filosofia", "sociologia": "Sociologia",
}

FIRST = ["Maria", "João", "Ana", "Pedro", "Lucas", "Beatriz", "Gabriel", "Júlia", "Rafael", "Larissa", "Thiago", "Camila"]
MIDDLE = ["Clara", "Henrique", "Luiza", "Eduardo", "Vitória", "Augusto", ""]
LAST = ["da Silva", "Oliveira", "Santos", "Pereira", "de Souza", "Lima", "Carvalho", "Gonçalves", "Ribeiro", "Almeida"]
SCHOOLS = [
    "Escola Estadual Professora Helena Antipoff",
    "E. M. Castro Alves",
    "Colégio Santa Teresinha",
    "Escola Municipal de Ensino Fundamental Rui Barbosa",
    "Centro Educacional Monteiro Lobato",
    "Instituto Educacional São José",
]


def num(x, scale):
    """A grade as printed: 8.5 -> '8,5'; on 0-100 an integer."""
    if scale == 100:
        return str(int(round(x)))
    return f"{x:.1f}".replace(".", ",")


def pct(x):
    return f"{x:.1f}".replace(".", ",")


def make_cnpj(rng):
    d = [rng.randint(0, 9) for _ in range(8)] + [0, 0, 0, 1]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        r = sum(a * b for a, b in zip(d, weights)) % 11
        d.append(0 if r < 2 else 11 - r)
    s = "".join(map(str, d))
    return s, f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


class Doc:
    """A document being drawn: a canvas, the chosen fonts, and a cursor."""

    def __init__(self, path, rng):
        self.rng = rng
        self.c = canvas.Canvas(path, pagesize=A4)
        self.font, self.bold = rng.choice(FONT_PAIRS)
        self.size = rng.choice([8.5, 9, 9.5, 10])
        self.lead = self.size * rng.uniform(1.45, 1.9)
        self.left = rng.uniform(36, 60)
        self.y = PAGE_H - rng.uniform(45, 70)

    def text(self, x, s, bold=False, size=None):
        self.c.setFont(self.bold if bold else self.font, size or self.size)
        self.c.drawString(x, self.y, s)

    def line(self, s, bold=False, size=None, x=None):
        self.text(self.left if x is None else x, s, bold, size)
        self.y -= self.lead if size is None else max(self.lead, size * 1.5)

    def width(self, s, bold=False, size=None):
        return pdfmetrics.stringWidth(s, self.bold if bold else self.font, size or self.size)

    def need(self, h):
        if self.y - h < 50:
            self.c.showPage()
            self.y = PAGE_H - 60

    def save(self):
        self.c.showPage()
        self.c.save()


def pick_school(rng):
    """A school name as the document prints it (some in capitals)."""
    s = rng.choice(SCHOOLS)
    return s.upper() if rng.random() < 0.4 else s


def student(rng):
    name = " ".join(p for p in [rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)] if p)
    reg = str(rng.randint(10**7, 10**10))
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2006, 2016)
    return {
        "name": name,
        "registration": reg,
        "birth": f"{day:02d}/{month:02d}/{year}",
        "birth_iso": f"{year}-{month:02d}-{day:02d}",
        "class": rng.choice(["6º Ano A", "7º Ano B", "8º Ano C", "9º Ano A", "1ª Série B"]),
    }


def header_block(d, kind_title, st, school, cnpj_fmt, year, rng):
    """The document's header: title, school with CNPJ, student fields."""
    d.line(school, bold=True, size=d.size + 2)
    cnpj_label = rng.choice(["CNPJ:", "CNPJ", "CNPJ nº", "C.N.P.J.:"])
    inep = f"INEP: {rng.randint(10**7, 10**8 - 1)}"
    d.line(f"{cnpj_label} {cnpj_fmt}    {inep}")
    d.line(rng.choice(["Rua das Acácias, 120 - Centro", "Av. Brasil, 2450 - Jardim América", "Praça da Matriz, s/n"]))
    d.y -= d.lead * 0.5
    d.line(f"{kind_title} - {rng.choice(['Ano Letivo', 'ANO LETIVO'])} {year}", bold=True, size=d.size + 3)
    d.y -= d.lead * 0.3
    name_l = rng.choice(["Aluno(a):", "Nome do Aluno:", "Estudante:", "Nome:"])
    reg_l = rng.choice(["Matrícula:", "RA:", "Nº da Matrícula:"])
    birth_l = rng.choice(["Data de Nascimento:", "Nascimento:", "Dt. Nasc.:"])
    class_l = rng.choice(["Turma:", "Série/Turma:"])
    if rng.random() < 0.5:
        d.line(f"{name_l} {st['name']}")
        d.line(f"{reg_l} {st['registration']}     {birth_l} {st['birth']}")
        d.line(f"{class_l} {st['class']}")
    else:
        d.text(d.left, f"{name_l} {st['name']}")
        d.text(d.left + 300, f"{reg_l} {st['registration']}")
        d.y -= d.lead
        d.text(d.left, f"{birth_l} {st['birth']}")
        d.text(d.left + 300, f"{class_l} {st['class']}")
        d.y -= d.lead
    d.y -= d.lead * 0.6


def terms_style(rng):
    """(term count, header label for term n, inline key for term n)."""
    style = rng.choice(["bim", "b", "trim", "sem", "bimestre"])
    if style == "bim":
        return 4, lambda n: f"{n}º Bim", lambda n: f"{n}º Bim:"
    if style == "b":
        return 4, lambda n: f"B{n}", lambda n: f"B{n}:"
    if style == "bimestre":
        return 4, lambda n: f"{n}º Bimestre", lambda n: f"{n}º Bimestre:"
    if style == "trim":
        return 3, lambda n: f"{n}º Trimestre", lambda n: f"{n}º Trim.:"
    return 2, lambda n: f"{n}º Semestre", lambda n: f"{n}º Sem.:"


def subject_rows(rng, scale, n_terms, pool=None, count=None):
    """Per subject: code, spelling, term grades (None = '-'), média, faltas, freq."""
    pool = pool or SUBJECTS
    codes = list(pool)
    rng.shuffle(codes)
    codes = codes[: count or rng.randint(6, len(codes))]
    rows = []
    for code in codes:
        base = rng.uniform(5.0, 9.6)
        terms = []
        for _ in range(n_terms):
            g = min(10.0, max(0.0, base + rng.uniform(-1.5, 1.5)))
            g = round(g * 2) / 2 if rng.random() < 0.5 else round(g, 1)
            terms.append(g * 10 if scale == 100 else g)
        if scale == 100:
            terms = [float(int(round(t))) for t in terms]
        if rng.random() < 0.12:
            terms[-1] = None
        present = [t for t in terms if t is not None]
        media = round(sum(present) / len(present), 0 if scale == 100 else 1)
        faltas = rng.randint(0, 14)
        freq = round(100 - faltas * rng.uniform(0.4, 1.2), 1)
        rows.append({
            "code": code,
            "written": rng.choice(pool[code]),
            "terms": terms,
            "media": media,
            "faltas": faltas,
            "freq": freq,
            "status": rng.choice(["Aprovado", "Aprovado", "Aprovado", "Recuperação"]) if media >= 5 * scale / 10 else "Reprovado",
        })
    return rows


def truth_subject(r, n_terms, has=("terms", "media", "faltas", "freq")):
    s = {"code": r["code"]}
    if "terms" in has:
        s["terms"] = [t for t in r["terms"]]
    s["final_grade"] = r["media"] if "media" in has else None
    s["absences"] = r["faltas"] if "faltas" in has else None
    s["attendance_pct"] = r["freq"] if "freq" in has else None
    s["status"] = r["status"].lower().replace("recuperação", "recuperação") if "status" in has else None
    s["workload_hours"] = r.get("ch") if "ch" in has else None
    return s


def base_truth(family, split, seed, doc_type, year, st, school, cnpj, scale):
    return {
        "kind": "academic",
        "family": family,
        "split": split,
        "seed": seed,
        "scale": scale,
        "scan_dpi": None,
        "doc_type": doc_type,
        "year": year,
        "student": {
            "name": st["name"],
            "registration": st["registration"],
            "birth_date": st["birth_iso"],
            "class_name": st["class"],
        },
        "school": {"name": school, "cnpj": cnpj},
        "overall_attendance_pct": None,
        "subjects": [],
        "years": None,
        "warnings": [],
    }


def draw_row(d, cells, ruled, widths, x0, bold=False):
    """cells: (text, align) per column; widths per column."""
    x = x0
    for (text, align), w in zip(cells, widths):
        # A label wider than its column is set smaller, as table tools do.
        size = d.size
        if d.width(text, bold) > w - 4:
            size = d.size * (w - 4) / d.width(text, bold)
        tw = d.width(text, bold, size)
        if align == "l":
            d.text(x + 3, text, bold, size)
        else:
            d.text(x + (w - tw) / 2, text, bold, size)
        x += w
    if ruled:
        d.c.setLineWidth(0.5)
        top = d.y + d.lead * 0.7
        bottom = d.y - d.lead * 0.3
        d.c.line(x0, bottom, x, bottom)
        d.c.line(x0, top, x, top)
        xx = x0
        for w in widths:
            d.c.line(xx, bottom, xx, top)
            xx += w
        d.c.line(x, bottom, x, top)
    d.y -= d.lead


def columns_for(rng, n_terms, term_label, scale):
    """Data columns of a boletim table in a seed-chosen order."""
    cols = [(f"t{n}", term_label(n)) for n in range(1, n_terms + 1)]
    tail = [
        ("media", rng.choice(["Média", "Média Final", "MF", "Média Anual"])),
        ("faltas", rng.choice(["Faltas", "Total de Faltas", "TF"])),
        ("freq", rng.choice(["Freq. (%)", "Frequência", "% Freq."])),
    ]
    if rng.random() < 0.35:
        rng.shuffle(tail)
    if rng.random() < 0.5:
        tail.append(("status", rng.choice(["Situação", "Resultado"])))
    return cols + tail


def cell_value(r, key, scale):
    if key.startswith("t"):
        v = r["terms"][int(key[1:]) - 1]
        return "-" if v is None else num(v, scale)
    if key == "media":
        return num(r["media"], scale)
    if key == "faltas":
        return str(r["faltas"])
    if key == "freq":
        return pct(r["freq"])
    if key == "status":
        return r["status"]
    raise KeyError(key)


def fam_grid_table(path, rng, split, seed, rotated=False, wrapped=False):
    family = "rotated_header" if rotated else "wrapped_names" if wrapped else "grid_table"
    scale = 100 if rng.random() < 0.25 else 10
    d = Doc(path, rng)
    st, school = student(rng), pick_school(rng)
    cnpj, cnpj_fmt = make_cnpj(rng)
    year = rng.randint(2019, 2025)
    header_block(d, rng.choice(["BOLETIM ESCOLAR", "Boletim de Desempenho", "BOLETIM"]), st, school, cnpj_fmt, year, rng)
    n_terms, term_label, _ = terms_style(rng)
    rows = subject_rows(rng, scale, n_terms)
    cols = columns_for(rng, n_terms, term_label, scale)
    if wrapped:
        longs = rng.sample(LONG_NAMES, 3)
        used = {r["code"] for r in rows}
        for code, a, b in longs:
            r = next((r for r in rows if r["code"] == code), None)
            if r is None:
                r = subject_rows(rng, scale, n_terms, pool={code: [a]}, count=1)[0]
                rows.append(r)
            r["written"] = (a, b)
            used.add(code)
    name_head = rng.choice(["Disciplina", "Componente Curricular", "Matéria", "DISCIPLINAS", "Componentes Curriculares"])
    ruled = rng.random() < 0.6
    name_w = rng.uniform(150, 190)
    name_w = max(name_w, max(d.width(r["written"] if isinstance(r["written"], str) else r["written"][0]) for r in rows) + 12)
    col_w = rng.uniform(40, 52) if len(cols) <= 7 else rng.uniform(36, 44)
    widths = [name_w] + [col_w if k != "status" else 62 for k, _ in cols]
    x0 = d.left
    if rotated:
        # header row: the name label normal, the data labels turned 90 degrees
        tall = max(d.width(lbl) for _, lbl in cols) + 8
        d.need(tall + 200)
        d.y -= tall - d.lead
        d.text(x0 + 3, name_head, True)
        x = x0 + name_w
        for (k, lbl), w in zip(cols, widths[1:]):
            d.c.saveState()
            d.c.translate(x + w / 2 + d.size * 0.35, d.y - 2)
            d.c.rotate(90)
            d.c.setFont(d.bold, d.size)
            d.c.drawString(0, 0, lbl)
            d.c.restoreState()
            x += w
        if ruled:
            d.c.setLineWidth(0.5)
            d.c.line(x0, d.y - d.lead * 0.3, x, d.y - d.lead * 0.3)
        d.y -= d.lead
    else:
        draw_row(d, [(name_head, "l")] + [(lbl, "c") for _, lbl in cols], ruled, widths, x0, bold=True)
    for r in rows:
        vals = [(cell_value(r, k, scale), "c") for k, _ in cols]
        if isinstance(r["written"], tuple):
            a, b = r["written"]
            mode = rng.choice(["first", "middle"])
            if mode == "first":
                draw_row(d, [(a, "l")] + vals, False, widths, x0)
                draw_row(d, [(b, "l")] + [("", "c")] * len(vals), False, widths, x0)
            else:
                d.text(x0 + 3, a)
                d.y -= d.lead * 0.5
                draw_row(d, [("", "l")] + vals, False, widths, x0)
                d.y += d.lead * 0.5
                d.text(x0 + 3, b)
                d.y -= d.lead
        else:
            draw_row(d, [(r["written"], "l")] + vals, ruled, widths, x0)
    overall = round(sum(r["freq"] for r in rows) / len(rows), 1)
    d.y -= d.lead * 0.5
    d.line(f"Frequência Global: {pct(overall)}%")
    d.line(rng.choice(["Observações: ----", "Legenda: Bim = Bimestre; MF = Média Final", ""]))
    d.save()
    t = base_truth(family, split, seed, "boletim", year, st, school, cnpj, scale)
    has = ["terms"] + [k for k, _ in cols if not k.startswith("t")]
    t["subjects"] = [truth_subject(r, n_terms, has) for r in rows]
    t["overall_attendance_pct"] = overall
    return t


def fam_heading_block(path, rng, split, seed):
    scale = 100 if rng.random() < 0.2 else 10
    d = Doc(path, rng)
    st, school = student(rng), pick_school(rng)
    cnpj, cnpj_fmt = make_cnpj(rng)
    year = rng.randint(2019, 2025)
    header_block(d, rng.choice(["BOLETIM ESCOLAR", "Boletim Individual"]), st, school, cnpj_fmt, year, rng)
    n_terms, _, term_key = terms_style(rng)
    if rng.random() < 0.5:
        term_key = lambda n: f"B{n}:"  # noqa: E731
        n_terms = 4
    rows = subject_rows(rng, scale, n_terms)
    media_key = rng.choice(["Média:", "Média Final:", "MF:"])
    for r in rows:
        d.need(d.lead * 4)
        d.line(r["written"].upper() if rng.random() < 0.3 else r["written"], bold=True)
        parts = [f"{term_key(n)} {'-' if v is None else num(v, scale)}" for n, v in enumerate(r["terms"], 1)]
        parts.append(f"{media_key} {num(r['media'], scale)}")
        d.line("   ".join(parts), x=d.left + 12)
        d.line(f"Faltas: {r['faltas']}   Frequência: {pct(r['freq'])}%", x=d.left + 12)
        d.y -= d.lead * 0.4
    d.save()
    t = base_truth("heading_block", split, seed, "boletim", year, st, school, cnpj, scale)
    t["subjects"] = [truth_subject(r, n_terms, ("terms", "media", "faltas", "freq")) for r in rows]
    return t


def fam_nota_faltas(path, rng, split, seed):
    scale = 10
    d = Doc(path, rng)
    st, school = student(rng), pick_school(rng)
    cnpj, cnpj_fmt = make_cnpj(rng)
    year = rng.randint(2019, 2025)
    header_block(d, "BOLETIM ESCOLAR", st, school, cnpj_fmt, year, rng)
    n_terms = 4 if rng.random() < 0.7 else 3
    label = (lambda n: f"{n}º Bim") if n_terms == 4 else (lambda n: f"{n}º Trim")
    rows = subject_rows(rng, scale, n_terms)
    for r in rows:
        per = [0] * n_terms
        for _ in range(r["faltas"]):
            per[rng.randrange(n_terms)] += 1
        r["per"] = per
    name_w, w = rng.uniform(130, 160), rng.uniform(28, 33)
    name_w = max(name_w, max(d.width(r["written"]) for r in rows) + 12)
    x0 = d.left
    ruled = rng.random() < 0.6
    # top header: term names spanning two sub-columns; then Nota | Faltas
    x = x0 + name_w
    for n in range(1, n_terms + 1):
        lbl = label(n)
        d.text(x + (2 * w - d.width(lbl, True)) / 2, lbl, True)
        x += 2 * w
    d.text(x + 3, "Média", True)
    d.text(x + 48, "Total", True)
    d.y -= d.lead
    d.text(x0 + 3, rng.choice(["Disciplina", "Componente Curricular"]), True)
    x = x0 + name_w
    for n in range(n_terms):
        for dx, lbl in ((2, "Nota"), (w + 2, "Faltas")):
            size = min(d.size - 1, d.size * (w - 5) / d.width(lbl, True))
            d.text(x + dx, lbl, True, size=size)
        x += 2 * w
    d.text(x + 3, "Final", True)
    d.text(x + 48, "Faltas", True)
    d.y -= d.lead
    for r in rows:
        d.text(x0 + 3, r["written"])
        x = x0 + name_w
        for n in range(n_terms):
            v = r["terms"][n]
            d.text(x + 4, "-" if v is None else num(v, scale))
            d.text(x + w + 8, str(r["per"][n]))
            x += 2 * w
        d.text(x + 6, num(r["media"], scale))
        d.text(x + 54, str(r["faltas"]))
        if ruled:
            d.c.setLineWidth(0.4)
            d.c.line(x0, d.y - d.lead * 0.3, x + 90, d.y - d.lead * 0.3)
        d.y -= d.lead
    d.save()
    t = base_truth("nota_faltas", split, seed, "boletim", year, st, school, cnpj, scale)
    t["subjects"] = [truth_subject(r, n_terms, ("terms", "media", "faltas")) for r in rows]
    return t


def hist_years(rng, n_years, first_year, hs=False):
    pool = dict(SUBJECTS)
    if hs:
        pool.update(HS_SUBJECTS)
    codes = list(pool)
    rng.shuffle(codes)
    codes = codes[: rng.randint(7, min(11, len(codes)))]
    years = []
    level0 = rng.randint(6, 9 - n_years + 1)
    for i in range(n_years):
        subs = []
        for code in codes:
            g = round(rng.uniform(5.0, 9.8) * 2) / 2 if rng.random() < 0.5 else round(rng.uniform(5.0, 9.8), 1)
            subs.append({
                "code": code,
                "written": pool[code][0],
                "media": g,
                "ch": rng.choice([40, 80, 120, 160, 200]),
                "freq": round(rng.uniform(80, 100), 1),
                "faltas": 0,
                "terms": [],
                "status": "Aprovado",
            })
        years.append({"year": first_year + i, "level": f"{level0 + i}º Ano", "subjects": subs})
    return codes, years


def fam_hist_years_cols(path, rng, split, seed):
    d = Doc(path, rng)
    st, school = student(rng), pick_school(rng)
    cnpj, cnpj_fmt = make_cnpj(rng)
    n_years = rng.randint(3, 4)
    first = rng.randint(2017, 2021)
    codes, years = hist_years(rng, n_years, first)
    header_block(d, "HISTÓRICO ESCOLAR", st, school, cnpj_fmt, first + n_years - 1, rng)
    name_w, w = rng.uniform(160, 190), rng.uniform(58, 72)
    x0 = d.left
    d.text(x0 + 3, rng.choice(["Componente Curricular", "Disciplinas"]), True)
    for i, y in enumerate(years):
        d.text(x0 + name_w + i * w + 6, y["level"], True)
    d.y -= d.lead
    for i, y in enumerate(years):
        d.text(x0 + name_w + i * w + 10, str(y["year"]), True)
    d.y -= d.lead
    written = {c: rng.choice((SUBJECTS | HS_SUBJECTS)[c]) for c in codes}
    for k, code in enumerate(codes):
        d.text(x0 + 3, written[code])
        for i, y in enumerate(years):
            d.text(x0 + name_w + i * w + 14, num(y["subjects"][k]["media"], 10))
        d.y -= d.lead
    d.y -= d.lead
    d.line("Resultado: Aprovado em todas as séries cursadas.")
    d.save()
    t = base_truth("hist_years_cols", split, seed, "historico", first + n_years - 1, st, school, cnpj, 10)
    t["subjects"] = []
    t["years"] = [
        {
            "year": y["year"],
            "grade_level": None,
            "overall_attendance_pct": None,
            "status": None,
            "subjects": [{"code": s["code"], "final_grade": s["media"]} for s in y["subjects"]],
        }
        for y in years
    ]
    return t


def fam_hist_code_tables(path, rng, split, seed):
    d = Doc(path, rng)
    st, school = student(rng), pick_school(rng)
    cnpj, cnpj_fmt = make_cnpj(rng)
    n_years = rng.randint(2, 3)
    first = rng.randint(2018, 2022)
    codes, years = hist_years(rng, n_years, first, hs=rng.random() < 0.5)
    header_block(d, "HISTÓRICO ESCOLAR", st, school, cnpj_fmt, first + n_years - 1, rng)
    cols = [("code", "Código"), ("name", rng.choice(["Componente Curricular", "Disciplina"])),
            ("ch", rng.choice(["CH", "C.H."])), ("media", rng.choice(["Média", "Nota Final", "MF"])),
            ("freq", rng.choice(["Freq. (%)", "Frequência"])), ("status", "Resultado")]
    widths = [48, rng.uniform(160, 190), 40, 55, 60, 70]
    for y in years:
        d.need(d.lead * (len(y["subjects"]) + 4))
        d.line(f"Ano Letivo: {y['year']} - Série: {y['level']}", bold=True)
        draw_row(d, [(lbl, "l" if k in ("name", "code") else "c") for k, lbl in cols], False, widths, d.left, bold=True)
        for s in y["subjects"]:
            code = f"{s['code'][:3].upper()}{rng.randint(10, 99)}"
            draw_row(d, [(code, "l"), ((SUBJECTS | HS_SUBJECTS)[s["code"]][0], "l"), (str(s["ch"]), "c"),
                         (num(s["media"], 10), "c"), (pct(s["freq"]), "c"), ("Aprovado", "c")], False, widths, d.left)
        d.line("Resultado Final: Aprovado")
        d.y -= d.lead * 0.5
    d.save()
    t = base_truth("hist_code_tables", split, seed, "historico", first + n_years - 1, st, school, cnpj, 10)
    t["years"] = [
        {
            "year": y["year"],
            "grade_level": y["level"],
            "overall_attendance_pct": None,
            "status": "aprovado",
            "subjects": [{"code": s["code"], "final_grade": s["media"], "workload_hours": s["ch"],
                          "attendance_pct": s["freq"], "status": "aprovado"} for s in y["subjects"]],
        }
        for y in years
    ]
    return t


FAMILIES = {
    "grid_table": lambda p, r, sp, s: fam_grid_table(p, r, sp, s),
    "heading_block": fam_heading_block,
    "rotated_header": lambda p, r, sp, s: fam_grid_table(p, r, sp, s, rotated=True),
    "nota_faltas": fam_nota_faltas,
    "wrapped_names": lambda p, r, sp, s: fam_grid_table(p, r, sp, s, wrapped=True),
    "hist_years_cols": fam_hist_years_cols,
    "hist_code_tables": fam_hist_code_tables,
}


# ---- non-academic look-alikes: must be rejected, nothing written ----

def rej_common(d, rng):
    school = rng.choice(SCHOOLS)
    _, cnpj_fmt = make_cnpj(rng)
    st = student(rng)
    return school, cnpj_fmt, st


def rej_nfse(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line("PREFEITURA MUNICIPAL DE SÃO PAULO", bold=True)
    d.line("NOTA FISCAL DE SERVIÇOS ELETRÔNICA - NFS-e", bold=True, size=d.size + 3)
    d.line(f"Número da Nota: {rng.randint(1000, 99999)}    Data e Hora de Emissão: 05/03/2024 10:12:44")
    d.line(f"Código de Verificação: {rng.randint(10**7, 10**8)}")
    d.line("PRESTADOR DE SERVIÇOS", bold=True)
    d.line(f"Razão Social: {school}")
    d.line(f"CNPJ {cnpj_fmt}    Inscrição Municipal: 1.234.567-8")
    d.line("TOMADOR DE SERVIÇOS", bold=True)
    d.line(f"Nome: {st['name']}    CPF: ***.{rng.randint(100, 999)}.{rng.randint(100, 999)}-**")
    d.line("DISCRIMINAÇÃO DOS SERVIÇOS", bold=True)
    d.line(f"Mensalidade escolar 03/2024 - Aluno(a): {st['name']} - Matrícula: {st['registration']} - {st['class']}")
    d.line("Ensino Fundamental II - Período Integral")
    d.line(f"Número da Parcela 3    Valor 1.250,00    Desconto 8,5 %")
    d.line(f"VALOR TOTAL DO SERVIÇO = R$ 1.143,75")
    d.line("Base de Cálculo 1.143,75   Alíquota 2,00   Valor do ISS 22,88")
    d.line("Matemática financeira do desconto: 1.250,00 x 8,5 % = 106,25")


def rej_invoice(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line("FATURA / BOLETO DE MENSALIDADE", bold=True, size=d.size + 3)
    d.line(f"Cedente: {school}    CNPJ: {cnpj_fmt}")
    d.line(f"Sacado: {st['name']}    Matrícula: {st['registration']}")
    d.line("Vencimento: 10/04/2024    Nosso Número: 0001234-5")
    d.line("Descrição                    Qtd.   Valor Unit.   Total", bold=True)
    for item, v in [("Mensalidade Abril", "1.250,00"), ("Material Didático - Matemática", "85,00"),
                    ("Uniforme Educação Física", "120,50"), ("Taxa de Arte", "40,00")]:
        d.line(f"{item:<30} 1      {v}      {v}")
    d.line("Total a pagar: R$ 1.495,50")
    d.line("Linha digitável: 34191.79001 01043.510047 91020.150008 1 96610000149550")


def rej_receipt(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line("RECIBO", bold=True, size=d.size + 4)
    d.line(f"Recebemos de {st['name']} a importância de R$ 980,00 (novecentos e oitenta reais)")
    d.line(f"referente à matrícula de {st['class']} no ano letivo de 2024.")
    d.line(f"{school} - CNPJ {cnpj_fmt}")
    d.line("Parcelas: 1ª 8,5   2ª 7,0   3ª 9,0   Total 24,5")
    d.line("São Paulo, 12 de janeiro de 2024.          Assinatura: ____________")


def rej_contract(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line("CONTRATO DE PRESTAÇÃO DE SERVIÇOS EDUCACIONAIS", bold=True, size=d.size + 2)
    d.line(f"CONTRATADA: {school}, inscrita no CNPJ {cnpj_fmt}.")
    d.line(f"CONTRATANTE: responsável pelo aluno(a) {st['name']}, matrícula {st['registration']}.")
    for i, clause in enumerate([
        "O presente contrato tem por objeto a prestação de serviços educacionais no ano letivo.",
        "A anuidade será paga em 12 parcelas de R$ 1.250,00 com vencimento no dia 10.",
        "Disciplinas: Língua Portuguesa, Matemática, História, Geografia, Ciências e Arte.",
        "Multa de 2,0 % e juros de 1,0 % ao mês sobre parcelas em atraso.",
        "Média mínima para aprovação: 6,0; frequência mínima: 75 %.",
    ], 1):
        d.line(f"Cláusula {i}ª - {clause}")


def rej_timetable(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line(f"{school}", bold=True)
    d.line(f"HORÁRIO DE AULAS - Turma: {st['class']} - Ano Letivo 2024", bold=True)
    days = ["Horário", "Segunda", "Terça", "Quarta", "Quinta", "Sexta"]
    names = ["Matemática", "Língua Portuguesa", "História", "Geografia", "Ciências", "Arte", "Inglês", "Ed. Física"]
    x = [d.left, d.left + 70, d.left + 160, d.left + 250, d.left + 340, d.left + 430]
    for i, day in enumerate(days):
        d.text(x[i], day, True)
    d.y -= d.lead
    for slot in ["07:30", "08:20", "09:10", "10:20", "11:10"]:
        d.text(x[0], slot)
        for i in range(1, 6):
            d.text(x[i], rng.choice(names))
        d.y -= d.lead


def rej_declaration(d, rng):
    school, cnpj_fmt, st = rej_common(d, rng)
    d.line(school, bold=True)
    d.line(f"CNPJ: {cnpj_fmt}")
    d.line("DECLARAÇÃO DE MATRÍCULA", bold=True, size=d.size + 3)
    d.line(f"Declaramos que {st['name']}, nascido(a) em {st['birth']}, matrícula {st['registration']},")
    d.line(f"está regularmente matriculado(a) no {st['class']} do Ensino Fundamental, ano letivo de 2024,")
    d.line("com frequência de 96,5 % até a presente data.")


REJECTS = {"nfse": rej_nfse, "invoice": rej_invoice, "receipt": rej_receipt, "contract": rej_contract,
           "timetable": rej_timetable, "declaration": rej_declaration}


# ---- scans ----

def scan(pdf_path, out_path, dpi, rng):
    """Rasterizes with pdftoppm, turns it slightly, adds noise and JPEG, back to PDF."""
    prefix = out_path + ".tmp"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", pdf_path, prefix], check=True)
    pages = sorted(p for p in os.listdir(os.path.dirname(out_path) or ".")
                   if p.startswith(os.path.basename(prefix)) and p.endswith(".png"))
    images = []
    for p in pages:
        full = os.path.join(os.path.dirname(out_path) or ".", p)
        im = Image.open(full).convert("L")
        os.remove(full)
        im = im.rotate(rng.uniform(-0.9, 0.9), resample=Image.BICUBIC, expand=False, fillcolor=255)
        noise = Image.effect_noise(im.size, rng.uniform(20, 40))
        im = Image.blend(im, noise, rng.uniform(0.06, 0.12))
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.5)))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=rng.randint(60, 82), dpi=(dpi, dpi))
        images.append(buf.getvalue())
    with open(out_path, "wb") as f:
        f.write(img2pdf.convert(images, layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))))


def main():
    args = sys.argv[1:]
    out = args[0]
    opts = {"--tune": 3, "--holdout": 3, "--scans": 0}
    rejects = "--rejects" in args
    for k in opts:
        if k in args:
            opts[k] = int(args[args.index(k) + 1])
    os.makedirs(out, exist_ok=True)
    for split, base, n in [("tune", 1000, opts["--tune"]), ("holdout", 5000, opts["--holdout"])]:
        scans_left = opts["--scans"]
        k = 0
        for seed in range(base, base + n):
            for fi, (family, fn) in enumerate(FAMILIES.items()):
                rng = random.Random(seed * 100 + fi)
                name = f"{split}-{family}-{seed}"
                path = os.path.join(out, name + ".pdf")
                truth = fn(path, rng, split, seed)
                with open(os.path.join(out, name + ".json"), "w") as f:
                    json.dump(truth, f, ensure_ascii=False, indent=1)
                if scans_left > 0:
                    dpi = 150 if k % 2 == 0 else 300
                    k += 1
                    scans_left -= 1
                    sname = f"{name}-scan{dpi}"
                    scan(path, os.path.join(out, sname + ".pdf"), dpi, rng)
                    truth = dict(truth, scan_dpi=dpi)
                    with open(os.path.join(out, sname + ".json"), "w") as f:
                        json.dump(truth, f, ensure_ascii=False, indent=1)
    if rejects:
        for seed in range(7000, 7000 + max(1, opts["--holdout"])):
            for kind, fn in REJECTS.items():
                rng = random.Random(seed * 31 + len(kind))
                name = f"reject-{kind}-{seed}"
                d = Doc(os.path.join(out, name + ".pdf"), rng)
                fn(d, rng)
                d.save()
                with open(os.path.join(out, name + ".json"), "w") as f:
                    json.dump({"kind": "reject", "family": kind, "split": "reject", "seed": seed}, f)
    print(out)


if __name__ == "__main__":
    main()
