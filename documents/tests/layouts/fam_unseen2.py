"""A THIRD holdout of layout families for gen_families.py (`--unseen2 N`),
written without looking at the parser, at its examples or at its results,
and never to be tuned on. Each family is modelled on a kind of page
Brazilian school systems print and differs in STRUCTURE from the families
of fam_boletins.py, fam_historicos.py, fam_tune_extra.py and fam_unseen.py:

Boletins
  u2_dotted_leaders         portrait page, small font, no table: `Matemática ...... 7,5  8,0`
                            with dotted leaders to right-aligned columns, subjects under headings
  u2_term_rows_acronyms     terms as rows (a `Nota` and a `Faltas` row per term), subjects as
                            columns headed by acronyms (LP, MAT, CIE ...) explained in a legend;
                            `MA`, `Rec.`, `MF`, total absences and result as rows at the bottom
  u2_trimestre_two_tables   trimesters: a grades table (`Média Anual`, `Rec. Final`, `Nota Final`)
                            and a SEPARATE attendance table (absences per trimester, classes given,
                            % frequency) that the reader must join by subject
  u2_header_two_boxes       municipal card: school and student as two boxes side by side,
                            semester recoveries BETWEEN the bimester columns, signatures below
  u2_instrumentos_nested    a block of rows per subject: one row per assessment (Prova, Trabalho,
                            ...) with its weight, the term mean row, the absences row
  u2_portal_print           a student portal page printed from the browser: date/URL margins,
                            a dark banner, fields as label-over-value, zebra rows without
                            vertical rules and a teacher's name column
  u2_duas_vias              the same compact card printed twice on one page (`1ª via - Escola`,
                            `2ª via - Responsável`) with a cut line between the copies
Históricos
  u2_hist_anos_linhas       one ROW per school year (year, série, school, town, result) with the
                            subjects as abbreviated, often turned, column headers; may repeat a série
  u2_hist_blocos_horizontais a block per year, each with its own school and town, the subjects
                            ACROSS a small table with `Nota`, `CH` (and `Faltas`) rows
  u2_hist_certidao_texto    running text: a paragraph per year listing `Componente: nota` pairs
  u2_hist_em_notas_ch       Ensino Médio: `Médias Finais` (1ª 2ª 3ª série) then `Carga Horária`
                            (1ª 2ª 3ª) as two column groups, sections for the common base and the
                            diversified part, totals, attendance and result rows

Look-alikes that must be refused (UNSEEN2_REJECTS): a school supplies kit order,
a school-bus route, a teacher's payslip, the evaluation chapter of a school
regulation with a worked example, the minutes of a class council, the
Bolsa Família attendance follow-up of one student and a teacher's annual
teaching plan.

Truth rule as in gen_families.py: a field is in the truth only where a person
reading the page would give it unambiguously, and it is what is PRINTED (a
term without a grade is null, a mean before the recovery is not the final
grade, a subject not taken in a year is absent from that year).
"""

from fam_common import (
    ALL_SUBJECTS, FIRST, LAST, MIDDLE, SANS, SERIF, Doc, School, Student, Style, academic_truth, fit_text,
    fold, value,
)

MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
          "novembro", "dezembro"]
STATES = {"SP": "de São Paulo", "CE": "do Ceará", "PR": "do Paraná", "MG": "de Minas Gerais", "PE": "de Pernambuco",
          "RS": "do Rio Grande do Sul", "BA": "da Bahia", "GO": "de Goiás"}
# annual workload (hours) a curriculum gives each component
CH = {"lingua-portuguesa": 200, "matematica": 200, "ciencias": 120, "historia": 120, "geografia": 120, "arte": 80,
      "educacao-fisica": 80, "lingua-inglesa": 80, "ensino-religioso": 40, "lingua-espanhola": 80, "fisica": 80,
      "quimica": 80, "biologia": 80, "filosofia": 40, "sociologia": 40, "redacao": 40, "projeto-de-vida": 80,
      "literatura": 40, "informatica": 40}
OTHER_TOWNS = [("Sorocaba", "SP"), ("Maracanaú", "CE"), ("Maringá", "PR"), ("Contagem", "MG"), ("Olinda", "PE"),
               ("Canoas", "RS"), ("Ilhéus", "BA"), ("Anápolis", "GO"), ("Ribeirão Preto", "SP")]

# printed spellings beyond fam_common's (each read unambiguously by a person)
MORE_SPELLINGS = {
    "arte": ["Artes Visuais", "Educação Artística"],
    "lingua-inglesa": ["Língua Estrangeira - Inglês", "Inglês (LEM)"],
    "lingua-portuguesa": ["Português e Literatura Brasileira"],
    "ensino-religioso": ["Educação Religiosa"],
}
SHORT = {
    "lingua-portuguesa": ["Port.", "L. Port.", "Português"], "matematica": ["Mat.", "Matem.", "Matemática"],
    "ciencias": ["Ciên.", "Ciências"], "historia": ["Hist.", "História"], "geografia": ["Geog.", "Geo."],
    "arte": ["Arte", "Artes"], "educacao-fisica": ["Ed. Fís.", "Ed. Física"], "lingua-inglesa": ["Inglês", "L. Ingl."],
    "ensino-religioso": ["Ens. Rel.", "E. Relig."], "lingua-espanhola": ["Espanhol", "Esp."],
    "fisica": ["Física", "Fís."], "quimica": ["Química", "Quím."], "biologia": ["Biologia", "Biol."],
    "filosofia": ["Filosofia", "Filos."], "sociologia": ["Sociologia", "Sociol."], "redacao": ["Redação"],
    "projeto-de-vida": ["Proj. Vida", "Projeto de Vida"], "informatica": ["Informática"],
    "literatura": ["Literatura", "Lit."],
}
ACRONYMS = {
    "lingua-portuguesa": ["LP", "POR", "LPO"], "matematica": ["MAT"], "ciencias": ["CIE", "CN", "CIÊ"],
    "historia": ["HIS", "HIST"], "geografia": ["GEO"], "arte": ["ARTE", "ART"], "educacao-fisica": ["EF", "EDF"],
    "lingua-inglesa": ["ING", "LI", "LEI"], "ensino-religioso": ["ER", "ENR"], "lingua-espanhola": ["ESP", "LEE"],
    "fisica": ["FIS"], "quimica": ["QUI"], "biologia": ["BIO"], "filosofia": ["FIL"], "sociologia": ["SOC"],
}
EF_INICIAIS = ["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia", "arte", "educacao-fisica",
               "ensino-religioso", "lingua-inglesa"]
EF_FINAIS = ["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia", "arte", "educacao-fisica",
             "lingua-inglesa", "ensino-religioso", "lingua-espanhola"]
EM = ["lingua-portuguesa", "matematica", "historia", "geografia", "arte", "educacao-fisica", "lingua-inglesa",
      "fisica", "quimica", "biologia", "filosofia", "sociologia", "lingua-espanhola", "redacao", "projeto-de-vida"]
ORDER_CLASSIC = ["lingua-portuguesa", "matematica", "ciencias", "fisica", "quimica", "biologia", "historia",
                 "geografia", "filosofia", "sociologia", "arte", "educacao-fisica", "lingua-inglesa",
                 "lingua-espanhola", "ensino-religioso", "redacao", "literatura", "projeto-de-vida", "informatica"]
ORDER_BNCC = ["lingua-portuguesa", "arte", "educacao-fisica", "lingua-inglesa", "lingua-espanhola", "redacao",
              "literatura", "matematica", "ciencias", "biologia", "fisica", "quimica", "historia", "geografia",
              "filosofia", "sociologia", "ensino-religioso", "projeto-de-vida", "informatica"]
# `Parte Diversificada` of the older curricula
DIVERSIFIED = {"lingua-inglesa", "lingua-espanhola", "ensino-religioso", "redacao", "projeto-de-vida", "informatica"}

LEVELS_FINAIS = ["6º Ano", "7º Ano", "8º Ano", "9º Ano"]
LEVELS_INICIAIS = ["3º Ano", "4º Ano", "5º Ano"]
LEVELS_EM = ["1ª Série", "2ª Série", "3ª Série"]
OLD_LEVELS = ["5ª Série", "6ª Série", "7ª Série", "8ª Série"]

LABELS = {
    "name": ["Aluno(a)", "Aluno", "Estudante", "Nome do aluno", "Nome do(a) aluno(a)", "Nome", "Nome do Estudante"],
    "reg": ["Matrícula", "RA", "Código do aluno", "Nº de matrícula", "R.M.", "Cód. Aluno", "Registro do aluno"],
    "birth": ["Data de nascimento", "Nascimento", "Dt. Nasc.", "Data Nasc.", "Nasc."],
    "class": ["Turma", "Classe", "Série/Turma", "Ano/Turma"],
    "year": ["Ano letivo", "Exercício", "Ano", "Ano de referência"],
}
STATUS_PRINT = {
    "aprovado": ["Aprovado", "APROVADO", "Aprovado(a)", "Apr."],
    "reprovado": ["Reprovado", "REPROVADO", "Reprovado(a)", "Rep."],
    "recuperação": ["Recuperação", "Em recuperação", "RECUPERAÇÃO"],
    "cursando": ["Cursando", "Em andamento", "CURSANDO"],
    "promovido": ["Promovido", "Promovido(a)", "PROMOVIDO"],
    "retido": ["Retido", "Retido(a)", "RETIDO"],
}


class Style2(Style):
    """fam_common's Style plus pages printed without accents in mixed case."""

    def __init__(self, rng, case=None):
        super().__init__(rng, case=case)
        if case is None and self.case == "as_is" and rng.random() < 0.15:
            self.case = "noaccent"

    def t(self, s):
        if self.case == "noaccent":
            return fold(s)
        return super().t(s)


def pick(rng, *opts):
    return rng.choice(opts)


def lab(style, rng, key, colon=True):
    return style.t(rng.choice(LABELS[key])) + (":" if colon else "")


def ordered(rng, codes):
    order = ORDER_BNCC if rng.random() < 0.4 else ORDER_CLASSIC
    return sorted(codes, key=order.index)


def choose_codes(rng, pool, lo, hi, must=("lingua-portuguesa", "matematica")):
    codes = [c for c in pool if c in must]
    rest = [c for c in pool if c not in must]
    rng.shuffle(rest)
    codes += rest[: max(0, rng.randint(lo, min(hi, len(pool))) - len(codes))]
    return ordered(rng, codes)


def spelling(style, rng, code, short=False):
    if short:
        return style.t(rng.choice(SHORT[code]))
    opts = ALL_SUBJECTS[code]
    if rng.random() < 0.55:
        s = opts[0]
    else:
        s = rng.choice(opts + MORE_SPELLINGS.get(code, []))
    return style.t(s)


def gval(rng, base, scale, lo=0.0):
    """A grade around `base` (on 0-10), as the system stores it."""
    g = min(10.0, max(lo, base + rng.uniform(-1.7, 1.5)))
    g = round(g * 2) / 2 if rng.random() < 0.35 else round(g, 1)
    return float(int(round(g * 10))) if scale == 100 else g


def num(style, x, scale, dec=None):
    """A number as printed by this document (rounded first; None is the missing mark)."""
    if x is None:
        return style.missing
    if scale == 100:
        return str(int(round(x)))
    dec = style.decimals if dec is None else dec
    s = f"{x:.{dec}f}"
    return s if style.dot else s.replace(".", ",")


def pct_s(x, dot=False):
    s = f"{x:.1f}"
    return s if dot else s.replace(".", ",")


def status_word(style, rng, status):
    return style.t(rng.choice(STATUS_PRINT[status]))


def level_number(level):
    return int(level.split("º")[0].split("ª")[0])


def school_for(rng, style, em, public=None, municipal=False):
    """A school whose kind can teach the stage (no EMEF for Ensino Médio, no
    `de Ensino Médio` school for Ensino Fundamental; no state school in a
    municipal network's card)."""
    for _ in range(40):
        sc = School(rng, style, public)
        n = fold(sc.name).upper()
        ef_only = any(m in n for m in ("EMEF", "E.M.E.F.", "ENSINO FUNDAMENTAL"))
        state = "ESTADUAL" in n or n.startswith("E.E.")
        if ((em and not ef_only) or (not em and "ENSINO MEDIO" not in n)) and not (municipal and state):
            return sc
    return sc


