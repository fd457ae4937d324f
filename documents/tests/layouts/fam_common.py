"""Shared parts of gen_families.py (issue 14): the data a school prints
(students, schools, subjects with their spellings, grades), the document
canvas with per-document style (fonts, sizes, case, accents, number format)
and a grid drawer with spanned header rows and page breaks. Written apart
from gen_layouts.py so the new families share none of its choices.
"""

import os
import random
import unicodedata

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

_TTF_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]
_TTF = {
    "DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSerif": "DejaVuSerif.ttf", "DejaVuSerif-Bold": "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono": "DejaVuSansMono.ttf", "DejaVuSansMono-Bold": "DejaVuSansMono-Bold.ttf",
    "DejaVuSansCondensed": "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold": "DejaVuSansCondensed-Bold.ttf",
    "LiberationSerif": "LiberationSerif-Regular.ttf", "LiberationSerif-Bold": "LiberationSerif-Bold.ttf",
    "LiberationMono": "LiberationMono-Regular.ttf", "LiberationMono-Bold": "LiberationMono-Bold.ttf",
    "LiberationSans": "LiberationSans-Regular.ttf", "LiberationSans-Bold": "LiberationSans-Bold.ttf",
    "LiberationSansNarrow": "LiberationSansNarrow-Regular.ttf",
    "LiberationSansNarrow-Bold": "LiberationSansNarrow-Bold.ttf",
}
_HAVE = set()
for _name, _file in _TTF.items():
    for _d in _TTF_DIRS:
        if os.path.exists(os.path.join(_d, _file)):
            pdfmetrics.registerFont(TTFont(_name, os.path.join(_d, _file)))
            _HAVE.add(_name)
            break


def _ok(font):
    return font.startswith(("Helvetica", "Times", "Courier")) or font in _HAVE


def _pairs(cands):
    return [(r, b) for r, b in cands if _ok(r) and _ok(b)]


SANS = _pairs([("Helvetica", "Helvetica-Bold"), ("DejaVuSans", "DejaVuSans-Bold"),
               ("LiberationSans", "LiberationSans-Bold"), ("DejaVuSansCondensed", "DejaVuSansCondensed-Bold"),
               ("LiberationSansNarrow", "LiberationSansNarrow-Bold")])
SERIF = _pairs([("Times-Roman", "Times-Bold"), ("DejaVuSerif", "DejaVuSerif-Bold"),
                ("LiberationSerif", "LiberationSerif-Bold")])
MONO = _pairs([("Courier", "Courier-Bold"), ("DejaVuSansMono", "DejaVuSansMono-Bold"),
               ("LiberationMono", "LiberationMono-Bold")])
ANY_FONT = SANS + SERIF + MONO

# canonical code -> spellings a school system may print (a human reads each unambiguously)
SUBJECTS = {
    "lingua-portuguesa": ["Língua Portuguesa", "L. Portuguesa", "Português", "Port.", "Língua Port.",
                          "Língua Portuguesa e Literatura"],
    "matematica": ["Matemática", "Mat.", "Matem."],
    "historia": ["História", "Hist."],
    "geografia": ["Geografia", "Geog.", "Geo."],
    "ciencias": ["Ciências", "Ciências Naturais", "Ciências da Natureza", "Ciên."],
    "arte": ["Arte", "Artes"],
    "educacao-fisica": ["Educação Física", "Ed. Física", "Educ. Física"],
    "lingua-inglesa": ["Língua Inglesa", "Inglês", "LEM - Inglês", "Língua Estrangeira Moderna - Inglês",
                       "L. Inglesa"],
    "ensino-religioso": ["Ensino Religioso", "Ens. Religioso"],
}
SPANISH = {"lingua-espanhola": ["Língua Espanhola", "Espanhol"]}
HS_SUBJECTS = {
    "fisica": ["Física", "Fís."],
    "quimica": ["Química", "Quím."],
    "biologia": ["Biologia", "Biol."],
    "filosofia": ["Filosofia", "Filos."],
    "sociologia": ["Sociologia", "Sociol."],
}
EXTRA = {
    "redacao": ["Redação", "Produção Textual"],
    "projeto-de-vida": ["Projeto de Vida"],
    "informatica": ["Informática"],
    "literatura": ["Literatura"],
}
ALL_SUBJECTS = {**SUBJECTS, **SPANISH, **HS_SUBJECTS, **EXTRA}
# BNCC areas of the Novo Ensino Médio, with their components
AREAS = [
    ("Linguagens e suas Tecnologias", ["lingua-portuguesa", "arte", "educacao-fisica", "lingua-inglesa"]),
    ("Matemática e suas Tecnologias", ["matematica"]),
    ("Ciências da Natureza e suas Tecnologias", ["biologia", "fisica", "quimica"]),
    ("Ciências Humanas e Sociais Aplicadas", ["historia", "geografia", "filosofia", "sociologia"]),
]