def make_student(rng, style, year, level):
    st = Student(rng, style, level=level)
    n = level_number(level)
    if level in OLD_LEVELS:  # the old 8-year Ensino Fundamental
        age = n + 6
    elif "Série" in level:
        age = 14 + n
    else:
        age = n + 5
    by = year - age - (1 if rng.random() < 0.3 else 0)
    d, m = rng.randint(1, 28), rng.randint(1, 12)
    st.birth_iso, st.birth = f"{by}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{by}"
    if style.case in ("as_is", "noaccent") and rng.random() < 0.25:
        st.name = st.name.upper()
    return st


def truth(family, split, seed, doc_type, year, st, school, scale, pages, shown=None):
    t = academic_truth(family, split, seed, doc_type, year, st, school, scale)
    for k, on in (shown or {}).items():
        if not on:
            t["student"][k] = None
    t["pages"] = pages
    return t


def centre(d, s, bold=False, size=None, k=1.0):
    d.ctext((d.left + d.right) / 2, s, bold, size)
    d.y -= max(d.lead, (size or d.size) * 1.4) * k


def network_lines(style, rng, school, municipal=None):
    if municipal is None:
        name = fold(school.name).upper()
        municipal = ("MUNICIPAL" in name or "EMEF" in name or "E.M.E.F" in name or
                     "ESTADUAL" not in name and "E.E." not in name and rng.random() < 0.5)
    if municipal:
        return [style.t(f"PREFEITURA MUNICIPAL DE {school.city.upper()}"),
                style.t(pick(rng, "Secretaria Municipal de Educação", "SECRETARIA MUNICIPAL DE EDUCAÇÃO - SME",
                             "Secretaria Municipal de Educação e Cultura"))]
    state = STATES.get(school.uf, "de São Paulo")
    return [style.t(pick(rng, f"GOVERNO DO ESTADO {state.upper()}", f"Estado {state}")),
            style.t(pick(rng, "Secretaria de Estado da Educação", "SECRETARIA DA EDUCAÇÃO",
                         "Superintendência Regional de Ensino"))]


def wrap(d, s, w, bold=False, size=None, sep=" "):
    """Lines of s no wider than w, broken at `sep`."""
    lines, cur = [], ""
    for part in s.split(sep):
        cand = part if not cur else cur + sep + part
        if d.width(cand, bold, size) <= w or not cur:
            cur = cand
        else:
            lines.append(cur + (sep.rstrip() if sep.strip() else ""))
            cur = part
    if cur:
        lines.append(cur)
    return lines


def table(d, heads, rows, widths, aligns, rules="grid", head_fill=None, zebra=None, turn=None, turn_h=None,
          x0=None, repeat=True, head_bold=True):
    """A table. heads: header rows of (text, span); rows: lists of cells (text or (text, span)) or dicts
    {"cells", "bold", "fill"}. rules: `grid`, `rows` (horizontal lines only), `head` (a line under the
    header) or `none`. turn=(row, from_col): that header row's cells from that column are turned 90°
    in a row turn_h high. Breaks the page when full, repeating the header when `repeat`."""
    x0 = d.left if x0 is None else x0
    room = d.right - x0
    widths = list(widths)
    for i, hrow in enumerate(heads):
        if turn is not None and turn[0] == i:
            continue
        col = 0
        for text, span in hrow:
            if span == 1 and text:
                widths[col] = max(widths[col], d.width(text, head_bold) + 8)
            col += span
    if sum(widths) > room:
        widths = [w * room / sum(widths) for w in widths]
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    c = d.c

    def norm(cells):
        return [x if isinstance(x, tuple) else (x, 1) for x in cells]

    def draw(cells, bold=False, fill=None, h=None, turned_from=None, head=False):
        h = h or d.lead
        base = d.y
        top = base + d.lead * 0.7
        bottom = top - h
        if fill is not None:
            c.setFillGray(fill)
            c.rect(x0, bottom, xs[-1] - x0, h, stroke=0, fill=1)
            c.setFillGray(0)
        col, edges = 0, [0]
        for text, span in norm(cells):
            x, w = xs[col], xs[col + span] - xs[col]
            if turned_from is not None and col >= turned_from and text:
                size = min(d.size, (h - 6) * d.size / max(1.0, d.width(text, bold)))
                c.saveState()
                c.setFont(d.bold if bold else d.font, size)
                c.translate(x + w / 2 + size * 0.35, bottom + 3)
                c.rotate(90)
                c.drawString(0, 0, text)
                c.restoreState()
            else:
                if h > d.lead * 1.05:
                    d.y = bottom + (h - d.size * 0.7) / 2
                if head or span > 1:
                    align = "l" if col == 0 and aligns[0] == "l" else "c"
                else:
                    align = aligns[col]
                fit_text(d, x, w, text, align, bold)
                d.y = base
            col += span
            edges.append(col)
        c.setLineWidth(0.5)
        if rules == "grid":
            c.line(x0, top, xs[-1], top)
            c.line(x0, bottom, xs[-1], bottom)
            for e in edges:
                c.line(xs[e], bottom, xs[e], top)
        elif rules == "rows":
            c.line(x0, bottom, xs[-1], bottom)
            if head:
                c.line(x0, top, xs[-1], top)
        elif rules == "head" and head:
            c.line(x0, bottom, xs[-1], bottom)
        d.y = base - h

    def draw_heads():
        for i, hrow in enumerate(heads):
            turned = turn is not None and turn[0] == i
            draw(hrow, head_bold, head_fill, turn_h if turned else None, turn[1] if turned else None, head=True)

    draw_heads()
    for i, row in enumerate(rows):
        spec = row if isinstance(row, dict) else {"cells": row}
        if d.y - d.lead < 50:
            d.new_page()
            if repeat:
                draw_heads()
        fill = spec.get("fill")
        if fill is None and zebra is not None and i % 2 == 1:
            fill = zebra
        draw(spec["cells"], spec.get("bold", False), fill)
    return xs[-1]


def signature_block(d, style, rng, roles, city=None, year=None, months=MONTHS):
    d.gap(1.2)
    d.need(d.lead * (5 if city else 3))
    if city:
        d.line(style.t(f"{city}, {rng.randint(1, 28)} de {rng.choice(months)} de {year}."))
        d.gap(1.6)
    w = (d.right - d.left) / len(roles)
    for i, role in enumerate(roles):
        x = d.left + i * w
        d.c.setLineWidth(0.5)
        d.c.line(x + 10, d.y + d.lead * 0.6, x + w - 10, d.y + d.lead * 0.6)
        d.ctext(x + w / 2, style.t(role), size=d.size - 0.5)
    d.y -= d.lead


def make_grades(rng, style, codes, n_terms, scale, missing=0.06):
    """Per subject: printed term grades and their values, a base level, absences."""
    rows = []
    for code in codes:
        base = rng.uniform(4.4, 9.7)
        vals = [gval(rng, base, scale) for _ in range(n_terms)]
        if rng.random() < missing:
            vals[rng.randrange(n_terms)] = None
        ts = [num(style, v, scale) for v in vals]
        faltas = rng.choice([0, 0, 0, 1, 2, 2, 3, 4, 5, 7, 9, 12, 16])
        per = [0] * n_terms
        for _ in range(faltas):
            per[rng.randrange(n_terms)] += 1
        rows.append({"code": code, "base": base, "terms_s": ts, "terms": [value(s) for s in ts], "faltas": faltas,
                     "per_term": per})
    return rows


def mean_s(style, vals, scale, weights=None):
    present = [(v, w) for v, w in zip(vals, weights or [1] * len(vals)) if v is not None]
    if not present:
        return style.missing
    m = sum(v * w for v, w in present) / sum(w for _, w in present)
    return num(style, round(m, 0 if scale == 100 else style.decimals), scale)


def status_from(v, passing, scale, rng, low=("reprovado", "recuperação")):
    if v is None:
        return None
    return "aprovado" if v >= passing * scale / 10 else rng.choice(low)


def term_names(rng, style, n):
    if n == 4:
        forms = ["{}º Bim", "{}º Bim.", "{}°B", "B{}", "{}º Bimestre", "{}ª Etapa", "{}º Período", "{}ª Unid."]
    elif n == 3:
        forms = ["{}º Tri", "{}º Trim.", "T{}", "{}ª Etapa", "{}º Trimestre", "{}° TRI"]
    else:
        forms = ["{}º Sem.", "{}º Semestre", "S{}"]
    f = rng.choice(forms)
    return [style.t(f.format(i + 1)) for i in range(n)]


def subj_truth(code, terms=None, final=None, absences=None, att=None, status=None, ch=None):
    s = {"code": code}
    if terms is not None:
        s["terms"] = list(terms)
    s.update({"final_grade": final, "absences": absences, "attendance_pct": att, "status": status,
              "workload_hours": ch})
    return s


# ---------------------------------------------------------------- boletins

def u2_dotted_leaders(path, rng, family, split, seed):
    """Portrait, small font, no grid: each subject a line with dotted leaders
    to right-aligned term columns; headings split the base and diversified
    parts; the overall result and attendance in sentences below."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, size=rng.choice([6.5, 7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.45, 1.75)
    year = rng.randint(2017, 2025)
    stage = pick(rng, "finais", "finais", "iniciais", "em")
    level = rng.choice({"finais": LEVELS_FINAIS, "iniciais": LEVELS_INICIAIS, "em": LEVELS_EM}[stage])
    school = school_for(rng, style, stage == "em")
    pool = {"finais": EF_FINAIS, "iniciais": EF_INICIAIS, "em": EM}[stage]
    st = make_student(rng, style, year, level)
    for s in network_lines(style, rng, school):
        centre(d, s, size=d.size)
    centre(d, school.name, bold=True, size=d.size + 2)
    if rng.random() < 0.6:
        centre(d, style.t(f"{school.street} - {school.city}/{school.uf}"))
    centre(d, school.ids_line(style))
    d.gap(0.4)
    title = style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim de Rendimento Escolar", "RENDIMENTO ESCOLAR DO ALUNO",
                         "Ficha de Rendimento"))
    year_in_title = rng.random() < 0.5
    centre(d, f"{title} - {year}" if year_in_title else title, bold=True, size=d.size + 3)
    d.gap(0.3)
    show_birth = rng.random() < 0.6
    sep = pick(rng, "     ", "   ·   ", "  |  ")
    parts = [f"{lab(style, rng, 'name')} {st.name}", f"{lab(style, rng, 'reg')} {st.registration}"]
    d.line(sep.join(parts))
    parts = [f"{lab(style, rng, 'class')} {st.class_name}"]
    if not year_in_title:
        parts.append(f"{lab(style, rng, 'year')} {year}")
    if show_birth:
        parts.append(f"{lab(style, rng, 'birth')} {st.birth}")
    parts.append(f"{style.t('Turno:')} {style.t(pick(rng, 'Matutino', 'Vespertino', 'Integral'))}")
    d.line(sep.join(parts))
    d.gap(0.3)
    d.hrule()
    d.gap(0.6)
    n_terms = pick(rng, 4, 4, 3)
    codes = choose_codes(rng, pool, 7, 11)
    rows = make_grades(rng, style, codes, n_terms, scale)
    with_freq = rng.random() < 0.4
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        r["media_s"] = mean_s(style, r["terms"], scale)
        r["aulas"] = rng.choice([40, 80, 80, 120, 160, 200])
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
    labels = term_names(rng, style, n_terms) + [style.t(pick(rng, "Média", "MÉDIA", "M. Anual", "MF")),
                                                 style.t(pick(rng, "Faltas", "Fts.", "F"))]
    if with_freq:
        labels.append(style.t(pick(rng, "Freq.%", "% Freq.", "Freq.")))
    colw = max(d.width("00,00") + 12, max(d.width(x, True) for x in labels) + 8)
    start = d.right - colw * len(labels)
    leader = pick(rng, ".", ". ", "·", "_")
    head_y = d.y
    for i, lbl in enumerate(labels):
        d.rtext(start + colw * (i + 1), lbl, bold=True)
    first = style.t(pick(rng, "Componentes curriculares", "DISCIPLINAS", "Componente"))
    if d.width(first, True) > start - d.left - 12:
        first = style.t("Disciplina")
    d.text(d.left, first, bold=True)
    num_w = d.width("00,00" if scale == 10 else "100")
    d.y = head_y - d.lead * 1.2
    groups = [(None, rows)]
    if rng.random() < 0.45:
        base = [r for r in rows if r["code"] not in DIVERSIFIED]
        div = [r for r in rows if r["code"] in DIVERSIFIED]
        if div:
            groups = [(style.t(pick(rng, "BASE NACIONAL COMUM", "Base Nacional Comum Curricular")), base),
                      (style.t(pick(rng, "PARTE DIVERSIFICADA", "Parte Diversificada")), div)]
    order = []
    for heading, grp in groups:
        if heading:
            d.line(heading, bold=True)
        for r in grp:
            d.need(d.lead)
            x = d.left + (8 if heading else 0)
            d.text(x, r["written"])
            lx = x + d.width(r["written"]) + 3
            room = start + colw - num_w - 6 - lx
            n = int(room / d.width(leader))
            if n > 0:
                d.text(lx, leader * n)
            vals = r["terms_s"] + [r["media_s"], str(r["faltas"])]
            if with_freq:
                vals.append(pct_s(r["freq"], style.dot))
            for i, v in enumerate(vals):
                d.rtext(start + colw * (i + 1), v)
            d.y -= d.lead
            order.append(r)
    d.gap(0.5)
    d.hrule()
    d.gap(0.6)
    overall = None
    if rng.random() < 0.5:
        overall = round(100 * sum(r["aulas"] - r["faltas"] for r in rows) / sum(r["aulas"] for r in rows), 1)
        d.line(style.t(f"Frequência anual: {pct_s(overall, style.dot)}%"))
    passing = pick(rng, "5,0", "6,0", "7,0") if scale == 10 else pick(rng, "50", "60")
    d.line(style.t(f"Média mínima para aprovação: {passing}. Resultado final: ")
           + style.t(pick(rng, "APROVADO(A)", "Aprovado", "Em análise pelo Conselho de Classe")))
    if rng.random() < 0.5:
        d.line(style.t("Observação: " + pick(rng, "Nada consta.", "Aluno(a) participativo(a) e assíduo(a).",
                                             "Recuperação paralela realizada ao longo dos bimestres.")))
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), year,
                    MONTHS[10:])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["overall_attendance_pct"] = overall
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["media_s"]), r["faltas"],
                                r["freq"] if with_freq else None) for r in order]
    return t


def u2_term_rows_acronyms(path, rng, family, split, seed):
    """Terms as rows, a `Nota` and (often) a `Faltas` row per term, the
    subjects as columns headed by acronyms explained in a legend; `MA`,
    `Rec.`, `MF`, the total of absences and the result as the last rows."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.2 else 10
    stage = pick(rng, "finais", "finais", "em")
    pool = EF_FINAIS if stage == "finais" else [c for c in EM if c in ACRONYMS]
    codes = choose_codes(rng, pool, 8, 11)
    land = len(codes) > 9 or rng.random() < 0.3
    d = Doc(path, rng, SANS + SERIF, land=land, size=rng.choice([7.5, 8, 8.5, 9]))
    year = rng.randint(2018, 2025)
    level = rng.choice(LEVELS_FINAIS if stage == "finais" else LEVELS_EM)
    school = school_for(rng, style, stage == "em")
    st = make_student(rng, style, year, level)
    acr = {}
    for cd in codes:
        opts = [a for a in ACRONYMS[cd] if a not in acr.values()]
        acr[cd] = style.t(rng.choice(opts))
    for s in network_lines(style, rng, school)[:1]:
        d.line(s, bold=True)
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(school.ids_line(style))
    d.gap(0.5)
    d.line(style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim Anual", "MAPA DE NOTAS DO ALUNO")), bold=True,
           size=d.size + 2.5)
    d.gap(0.2)
    # the student as one framed line of fields
    show_birth = rng.random() < 0.5
    fields = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration),
              (lab(style, rng, "class"), st.class_name), (lab(style, rng, "year"), str(year))]
    if show_birth:
        fields.insert(2, (lab(style, rng, "birth"), st.birth))
    top = d.y + d.lead * 0.8
    line = ""
    for k, v in fields:
        piece = f"{k} {v}"
        if line and d.width(line + "    " + piece) > d.right - d.left - 8:
            d.text(d.left + 4, line)
            d.y -= d.lead
            line = piece
        else:
            line = piece if not line else line + "    " + piece
    d.text(d.left + 4, line)
    d.c.setLineWidth(0.7)
    d.c.rect(d.left, d.y - d.lead * 0.45, d.right - d.left, top - d.y + d.lead * 0.45)
    d.y -= d.lead * 1.6
    n_terms = pick(rng, 4, 4, 3)
    tl = term_names(rng, style, n_terms)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.05)
    passing = pick(rng, 5, 6, 6, 7)
    rec_on = rng.random() < 0.7
    rule = pick(rng, "max", "avg")
    for r in rows:
        r["ma_s"] = mean_s(style, r["terms"], scale)
        ma = value(r["ma_s"])
        r["rec_s"], r["mf_s"] = "", r["ma_s"]
        if rec_on and ma is not None and ma < passing * scale / 10:
            rec = gval(rng, min(10.0, r["base"] + 1.8), scale)
            r["rec_s"] = num(style, rec, scale)
            recv = value(r["rec_s"])
            mf = max(ma, recv) if rule == "max" else (ma + recv) / 2
            r["mf_s"] = num(style, round(mf, 0 if scale == 100 else style.decimals), scale)
        r["status"] = status_from(value(r["mf_s"]), passing, scale, rng, ("reprovado",))
    faltas_rows = rng.random() < 0.6
    two_cols = faltas_rows and rng.random() < 0.7
    nl, fl = pick(rng, ("Nota", "Faltas"), ("N", "F"), ("Média", "Faltas"), ("Nota", "Ausências"))
    nl, fl = style.t(nl), style.t(fl)
    first = style.t(pick(rng, "Período", "Bimestre", "Avaliação", "")) if n_terms == 4 else style.t(
        pick(rng, "Período", "Trimestre", ""))
    head = [(first, 2 if two_cols else 1)] + [(acr[cd], 1) for cd in codes]
    body = []
    for k in range(n_terms):
        if two_cols:
            body.append([tl[k], nl] + [r["terms_s"][k] for r in rows])
            body.append(["", fl] + [str(r["per_term"][k]) for r in rows])
        else:
            body.append([tl[k]] + [r["terms_s"][k] for r in rows])
            if faltas_rows:
                body.append([f"{tl[k]} - {fl}"] + [str(r["per_term"][k]) for r in rows])

    def summary(label, cells, bold=True):
        body.append({"cells": ([(label, 2)] if two_cols else [label]) + cells, "bold": bold})

    summary(style.t(pick(rng, "Média Anual", "MA", "Média")), [r["ma_s"] for r in rows])
    if rec_on:
        summary(style.t(pick(rng, "Rec. Final", "Recuperação", "REC")), [r["rec_s"] for r in rows], False)
        summary(style.t(pick(rng, "Média Final", "MF", "Nota Final")), [r["mf_s"] for r in rows])
    total_row = faltas_rows and rng.random() < 0.7 or not faltas_rows and rng.random() < 0.5
    if total_row:
        summary(style.t(pick(rng, "Total de Faltas", "TF", "Faltas")), [str(r["faltas"]) for r in rows], False)
    status_row = rng.random() < 0.55
    codes_status = rng.random() < 0.5
    st_acr = {"aprovado": "AP", "reprovado": "RP"}
    if status_row:
        cells = [st_acr[r["status"]] if codes_status else style.t({"aprovado": "Apr.", "reprovado": "Rep."}[r["status"]])
                 for r in rows]
        summary(style.t(pick(rng, "Resultado", "Situação")), cells, False)
    lw = max(d.width(c if isinstance(c, str) else c[0], True) for b in body
             for c in (b["cells"][:1] if isinstance(b, dict) else b[:1])) + 12
    widths = ([max(d.width(x) for x in tl) + 12, max(d.width(nl), d.width(fl)) + 10] if two_cols else [lw])
    cw = max(34, max(d.width(acr[cd], True) for cd in codes) + 10)
    widths += [cw] * len(codes)
    if two_cols and sum(widths[:2]) < lw:
        widths[0] += lw - sum(widths[:2])
    table(d, [head], body, widths, (["l", "l"] if two_cols else ["l"]) + ["c"] * len(codes),
          rules=pick(rng, "grid", "grid", "rows"), head_fill=pick(rng, None, 0.85))
    d.gap(0.6)
    legend = "; ".join(f"{acr[cd]} - {style.t(ALL_SUBJECTS[cd][0])}" for cd in codes)
    for ln in wrap(d, style.t("Legenda: ") + legend, d.right - d.left, size=d.size - 1, sep="; "):
        d.line(ln, size=d.size - 1)
    if status_row and codes_status:
        d.line(style.t("AP - Aprovado; RP - Reprovado"), size=d.size - 1)
    if rec_on:
        d.line(style.t("MF = maior nota entre MA e Rec." if rule == "max" else "MF = (MA + Rec.) / 2"),
               size=d.size - 1)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["mf_s"]), r["faltas"] if total_row else None,
                                None, r["status"] if status_row else None) for r in rows]
    return t