FIRST = ["Maria", "João", "Ana", "Pedro", "Lucas", "Beatriz", "Gabriel", "Júlia", "Rafael", "Larissa",
         "Thiago", "Camila", "Enzo", "Valentina", "Heitor", "Isadora", "Davi", "Lívia", "Bernardo",
         "Manuela", "Otávio", "Yasmin", "Kauã", "Letícia", "Cauê", "Antônio", "Vitória", "Luíza"]
MIDDLE = ["Clara", "Henrique", "Luiza", "Eduardo", "Vitória", "Augusto", "Cristina", "Gustavo", "", "", ""]
LAST = ["da Silva", "Oliveira", "Santos", "Pereira", "de Souza", "Lima", "Carvalho", "Gonçalves", "Ribeiro",
        "Almeida", "dos Santos Araújo", "Nascimento", "Ferreira Barbosa", "Conceição", "de Jesus", "Magalhães"]
SCHOOL_TYPES = ["Escola Estadual", "E.E.", "Escola Municipal", "EMEF", "E.M.E.F.", "Colégio", "Colégio Estadual",
                "Escola Estadual de Ensino Médio", "Centro de Ensino Fundamental", "Instituto", "Escola"]
SCHOOL_NAMES = ["Professora Cecília Meireles", "Dom Pedro II", "Tiradentes", "Vinicius de Moraes",
                "Prof. Anísio Teixeira", "Santa Luzia", "Paulo Freire", "Machado de Assis", "Nossa Senhora Aparecida",
                "Marechal Rondon", "Professor Darcy Ribeiro", "São Francisco de Assis", "Zilda Arns"]
CITIES = [("São Paulo", "SP"), ("Fortaleza", "CE"), ("Curitiba", "PR"), ("Belo Horizonte", "MG"),
          ("Recife", "PE"), ("Porto Alegre", "RS"), ("Salvador", "BA"), ("Goiânia", "GO"), ("Campinas", "SP"),
          ("Juazeiro do Norte", "CE"), ("Londrina", "PR"), ("Feira de Santana", "BA")]
STREETS = ["Rua das Palmeiras, 45", "Av. Getúlio Vargas, 1200", "Rua Sete de Setembro, s/n",
           "Travessa São Bento, 88", "Rodovia SP-340, km 12", "Rua Quinze de Novembro, 310 - Centro"]

STATUS_WORDS = {
    "aprovado": ["Aprovado", "APROVADO", "Aprov.", "Aprovado(a)"],
    "reprovado": ["Reprovado", "REPROVADO", "Reprov."],
    "recuperação": ["Recuperação", "RECUPERAÇÃO", "Rec."],
    "cursando": ["Cursando", "CURSANDO", "Em curso"],
}