def u2_trimestre_two_tables(path, rng, family, split, seed):
    """Three trimesters. Table 1 `Aproveitamento`: the trimesters, `Média
    Anual`, `Rec. Final`, `Nota Final`, result. Table 2 `Frequência`: the
    same subjects (maybe in another order and spelling) with absences per
    trimester, classes given, total and %."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, size=rng.choice([8, 8.5, 9]))
    year = rng.randint(2018, 2025)
    stage = pick(rng, "finais", "finais", "iniciais", "em")
    level = rng.choice({"finais": LEVELS_FINAIS, "iniciais": LEVELS_INICIAIS, "em": LEVELS_EM}[stage])
    school = school_for(rng, style, stage == "em", public=rng.random() < 0.5)
    pool = {"finais": EF_FINAIS, "iniciais": EF_INICIAIS, "em": EM}[stage]
    st = make_student(rng, style, year, level)
    school_first = rng.random() < 0.5
    if school_first:
        d.line(school.name, bold=True, size=d.size + 2)
        d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
        d.line(school.ids_line(style))
    d.line(style.t(pick(rng, "BOLETIM ESCOLAR TRIMESTRAL", "Boletim - Regime Trimestral", "BOLETIM DE NOTAS E FREQUÊNCIA"))
           + f" {year}", bold=True, size=d.size + 2)
    if not school_first:
        d.line(style.t(pick(rng, "Escola: ", "Unidade: ", "Instituição: ")) + school.name)
        d.line(school.ids_line(style))
    d.gap(0.4)
    show_birth = rng.random() < 0.6
    items = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration),
             (lab(style, rng, "class"), st.class_name)]
    if show_birth:
        items.append((lab(style, rng, "birth"), st.birth))
    items.append((style.t(pick(rng, "Turno:", "Período:")), style.t(pick(rng, "Manhã", "Tarde", "Noite"))))
    lw = max(d.width(k, True) for k, _ in items) + 6
    for k, v in items:
        d.text(d.left, k, bold=True)
        d.text(d.left + lw, v)
        d.y -= d.lead
    d.gap(0.6)
    codes = choose_codes(rng, pool, 7, 11)
    rows = make_grades(rng, style, codes, 3, scale)
    passing = pick(rng, 5, 6, 6, 7)
    rule = pick(rng, "max", "avg", "rec")
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        r["ma_s"] = mean_s(style, r["terms"], scale)
        ma = value(r["ma_s"])
        r["rec_s"], r["nf_s"] = style.missing, r["ma_s"]
        if ma is not None and ma < passing * scale / 10:
            recv = value(num(style, gval(rng, min(10.0, r["base"] + 1.6), scale), scale))
            r["rec_s"] = num(style, recv, scale)
            nf = {"max": max(ma, recv), "avg": (ma + recv) / 2, "rec": recv}[rule]
            r["nf_s"] = num(style, round(nf, 0 if scale == 100 else style.decimals), scale)
        r["status"] = status_from(value(r["nf_s"]), passing, scale, rng, ("reprovado",))
        r["status_s"] = status_word(style, rng, r["status"])
        r["aulas"] = rng.choice([40, 80, 80, 120, 160, 200])
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
    tl = term_names(rng, style, 3)
    headings = pick(rng, ("APROVEITAMENTO", "FREQUÊNCIA"), ("Rendimento Escolar", "Assiduidade"),
                    ("1. NOTAS", "2. FALTAS E FREQUÊNCIA"))
    d.line(style.t(headings[0]), bold=True)
    cols = [style.t(pick(rng, "Componente Curricular", "Disciplina"))] + tl + [
        style.t(pick(rng, "Média Anual", "MA", "Méd. Anual")), style.t(pick(rng, "Rec. Final", "Recuperação Final", "RF")),
        style.t(pick(rng, "Nota Final", "NF", "Média Final")), style.t(pick(rng, "Situação", "Resultado"))]
    body = [[r["written"]] + r["terms_s"] + [r["ma_s"], r["rec_s"], r["nf_s"], r["status_s"]] for r in rows]
    nw = max(d.width(r["written"]) for r in rows) + 12
    rules = pick(rng, "grid", "grid", "rows", "head")
    table(d, [[(c, 1) for c in cols]], body, [nw] + [46] * 3 + [52, 56, 52, 66], ["l"] + ["c"] * 7, rules=rules,
          head_fill=pick(rng, None, 0.88))
    d.gap(1.0)
    d.need(d.lead * (len(rows) + 4))
    d.line(style.t(headings[1]), bold=True)
    rows2 = list(rows)
    if rng.random() < 0.3:
        rows2.sort(key=lambda r: fold(ALL_SUBJECTS[r["code"]][0]))
    respell = rng.random() < 0.4
    given_first = rng.random() < 0.5
    fl = pick(rng, "Faltas {t}", "F {t}", "{t}")
    cols2 = [style.t(pick(rng, "Componente Curricular", "Disciplina"))]
    given_l = style.t(pick(rng, "Aulas Dadas", "Aulas Previstas", "CH"))
    if given_first:
        cols2.append(given_l)
    cols2 += [style.t(fl.format(t=x)) for x in tl]
    if not given_first:
        cols2.append(given_l)
    cols2 += [style.t(pick(rng, "Total de Faltas", "Total")), style.t(pick(rng, "% Freq.", "Frequência (%)"))]
    body2 = []
    for r in rows2:
        name = spelling(style, rng, r["code"], short=True) if respell else r["written"]
        cells = [name]
        if given_first:
            cells.append(str(r["aulas"]))
        cells += [str(x) for x in r["per_term"]]
        if not given_first:
            cells.append(str(r["aulas"]))
        cells += [str(r["faltas"]), pct_s(r["freq"], style.dot)]
        body2.append(cells)
    table(d, [[(c, 1) for c in cols2]], body2, [nw] + [50] * 5 + [56], ["l"] + ["c"] * 6, rules=rules)
    overall = None
    if rng.random() < 0.5:
        overall = round(100 * sum(r["aulas"] - r["faltas"] for r in rows) / sum(r["aulas"] for r in rows), 1)
        d.gap(0.5)
        d.line(style.t(pick(rng, "Frequência global", "Frequência anual", "Freq. total")) + f": {pct_s(overall, style.dot)}%")
    d.gap(0.5)
    d.line(style.t({"max": "Nota Final: a maior entre a Média Anual e a Recuperação Final.",
                    "avg": "Nota Final = (Média Anual + Recuperação Final) / 2.",
                    "rec": "A nota da Recuperação Final substitui a Média Anual."}[rule]), size=d.size - 1)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["overall_attendance_pct"] = overall
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["nf_s"]), r["faltas"], r["freq"], r["status"])
                     for r in rows]
    return t


def u2_header_two_boxes(path, rng, family, split, seed):
    """Municipal card: `Dados da Escola` and `Dados do Aluno` as two boxes
    side by side; the grid has the semester recovery BETWEEN the bimesters
    (B1 B2 RS1 B3 B4 RS2), then the final mean; a council remark and three
    signature lines below."""
    style = Style2(rng)
    scale = 10
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.35, size=rng.choice([7.5, 8, 8.5, 9]))
    year = rng.randint(2018, 2025)
    school = school_for(rng, style, False, public=True, municipal=True)
    level = rng.choice(LEVELS_INICIAIS + LEVELS_FINAIS)
    st = make_student(rng, style, year, level)
    for i, s in enumerate(network_lines(style, rng, school, municipal=True)):
        centre(d, s, bold=i == 0)
    d.gap(0.3)
    show_birth = rng.random() < 0.7
    left = [(style.t(pick(rng, "Escola:", "Unidade:", "U.E.:")), school.name),
            (style.t("Endereço:"), style.t(school.street)),
            (style.t("Município:"), f"{style.t(school.city)}/{school.uf}"),
            (style.t(school.inep_label.rstrip(" :") + ":"), school.inep)]
    if school.cnpj_printed:
        left.append((style.t(school.cnpj_label.rstrip(" :-") + ":"), school.cnpj_printed))
    right = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration)]
    if show_birth:
        right.append((lab(style, rng, "birth"), st.birth))
    right += [(lab(style, rng, "class"), st.class_name), (lab(style, rng, "year"), str(year))]
    gapx = 10
    bw = (d.right - d.left - gapx) / 2
    n = max(len(left), len(right)) + 1
    top = d.y + d.lead * 0.85
    bh = n * d.lead + 4
    titles = (style.t(pick(rng, "DADOS DA ESCOLA", "Identificação da Escola", "ESCOLA")),
              style.t(pick(rng, "DADOS DO ALUNO", "Identificação do Estudante", "ALUNO(A)")))
    y0 = d.y
    for j, items in enumerate((left, right)):
        x = d.left + j * (bw + gapx)
        d.c.setLineWidth(0.8)
        d.c.rect(x, top - bh, bw, bh)
        d.c.setFillGray(0.88)
        d.c.rect(x, top - d.lead - 1, bw, d.lead + 1, stroke=0, fill=1)
        d.c.setFillGray(0)
        d.y = y0
        d.text(x + 4, titles[j], bold=True)
        d.y -= d.lead
        for k, v in items:
            d.text(x + 4, k, bold=True)
            kx = x + 8 + d.width(k, True)
            size = min(d.size, d.size * (bw - (kx - x) - 4) / max(1.0, d.width(v)))
            d.text(kx, v, size=size)
            d.y -= d.lead
    d.y = top - bh - d.lead * 1.1
    centre(d, style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim de Desempenho Escolar", "FICHA DE RENDIMENTO")) + f" - {year}",
           bold=True, size=d.size + 2)
    d.gap(0.3)
    codes = choose_codes(rng, EF_INICIAIS if level in LEVELS_INICIAIS else EF_FINAIS, 7, 10)
    rows = make_grades(rng, style, codes, 4, scale, missing=0.04)
    passing = pick(rng, 5, 6, 6)
    with_freq, with_status = rng.random() < 0.6, rng.random() < 0.5
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        sems, recs = [], []
        for a, b in ((0, 1), (2, 3)):
            m = mean_s(style, [r["terms"][a], r["terms"][b]], scale)
            mv = value(m)
            rec = ""
            if mv is not None and mv < passing:
                recv = value(num(style, gval(rng, min(10.0, r["base"] + 1.5), scale), scale))
                rec = num(style, recv, scale)
                mv = max(mv, recv)
            recs.append(rec)
            sems.append(mv)
        r["recs"] = recs
        r["mf_s"] = mean_s(style, sems, scale)
        r["aulas"] = rng.choice([80, 120, 160, 200])
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
        r["status"] = status_from(value(r["mf_s"]), passing, scale, rng, ("reprovado",))
    tl = term_names(rng, style, 4)
    rl = pick(rng, "Rec. {}º Sem.", "RS{}", "Rec. Sem. {}", "REC {}")
    cols = [style.t(pick(rng, "Componente Curricular", "Componentes", "Disciplinas")), tl[0], tl[1],
            style.t(rl.format(1)), tl[2], tl[3], style.t(rl.format(2)), style.t(pick(rng, "Média Final", "MF")),
            style.t(pick(rng, "Faltas", "Total Faltas"))]
    if with_freq:
        cols.append(style.t(pick(rng, "% Freq.", "Freq.")))
    if with_status:
        cols.append(style.t(pick(rng, "Situação", "Resultado")))
    body = []
    for r in rows:
        ts = r["terms_s"]
        cells = [r["written"], ts[0], ts[1], r["recs"][0], ts[2], ts[3], r["recs"][1], r["mf_s"], str(r["faltas"])]
        if with_freq:
            cells.append(pct_s(r["freq"], style.dot))
        if with_status:
            cells.append(status_word(style, rng, r["status"]))
        body.append(cells)
    nw = max(d.width(r["written"]) for r in rows) + 12
    widths = [nw] + [40] * 6 + [46, 38] + ([42] if with_freq else []) + ([64] if with_status else [])
    table(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1),
          rules=pick(rng, "grid", "grid", "rows"), head_fill=pick(rng, None, 0.9))
    d.gap(0.8)
    d.line(style.t(pick(rng, "Parecer do Conselho de Classe:", "Observações:")), bold=True)
    for _ in range(2):
        d.c.setLineWidth(0.3)
        d.c.line(d.left, d.y - 2, d.right, d.y - 2)
        d.y -= d.lead * 1.2
    signature_block(d, style, rng, ["Professor(a) Regente", "Diretor(a)", "Responsável"],
                    style.t(school.city) if rng.random() < 0.6 else None, year, MONTHS[10:])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["mf_s"]), r["faltas"],
                                r["freq"] if with_freq else None, r["status"] if with_status else None)
                     for r in rows]
    return t


def u2_instrumentos_nested(path, rng, family, split, seed):
    """A block of rows per subject: a title row (the subject, sometimes its
    teacher), one row per assessment with its weight, the term mean row
    (the term grades and, in the last column, the annual mean) and the
    absences row (with their total)."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.2 else 10
    d = Doc(path, rng, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.3, 1.5)
    year = rng.randint(2018, 2025)
    level = rng.choice(LEVELS_FINAIS + LEVELS_EM)
    school = school_for(rng, style, level in LEVELS_EM, public=False)
    st = make_student(rng, style, year, level)
    d.line(school.name, bold=True, size=d.size + 2.5)
    d.line(school.ids_line(style), size=d.size - 0.5)
    d.gap(0.4)
    d.line(style.t(pick(rng, "Boletim Detalhado por Avaliação", "RELATÓRIO DE AVALIAÇÕES", "Boletim de Notas Parciais"))
           + f" - {year}", bold=True, size=d.size + 1.5)
    show_birth = rng.random() < 0.4
    parts = [f"{lab(style, rng, 'name')} {st.name}", f"{lab(style, rng, 'reg')} {st.registration}",
             f"{lab(style, rng, 'class')} {st.class_name}"]
    if show_birth:
        parts.append(f"{lab(style, rng, 'birth')} {st.birth}")
    for ln in wrap(d, "    ".join(parts), d.right - d.left, sep="    "):
        d.line(ln)
    d.gap(0.5)
    n_terms = pick(rng, 4, 3)
    tl = term_names(rng, style, n_terms)
    codes = choose_codes(rng, EF_FINAIS if level in LEVELS_FINAIS else EM, 6, 9)
    inst_sets = [[("Prova", 5), ("Trabalho", 3), ("Participação", 2)], [("AV1", 4), ("AV2", 4), ("Atividades", 2)],
                 [("Prova Mensal", 3), ("Prova Bimestral", 5), ("Tarefas", 2)], [("Avaliação 1", 1), ("Avaliação 2", 1)]]
    insts = rng.choice(inst_sets)
    show_weight = rng.random() < 0.7
    teacher = rng.random() < 0.5
    mean_l = style.t(pick(rng, "Média do período", "MÉDIA", "Média Bimestral" if n_terms == 4 else "Média Trimestral"))
    fal_l = style.t(pick(rng, "Faltas", "Nº de faltas"))
    ann_l = style.t(pick(rng, "Média Anual", "Média Final", "MF"))
    with_status = rng.random() < 0.4
    cols = [style.t(pick(rng, "Componente / Avaliação", "Disciplina / Instrumento", "Avaliação"))] + tl + [ann_l]
    body, out = [], []
    passing = pick(rng, 6, 6, 7)
    for code in codes:
        base = rng.uniform(4.8, 9.7)
        marks = [[gval(rng, base, 10) for _ in insts] for _ in range(n_terms)]
        term_s = []
        for k in range(n_terms):
            m = sum(w * x for (_, w), x in zip(insts, marks[k])) / sum(w for _, w in insts)
            term_s.append(num(style, round(m * scale / 10, 0 if scale == 100 else style.decimals), scale))
        open_term = None
        if rng.random() < 0.06:
            open_term = rng.randrange(n_terms)
            term_s[open_term] = style.missing
        terms = [value(s) for s in term_s]
        ma_s = mean_s(style, terms, scale)
        faltas = [rng.choice([0, 0, 1, 2, 3, 4]) for _ in range(n_terms)]
        title = style.t(ALL_SUBJECTS[code][0]).upper() if rng.random() < 0.5 else spelling(style, rng, code)
        if teacher:
            title += style.t(f"  -  Prof.(a) {rng.choice(FIRST)} {rng.choice(LAST)}")
        body.append({"cells": [(title, n_terms + 2)], "bold": True, "fill": 0.9})
        for i, (iname, w) in enumerate(insts):
            label = style.t(f"{iname} (peso {w})" if show_weight else iname)
            cells = ["    " + label]
            for k in range(n_terms):
                cells.append(style.missing if k == open_term else num(style, marks[k][i] * scale / 10, scale))
            body.append(cells + [""])
        body.append({"cells": ["    " + mean_l] + term_s + [ma_s], "bold": True})
        body.append(["    " + fal_l] + [str(f) for f in faltas] + [str(sum(faltas))])
        status = status_from(value(ma_s), passing, scale, rng, ("reprovado", "recuperação"))
        if with_status:
            body.append(["    " + style.t("Situação")] + [""] * n_terms + [status_word(style, rng, status)])
        out.append(subj_truth(code, terms, value(ma_s), sum(faltas), None, status if with_status else None))
    nw = max(d.width(b[0]) if isinstance(b, list) else 0 for b in body) + 14
    table(d, [[(c, 1) for c in cols]], body, [max(nw, 150)] + [52] * n_terms + [62], ["l"] + ["c"] * (n_terms + 1),
          rules=pick(rng, "grid", "rows"), head_fill=pick(rng, 0.8, 0.88))
    d.gap(0.6)
    if show_weight:
        d.line(style.t("Média do período = soma (nota x peso) / soma dos pesos."), size=d.size - 1)
    d.line(style.t(f"Média para aprovação: {num(style, passing * scale / 10, scale, 1)}"), size=d.size - 1)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = out
    return t


def u2_portal_print(path, rng, family, split, seed):
    """A `Portal do Aluno` page printed from a browser: the print date and
    page title in the top margin, the URL and `1/1` in the bottom margin, a
    dark banner, the student as label-over-value fields, zebra rows with no
    vertical rules and a column with each subject's teacher."""
    style = Style2(rng, case=pick(rng, None, "as_is"))
    scale = 100 if rng.random() < 0.25 else 10
    d = Doc(path, rng, SANS, land=rng.random() < 0.5, size=rng.choice([8, 8.5, 9]))
    d.footer = None
    year = rng.randint(2019, 2026)
    level = rng.choice(LEVELS_FINAIS + LEVELS_EM)
    school = school_for(rng, style, level in LEVELS_EM)
    st = make_student(rng, style, year, level)
    portal = pick(rng, "Portal do Aluno", "Área do Estudante", "Secretaria Escolar Digital", "Aluno Online")
    when = f"{rng.randint(1, 28):02d}/{rng.randint(3, 12):02d}/{year}, {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}"
    small = max(6, d.size - 2)
    c = d.c
    c.setFont(d.font, small)
    c.drawString(22, d.h - 18, when)
    c.drawCentredString(d.w / 2, d.h - 18, f"{portal} - Boletim")
    host = pick(rng, "portal.educacao.{uf}.gov.br", "alunoonline.{uf}.gov.br", "sistema.escolaweb.com.br",
                "app.gestaoescolar.net").format(uf=school.uf.lower())
    c.drawString(22, 16, f"https://{host}/aluno/boletim?ano={year}&id={rng.randint(10**5, 10**6)}")
    c.drawRightString(d.w - 22, 16, "1/1")
    c.setFillGray(0.2)
    bh = d.size * 3
    c.rect(d.left, d.y - bh * 0.35, d.right - d.left, bh, stroke=0, fill=1)
    c.setFillGray(1)
    c.setFont(d.bold, d.size + 3)
    c.drawString(d.left + 10, d.y + bh * 0.1, style.t(portal))
    c.setFont(d.font, d.size)
    c.drawRightString(d.right - 10, d.y + bh * 0.1, school.name)
    c.setFillGray(0)
    d.y -= bh * 1.1
    d.line(style.t(pick(rng, "Boletim", "Notas e Faltas", "Meu Boletim")) + f" {year}", bold=True, size=d.size + 4)
    d.gap(0.3)
    show_birth, show_class = rng.random() < 0.5, rng.random() < 0.85
    fields = [(lab(style, rng, "name", False), st.name), (lab(style, rng, "reg", False), st.registration)]
    if show_class:
        fields.append((lab(style, rng, "class", False), st.class_name))
    if show_birth:
        fields.append((lab(style, rng, "birth", False), st.birth))
    fields.append((style.t("Escola"), school.name))
    if school.cnpj_printed and rng.random() < 0.6:
        fields.append(("CNPJ", school.cnpj_printed))
    cnpj_shown = any(k == "CNPJ" for k, _ in fields)
    x = d.left
    per_line = 3 if d.w > 700 else 2
    colw = (d.right - d.left) / per_line
    for i in range(0, len(fields), per_line):
        ly = d.y
        for j, (k, v) in enumerate(fields[i:i + per_line]):
            x = d.left + j * colw
            c.setFillGray(0.4)
            d.text(x, k.upper() if rng.random() < 0.5 else k, size=small)
            c.setFillGray(0)
            d.y = ly - d.lead
            size = min(d.size + 0.5, (d.size + 0.5) * (colw - 10) / max(1.0, d.width(v, True, d.size + 0.5)))
            d.text(x, v, bold=True, size=size)
            d.y = ly
        d.y = ly - d.lead * 2.3
    d.gap(0.6)
    n_terms = pick(rng, 4, 4, 3)
    tl = term_names(rng, style, n_terms)
    codes = choose_codes(rng, EF_FINAIS if level in LEVELS_FINAIS else EM, 7, 12)
    rows = make_grades(rng, style, codes, n_terms, scale)
    passing = 6 if rng.random() < 0.6 else 5
    mid = rng.random() < 0.3
    done = rng.randint(1, n_terms - 1) if mid else n_terms
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        for k in range(done, n_terms):
            r["terms_s"][k], r["terms"][k] = "—" if rng.random() < 0.7 else "", None
        r["media_s"] = "—" if mid else mean_s(style, r["terms"], scale)
        r["status"] = "cursando" if mid else status_from(value(r["media_s"]), passing, scale, rng)
        r["aulas"] = rng.choice([80, 120, 160, 200]) * done // n_terms
        r["faltas"] = min(sum(r["per_term"][:done]), r["aulas"] // 4)
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
        r["teacher"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    cols = [style.t(pick(rng, "Disciplina", "Componente")), style.t(pick(rng, "Professor(a)", "Docente"))] + tl + [
        style.t(pick(rng, "Média", "Média Final")), style.t("Faltas"), style.t(pick(rng, "Frequência", "Freq.")),
        style.t("Situação")]
    body = [[r["written"], r["teacher"]] + r["terms_s"] + [r["media_s"], str(r["faltas"]),
                                                           pct_s(r["freq"], style.dot) + "%",
                                                           status_word(style, rng, r["status"])] for r in rows]
    nw = max(d.width(r["written"]) for r in rows) + 12
    tw = max(d.width(r["teacher"]) for r in rows) + 10
    table(d, [[(x, 1) for x in cols]], body, [nw, tw] + [40] * n_terms + [44, 36, 52, 70],
          ["l", "l"] + ["c"] * (n_terms + 4), rules=pick(rng, "rows", "head", "none"), zebra=pick(rng, 0.93, 0.9),
          head_fill=pick(rng, None, 0.82))
    d.gap(0.6)
    d.line(style.t(pick(rng, "As notas são de responsabilidade dos professores. Dúvidas: procure a secretaria.",
                        "Documento sem valor oficial. Para fins de comprovação solicite a declaração na secretaria.")),
           size=small)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": show_class})
    if not cnpj_shown:
        t["school"]["cnpj"] = None
    t["subjects"] = [subj_truth(r["code"], r["terms"], None if mid else value(r["media_s"]), r["faltas"], r["freq"],
                                r["status"]) for r in rows]
    return t


def u2_duas_vias(path, rng, family, split, seed):
    """The same compact card printed twice on one portrait page, `1ª via -
    Escola` and `2ª via - Responsável`, a dashed cut line between them; the
    second copy often ends with `Ciente do responsável`."""
    style = Style2(rng)
    scale = 10
    d = Doc(path, rng, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.35, 1.55)
    year = rng.randint(2018, 2025)
    school = school_for(rng, style, False, public=True)
    level = rng.choice(LEVELS_INICIAIS + LEVELS_FINAIS)
    st = make_student(rng, style, year, level)
    n_terms = pick(rng, 4, 4, 3)
    tl = term_names(rng, style, n_terms)
    codes = choose_codes(rng, EF_INICIAIS if level in LEVELS_INICIAIS else EF_FINAIS, 6, 9)
    rows = make_grades(rng, style, codes, n_terms, scale)
    for r in rows:
        r["written"] = spelling(style, rng, r["code"], short=rng.random() < 0.3)
        r["media_s"] = mean_s(style, r["terms"], scale)
    show_birth = rng.random() < 0.4
    labels = {k: lab(style, rng, k) for k in ("name", "reg", "class", "year", "birth")}
    cols = [style.t(pick(rng, "Disciplina", "Componente"))] + tl + [style.t(pick(rng, "Média", "MF", "M.A.")),
                                                                  style.t(pick(rng, "Faltas", "F"))]
    rules = pick(rng, "grid", "rows")
    vias = pick(rng, ("1ª VIA - ESCOLA", "2ª VIA - RESPONSÁVEL"), ("Via da Escola", "Via do Aluno"),
                ("1ª via", "2ª via"))
    half = d.h / 2
    # each copy (6 header lines, the header row, the subjects) fits in its half page
    d.lead = min(d.lead, (half - 60) / (len(rows) + 8.5))
    for v in range(2):
        d.y = d.top if v == 0 else half - 26
        d.rtext(d.right, style.t(vias[v]), bold=True, size=d.size - 0.5)
        d.text(d.left, school.name, bold=True, size=d.size + 1)
        d.y -= d.lead
        d.text(d.left, style.t(f"{school.city}/{school.uf}") + "   " + school.ids_line(style), size=d.size - 0.5)
        d.y -= d.lead
        d.text(d.left, style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim")) if v == 0 else style.t("BOLETIM ESCOLAR"),
               bold=True, size=d.size + 1.5)
        d.y -= d.lead * 1.2
        d.text(d.left, f"{labels['name']} {st.name}")
        d.text(d.left + (d.right - d.left) * 0.62, f"{labels['reg']} {st.registration}")
        d.y -= d.lead
        line = f"{labels['class']} {st.class_name}     {labels['year']} {year}"
        if show_birth:
            line += f"     {labels['birth']} {st.birth}"
        d.text(d.left, line)
        d.y -= d.lead * 1.3
        body = [[r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"])] for r in rows]
        nw = max(d.width(r["written"]) for r in rows) + 12
        table(d, [[(c, 1) for c in cols]], body, [nw] + [44] * n_terms + [44, 36], ["l"] + ["c"] * (n_terms + 2),
              rules=rules)
        if v == 1 and rng.random() < 0.7:
            d.gap(0.8)
            d.line(style.t("Ciente do(a) responsável: ______________________________   Data: ___/___/______"))
        if v == 0:
            d.c.setDash(4, 3)
            d.c.setLineWidth(0.5)
            d.c.line(16, half, d.w - 16, half)
            d.c.setDash()
            d.c.setFont(d.font, 6)
            d.c.drawCentredString(d.w / 2, half + 3, style.t(pick(rng, "recorte aqui", "- - destaque aqui - -",
                                                                  "corte na linha pontilhada")))
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["media_s"]), r["faltas"]) for r in rows]
    return t


# ---------------------------------------------------------------- históricos

def hist_plan(rng, style, stage, scale, n_years=None, repeats=True):
    """The years of a histórico: levels (maybe a repeated one), codes per
    year, printed grades (and CH, absences, attendance), year results."""
    if stage == "old":
        levels = OLD_LEVELS
        first = rng.randint(2001, 2006)
    elif stage == "em":
        levels = LEVELS_EM
        first = rng.randint(2016, 2022)
    else:
        levels = (LEVELS_INICIAIS[-2:] if rng.random() < 0.3 else []) + LEVELS_FINAIS
        first = rng.randint(2015, 2021)
    n_years = n_years or rng.randint(min(3, len(levels)), len(levels))
    start = rng.randint(0, len(levels) - n_years)
    seq = levels[start:start + n_years]
    repeat = rng.random() < 0.2 and len(seq) >= 2 and repeats
    rep_at = rng.randrange(len(seq) - 1) if repeat else None
    plan = []
    for i, lv in enumerate(seq):
        plan.append((lv, "retido" if i == rep_at else None))
        if i == rep_at:
            plan.append((lv, None))
    pool = {"em": [c for c in EM if c not in ("redacao", "projeto-de-vida")], "old": EF_FINAIS[:-1]}.get(stage, EF_FINAIS)
    codes = choose_codes(rng, pool, 7, 11)
    passing = pick(rng, 5, 6)
    ch = {c: CH[c] if rng.random() < 0.8 else rng.choice([40, 80, 120, 160]) for c in codes}
    years = []
    for i, (lv, bad) in enumerate(plan):
        y = first + i
        ycodes = list(codes)
        if stage == "em":
            if "filosofia" in ycodes and lv == "1ª Série" and rng.random() < 0.5:
                ycodes.remove("filosofia")
            if "lingua-espanhola" in ycodes and lv != "1ª Série" and rng.random() < 0.6:
                ycodes.remove("lingua-espanhola")
        elif "ensino-religioso" in ycodes and level_number(lv) >= 8 and rng.random() < 0.5:
            ycodes.remove("ensino-religioso")
        subs = []
        fails = set(rng.sample(ycodes, rng.randint(1, 2))) if bad else set()
        for c in ycodes:
            if c in fails:
                g = round(rng.uniform(1.5, passing - 0.6), 1)
                g = float(int(round(g * 10))) if scale == 100 else g
            else:
                g = gval(rng, rng.uniform(passing + 0.3, 9.6), scale, lo=passing)
            gs = num(style, g, scale)
            subs.append({"code": c, "grade_s": gs, "grade": value(gs), "ch": ch[c],
                         "faltas": rng.choice([0, 0, 1, 2, 3, 5, 8])})
        freq = round(rng.uniform(78, 100), 1)
        status = bad or ("aprovado" if lv == levels[-1] else pick(rng, "aprovado", "aprovado", "promovido"))
        years.append({"year": y, "level": style.t(lv), "raw_level": lv, "subjects": subs, "freq": freq,
                      "status": status})
    return codes, years, passing


def hist_head(d, style, rng, school, st, stage, centred=True):
    put = (lambda s, **k: centre(d, s, **k)) if centred else (lambda s, **k: d.line(s, **k))
    for s in network_lines(style, rng, school):
        put(s)
    put(school.name, bold=True, size=d.size + 2)
    put(style.t(f"{school.street} - {school.city}/{school.uf}"))
    put(school.ids_line(style))
    d.gap(0.5)
    course = {"em": "ENSINO MÉDIO", "old": "ENSINO FUNDAMENTAL (8 anos)"}.get(stage, "ENSINO FUNDAMENTAL")
    put(style.t(pick(rng, f"HISTÓRICO ESCOLAR - {course}", "HISTÓRICO ESCOLAR", f"Histórico Escolar do {course.title()}")),
        bold=True, size=d.size + 3)
    d.gap(0.3)


def student_block(d, style, rng, st, show_birth=True):
    items = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration)]
    if show_birth:
        items.append((lab(style, rng, "birth"), st.birth))
    town, uf = rng.choice(OTHER_TOWNS)
    items.append((style.t(pick(rng, "Naturalidade:", "Natural de:")), f"{style.t(town)}/{uf}"))
    if rng.random() < 0.6:
        items.append((style.t(pick(rng, "Filiação:", "Mãe:")), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}")))
    half = (d.right - d.left) / 2
    for i in range(0, len(items), 2):
        d.text(d.left, f"{items[i][0]} {items[i][1]}")
        if i + 1 < len(items):
            d.text(d.left + half, f"{items[i + 1][0]} {items[i + 1][1]}")
        d.y -= d.lead


def year_truth(y, ch=False, absences=False, att=True, status=True):
    return {"year": y["year"], "grade_level": y["level"],
            "overall_attendance_pct": y["freq"] if att else None, "status": y["status"] if status else None,
            "subjects": [{"code": s["code"], "final_grade": s["grade"], "absences": s["faltas"] if absences else None,
                          "attendance_pct": None, "status": None, "workload_hours": s["ch"] if ch else None}
                         for s in y["subjects"]]}


def u2_hist_anos_linhas(path, rng, family, split, seed):
    """One row per school year: year, série, school, town/UF, a grade per
    subject (the subjects as abbreviated column headers, often turned 90°),
    the annual workload, attendance and the year's result; a repeated série
    shows as two rows. Legend of abbreviations below."""
    style = Style2(rng)
    stage = pick(rng, "finais", "finais", "old")
    d = Doc(path, rng, SANS + SERIF, land=True, size=rng.choice([7, 7.5, 8]))
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, 10)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    hist_head(d, style, rng, school, st, stage, centred=rng.random() < 0.6)
    show_birth = rng.random() < 0.8
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    turned = rng.random() < 0.6
    short = {c: spelling(style, rng, c, short=True) for c in codes}
    if not turned:
        short = {c: style.t(ACRONYMS[c][0]) for c in codes}
    other = school_for(rng, style, stage == "em")
    schools = [school if rng.random() < 0.7 else other for _ in years]
    schools[-1] = school
    with_freq = rng.random() < 0.6
    dash = pick(rng, "—", "-", "*", "xxx")
    cols = [style.t("Ano"), style.t(pick(rng, "Série", "Ano/Série", "Etapa")), style.t(pick(rng, "Estabelecimento", "Escola")),
            style.t(pick(rng, "Município/UF", "Cidade-UF"))] + [short[c] for c in codes] + [
        style.t(pick(rng, "CH Anual", "C.H.", "Carga Horária"))]
    if with_freq:
        cols.append(style.t(pick(rng, "Freq. %", "% Freq.")))
    cols.append(style.t(pick(rng, "Resultado", "Situação")))
    body = []
    for y, sc in zip(years, schools):
        g = {s["code"]: s["grade_s"] for s in y["subjects"]}
        cells = [str(y["year"]), y["level"], sc.name, f"{style.t(sc.city)}/{sc.uf}"]
        cells += [g.get(c, dash) for c in codes]
        cells.append(str(rng.choice([800, 833, 1000, 1200])))
        if with_freq:
            cells.append(pct_s(y["freq"], style.dot))
        cells.append(status_word(style, rng, y["status"]))
        body.append(cells)
    schw = max(d.width(sc.name) for sc in schools) + 10
    head_h = max(d.width(short[c], True) for c in codes) + 10 if turned else None
    widths = [30, 50, min(schw, 180), 80] + [30] * len(codes) + [40] + ([36] if with_freq else []) + [56]
    table(d, [[(c, 1) for c in cols]], body, widths, ["c", "c", "l", "l"] + ["c"] * (len(cols) - 4),
          rules=pick(rng, "grid", "grid", "rows"), turn=(0, 4) if turned else None, turn_h=head_h,
          head_fill=pick(rng, None, 0.9))
    d.gap(0.6)
    legend = "; ".join(f"{short[c]} = {style.t(ALL_SUBJECTS[c][0])}" for c in codes)
    for ln in wrap(d, style.t("Legenda: ") + legend, d.right - d.left, size=d.size - 1, sep="; "):
        d.line(ln, size=d.size - 1)
    if any(len(y["subjects"]) < len(codes) for y in years):
        d.line(style.t(f"{dash} : componente não cursado na série."), size=d.size - 1)
    d.line(style.t(pick(rng, "Escala de notas: 0 a 10. Média mínima para aprovação: ",
                        "Notas de 0,0 a 10,0; aprovação com média ")) + f"{passing},0.", size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, 10, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, att=with_freq) for y in years]
    return t