def fold(s):
    """Without accents (keeps º and ª, which NFD does not split)."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


class Style:
    """Per-document choices: case and accents, number format, missing mark."""

    def __init__(self, rng, case=None, mono=False):
        self.case = case or rng.choice(["as_is", "as_is", "as_is", "upper", "upper_noaccent"])
        self.decimals = rng.choice([1, 1, 1, 2])
        self.dot = rng.random() < 0.08
        self.missing = rng.choice(["-", "—", "*", "", "--", "-"])
        self.mono = mono

    def t(self, s):
        if self.case == "upper":
            return s.upper()
        if self.case == "upper_noaccent":
            return fold(s).upper()
        return s

    def num(self, x, scale):
        if x is None:
            return self.missing
        if scale == 100:
            return str(int(round(x)))
        s = f"{x:.{self.decimals}f}"
        return s if self.dot else s.replace(".", ",")


def value(s):
    """The number a printed cell means (the truth is what is printed)."""
    if s is None or s.strip() in ("", "-", "—", "*", "--"):
        return None
    return float(s.replace(".", "").replace(",", ".")) if "," in s else float(s)


def make_cnpj(rng):
    d = [rng.randint(0, 9) for _ in range(8)] + [0, 0, 0, rng.randint(1, 3)]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        r = sum(a * b for a, b in zip(d, weights)) % 11
        d.append(0 if r < 2 else 11 - r)
    s = "".join(map(str, d))
    return s, f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


class School:
    def __init__(self, rng, style, public=None):
        kind = rng.choice(SCHOOL_TYPES)
        self.name = style.t(f"{kind} {rng.choice(SCHOOL_NAMES)}")
        self.city, self.uf = rng.choice(CITIES)
        self.street = rng.choice(STREETS)
        self.inep = str(rng.randint(10**7, 10**8 - 1))
        # some public schools print no CNPJ at all (then the truth has none)
        has_cnpj = rng.random() < (0.8 if public is None else 0.6 if public else 0.95)
        self.cnpj, fmt = make_cnpj(rng)
        self.cnpj_printed = rng.choice([fmt, fmt, self.cnpj]) if has_cnpj else None
        if not has_cnpj:
            self.cnpj = None
        self.cnpj_label = rng.choice(["CNPJ:", "CNPJ", "C.N.P.J.:", "CNPJ nº", "CNPJ/MF:", "CNPJ -"])
        self.inep_label = rng.choice(["INEP:", "Código INEP:", "Cód. INEP", "INEP nº", "Cod. INEP:"])

    def ids_line(self, style):
        parts = []
        if self.cnpj_printed:
            parts.append(f"{style.t(self.cnpj_label)} {self.cnpj_printed}")
        parts.append(f"{style.t(self.inep_label)} {self.inep}")
        return "   ".join(parts)


class Student:
    def __init__(self, rng, style, level=None):
        parts = [rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)]
        self.name = style.t(" ".join(p for p in parts if p))
        self.registration = rng.choice([str(rng.randint(10**5, 10**7)), str(rng.randint(10**9, 10**12)),
                                        f"{rng.randint(10**8, 10**9 - 1):012d}"])
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2006, 2017)
        self.birth_iso = f"{y}-{m:02d}-{d:02d}"
        self.birth = f"{d:02d}/{m:02d}/{y}"
        level = level or rng.choice(["6º Ano", "7º Ano", "8º Ano", "9º Ano", "1ª Série", "2ª Série", "3ª Série"])
        letter = rng.choice("ABCDE")
        self.class_name = style.t(rng.choice([f"{level} {letter}", f"{level} - {letter}", f"{level} {letter}",
                                              f"{level[0]}{letter}", f"{level[0]}0{rng.randint(1, 4)}"]))
        self.labels = {
            "name": rng.choice(["Aluno(a):", "Aluno:", "Nome do Estudante:", "Estudante:", "Nome:",
                                "Nome do Aluno:", "Discente:"]),
            "reg": rng.choice(["Matrícula:", "RA:", "Nº de Matrícula:", "Código do Aluno:", "Registro:",
                               "Mat.:", "Nº Matrícula:"]),
            "birth": rng.choice(["Data de Nascimento:", "Nasc.:", "Dt. Nasc.:", "Data Nasc.:", "Nascimento:"]),
            "class": rng.choice(["Turma:", "Série/Turma:", "Ano/Turma:", "Classe:", "Turma/Série:"]),
            "year": rng.choice(["Ano Letivo:", "Exercício:", "Ano:", "Período Letivo:"]),
        }


def academic_truth(family, split, seed, doc_type, year, st, school, scale):
    return {
        "kind": "academic", "family": family, "split": split, "seed": seed, "scale": scale,
        "scan_dpi": None, "pages": 1, "generator": "gen_families",
        "doc_type": doc_type, "year": year,
        "student": {"name": st.name, "registration": st.registration, "birth_date": st.birth_iso,
                    "class_name": st.class_name},
        "school": {"name": school.name, "cnpj": school.cnpj},
        "overall_attendance_pct": None, "subjects": [], "years": None, "warnings": [],
    }


def pick_subjects(rng, pool, lo, hi):
    codes = list(pool)
    rng.shuffle(codes)
    codes = codes[: rng.randint(lo, min(hi, len(codes)))]
    # most systems keep a fixed curricular order (Portuguese first); some sort alphabetically
    if rng.random() < 0.6:
        order = list(ALL_SUBJECTS)
        codes.sort(key=order.index)
    return codes


def grade(rng, base, scale):
    g = min(10.0, max(0.0, base + rng.uniform(-1.8, 1.6)))
    g = round(g * 2) / 2 if rng.random() < 0.4 else round(g, 1)
    return float(int(round(g * 10))) if scale == 100 else g


def subject_rows(rng, style, codes, n_terms, scale, missing_rate=0.08, spell=None):
    """Per subject the printed strings (terms, média, faltas, freq, status) and what they mean."""
    rows = []
    passing = 5 if rng.random() < 0.5 else 6
    for code in codes:
        base = rng.uniform(4.6, 9.7)
        terms = [grade(rng, base, scale) for _ in range(n_terms)]
        if rng.random() < missing_rate:
            terms[rng.randrange(n_terms)] = None
        terms_s = [style.num(t, scale) for t in terms]
        present = [value(s) for s in terms_s if value(s) is not None]
        media = sum(present) / len(present)
        media_s = style.num(round(media, 0 if scale == 100 else style.decimals), scale)
        faltas = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 11, 15, 22])
        per_term = [0] * n_terms
        for _ in range(faltas):
            per_term[rng.randrange(n_terms)] += 1
        freq = round(100 - faltas * rng.uniform(0.3, 0.9), 1)
        low = value(media_s) < passing * scale / 10
        status = "reprovado" if low and rng.random() < 0.5 else "recuperação" if low else "aprovado"
        written = spell(code) if spell else style.t(rng.choice(ALL_SUBJECTS[code]))
        rows.append({
            "code": code, "written": written, "terms_s": terms_s, "terms": [value(s) for s in terms_s],
            "media_s": media_s, "media": value(media_s), "faltas": faltas, "per_term": per_term,
            "freq": freq, "freq_s": f"{freq:.1f}".replace(".", ","), "status": status,
            "status_s": style.t(rng.choice(STATUS_WORDS[status])), "base": base, "passing": passing,
        })
    return rows


def restatus(rows, style, rng, scale, key):
    """Status again from the grade printed under `key` (after a recovery
    or exam changed it), so that status and final grade agree."""
    for r in rows:
        low = r[key] is not None and r[key] < r["passing"] * scale / 10
        if not low:
            r["status"] = "aprovado"
        elif r["status"] == "aprovado":
            r["status"] = "reprovado" if rng.random() < 0.5 else "recuperação"
        r["status_s"] = style.t(rng.choice(STATUS_WORDS[r["status"]]))


def subject_truth(r, terms=True, final="media", faltas=True, freq=True, status=True, ch=None):
    s = {"code": r["code"]}
    if terms:
        s["terms"] = list(r["terms"])
    s["final_grade"] = r[final] if final else None
    s["absences"] = r["faltas"] if faltas else None
    s["attendance_pct"] = r["freq"] if freq else None
    s["status"] = r["status"] if status else None
    s["workload_hours"] = ch
    return s


class Doc:
    """A document being drawn: canvas, fonts, cursor, page count."""

    def __init__(self, path, rng, fonts=None, land=False, size=None):
        self.rng = rng
        self.w, self.h = landscape(A4) if land else A4
        self.c = canvas.Canvas(path, pagesize=(self.w, self.h))
        self.font, self.bold = rng.choice(fonts or ANY_FONT)
        self.size = size or rng.choice([7.5, 8, 8.5, 9, 9.5, 10])
        self.lead = self.size * rng.uniform(1.4, 1.85)
        self.left = rng.uniform(30, 56)
        self.right = self.w - rng.uniform(30, 50)
        self.top = self.h - rng.uniform(36, 62)
        self.y = self.top
        self.pages = 1
        self.on_new_page = None
        # many systems stamp each page: emission time, an authentication code, the page number
        self.footer = None
        if rng.random() < 0.5:
            self.footer = rng.choice([
                "Emitido em {d} às {h} - Código de autenticidade: {c} - Página {p}",
                "Documento gerado eletronicamente em {d} {h}. Verifique em: validar {c}",
                "Pág. {p}   -   Impresso em {d}",
            ]).format(d=f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2020, 2026)}",
                      h=f"{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}",
                      c=f"{rng.randint(0, 16**4 - 1):04X}-{rng.randint(0, 16**4 - 1):04X}", p="{p}")

    def text(self, x, s, bold=False, size=None):
        self.c.setFont(self.bold if bold else self.font, size or self.size)
        self.c.drawString(x, self.y, s)

    def rtext(self, x, s, bold=False, size=None):
        self.c.setFont(self.bold if bold else self.font, size or self.size)
        self.c.drawRightString(x, self.y, s)

    def ctext(self, x, s, bold=False, size=None):
        self.c.setFont(self.bold if bold else self.font, size or self.size)
        self.c.drawCentredString(x, self.y, s)

    def line(self, s, bold=False, size=None, x=None):
        self.text(self.left if x is None else x, s, bold, size)
        self.y -= self.lead if size is None else max(self.lead, size * 1.45)

    def width(self, s, bold=False, size=None):
        return pdfmetrics.stringWidth(s, self.bold if bold else self.font, size or self.size)

    def gap(self, k=0.6):
        self.y -= self.lead * k

    def stamp(self):
        if self.footer:
            self.c.setFont(self.font, max(6, self.size - 2))
            self.c.drawString(self.left, 24, self.footer.format(p=self.pages))

    def new_page(self):
        self.stamp()
        self.c.showPage()
        self.pages += 1
        self.y = self.top
        if self.on_new_page:
            self.on_new_page(self)

    def need(self, h):
        if self.y - h < 46:
            self.new_page()

    def hrule(self, x0=None, x1=None, w=0.6):
        self.c.setLineWidth(w)
        y = self.y + self.lead * 0.65
        self.c.line(self.left if x0 is None else x0, y, self.right if x1 is None else x1, y)

    def save(self):
        self.stamp()
        self.c.showPage()
        self.c.save()


def fit_text(d, x, w, s, align, bold=False):
    size = d.size
    if s and d.width(s, bold) > w - 4:
        size = d.size * (w - 4) / d.width(s, bold)
    if align == "l":
        d.text(x + 3, s, bold, size)
    elif align == "r":
        d.rtext(x + w - 3, s, bold, size)
    else:
        d.ctext(x + w / 2, s, bold, size)


def grid(d, headers, rows, widths, aligns, ruled=True, repeat_header=True, break_at=None, x0=None,
         fill=None, header_bold=True):
    """Draws a table. headers: rows of (text, span); rows: lists of cell strings.
    A page break comes when the page is full or before row index `break_at`;
    the continuation repeats the header rows only with `repeat_header`."""
    x0 = d.left if x0 is None else x0
    room = d.right - x0
    if sum(widths) > room:
        # as table tools do: narrower columns, text set smaller to fit
        widths = [w * room / sum(widths) for w in widths]
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)

    def row_lines(top, bottom, spans=None):
        if not ruled:
            return
        d.c.setLineWidth(0.5)
        d.c.line(x0, top, xs[-1], top)
        d.c.line(x0, bottom, xs[-1], bottom)
        edges = [0]
        for span in spans or [1] * len(widths):
            edges.append(edges[-1] + span)
        for e in edges:
            d.c.line(xs[e], bottom, xs[e], top)

    def draw_headers():
        for hrow in headers:
            top, bottom = d.y + d.lead * 0.7, d.y - d.lead * 0.3
            if fill is not None:
                d.c.setFillGray(fill)
                d.c.rect(x0, bottom, xs[-1] - x0, top - bottom, stroke=0, fill=1)
                d.c.setFillGray(0)
            col = 0
            for text, span in hrow:
                fit_text(d, xs[col], xs[col + span] - xs[col], text, "l" if col == 0 and aligns[0] == "l" else "c",
                         header_bold)
                col += span
            row_lines(top, bottom, [s for _, s in hrow])
            d.y -= d.lead

    draw_headers()
    for i, cells in enumerate(rows):
        if d.y - d.lead < 46 or (break_at is not None and i == break_at):
            d.new_page()
            if repeat_header:
                draw_headers()
        for k, (cell, w, a) in enumerate(zip(cells, widths, aligns)):
            fit_text(d, xs[k], w, cell, a)
        row_lines(d.y + d.lead * 0.7, d.y - d.lead * 0.3)
        d.y -= d.lead
    return xs[-1]


def student_lines(d, st, style, rng, year=None, extras=True):
    """Student fields as `Label: value`, one or two per line, with distractors."""
    L = {k: style.t(v) for k, v in st.labels.items()}
    items = [(L["name"], st.name), (L["reg"], st.registration), (L["birth"], st.birth),
             (L["class"], st.class_name)]
    if year is not None:
        items.append((L["year"], str(year)))
    if extras:
        items.append((style.t(rng.choice(["Turno:", "Período:"])), style.t(rng.choice(["Manhã", "Tarde", "Integral"]))))
        if rng.random() < 0.5:
            items.append((style.t("Nº:"), str(rng.randint(1, 40))))
        if rng.random() < 0.4:
            resp = " ".join([rng.choice(FIRST), rng.choice(LAST)])
            items.append((style.t(rng.choice(["Responsável:", "Filiação:"])), style.t(resp)))
    if rng.random() < 0.5:
        for k, v in items:
            d.line(f"{k} {v}")
    else:
        half = (d.right - d.left) / 2
        for i in range(0, len(items), 2):
            d.text(d.left, f"{items[i][0]} {items[i][1]}")
            if i + 1 < len(items):
                d.text(d.left + half, f"{items[i + 1][0]} {items[i + 1][1]}")
            d.y -= d.lead


def school_lines(d, school, style, rng, network=None):
    if network:
        d.line(style.t(network), bold=True)
    label = rng.choice(["", "", "Escola: ", "Unidade Escolar: ", "Estabelecimento: "])
    d.line(f"{style.t(label)}{school.name}", bold=not label, size=d.size + (1.5 if not label else 0))
    if rng.random() < 0.7:
        d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
    d.line(school.ids_line(style))


def rng_for(seed, family_index):
    return random.Random(seed * 1009 + family_index * 7919)