def u2_hist_blocos_horizontais(path, rng, family, split, seed):
    """A block per school year, each with its own school and town (the
    student moved), the subjects ACROSS a small table whose rows are
    `Nota`, `CH` and sometimes `Faltas`; the year's attendance and result
    on a line under each block."""
    style = Style2(rng)
    stage = pick(rng, "finais", "em", "finais")
    d = Doc(path, rng, size=rng.choice([7, 7.5, 8, 8.5, 9]))
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, 10)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    hist_head(d, style, rng, school, st, stage, centred=rng.random() < 0.5)
    show_birth = rng.random() < 0.8
    student_block(d, style, rng, st, show_birth)
    d.gap(0.8)
    short = {c: spelling(style, rng, c, short=True) for c in codes}
    others = [school_for(rng, style, stage == "em") for _ in range(2)]
    with_faltas = rng.random() < 0.4
    rules = pick(rng, "grid", "grid", "rows")
    nl, cl, fl = (style.t(pick(rng, "Nota", "Média Final", "MF")), style.t(pick(rng, "CH", "C.H.", "Horas")),
                  style.t("Faltas"))
    for i, y in enumerate(years):
        sc = school if i == len(years) - 1 or rng.random() < 0.5 else rng.choice(others)
        ysubs = y["subjects"]
        d.need(d.lead * 8)
        head = pick(rng, "{y} - {s}", "ANO LETIVO {y} - {s}", "{s} ({y})").format(y=y["year"], s=y["level"])
        d.line(style.t(head), bold=True, size=d.size + 1)
        d.line(f"{style.t(pick(rng, 'Estabelecimento:', 'Escola:'))} {sc.name}   "
               f"{style.t(pick(rng, 'Município:', 'Cidade:'))} {style.t(sc.city)}/{sc.uf}", size=d.size - 0.5)
        d.gap(0.2)
        first = style.t(pick(rng, "Componente", "Disciplina", ""))
        body = [[nl] + [s["grade_s"] for s in ysubs], [cl] + [str(s["ch"]) for s in ysubs]]
        if with_faltas:
            body.append([fl] + [str(s["faltas"]) for s in ysubs])
        fw = max(d.width(x, True) for x in (first, nl, cl, fl)) + 10
        cw = min(62, (d.right - d.left - fw) / len(ysubs))
        table(d, [[(first, 1)] + [(short[s["code"]], 1) for s in ysubs]], body, [fw] + [cw] * len(ysubs),
              ["l"] + ["c"] * len(ysubs), rules=rules, head_bold=rng.random() < 0.7)
        d.line(style.t(f"{pick(rng, 'Frequência', 'Freq. anual')}: {pct_s(y['freq'], style.dot)}%     "
                       f"{pick(rng, 'Resultado', 'Situação final')}: ") + status_word(style, rng, y["status"]))
        d.gap(0.9)
    d.line(style.t("Observações: Carga horária em horas-relógio."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a)", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, 10, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, ch=True, absences=with_faltas) for y in years]
    return t


def u2_hist_certidao_texto(path, rng, family, split, seed):
    """Running text: after the student's identification, a paragraph per
    school year (`Em 2019 cursou o 6º Ano na ..., obtendo: Língua Portuguesa
    7,5; ...; frequência de 94,5%; resultado: aprovado.`)."""
    style = Style2(rng, case=pick(rng, None, "as_is"))
    stage = pick(rng, "finais", "finais", "old", "em")
    d = Doc(path, rng, SERIF + SANS, size=rng.choice([9, 9.5, 10, 10.5]))
    d.lead = d.size * rng.uniform(1.4, 1.7)
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, 10, n_years=rng.randint(2, 4) if stage != "em" else None)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    for s in network_lines(style, rng, school):
        centre(d, s)
    centre(d, school.name, bold=True, size=d.size + 1)
    centre(d, school.ids_line(style), size=d.size - 1)
    d.gap(1.0)
    centre(d, style.t(pick(rng, "HISTÓRICO ESCOLAR", "CERTIDÃO DE ESTUDOS - HISTÓRICO ESCOLAR",
                           "Histórico Escolar (Certidão)")), bold=True, size=d.size + 3)
    d.gap(0.8)
    show_birth = rng.random() < 0.85
    town, uf = rng.choice(OTHER_TOWNS)
    intro = (f"{style.t('Certificamos que')} {st.name}, "
             + (style.t(f"nascido(a) em {st.birth}, natural de {town}/{uf}, ") if show_birth else "")
             + style.t(f"{pick(rng, 'matrícula nº', 'RA', 'código de aluno')} {st.registration}, cursou nesta "
                       f"unidade escolar os anos abaixo, com os seguintes resultados:"))
    width = d.right - d.left
    for ln in wrap(d, intro, width):
        d.line(ln)
    d.gap(0.6)
    verb = pick(rng, "obtendo as notas finais", "com as médias finais", "obtendo")
    # running text spells components and results out in full
    spelled = {c: style.t(rng.choice([x for x in ALL_SUBJECTS[c] + MORE_SPELLINGS.get(c, []) if "." not in x]))
               for c in codes}
    colon = pick(rng, ": ", " ", " - ")
    for y in years:
        pairs = [f"{spelled[s['code']]}{colon}{s['grade_s']}" for s in y["subjects"]]
        res = style.t(rng.choice([w for w in STATUS_PRINT[y["status"]] if "." not in w]))
        if style.case in ("as_is", "noaccent"):
            res = res.lower()
        text = (style.t(f"Em {y['year']}, {pick(rng, 'cursou', 'concluiu')} {'a' if 'serie' in fold(y['level']).lower() else 'o'} {y['level']}"
                        f" {verb}: ") + "; ".join(pairs)
                + style.t(f"; frequência de {pct_s(y['freq'], style.dot)}%; resultado: ") + res + ".")
        d.need(d.lead * 4)
        lines = wrap(d, text, width - 14, sep="; ")
        for j, ln in enumerate(lines):
            d.line(ln, x=d.left + (0 if j == 0 else 14))
        d.gap(0.5)
    d.gap(0.4)
    for ln in wrap(d, style.t("Notas na escala de 0 (zero) a 10 (dez). O referido é verdade e dou fé."), width):
        d.line(ln)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, 10, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y) for y in years]
    return t


def u2_hist_em_notas_ch(path, rng, family, split, seed):
    """Ensino Médio histórico: `Médias Finais` over 1ª 2ª 3ª Série, then
    `Carga Horária` over the same séries (two column groups, not pairs),
    the years in a header row; section rows for the common base and the
    diversified part; total workload, attendance and result rows."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.25 else 10
    d = Doc(path, rng, land=rng.random() < 0.4, size=rng.choice([7, 7.5, 8, 8.5]))
    school = school_for(rng, style, True)
    codes, years, passing = hist_plan(rng, style, "em", scale, n_years=3, repeats=False)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    hist_head(d, style, rng, school, st, "em", centred=rng.random() < 0.5)
    show_birth = rng.random() < 0.8
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    n = len(years)
    grades_l = style.t(pick(rng, "MÉDIAS FINAIS", "Notas / Médias", "APROVEITAMENTO"))
    ch_l = style.t(pick(rng, "CARGA HORÁRIA", "C.H. (horas)", "Carga Horária Anual"))
    year_row = rng.random() < 0.7
    # the years in a row of their own, or beside the série
    form = "{s}" if year_row else pick(rng, "{s}/{y}", "{s} ({y})", "{y} - {s}")
    ser = [form.format(s=y["level"], y=y["year"]) for y in years]
    h1 = [(style.t(pick(rng, "Componentes Curriculares", "Áreas / Componentes")), 1), (grades_l, n), (ch_l, n)]
    h2 = [("", 1)] + [(s, 1) for s in ser] * 2
    heads = [h1, h2]
    if year_row:
        heads.append([(style.t("Ano"), 1)] + [(str(y["year"]), 1) for y in years] * 2)
    by_year = [{s["code"]: s for s in y["subjects"]} for y in years]
    dash = pick(rng, "—", "-", "xxx", "")
    base = [c for c in codes if c not in DIVERSIFIED]
    div = [c for c in codes if c in DIVERSIFIED]
    sect = rng.random() < 0.7 and div
    body = []
    for title, grp in ([(style.t(pick(rng, "BASE NACIONAL COMUM", "Formação Geral Básica")), base),
                        (style.t(pick(rng, "PARTE DIVERSIFICADA", "Itinerário Formativo / Parte Diversificada")), div)]
                       if sect else [(None, codes)]):
        if title:
            body.append({"cells": [(title, 1 + 2 * n)], "bold": True, "fill": 0.92})
        for c in grp:
            cells = [spelling(style, rng, c)]
            cells += [by_year[i][c]["grade_s"] if c in by_year[i] else dash for i in range(n)]
            cells += [str(by_year[i][c]["ch"]) if c in by_year[i] else dash for i in range(n)]
            body.append(cells)
    body.append({"cells": [style.t(pick(rng, "Total de Carga Horária", "C.H. Total"))] + [""] * n
                 + [str(sum(s["ch"] for s in y["subjects"])) for y in years], "bold": True})
    with_freq = rng.random() < 0.7
    if with_freq:
        body.append([style.t(pick(rng, "Frequência (%)", "% de Frequência"))] + [pct_s(y["freq"], style.dot) for y in years]
                    + [""] * n)
    body.append([style.t(pick(rng, "Resultado Final", "Situação"))] + [status_word(style, rng, y["status"])
                                                                       for y in years] + [""] * n)
    nw = max(d.width(b[0]) for b in body if isinstance(b, list)) + 12
    table(d, heads, body, [max(nw, 120)] + [48] * n + [40] * n, ["l"] + ["c"] * (2 * n),
          rules=pick(rng, "grid", "grid", "rows"), head_fill=pick(rng, None, 0.88))
    d.gap(0.8)
    d.line(style.t("Observações:"), bold=True)
    d.line(style.t(pick(rng, "Ensino Médio concluído nos termos da Lei nº 9.394/96.",
                        "Estudos realizados integralmente nesta unidade escolar.")), size=d.size - 0.5)
    if scale == 100:
        d.line(style.t(f"Escala de notas de 0 a 100; aprovação com {passing * 10} pontos."), size=d.size - 0.5)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, ch=True, att=with_freq) for y in years]
    return t


UNSEEN2 = {
    "u2_dotted_leaders": u2_dotted_leaders,
    "u2_term_rows_acronyms": u2_term_rows_acronyms,
    "u2_trimestre_two_tables": u2_trimestre_two_tables,
    "u2_header_two_boxes": u2_header_two_boxes,
    "u2_instrumentos_nested": u2_instrumentos_nested,
    "u2_portal_print": u2_portal_print,
    "u2_duas_vias": u2_duas_vias,
    "u2_hist_anos_linhas": u2_hist_anos_linhas,
    "u2_hist_blocos_horizontais": u2_hist_blocos_horizontais,
    "u2_hist_certidao_texto": u2_hist_certidao_texto,
    "u2_hist_em_notas_ch": u2_hist_em_notas_ch,
}


# ---------------------------------------------------------------- look-alikes to refuse

def _ctx(rng):
    style = Style2(rng)
    school = School(rng, style)
    year = rng.randint(2019, 2026)
    st = make_student(rng, style, year, rng.choice(LEVELS_FINAIS + LEVELS_EM))
    return style, school, st, year


def _para(d, text, bold=False, size=None):
    """A paragraph wrapped to the page width."""
    for ln in wrap(d, text, d.right - d.left, bold, size):
        d.line(ln, bold=bold, size=size)


def _money(x):
    return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _person(rng, style):
    return style.t(" ".join(p for p in (rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)) if p))


def lista_material(d, rng):
    """A supplies kit order for one student: items grouped by subject, quantities and prices."""
    style, school, st, year = _ctx(rng)
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(style.t(pick(rng, f"LISTA DE MATERIAL ESCOLAR {year}", f"Pedido de Kit Escolar - {year}",
                        f"MATERIAL DIDÁTICO E ESCOLAR - ANO LETIVO {year}")), bold=True, size=d.size + 2)
    d.line(f"{lab(style, rng, 'name')} {st.name}     {lab(style, rng, 'class')} {st.class_name}")
    d.line(f"{lab(style, rng, 'reg')} {st.registration}")
    d.gap(0.5)
    items = {
        "lingua-portuguesa": [("Caderno universitário 96 folhas", 0, 12.90), ("Dicionário Aurélio Júnior", 1, 54.90)],
        "matematica": [("Caderno quadriculado 1x1 cm", 1, 15.50), ("Compasso metálico", 1, 18.00),
                       ("Transferidor 180°", 1, 3.20)],
        "ciencias": [("Jaleco branco tam. P", 1, 45.00)],
        "arte": [("Bloco Canson A3 140 g", 2, 16.90), ("Tinta guache 6 cores", 1, 9.80)],
        "geografia": [("Atlas Geográfico Escolar (IBGE)", 1, 62.00)],
        "lingua-inglesa": [("Livro Inglês - Vol. 2 + código digital", 1, 189.00)],
        "educacao-fisica": [("Camiseta do uniforme (Ed. Física)", 2, 39.90)],
        "historia": [("Caderno 48 folhas", 1, 8.50)],
    }
    body, total = [], 0.0
    for code, its in items.items():
        written = spelling(style, rng, code)
        for name, q, price in its:
            q = q or rng.randint(2, 5)
            total += q * price
            body.append([written, style.t(name), str(q), _money(price), _money(q * price)])
    table(d, [[(style.t(x), 1) for x in ("Disciplina", "Item", "Qtd.", "Valor unit. (R$)", "Subtotal (R$)")]], body,
          [110, 210, 36, 70, 70], ["l", "l", "c", "r", "r"], rules=pick(rng, "grid", "rows"))
    d.gap(0.4)
    _para(d, style.t(f"TOTAL DO PEDIDO: R$ {_money(total)}   -   Parcelado em até 3x sem juros"), bold=True)
    _para(d, style.t("Entrega dos materiais até 05/02 na secretaria. Materiais devem ser identificados com o nome do aluno."))


def rota_transporte(d, rng):
    """A school-bus route: stops with times and distances, the students riding with their class and stop."""
    style, school, st, year = _ctx(rng)
    d.line(style.t(f"PREFEITURA MUNICIPAL DE {school.city.upper()} - TRANSPORTE ESCOLAR"), bold=True)
    route = rng.randint(1, 30)
    d.line(style.t(f"ROTA {route:02d} - {school.name}"), bold=True, size=d.size + 2)
    _para(d, style.t(f"Veículo: ônibus placa {''.join(rng.choice('ABCDEFGHJ') for _ in range(3))}-{rng.randint(1000, 9999)}"
                   f"   Motorista: {_person(rng, style)}   Monitor(a): {_person(rng, style)}   Ano letivo {year}"))
    d.gap(0.5)
    stops = ["Sítio Boa Vista", "Comunidade São José", "Escola (chegada)", "Vila Nova - ponto 3", "Assentamento Terra Livre",
             "Fazenda Santa Rita", "Praça da Matriz"]
    h, m = 6, rng.randint(0, 20)
    body, km = [], 0.0
    chosen = rng.sample(stops[:2] + stops[3:], 5) + ["Escola (chegada)"]
    for i, s in enumerate(chosen):
        km += rng.uniform(1.5, 6.5)
        m += rng.randint(6, 14)
        h2, m2 = h + m // 60, m % 60
        back = h2 * 60 + m2 + 6 * 60 + 10
        body.append([str(i + 1), style.t(s), f"{h2:02d}:{m2:02d}", f"{back // 60:02d}:{back % 60:02d}",
                     pct_s(km) + " km", str(rng.randint(2, 9))])
    table(d, [[(style.t(x), 1) for x in ("Ponto", "Local", "Ida", "Volta", "Km acum.", "Alunos")]], body,
          [36, 180, 46, 46, 60, 40], ["c", "l", "c", "c", "c", "c"])
    d.gap(0.6)
    d.line(style.t("ALUNOS TRANSPORTADOS"), bold=True)
    body = []
    for i in range(rng.randint(10, 16)):
        lv = rng.choice(LEVELS_FINAIS + LEVELS_EM)
        body.append([str(i + 1), st.name if i == 0 else _person(rng, style), style.t(f"{lv} {rng.choice('ABC')}"),
                     str(rng.randint(1, 5)), pick(rng, "Manhã", "Tarde")])
    table(d, [[(style.t(x), 1) for x in ("Nº", "Aluno(a)", "Turma", "Ponto", "Turno")]], body, [26, 200, 70, 40, 50],
          ["c", "l", "c", "c", "c"], rules=pick(rng, "grid", "rows"))
    d.line(style.t("Tempo máximo de percurso: 1h10. Distância total: ") + pct_s(km) + " km.")


def holerite_professor(d, rng):
    """A teacher's payslip: classes per subject and class group as earnings, taxes as deductions."""
    style, school, st, year = _ctx(rng)
    d.line(style.t(pick(rng, "DEMONSTRATIVO DE PAGAMENTO", "RECIBO DE PAGAMENTO DE SALÁRIO", "Holerite")), bold=True,
           size=d.size + 2)
    _para(d, style.t(f"Empregador: {school.name}") + (f"   CNPJ {school.cnpj_printed}" if school.cnpj_printed else ""))
    month = rng.randint(1, 12)
    d.line(style.t(f"Competência: {month:02d}/{year}"))
    name = _person(rng, style)
    subj = spelling(style, rng, rng.choice(["matematica", "lingua-portuguesa", "historia", "ciencias", "geografia"]))
    _para(d, style.t(f"Funcionário(a): {name}   Matrícula: {rng.randint(10000, 99999)}   Cargo: Professor(a) - {subj}"))
    d.gap(0.5)
    rate = rng.choice([23.4, 27.85, 31.2, 35.6])
    body, gross = [], 0.0
    for lv in rng.sample(LEVELS_FINAIS, 3):
        aulas = rng.choice([2, 3, 4, 5]) * rng.choice([2, 3, 4])
        v = aulas * 4.5 * rate
        gross += v
        body.append([str(rng.randint(100, 199)), style.t(f"Aulas {subj} - {lv} {rng.choice('ABC')}"),
                     f"{aulas * 4.5:.2f}".replace(".", ","), _money(v), ""])
    dsr = gross / 6
    gross += dsr
    body.append(["210", style.t("DSR s/ aulas"), "1/6", _money(dsr), ""])
    inss, irrf = gross * 0.11, gross * 0.075
    body.append(["501", "INSS", "11,00", "", _money(inss)])
    body.append(["502", "IRRF", "7,50", "", _money(irrf)])
    body.append(["520", style.t("Vale-transporte"), "6,00", "", _money(gross * 0.06)])
    table(d, [[(style.t(x), 1) for x in ("Cód.", "Descrição", "Referência", "Vencimentos", "Descontos")]], body,
          [40, 230, 64, 74, 74], ["c", "l", "c", "r", "r"], rules=pick(rng, "grid", "rows"))
    net = gross - inss - irrf - gross * 0.06
    d.gap(0.4)
    _para(d, style.t(f"Total de vencimentos: {_money(gross)}   Total de descontos: {_money(gross - net)}   "
                     f"Líquido a receber: {_money(net)}"), bold=True)
    _para(d, style.t(f"Base INSS: {_money(gross)}   FGTS do mês: {_money(gross * 0.08)}   Base IRRF: {_money(gross - inss)}"))


def regimento_avaliacao(d, rng):
    """The evaluation chapter of a school regulation, with a worked example table
    for a hypothetical student and a concept conversion table."""
    style, school, st, year = _ctx(rng)
    d.line(school.name, bold=True)
    d.line(style.t(f"REGIMENTO ESCOLAR - {year}"), bold=True, size=d.size + 2)
    d.line(style.t("CAPÍTULO V - DA VERIFICAÇÃO DO RENDIMENTO ESCOLAR"), bold=True)
    d.gap(0.4)
    arts = [f"Art. {rng.randint(30, 60)}. A avaliação será contínua e cumulativa, expressa em notas de 0,0 (zero) a "
            "10,0 (dez), em quatro bimestres.",
            "§ 1º A Média Anual (MA) é a média aritmética das notas bimestrais: MA = (1ºB + 2ºB + 3ºB + 4ºB) / 4.",
            "§ 2º Será aprovado o aluno com MA igual ou superior a 6,0 e frequência mínima de 75% da carga horária.",
            "§ 3º O aluno com MA inferior a 6,0 fará Recuperação Final; a Média Final será (MA + RF) / 2."]
    for a in arts:
        for ln in wrap(d, style.t(a), d.right - d.left):
            d.line(ln)
    d.gap(0.3)
    d.line(style.t("Exemplo ilustrativo (aluno hipotético):"), bold=True)
    body = []
    for code in rng.sample(["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia"], 3):
        g = [round(rng.uniform(3.5, 9.5) * 2) / 2 for _ in range(4)]
        ma = sum(g) / 4
        body.append([spelling(style, rng, code)] + [f"{x:.1f}".replace(".", ",") for x in g]
                    + [f"{ma:.2f}".replace(".", ","), style.t("Aprovado" if ma >= 6 else "Recuperação Final")])
    table(d, [[(style.t(x), 1) for x in ("Componente", "1ºB", "2ºB", "3ºB", "4ºB", "MA", "Situação")]], body,
          [130, 40, 40, 40, 40, 46, 100], ["l"] + ["c"] * 6, rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    _para(d, style.t("Art. 61. Para fins de transferência, as notas poderão ser convertidas em conceitos:"))
    table(d, [[(style.t("Conceito"), 1), (style.t("Faixa de notas"), 1), (style.t("Significado"), 1)]],
          [["A", "9,0 a 10,0", style.t("Excelente")], ["B", "7,0 a 8,9", style.t("Bom")],
           ["C", "6,0 a 6,9", style.t("Regular")], ["D", "0,0 a 5,9", style.t("Insuficiente")]],
          [60, 90, 120], ["c", "c", "l"])
    d.gap(0.4)
    _para(d, style.t(f"Aprovado em reunião do Conselho Escolar de {rng.randint(1, 28)} de {rng.choice(MONTHS)} de {year - 1}."))


def ata_conselho_classe(d, rng):
    """Minutes of a class council: several students, the subjects where each is below the mean, with marks."""
    style, school, st, year = _ctx(rng)
    d.line(school.name, bold=True)
    k = rng.randint(1, 4)
    _para(d, style.t(f"ATA DO CONSELHO DE CLASSE - {k}º BIMESTRE - {st.class_name} - {year}"), bold=True,
          size=d.size + 1.5)
    d.gap(0.4)
    text = style.t(f"Aos {rng.randint(2, 28)} dias do mês de {rng.choice(MONTHS)} de {year}, reuniram-se a equipe gestora e os "
                   f"professores da turma {st.class_name} para analisar o rendimento dos estudantes no {k}º bimestre. "
                   f"A média da turma em Matemática foi {pct_s(rng.uniform(5.5, 7.5))} e em Língua Portuguesa "
                   f"{pct_s(rng.uniform(5.5, 7.8))}. Foram apontados os seguintes casos:")
    for ln in wrap(d, text, d.right - d.left):
        d.line(ln)
    d.gap(0.3)
    body = []
    for i in range(rng.randint(4, 7)):
        name = st.name if i == 0 else _person(rng, style)
        subs = rng.sample(["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia", "lingua-inglesa"], 2)
        low = "; ".join(f"{spelling(style, rng, c, short=True)} {pct_s(rng.uniform(2.0, 5.9))}" for c in subs)
        body.append([str(i + 1), name, low, str(rng.randint(0, 14)),
                     style.t(rng.choice(["Recuperação paralela", "Convocar responsável", "Encaminhar ao AEE",
                                         "Acompanhamento pedagógico"]))])
    table(d, [[(style.t(x), 1) for x in ("Nº", "Estudante", "Componentes abaixo da média", "Faltas", "Encaminhamento")]],
          body, [24, 150, 150, 40, 130], ["c", "l", "l", "c", "l"], rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    for ln in wrap(d, style.t("Nada mais havendo a tratar, eu, secretário(a), lavrei a presente ata, que vai assinada "
                              "por todos os presentes."), d.right - d.left):
        d.line(ln)
    signature_block(d, style, rng, ["Coordenação Pedagógica", "Direção", "Professores"])


def frequencia_bolsa_familia(d, rng):
    """The Bolsa Família attendance follow-up (Sistema Presença) of one student: monthly attendance."""
    style, school, st, year = _ctx(rng)
    d.line(style.t("MINISTÉRIO DA EDUCAÇÃO - SISTEMA PRESENÇA"), bold=True)
    d.line(style.t("Acompanhamento da Frequência Escolar - Programa Bolsa Família"), bold=True, size=d.size + 1.5)
    d.gap(0.3)
    d.line(f"{lab(style, rng, 'name')} {st.name}")
    d.line(style.t(f"NIS: {rng.randint(10**10, 10**11 - 1)}   ") + f"{lab(style, rng, 'birth')} {st.birth}   "
           f"{lab(style, rng, 'class')} {st.class_name}")
    _para(d, style.t(f"Escola: {school.name}   INEP: {school.inep}"))
    d.gap(0.4)
    body = []
    for pair in sorted(rng.sample([(2, 3), (4, 5), (6, 7), (8, 9), (10, 11)], 3)):
        for m in pair:
            days = rng.randint(17, 23)
            f = rng.choice([0, 0, 1, 2, 3, 6])
            freq = 100 * (days - f) / days
            reason = "" if freq >= 85 else style.t(rng.choice(["2 - Doença do aluno", "6 - Fatores impeditivos",
                                                                "11 - Gravidez", "58 - Outros motivos"]))
            body.append([style.t(MONTHS[m - 1].capitalize()) + f"/{year}", str(days), str(f), pct_s(freq), reason])
    table(d, [[(style.t(x), 1) for x in ("Mês", "Dias letivos", "Faltas", "Frequência (%)", "Motivo da baixa frequência")]],
          body, [90, 60, 46, 76, 170], ["l", "c", "c", "c", "l"], rules=pick(rng, "grid", "rows"))
    d.gap(0.4)
    d.line(style.t("Frequência mínima exigida: 85% (6 a 15 anos) e 75% (16 e 17 anos)."))
    d.line(style.t(f"Operador(a) municipal: {_person(rng, style)}"))


def plano_ensino(d, rng):
    """A teacher's annual teaching plan: per term, contents, BNCC skills, classes planned and assessment weights."""
    style, school, st, year = _ctx(rng)
    code = rng.choice(["matematica", "lingua-portuguesa", "ciencias", "historia", "geografia"])
    lv = rng.choice(LEVELS_FINAIS)
    d.line(school.name, bold=True)
    d.line(style.t(f"PLANO DE ENSINO ANUAL - {year}"), bold=True, size=d.size + 2)
    _para(d, style.t("Componente curricular: ") + spelling(style, rng, code) + style.t(f"   Ano/Série: {lv}   "
          f"Professor(a): {_person(rng, style)}   Carga horária anual: {rng.choice([80, 160, 200])} h"))
    d.gap(0.4)
    contents = {
        "matematica": ["Números inteiros", "Frações e decimais", "Equações do 1º grau", "Geometria plana", "Estatística"],
        "lingua-portuguesa": ["Gêneros textuais", "Concordância verbal", "Crônica e conto", "Regência", "Argumentação"],
        "ciencias": ["Células", "Ecossistemas", "Máquinas simples", "Calor e temperatura", "Sistema solar"],
        "historia": ["Brasil Colônia", "Idade Média", "Revolução Industrial", "Independência", "Iluminismo"],
        "geografia": ["Cartografia", "Clima", "Relevo", "População brasileira", "Urbanização"],
    }[code]
    abbr = {"matematica": "MA", "lingua-portuguesa": "LP", "ciencias": "CI", "historia": "HI", "geografia": "GE"}[code]
    tl = term_names(rng, style, 4)
    body = []
    for k in range(4):
        body.append([tl[k], style.t(rng.choice(contents)), f"EF0{level_number(lv)}{abbr}{rng.randint(1, 30):02d}",
                     str(rng.randint(30, 42)), style.t(pick(rng, "Prova 5,0; Trabalho 3,0; Participação 2,0",
                                                           "AV1 4,0; AV2 4,0; Atividades 2,0"))])
    table(d, [[(style.t(x), 1) for x in ("Período", "Conteúdos", "Habilidade BNCC", "Aulas", "Instrumentos e valores")]],
          body, [60, 140, 80, 40, 190], ["l", "l", "c", "c", "l"], rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    _para(d, style.t("Média bimestral = soma dos valores obtidos (máximo 10,0). Média para aprovação: 6,0."))
    d.line(style.t("Recuperação paralela contínua; recuperação final em dezembro."))


UNSEEN2_REJECTS = {
    "lista_material": lista_material,
    "rota_transporte": rota_transporte,
    "holerite_professor": holerite_professor,
    "regimento_avaliacao": regimento_avaliacao,
    "ata_conselho_classe": ata_conselho_classe,
    "frequencia_bolsa_familia": frequencia_bolsa_familia,
    "plano_ensino": plano_ensino,
}
