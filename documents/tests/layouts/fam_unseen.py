"""UNSEEN layout families of gen_families.py (`--unseen N`): a second,
honest holdout. They were written from what Brazilian school systems print,
without reading the parser or its measures, and no parser tuning may look
at them (split `unseen_family`, files `famunseen-<family>-<seed>.pdf`).

Families (each: the real system shape it models):
  un_mg_pontos             SEE-MG/SIMADE boletim: 100 points distributed over the terms, total of points, rec. capped
  un_term_blocks           SIGEduc-style report: one small table per unidade, then a final consolidated table
  un_conceito_misto        private card (Sponte-like): numeric components plus concept-only components (MB/B/R/I...)
  un_bncc_area_column      BNCC-organised boletim (EF or Novo EM): the area as a merged first column beside components
  un_ficha_wide_dense      SEDUC-CE/BA/GO/PE `Ficha Individual do Aluno`: landscape, tiny font, Educacenso fields
  un_footer_ident_turma    private network card (Layers/Positivo-like): student only in the footer, class averages
  un_two_up                municipal compact card: two half-width tables side by side, receipt stub
  un_semestral_pesos       IF/technical-school boletim: weighted semesters, exam, CH per component
  un_hist_series_rows      `Ficha 19` histórico do Ensino Fundamental: one row per série/ano, components as columns
  un_hist_em_estudos       Ensino Médio histórico: areas merged, séries as column groups, years in Estudos Realizados
  un_hist_year_panels      histórico of a private system: one bordered panel per school year, two per band
  un_hist_transfer_current histórico issued on transfer: completed years plus the year in course (Cursando/Transferido)

UNSEEN_REJECTS (close calls that must be refused):
  ficha_matricula          enrolment form (student, filiação, série pretendida, previous result, documents)
  ocorrencia_disciplinar   `Boletim de Ocorrência Disciplinar` of one student
  relatorio_notas_turma    one subject's grade sheet for a whole class (many students)
  declaracao_escolaridade  declaration of schooling: séries completed and results, no grades
  boleto_mensalidade       tuition bank slip naming the student and turma
  resultado_simulado       ENEM mock-exam result of one student (hits per area, TRI scores, rank)

Truth rule as in gen_families.py: a field is in the truth only where a person
reading the page would give it unambiguously (a term without a grade is null,
a partial total is not a final grade, letter concepts are not numbers, class
averages and semester means are not the student's term grades).
"""

from fam_common import (
    ALL_SUBJECTS, AREAS, EXTRA, FIRST, HS_SUBJECTS, LAST, SANS, SERIF, SPANISH, STATUS_WORDS, SUBJECTS, Doc, School,
    Student, Style, academic_truth, fit_text, fold, grade, grid, pick_subjects, subject_rows, subject_truth, value,
)
from fam_boletins import pick, scale_of, term_labels

MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
          "novembro", "dezembro"]
NETWORK = {
    "SP": "GOVERNO DO ESTADO DE SÃO PAULO", "CE": "GOVERNO DO ESTADO DO CEARÁ", "PR": "GOVERNO DO ESTADO DO PARANÁ",
    "MG": "GOVERNO DO ESTADO DE MINAS GERAIS", "PE": "GOVERNO DO ESTADO DE PERNAMBUCO",
    "RS": "GOVERNO DO ESTADO DO RIO GRANDE DO SUL", "BA": "GOVERNO DO ESTADO DA BAHIA", "GO": "GOVERNO DO ESTADO DE GOIÁS",
}
SECRETARIA = {
    "SP": "Secretaria da Educação do Estado de São Paulo", "CE": "Secretaria da Educação - SEDUC",
    "PR": "Secretaria de Estado da Educação - SEED", "MG": "Secretaria de Estado de Educação",
    "PE": "Secretaria de Educação e Esportes", "RS": "Secretaria Estadual da Educação - SEDUC/RS",
    "BA": "Secretaria da Educação do Estado da Bahia", "GO": "Secretaria de Estado da Educação - SEDUC/GO",
}
REGIONAL = {"SP": "Diretoria de Ensino", "CE": "CREDE", "PR": "NRE", "MG": "SRE", "PE": "GRE", "RS": "CRE",
            "BA": "NTE", "GO": "CRE"}
MG_CITIES = ["Belo Horizonte", "Uberlândia", "Juiz de Fora", "Montes Claros", "Contagem", "Governador Valadares"]


# ---------------------------------------------------------------- helpers

def cnpj_print(school, rng):
    """The school's CNPJ in one of the punctuations systems print (None when the school prints none)."""
    if not school.cnpj:
        return None
    s = school.cnpj
    return rng.choice([f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}", f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}",
                       s, f"{s[:8]}/{s[8:12]}-{s[12:]}", f"{s[:2]}.{s[2:5]}.{s[5:8]}.{s[8:12]}-{s[12:]}",
                       f"{s[:2]} {s[2:5]} {s[5:8]}/{s[8:12]}-{s[12:]}"])


def put(d, x, s, w, bold=False, size=None, align="l"):
    """Text at the cursor line, set smaller when wider than w."""
    size = size or d.size
    tw = d.width(s, bold, size)
    if s and tw > w:
        size = size * w / tw
    if align == "l":
        d.text(x, s, bold, size)
    elif align == "r":
        d.rtext(x + w, s, bold, size)
    else:
        d.ctext(x + w / 2, s, bold, size)


def kv_rows(d, items, ncols, ruled, bold_labels=True):
    """`Label value` pairs laid out in ncols columns; an item may span columns."""
    unit = (d.right - d.left) / ncols
    rows, cur, used = [], [], 0
    for it in items:
        span = it[2] if len(it) > 2 else 1
        if used + span > ncols:
            rows.append(cur)
            cur, used = [], 0
        cur.append((it[0], it[1], span))
        used += span
    if cur:
        rows.append(cur)
    for row in rows:
        d.need(d.lead)
        x = d.left
        top, bottom = d.y + d.lead * 0.72, d.y - d.lead * 0.32
        for label, val, span in row:
            w = unit * span
            d.text(x + 3, label, bold_labels)
            lx = x + 3 + d.width(label, bold_labels) + 4
            put(d, lx, val, x + w - 4 - lx)
            if ruled:
                d.c.setLineWidth(0.5)
                d.c.rect(x, bottom, w, top - bottom)
            x += w
        d.y -= d.lead


def wrap_words(d, s, w, bold=False, size=None):
    out = []
    for word in s.split(" "):
        if out and d.width(out[-1] + " " + word, bold, size) <= w:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def area_label(d, label, x, w, top, bottom, mode):
    """The text of a merged area cell: turned 90° when it fits, else wrapped and centred."""
    c = d.c
    h = top - bottom
    if mode == "rotated":
        size = d.size
        tw = d.width(label, True, size)
        if tw > h - 4:
            size = size * (h - 4) / tw
        if size >= 5.5:
            c.saveState()
            c.setFont(d.bold, size)
            c.translate(x + w / 2 + size * 0.35, (top + bottom) / 2)
            c.rotate(90)
            c.drawCentredString(0, 0, label)
            c.restoreState()
            return
    size = max(6.5, d.size - 1)
    lines = wrap_words(d, label, w - 6, True, size)
    lh = min(size * 1.2, (h - 2) / len(lines))
    size = min(size, lh / 1.15)
    y = (top + bottom) / 2 + (len(lines) - 1) * lh / 2 - size * 0.35
    for ln in lines:
        sz = size
        if d.width(ln, True, sz) > w - 6:
            sz = sz * (w - 6) / d.width(ln, True, sz)
        c.setFont(d.bold, sz)
        c.drawString(x + 3, y, ln)
        y -= lh


def label_height(d, label, w, mode, nrows):
    """The height an area cell needs for its label: none more when it can be
    turned within its rows, else the label wrapped at >= 6.5 pt."""
    if mode == "rotated" and d.width(label, True) * 5.5 / d.size <= nrows * d.lead - 4:
        return 0
    size = max(6.5, d.size - 1)
    lines = wrap_words(d, label, w - 6, True, size)
    return len(lines) * size * 1.2 + 4


def area_table(d, headers, groups, widths, aligns, ruled, mode, fill=None):
    """A table whose first column is one merged cell per group (an area)
    beside the group's rows. headers: rows of (text, span) over all columns;
    groups: (area label, [cells of the other columns])."""
    x0 = d.left
    room = d.right - x0
    if sum(widths) > room:
        widths = [w * room / sum(widths) for w in widths]
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)

    def draw_headers():
        for hrow in headers:
            top, bottom = d.y + d.lead * 0.7, d.y - d.lead * 0.3
            if fill is not None:
                d.c.setFillGray(fill)
                d.c.rect(x0, bottom, xs[-1] - x0, top - bottom, stroke=0, fill=1)
                d.c.setFillGray(0)
            col = 0
            d.c.setLineWidth(0.5)
            for text, span in hrow:
                fit_text(d, xs[col], xs[col + span] - xs[col], text, "c", True)
                if ruled:
                    d.c.rect(xs[col], bottom, xs[col + span] - xs[col], top - bottom)
                col += span
            d.y -= d.lead

    draw_headers()
    for label, rows in groups:
        need = label_height(d, label, widths[0], mode, len(rows))
        rh = max(d.lead, need / len(rows))
        if d.y - len(rows) * rh < 46:
            d.new_page()
            draw_headers()
        top = d.y + d.lead * 0.7
        rtop = top
        for cells in rows:
            base = rtop - rh / 2 - d.size * 0.35
            y_keep, d.y = d.y, base
            for k, cell in enumerate(cells):
                fit_text(d, xs[k + 1], widths[k + 1], cell, aligns[k + 1])
            d.y = y_keep
            if ruled:
                d.c.setLineWidth(0.5)
                for k in range(1, len(widths)):
                    d.c.rect(xs[k], rtop - rh, widths[k], rh)
            rtop -= rh
        d.y = rtop - d.lead * 0.7
        bottom = rtop
        d.c.setLineWidth(0.5 if ruled else 0.8)
        if ruled:
            d.c.rect(x0, bottom, widths[0], top - bottom)
        else:
            d.c.line(x0, bottom, xs[-1], bottom)
        area_label(d, label, x0, widths[0], top, bottom, mode)
    return xs


def status_of(word):
    w = fold(word).lower()
    if w.startswith(("aprov", "apr", "apc")):
        return "aprovado"
    if w.startswith("promov"):
        return "promovido"
    if w.startswith(("retid", "ret")):
        return "retido"
    if w.startswith(("reprov", "rep")):
        return "reprovado"
    if w.startswith(("cursando", "em curso", "cur")):
        return "cursando"
    if w.startswith("transf"):
        return "transferido"
    if w.startswith("rec"):
        return "recuperação"
    raise ValueError(word)


def fix_birth(st, rng, year, level):
    """A birth date that fits the level the student is in during `year`
    (6 years old in the 1º ano, 15 in the 1ª série), sometimes a year or two older."""
    n = int(level[0])
    age = (14 + n if "Série" in level else 5 + n) + rng.choice([0, 0, 0, 1, 1, 2])
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), year - age
    st.birth_iso, st.birth = f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}"


def pct(x):
    return f"{x:.1f}".replace(".", ",")


def fitw(d, label, minw):
    """A column width that holds its header label."""
    return max(minw, d.width(label, True) + 8)


def date_s(rng, year):
    return f"{rng.randint(1, 28):02d}/{rng.randint(2, 11):02d}/{year}"


def signatures(d, style, rng, who=("Secretário(a) Escolar", "Diretor(a)")):
    d.need(d.lead * 4)
    d.gap(1.2)
    half = (d.right - d.left) / 2
    d.text(d.left + 10, "_" * 32)
    d.text(d.left + half + 10, "_" * 32)
    d.y -= d.lead
    d.text(d.left + 10, style.t(who[0]), size=d.size - 0.5)
    d.text(d.left + half + 10, style.t(who[1]), size=d.size - 0.5)
    d.y -= d.lead


def L(style, rng, *opts):
    return style.t(rng.choice(opts))


# ---------------------------------------------------------------- boletins

def un_mg_pontos(path, rng, family, split, seed):
    """SEE-MG / SIMADE: 100 points distributed over the terms, `Pontos
    distribuídos` row under the header, total of points (0-100), optional
    recovery capped at 60 with `Total Final`; a partial issue has a
    `Total Parcial` that is no final grade."""
    style = Style(rng)
    scale = 100
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.3, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    school.city, school.uf = rng.choice(MG_CITIES), "MG"
    level = rng.choice(["6º Ano", "7º Ano", "8º Ano", "9º Ano"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    d.line(style.t(NETWORK["MG"]), bold=True)
    d.line(style.t(pick(rng, "Secretaria de Estado de Educação", "SECRETARIA DE ESTADO DE EDUCAÇÃO - SEE/MG")))
    d.line(style.t(f"Superintendência Regional de Ensino de {school.city}"))
    d.gap(0.4)
    d.line(school.name, bold=True, size=d.size + 1.5)
    ids = [f"{L(style, rng, 'Código da Escola:', 'Cód. Escola (INEP):', 'Código INEP:')} {school.inep}"]
    printed = cnpj_print(school, rng)
    if printed:
        ids.insert(0, f"{style.t(school.cnpj_label)} {printed}")
    d.line("     ".join(ids))
    if rng.random() < 0.6:
        d.line(style.t(f"{school.street} - {school.city}/MG"))
    d.gap(0.5)
    title = L(style, rng, "BOLETIM ESCOLAR", "Boletim do Aluno", "Ficha Individual - Boletim", "BOLETIM DE RESULTADOS")
    year_in_title = rng.random() < 0.5
    d.line(f"{title} - {year}" if year_in_title else title, bold=True, size=d.size + 2.5)
    d.gap(0.3)
    items = [(L(style, rng, "Aluno(a):", "Nome do Aluno:", "Estudante:"), st.name, 2),
             (L(style, rng, "Nº de Matrícula:", "Matrícula SIMADE:", "Código do Aluno:"), st.registration, 1),
             (L(style, rng, "Data de Nascimento:", "Nascimento:"), st.birth, 1),
             (L(style, rng, "Turma:", "Ano/Turma:"), st.class_name, 1),
             (style.t("Turno:"), L(style, rng, "Manhã", "Tarde", "Integral"), 1)]
    if not year_in_title:
        items.append((L(style, rng, "Ano Letivo:", "Ano:"), str(year), 1))
    kv_rows(d, items, 3, ruled=rng.random() < 0.6)
    d.gap(0.8)

    n_terms = pick(rng, 4, 4, 3)
    dist = (pick(rng, [25, 25, 25, 25], [20, 25, 25, 30], [20, 20, 30, 30]) if n_terms == 4 else
            pick(rng, [30, 30, 40], [30, 35, 35], [33, 33, 34]))
    partial = rng.random() < 0.2
    done = rng.randint(1, n_terms - 1) if partial else n_terms
    rec_on = not partial and rng.random() < 0.6
    with_freq = rng.random() < 0.5
    mark = style.missing
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 7, 10)
    rows = []
    for code in codes:
        frac = rng.uniform(0.42, 0.97)
        pts = []
        for k, mx in enumerate(dist):
            if k >= done:
                pts.append(None)
                continue
            p = min(mx, max(0.0, mx * (frac + rng.uniform(-0.12, 0.1))))
            pts.append(round(p * 2) / 2 if rng.random() < 0.5 else round(p, 1))
        pts_s = [style.num(p, 10) if p is not None else mark for p in pts]
        total = round(sum(value(s) for s in pts_s if value(s) is not None), 2)
        total_s = style.num(total, 10)
        r = {"code": code, "written": style.t(rng.choice(ALL_SUBJECTS[code])), "terms_s": pts_s,
             "terms": [value(s) for s in pts_s], "total_s": total_s, "rec_s": "", "final_s": total_s}
        if rec_on and value(total_s) < 60:
            rec = float(rng.randint(35, 95))
            r["rec_s"] = style.num(rec, 10)
            r["final_s"] = style.num(max(value(total_s), min(rec, 60.0)), 10)
        r["final"] = value(r["final_s"])
        r["faltas"] = rng.choice([0, 0, 1, 2, 3, 5, 6, 9, 12, 17])
        r["freq"] = round(100 - r["faltas"] * rng.uniform(0.4, 0.9), 1)
        r["freq_s"] = f"{r['freq']:.1f}".replace(".", ",")
        if partial:
            r["status"] = "cursando"
            r["status_s"] = L(style, rng, "Cursando", "Em curso")
        else:
            r["status"] = "aprovado" if r["final"] >= 60 else ("reprovado" if rec_on else "recuperação")
            r["status_s"] = style.t(rng.choice(STATUS_WORDS[r["status"]]))
        rows.append(r)
    tl = term_labels(rng, n_terms, style)
    total_l = (L(style, rng, "Total Parcial", "Pontos Acumulados") if partial else
               L(style, rng, "Total", "Total de Pontos", "Nota Anual", "Soma"))
    cols = [L(style, rng, "Conteúdo Curricular", "Componente Curricular", "Disciplina")] + tl + [total_l]
    if rec_on:
        cols += [L(style, rng, "Recuperação", "Rec.", "Estudos de Rec."), L(style, rng, "Total Final", "Nota Final")]
    cols += [L(style, rng, "Faltas", "Total de Faltas")]
    if with_freq:
        cols.append(L(style, rng, "% Freq.", "Freq. %"))
    cols.append(L(style, rng, "Situação", "Resultado"))
    dist_row = [L(style, rng, "Pontos distribuídos", "Valor", "Pontos Distribuídos")] + [str(x) for x in dist] + ["100"]
    dist_row += ["100", "100"] if rec_on else []
    dist_row += [""] * (len(cols) - len(dist_row))
    body = []
    for r in rows:
        cells = [r["written"]] + r["terms_s"] + [r["total_s"]]
        if rec_on:
            cells += [r["rec_s"], r["final_s"]]
        cells.append(str(r["faltas"]))
        if with_freq:
            cells.append(r["freq_s"])
        cells.append(r["status_s"])
        body.append(cells)
    name_w = max(max(d.width(r["written"]) for r in rows), d.width(cols[0], True)) + 12
    widths = [name_w] + [fitw(d, c, 44) for c in cols[1:-1]] + [fitw(d, cols[-1], 70)]
    as_header = rng.random() < 0.5
    heads = [[(c, 1) for c in cols]] + ([[(x, 1) for x in dist_row]] if as_header else [])
    grid(d, heads, body if as_header else [dist_row] + body, widths, ["l"] + ["c"] * (len(cols) - 1),
         ruled=rng.random() < 0.85, fill=pick(rng, None, 0.9))
    d.gap(0.6)
    notes = ["Média para aprovação: 60 pontos no ano."]
    if rec_on:
        notes.append("Após a recuperação final, o total é limitado a 60 pontos.")
    if partial:
        notes.append("Documento parcial: etapas seguintes ainda não avaliadas.")
    for n in notes:
        d.line(style.t(n), size=d.size - 1)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [{"code": r["code"], "terms": r["terms"], "final_grade": None if partial else r["final"],
                      "absences": r["faltas"], "attendance_pct": r["freq"] if with_freq else None,
                      "status": r["status"], "workload_hours": None} for r in rows]
    t["pages"] = d.pages
    return t


def un_term_blocks(path, rng, family, split, seed):
    """One small table per term (`1ª Unidade`: Componente | Nota | Faltas),
    then the final table (MA, Rec. Final, MF, faltas, freq., situação);
    the school in a drawn box, the student as two key/value columns."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([8, 8.5, 9, 9.5]))
    school, year = School(rng, style), rng.randint(2019, 2025)
    level = rng.choice(["6º Ano", "7º Ano", "8º Ano", "9º Ano", "1ª Série", "2ª Série", "3ª Série"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    top = d.y + d.lead * 0.9
    if rng.random() < 0.6:
        d.line(style.t(pick(rng, "SIGEduc - Sistema Integrado de Gestão da Educação",
                            f"{SECRETARIA.get(school.uf, 'Secretaria de Estado da Educação')}",
                            "Sistema de Gestão Escolar - Módulo Acadêmico")), size=d.size - 0.5)
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
    printed = cnpj_print(school, rng)
    d.line("   ".join(([f"{style.t(school.cnpj_label)} {printed}"] if printed else [])
                      + [f"{style.t(school.inep_label)} {school.inep}"]))
    d.c.setLineWidth(0.9)
    d.c.rect(d.left - 5, d.y + d.lead * 0.45, d.right - d.left + 10, top - d.y - d.lead * 0.45)
    d.gap(0.6)
    d.line(f"{L(style, rng, 'BOLETIM ESCOLAR', 'Boletim por Unidade', 'RELATÓRIO DE NOTAS POR UNIDADE')} - {year}",
           bold=True, size=d.size + 2.5)
    items = [(L(style, rng, "Aluno(a):", "Estudante:", "Nome:"), st.name),
             (L(style, rng, "Matrícula:", "Nº Matrícula:", "Código:"), st.registration),
             (L(style, rng, "Data de Nascimento:", "Nasc.:"), st.birth),
             (L(style, rng, "Turma:", "Série/Turma:"), st.class_name),
             (style.t("Turno:"), L(style, rng, "Matutino", "Vespertino", "Noturno"))]
    kv_rows(d, items, 2, ruled=rng.random() < 0.4)
    d.gap(0.6)
    n_terms = pick(rng, 4, 4, 3)
    unit = pick(rng, "{}ª Unidade", "{}º Bimestre", "{}ª Etapa", "{}ª UNIDADE") if n_terms == 4 else pick(
        rng, "{}º Trimestre", "{}ª Etapa")
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 6, 9)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0.06)
    passing = rows[0]["passing"] * scale / 10
    with_aulas = rng.random() < 0.5
    ruled = rng.random() < 0.75
    name_w = max(d.width(r["written"]) for r in rows) + 14
    nl = L(style, rng, "Nota", "Média", "Nota da Unidade")
    fl = L(style, rng, "Faltas", "Faltas", "F")
    for k in range(n_terms):
        if rng.random() < 0.7:
            d.need(d.lead * (len(rows) + 3))
        d.line(style.t(unit.format(k + 1)), bold=True)
        cols = [L(style, rng, "Componente Curricular", "Disciplina")] + [nl, fl] + (
            [L(style, rng, "Aulas Dadas", "Aulas")] if with_aulas else [])
        body = [[r["written"], r["terms_s"][k], str(r["per_term"][k])] + (
            [str(rng.choice([18, 20, 36, 40]))] if with_aulas else []) for r in rows]
        grid(d, [[(c, 1) for c in cols]], body, [name_w] + [fitw(d, c, 56) for c in cols[1:]],
             ["l"] + ["c"] * (len(cols) - 1), ruled=ruled)
        d.gap(0.5)
    for r in rows:
        r["rec_s"], r["mf_s"] = "", r["media_s"]
        if r["media"] < passing:
            rec = round(min(10.0, r["base"] + rng.uniform(-1, 2.5)) * scale / 10, 1)
            r["rec_s"] = style.num(rec, scale)
            r["mf_s"] = style.num(max(r["media"], value(r["rec_s"])), scale)
        r["mf"] = value(r["mf_s"])
        low = r["mf"] < passing
        r["status"] = "reprovado" if low else "aprovado"
        r["status_s"] = style.t(rng.choice(STATUS_WORDS[r["status"]]))
    d.need(d.lead * (len(rows) + 3))
    d.line(L(style, rng, "RESULTADO FINAL", "Resultado Anual", "CONSOLIDADO ANUAL"), bold=True)
    cols = [L(style, rng, "Componente Curricular", "Disciplina"), L(style, rng, "Média Anual", "MA"),
            L(style, rng, "Rec. Final", "Recuperação", "RF"), L(style, rng, "Média Final", "MF"),
            L(style, rng, "Total de Faltas", "Faltas"), L(style, rng, "% Freq.", "Frequência (%)"),
            L(style, rng, "Situação", "Resultado")]
    body = [[r["written"], r["media_s"], r["rec_s"], r["mf_s"], str(r["faltas"]), r["freq_s"], r["status_s"]]
            for r in rows]
    grid(d, [[(c, 1) for c in cols]], body, [name_w] + [fitw(d, c, 50) for c in cols[1:-1]] + [fitw(d, cols[-1], 70)],
         ["l"] + ["c"] * 6, ruled=ruled,
         fill=pick(rng, None, 0.9))
    d.gap(0.5)
    d.line(style.t(f"Média mínima para aprovação: {style.num(passing, scale)}"), size=d.size - 1)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf") for r in rows]
    t["pages"] = d.pages
    return t


CONCEPTS = [
    (["MB", "B", "R", "I"], "MB - Muito Bom (9,0 a 10,0); B - Bom (7,0 a 8,9); R - Regular (5,0 a 6,9); "
                            "I - Insuficiente (abaixo de 5,0)"),
    (["A", "B", "C", "D", "E"], "A - Excelente; B - Bom; C - Satisfatório; D - Insatisfatório; E - Sem aproveitamento"),
    (["PS", "ST", "ST", "NS"], "PS - Plenamente Satisfatório; ST - Satisfatório; NS - Não Satisfatório"),
    (["O", "MB", "B", "R", "I"], "O - Ótimo; MB - Muito Bom; B - Bom; R - Regular; I - Insuficiente"),
]


def un_conceito_misto(path, rng, family, split, seed):
    """Numeric components, and components graded by concept only (Arte,
    Ed. Física, Ensino Religioso...): a second table or mixed in one; a
    concept legend with number ranges; a parecer. Concept-only components
    have no numeric grade in the truth."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([8.5, 9, 9.5]))
    school, year = School(rng, style, public=False), rng.randint(2019, 2025)
    level = rng.choice(["3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    # emblem: a circle with initials
    d.c.setLineWidth(1.2)
    d.c.circle(d.left + 20, d.y - 6, 20)
    initials = "".join(w[0] for w in fold(school.name).split() if w[0].isupper())[:3]
    d.c.setFont(d.bold, 11)
    d.c.drawCentredString(d.left + 20, d.y - 10, initials)
    d.left += 52
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(style.t(pick(rng, "Educação Infantil, Ensino Fundamental e Médio", "Ensino Fundamental I e II",
                        "Sistema de Ensino - Unidade " + school.city)))
    printed = cnpj_print(school, rng)
    parts = []
    if printed:
        parts.append(f"{style.t(pick(rng, 'Mantenedora', 'Razão social'))}: {style.t('Associação Educacional ' + rng.choice(LAST))}"
                     f" - {style.t(school.cnpj_label)} {printed}")
    parts.append(f"{style.t(school.inep_label)} {school.inep}")
    for p in parts:
        d.line(p, size=d.size - 0.5)
    d.left -= 52
    d.gap(0.8)
    d.line(f"{L(style, rng, 'BOLETIM ESCOLAR', 'Boletim de Avaliação', 'Relatório de Aproveitamento')} {year}",
           bold=True, size=d.size + 2.5)
    items = [(L(style, rng, "Aluno(a):", "Nome:"), st.name, 2), (style.t("Nº:"), str(rng.randint(1, 35)), 1),
             (L(style, rng, "Turma:", "Ano/Turma:"), st.class_name, 1),
             (L(style, rng, "Matrícula:", "Código:", "RM:"), st.registration, 1),
             (L(style, rng, "Nascimento:", "Data de Nasc.:"), st.birth, 1)]
    kv_rows(d, items, 3, ruled=True)
    d.gap(0.8)
    n_terms = pick(rng, 4, 3)
    tl = term_labels(rng, n_terms, style)
    letters, legend = rng.choice(CONCEPTS)
    num_pool = ["lingua-portuguesa", "matematica", "historia", "geografia", "ciencias", "lingua-inglesa"]
    conc_pool = ["arte", "educacao-fisica", "ensino-religioso"]
    num_codes = [c for c in num_pool if c in ("lingua-portuguesa", "matematica") or rng.random() < 0.8]
    if "lingua-inglesa" in num_codes and rng.random() < 0.4:
        num_codes.remove("lingua-inglesa")
        conc_pool.append("lingua-inglesa")
    conc_codes = [c for c in conc_pool if rng.random() < 0.85] or ["arte"]
    rows = subject_rows(rng, style, num_codes, n_terms, scale, missing_rate=0.04)
    with_status = rng.random() < 0.5
    crow = []
    for code in conc_codes:
        lv = [rng.choice(letters[:3]) for _ in range(n_terms)]
        crow.append({"code": code, "written": style.t(rng.choice(ALL_SUBJECTS[code])), "letters": lv,
                     "final_s": rng.choice(lv), "faltas": rng.choice([0, 0, 1, 2, 4, 6]),
                     "status_s": style.t(rng.choice(STATUS_WORDS["aprovado"]))})
    ml = L(style, rng, "Média Anual", "Média Final", "MF")
    fl = L(style, rng, "Faltas", "Total de Faltas")
    sl = L(style, rng, "Situação", "Resultado")
    name_h = L(style, rng, "Componente Curricular", "Disciplina", "Área de Conhecimento")
    mixed = rng.random() < 0.4
    name_w = max(max(d.width(r["written"]) for r in rows + crow), d.width(name_h, True)) + 12
    ruled = rng.random() < 0.8
    if mixed:
        cols = [name_h] + tl + [L(style, rng, "Média / Conceito", "Resultado Final", "MF/CF"), fl] + (
            [sl] if with_status else [])
        body = [[r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"])] + ([r["status_s"]] if with_status else [])
                for r in rows]
        body += [[c["written"]] + c["letters"] + [c["final_s"], str(c["faltas"])] + ([c["status_s"]] if with_status else [])
                 for c in crow]
        widths = [name_w] + [fitw(d, x, 44) for x in cols[1:]]
        grid(d, [[(x, 1) for x in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1), ruled=ruled)
    else:
        cols = [name_h] + tl + [ml, fl] + ([sl] if with_status else [])
        body = [[r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"])] + ([r["status_s"]] if with_status else [])
                for r in rows]
        cols2 = [name_h] + tl + [L(style, rng, "Conceito Final", "CF", "Conceito Anual"), fl] + (
            [sl] if with_status else [])
        widths = [name_w] + [max(fitw(d, a, 44), fitw(d, b, 44)) for a, b in zip(cols[1:], cols2[1:])]
        grid(d, [[(x, 1) for x in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1), ruled=ruled,
             fill=pick(rng, None, 0.9))
        d.gap(0.8)
        d.line(L(style, rng, "Componentes avaliados por conceito", "AVALIAÇÃO POR CONCEITO",
                 "Componentes com avaliação qualitativa"), bold=True)
        cols = cols2
        body = [[c["written"]] + c["letters"] + [c["final_s"], str(c["faltas"])] + ([c["status_s"]] if with_status else [])
                for c in crow]
        grid(d, [[(x, 1) for x in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1), ruled=ruled,
             fill=pick(rng, None, 0.9))
    d.gap(0.6)
    d.line(style.t("Legenda: " + legend), size=d.size - 1.5)
    d.line(style.t(f"Média para aprovação nos componentes com nota: {pick(rng, '6,0', '5,0', '7,0')}"
                   if scale == 10 else "Média para aprovação: 60 pontos."), size=d.size - 1.5)
    d.gap(0.6)
    d.line(L(style, rng, "Parecer descritivo", "Observações do(a) professor(a)"), bold=True)
    for ln in ["O(a) estudante demonstrou boa participação nas atividades propostas e evolução na",
               "leitura e na produção de textos. Recomenda-se manter a rotina de estudos em casa."]:
        d.line(style.t(ln), size=d.size - 0.5)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False, status=with_status) for r in rows]
    t["subjects"] += [{"code": c["code"], "terms": [None] * n_terms, "final_grade": None, "absences": c["faltas"],
                       "attendance_pct": None, "status": "aprovado" if with_status else None, "workload_hours": None}
                      for c in crow]
    t["pages"] = d.pages
    return t


EF_AREAS = [("Linguagens", ["lingua-portuguesa", "arte", "educacao-fisica", "lingua-inglesa"], "LIN"),
            ("Matemática", ["matematica"], "MAT"), ("Ciências da Natureza", ["ciencias"], "CN"),
            ("Ciências Humanas", ["historia", "geografia"], "CH"), ("Ensino Religioso", ["ensino-religioso"], "ER")]
EM_ACRONYM = {"Linguagens e suas Tecnologias": "LGG", "Matemática e suas Tecnologias": "MAT",
              "Ciências da Natureza e suas Tecnologias": "CNT", "Ciências Humanas e Sociais Aplicadas": "CHS"}


def un_bncc_area_column(path, rng, family, split, seed):
    """Components grouped by BNCC area, the area printed once in a merged
    first column (full name wrapped, acronym with a legend, or turned 90°),
    then a parte diversificada group; ensino fundamental or médio."""
    style = Style(rng)
    scale = scale_of(rng, 0.25)
    em = rng.random() < 0.5
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([8, 8.5, 9]))
    d.lead = d.size * rng.uniform(1.5, 1.8)
    school, year = School(rng, style), rng.randint(2020, 2025)
    level = rng.choice(["1ª Série", "2ª Série", "3ª Série"] if em else ["6º Ano", "7º Ano", "8º Ano", "9º Ano"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    net = NETWORK.get(school.uf)
    if rng.random() < 0.6 and net:
        d.line(style.t(net), bold=True)
        d.line(style.t(SECRETARIA[school.uf]))
    d.line(f"{L(style, rng, 'Unidade Escolar:', 'Escola:', 'Instituição:')} {school.name}", bold=True)
    d.line(school.ids_line(style))
    d.gap(0.5)
    stage = "Ensino Médio" if em else "Ensino Fundamental - Anos Finais"
    d.line(style.t(f"{pick(rng, 'Boletim Escolar', 'BOLETIM', 'Boletim de Desempenho')} - {stage}"), bold=True,
           size=d.size + 2)
    L2 = {k: style.t(v) for k, v in st.labels.items()}
    d.line(f"{L2['name']} {st.name}")
    d.line(f"{L2['reg']} {st.registration}     {L2['birth']} {st.birth}")
    d.line(f"{L2['class']} {st.class_name}     {L2['year']} {year}")
    d.gap(0.8)
    n_terms = pick(rng, 4, 3)
    tl = term_labels(rng, n_terms, style)
    if em:
        areas = [(a, comps, EM_ACRONYM[a]) for a, comps in AREAS]
    else:
        areas = list(EF_AREAS)
    div_pool = ["projeto-de-vida", "redacao", "informatica"] + (["lingua-espanhola"] if em else [])
    div = [c for c in div_pool if rng.random() < 0.45] or ["projeto-de-vida"]
    areas.append(pick(rng, ("Parte Diversificada", div, "PD"), ("Itinerário Formativo", div, "IF")) if em
                 else ("Parte Diversificada", div, "PD"))
    mode = pick(rng, "wrap", "acronym", "rotated")
    upper_area = rng.random() < 0.5
    with_freq = rng.random() < 0.5
    with_status = rng.random() < 0.7
    groups, all_rows = [], []
    for area, comps, acr in areas:
        if not em and area == "Ensino Religioso" and rng.random() < 0.5:
            continue
        rows = subject_rows(rng, style, comps, n_terms, scale, missing_rate=0.05)
        label = acr if mode == "acronym" else style.t(area.upper() if upper_area else area)
        cells = []
        for r in rows:
            c = [r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"])]
            if with_freq:
                c.append(r["freq_s"])
            if with_status:
                c.append(r["status_s"])
            cells.append(c)
        groups.append((label, cells))
        all_rows += rows
    area_h = L(style, rng, "Área do Conhecimento", "Área", "Áreas")
    if mode == "acronym":
        area_h = style.t("Área")
    comp_h = L(style, rng, "Componente Curricular", "Componente", "Disciplina")
    tail = [L(style, rng, "Média Final", "MF", "Média Anual"), L(style, rng, "Faltas", "TF")]
    if with_freq:
        tail.append(L(style, rng, "% Freq.", "Freq. (%)"))
    if with_status:
        tail.append(L(style, rng, "Situação", "Resultado"))
    two_level = rng.random() < 0.5
    if two_level:
        heads = [[(area_h, 1), (comp_h, 1), (L(style, rng, "Notas", "Avaliações", "Rendimento"), n_terms),
                  (L(style, rng, "Resultado Anual", "Final"), len(tail))],
                 [("", 1), ("", 1)] + [(x, 1) for x in tl] + [(x, 1) for x in tail]]
    else:
        heads = [[(area_h, 1), (comp_h, 1)] + [(x, 1) for x in tl] + [(x, 1) for x in tail]]
    name_w = max(d.width(r["written"]) for r in all_rows) + 12
    area_w = 34 if mode == "acronym" else (54 if mode == "rotated" else rng.choice([96, 110, 124]))
    widths = [area_w, name_w] + [40] * n_terms + [46, 36] + ([44] if with_freq else []) + ([62] if with_status else [])
    area_table(d, heads, groups, widths, ["c", "l"] + ["c"] * (len(widths) - 2), ruled=rng.random() < 0.85,
               mode="rotated" if mode == "rotated" else "wrap", fill=pick(rng, None, 0.88))
    d.gap(0.6)
    if mode == "acronym":
        legend = "; ".join(f"{acr} - {a}" for a, _, acr in areas)
        for ln in wrap_words(d, style.t("Legenda: " + legend), d.right - d.left, size=d.size - 1.5):
            d.line(ln, size=d.size - 1.5)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=with_freq, status=with_status) for r in all_rows]
    t["pages"] = d.pages
    return t


def un_ficha_wide_dense(path, rng, family, split, seed):
    """State `Ficha Individual do Aluno` export: landscape, tiny font,
    Educacenso fields in a ruled 4-column block, per bimestre `N | F`,
    semester means with semester recovery between them, then MA, RF, MF,
    TF, AD, %F and RES (APR/REP with a legend)."""
    style = Style(rng, case=pick(rng, "upper", "upper_noaccent", "as_is"))
    scale = scale_of(rng, 0.1)
    narrow = [p for p in SANS if "Narrow" in p[0] or "Condensed" in p[0]] or SANS
    d = Doc(path, rng, narrow + SANS[:1], land=True, size=rng.choice([5.5, 6, 6.5]))
    d.lead = d.size * rng.uniform(1.5, 1.75)
    d.top = d.y = d.h - rng.uniform(26, 36)
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    school.city, school.uf = rng.choice([("Fortaleza", "CE"), ("Juazeiro do Norte", "CE"), ("Salvador", "BA"),
                                         ("Feira de Santana", "BA"), ("Goiânia", "GO"), ("Recife", "PE")])
    level = rng.choice(["6º Ano", "7º Ano", "8º Ano", "9º Ano", "1ª Série", "2ª Série"])
    hs = "Série" in level
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    d.line(style.t(NETWORK[school.uf]), bold=True, size=d.size + 1)
    d.line(style.t(SECRETARIA[school.uf]), size=d.size + 0.5)
    d.line(style.t(f"{REGIONAL[school.uf]} {rng.randint(1, 20):02d} - {school.city}"))
    d.gap(0.3)
    year_in_title = rng.random() < 0.5
    title = L(style, rng, "FICHA INDIVIDUAL DO ALUNO", "Ficha Individual do Estudante", "FICHA INDIVIDUAL")
    d.line(f"{title} - {style.t('Ano Letivo')} {year}" if year_in_title else title, bold=True, size=d.size + 3)
    d.gap(0.3)
    printed = cnpj_print(school, rng)
    items = [(style.t("Escola:"), school.name, 2), (style.t(pick(rng, "Cód. INEP:", "INEP Escola:")), school.inep, 1)]
    if printed:
        items.append((style.t("CNPJ:"), printed, 1))
    else:
        items.append((style.t("Município/UF:"), style.t(f"{school.city}/{school.uf}"), 1))
    sexo = pick(rng, "F", "M")
    items += [(L(style, rng, "Aluno(a):", "Nome do(a) Estudante:"), st.name, 2),
              (L(style, rng, "Matrícula:", "Nº Matrícula:", "Cód. Aluno:"), st.registration, 1),
              (L(style, rng, "ID INEP (Educacenso):", "Cód. INEP Aluno:"), str(rng.randint(10**11, 10**12 - 1)), 1),
              (L(style, rng, "Data Nasc.:", "Nascimento:"), st.birth, 1), (style.t("Sexo:"), sexo, 1),
              (style.t("NIS:"), str(rng.randint(10**10, 10**11 - 1)), 1),
              (style.t("Cor/Raça:"), L(style, rng, "Parda", "Branca", "Preta", "Não declarada"), 1),
              (style.t("Filiação:"), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)} / {rng.choice(FIRST)} "
                                             f"{rng.choice(LAST)}"), 2),
              (style.t("Naturalidade:"), style.t(f"{school.city}/{school.uf}"), 1),
              (L(style, rng, "Turma:", "Série/Turma:"), st.class_name, 1),
              (style.t("Turno:"), L(style, rng, "Manhã", "Tarde", "Integral"), 1),
              (style.t("Modalidade:"), style.t("Ensino Regular"), 1)]
    if not year_in_title:
        items.append((style.t("Ano Letivo:"), str(year), 1))
    kv_rows(d, items, 4, ruled=True)
    d.gap(0.8)
    pool = ({k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")} | HS_SUBJECTS
            if hs else {**SUBJECTS, **SPANISH})
    codes = pick_subjects(rng, pool, 8, 12)
    rows = subject_rows(rng, style, codes, 4, scale, missing_rate=0)
    passing = rows[0]["passing"] * scale / 10
    half = lambda a, b: round((a + b) / 2, 1 if scale == 10 else 0)  # noqa: E731
    for r in rows:
        t = r["terms"]
        r["ch"] = rng.choice([40, 80, 80, 120, 160, 200])
        sems = []
        for a, b in ((t[0], t[1]), (t[2], t[3])):
            ms_s = style.num(half(a, b), scale)
            rs_s = ""
            eff = value(ms_s)
            if eff < passing:
                rs_s = style.num(round(min(10.0, eff / (scale / 10) + rng.uniform(0.5, 3)), 1) * scale / 10, scale)
                eff = max(eff, value(rs_s))
            sems.append((ms_s, rs_s, eff))
        r["sems"] = sems
        r["ma_s"] = style.num(half(sems[0][2], sems[1][2]), scale)
        r["rf_s"], r["mf_s"] = "", r["ma_s"]
        if value(r["ma_s"]) < passing:
            r["rf_s"] = style.num(round(min(10.0, r["base"] + rng.uniform(-1, 2.5)), 1) * scale / 10, scale)
            r["mf_s"] = style.num(half(value(r["ma_s"]), value(r["rf_s"])), scale)
        r["mf"] = value(r["mf_s"])
        r["ad"] = int(r["ch"] * rng.uniform(0.85, 1.0))
        r["faltas"] = min(r["faltas"], r["ad"] // 4)
        r["per_term"] = [0] * 4
        for _ in range(r["faltas"]):
            r["per_term"][rng.randrange(4)] += 1
        r["freq"] = round((r["ad"] - r["faltas"]) * 100 / r["ad"], 1)
        r["freq_s"] = f"{r['freq']:.1f}".replace(".", ",")
        if r["mf"] >= passing:
            r["status"], r["status_s"] = "aprovado", "APR"
        elif rng.random() < 0.3:
            r["status"], r["status_s"] = "aprovado", "APC"
        else:
            r["status"], r["status_s"] = "reprovado", "REP"
    b = [style.t(x) for x in term_labels(rng, 4, style)]
    sem_l = [style.t(x) for x in pick(rng, ("1º Sem", "2º Sem"), ("1º Semestre", "2º Semestre"), ("Sem. 1", "Sem. 2"))]
    nf = [style.t(x) for x in pick(rng, ("N", "F"), ("Nota", "Falta"), ("NT", "FT"))]
    ms = [style.t(x) for x in pick(rng, ("MS", "RS"), ("Méd", "Rec"), ("M", "R"))]
    tail = [style.t(x) for x in ("MA", "RF", "MF", "TF", "AD", "%F", "RES")]
    h1 = [(style.t("Cód."), 1), (L(style, rng, "Componente Curricular", "Disciplina"), 1), (style.t("CH"), 1),
          (b[0], 2), (b[1], 2), (sem_l[0], 2), (b[2], 2), (b[3], 2), (sem_l[1], 2)] + [("", 1)] * 7
    h2 = [("", 1)] * 3 + [(x, 1) for x in nf * 2 + ms + nf * 2 + ms] + [(x, 1) for x in tail]
    body = []
    for i, r in enumerate(rows):
        cells = [f"{rng.randint(1, 99):02d}{i + 1:02d}", r["written"], str(r["ch"])]
        for k in (0, 1):
            cells += [r["terms_s"][k], str(r["per_term"][k])]
        cells += [r["sems"][0][0], r["sems"][0][1]]
        for k in (2, 3):
            cells += [r["terms_s"][k], str(r["per_term"][k])]
        cells += [r["sems"][1][0], r["sems"][1][1]]
        cells += [r["ma_s"], r["rf_s"], r["mf_s"], str(r["faltas"]), str(r["ad"]), r["freq_s"], r["status_s"]]
        body.append(cells)
    name_w = max(d.width(r["written"]) for r in rows) + 10
    widths = [24, name_w, 20] + [21] * 12 + [24, 24, 24, 20, 22, 26, 24]
    widths = [w * (d.right - d.left) / sum(widths) for w in widths]
    grid(d, [h1, h2], body, widths, ["c", "l"] + ["c"] * (len(widths) - 2), ruled=True, fill=pick(rng, None, 0.85))
    d.gap(0.6)
    d.line(style.t(f"Legenda: {nf[0]} - Nota; {nf[1]} - Faltas; {ms[0]} - Média do Semestre; {ms[1]} - Recuperação "
                   "Semestral; MA - Média Anual; RF - Recuperação Final; MF - Média Final; TF - Total de Faltas; "
                   "AD - Aulas Dadas; %F - Frequência"), size=d.size - 0.5)
    d.line(style.t("RES: APR - Aprovado; APC - Aprovado pelo Conselho de Classe; REP - Reprovado"), size=d.size - 0.5)
    signatures(d, style, rng)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf", ch=r["ch"]) for r in rows]
    t["pages"] = d.pages
    return t


def un_footer_ident_turma(path, rng, family, split, seed):
    """Private network card: the school on a dark band, NO student block on
    top (the student's identity is in the footer of every page), each term
    `Nota | Média da Turma`, a long Ensino Médio list running to page 2."""
    style = Style(rng)
    scale = scale_of(rng, 0.15)
    d = Doc(path, rng, SANS, size=rng.choice([9.5, 10, 10.5]))
    d.lead = d.size * rng.uniform(2.5, 2.9)
    school, year = School(rng, style, public=False), rng.randint(2020, 2025)
    level = rng.choice(["1ª Série", "2ª Série", "3ª Série"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    band_h = d.size * 4.2
    d.c.setFillGray(rng.choice([0.15, 0.25, 0.35]))
    d.c.rect(0, d.h - band_h - 18, d.w, band_h, stroke=0, fill=1)
    d.c.setFillGray(1)
    d.y = d.h - 18 - band_h * 0.45
    d.text(d.left, school.name, bold=True, size=d.size + 4)
    d.y -= d.size * 1.6
    d.text(d.left, style.t(pick(rng, "Ensino Médio", "Rede de Ensino - Ensino Médio", "Colégio e Curso")), size=d.size - 1)
    d.c.setFillGray(0)
    d.y = d.h - band_h - 18 - d.lead
    printed = cnpj_print(school, rng)
    d.line("   ".join(([f"{style.t(school.cnpj_label)} {printed}"] if printed else [])
                      + [f"{style.t(school.inep_label)} {school.inep}",
                         style.t(f"{school.city} - {school.uf}")]), size=d.size - 1.5)
    d.gap(0.3)
    d.line(f"{L(style, rng, 'Boletim de Desempenho', 'RELATÓRIO DE DESEMPENHO ACADÊMICO', 'Boletim Escolar')} {year}",
           bold=True, size=d.size + 3)
    nl = L(style, rng, "Aluno(a):", "Estudante:", "Nome:")
    fields = [f"{nl} {st.name}", f"{L(style, rng, 'Matrícula:', 'RA:', 'Código:')} {st.registration}",
              f"{L(style, rng, 'Turma:', 'Série/Turma:')} {st.class_name}",
              f"{L(style, rng, 'Nasc.:', 'Data de Nascimento:')} {st.birth}"]
    auth = f"{rng.randint(0, 16**6 - 1):06X}"

    def stamp():
        c = d.c
        c.setLineWidth(0.4)
        c.line(d.left, 38, d.right, 38)
        size = max(6.5, d.size - 2.5)
        c.setFont(d.font, size)
        line1 = "   |   ".join(fields)
        if pdfm_width(d, line1, size) > d.right - d.left:
            c.drawString(d.left, 29, "   |   ".join(fields[:2]))
            c.drawString(d.left, 20, "   |   ".join(fields[2:]) + f"   |   {style.t('Página')} {d.pages}")
        else:
            c.drawString(d.left, 29, line1)
            c.drawString(d.left, 20, f"{style.t('Página')} {d.pages}   -   {style.t('Autenticação')}: {auth}")

    d.stamp = stamp
    d.gap(0.4)
    msg = ["Prezadas famílias,", "Apresentamos o desempenho do(a) estudante nas avaliações do ano letivo. As médias",
           "da turma são informadas para referência e não compõem a nota do(a) estudante.",
           "A recuperação paralela acontece ao longo de cada trimestre; dúvidas: coordenação pedagógica."]
    for ln in msg:
        d.line(style.t(ln), size=d.size - 1)
    d.gap(0.5)
    n_terms = pick(rng, 3, 3, 4)
    tl = term_labels(rng, n_terms, style)
    pool = {k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")}
    pool.update(HS_SUBJECTS)
    pool.update(SPANISH)
    pool.update({k: EXTRA[k] for k in ("redacao", "literatura", "projeto-de-vida")})
    codes = pick_subjects(rng, pool, 14, 17)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0.03)
    sub = [L(style, rng, "Nota", "Aluno", "Nota"), L(style, rng, "Média da Turma", "Turma", "Méd. Turma")]
    name_h = L(style, rng, "Disciplina", "Componente Curricular")
    mf_h = L(style, rng, "Média Final", "Média Anual", "MF")
    fl_h = style.t("Faltas")
    stacked = rng.random() < 0.6
    body = []
    for r in rows:
        means = [style.num(round(min(10.0, max(3.0, r["base"] + rng.uniform(-1.4, 1.2))), 1) * scale / 10, scale)
                 for _ in range(n_terms + 1)]
        if stacked:
            # the student's row, then the class's row under it
            body.append([r["written"], sub[0]] + r["terms_s"] + [r["media_s"], str(r["faltas"])])
            body.append(["", sub[1]] + means[:n_terms] + [means[-1], ""])
        else:
            cells = [r["written"]]
            for k in range(n_terms):
                cells += [r["terms_s"][k], means[k]]
            body.append(cells + [r["media_s"], str(r["faltas"])])
    d.on_new_page = lambda doc: doc.line(style.t(pick(rng, "Boletim de Desempenho (continuação)", "Continuação")),
                                         size=doc.size - 1)
    name_w = max(d.width(r["written"]) for r in rows) + 12
    ruled, fill = rng.random() < 0.8, pick(rng, 0.85, 0.92, None)
    if stacked:
        d.lead = d.size * rng.uniform(1.75, 2.05)
        heads = [[(name_h, 1), ("", 1)] + [(x, 1) for x in tl] + [(mf_h, 1), (fl_h, 1)]]
        widths = [name_w, fitw(d, sub[1], 50)] + [fitw(d, x, 50) for x in tl] + [fitw(d, mf_h, 50), 44]
        grid(d, heads, body, widths, ["l", "l"] + ["c"] * (n_terms + 2), ruled=ruled, fill=fill)
    else:
        h1 = [(name_h, 1)] + [(x, 2) for x in tl] + [("", 1), ("", 1)]
        h2 = [("", 1)] + [(x, 1) for _ in tl for x in sub] + [(mf_h, 1), (fl_h, 1)]
        grid(d, [h1, h2], body, [name_w] + [46] * (2 * n_terms) + [50, 40], ["l"] + ["c"] * (2 * n_terms + 2),
             ruled=ruled, fill=fill)
    d.gap(0.6)
    d.line(style.t("Observação: média mínima para aprovação 6,0 (60 pontos)."), size=d.size - 1)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False, status=False) for r in rows]
    t["pages"] = d.pages
    return t


def pdfm_width(d, s, size):
    return d.width(s, False, size)


def un_two_up(path, rng, family, split, seed):
    """Municipal compact card: header centred, the subjects split into two
    tables side by side (rows of both share baselines), a global frequency,
    and a detachable receipt stub repeating the student and turma."""
    style = Style(rng)
    scale = scale_of(rng, 0.25)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7, 7.5, 8]))
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    level = rng.choice(["2º Ano", "3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano", "8º Ano"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    mid = (d.left + d.right) / 2
    d.ctext(mid, style.t(f"PREFEITURA MUNICIPAL DE {school.city.upper()}"), bold=True)
    d.y -= d.lead
    d.ctext(mid, style.t(pick(rng, "Secretaria Municipal de Educação", "SEMED - Secretaria Municipal de Educação")))
    d.y -= d.lead
    d.ctext(mid, school.name, bold=True, size=d.size + 1.5)
    d.y -= d.lead * 1.1
    d.ctext(mid, school.ids_line(style))
    d.y -= d.lead * 1.4
    d.ctext(mid, f"{L(style, rng, 'BOLETIM ESCOLAR', 'Boletim do Aluno', 'FICHA DE RENDIMENTO')} - {year}", bold=True,
            size=d.size + 2.5)
    d.y -= d.lead * 1.5
    lab = {k: style.t(v) for k, v in st.labels.items()}
    d.text(d.left, f"{lab['name']} {st.name}")
    d.text(mid + 20, f"{style.t('Nº')} {rng.randint(1, 35)}")
    d.text(mid + 70, f"{lab['class']} {st.class_name}")
    d.y -= d.lead
    d.text(d.left, f"{lab['reg']} {st.registration}")
    d.text(mid + 20, f"{lab['birth']} {st.birth}")
    d.y -= d.lead * 1.6
    n_terms = pick(rng, 4, 4, 3)
    tl = term_labels(rng, n_terms, style)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 8, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0.05)
    cols = [L(style, rng, "Disciplina", "Componente")] + tl + [L(style, rng, "MF", "Média"), L(style, rng, "F", "Faltas")]
    k = (len(rows) + 1) // 2
    gap_x = 12
    half_w = (d.right - d.left - gap_x) / 2
    name_w = max(d.width(r["written"]) for r in rows) + 8
    cw = (half_w - name_w) / (n_terms + 2)
    if cw < 22:
        name_w, cw = half_w - 22 * (n_terms + 2), 22
    widths = [name_w] + [cw] * (n_terms + 2)
    ruled = rng.random() < 0.85
    fill = pick(rng, None, 0.9)
    y0 = d.y
    for part, x0 in ((rows[:k], d.left), (rows[k:], d.left + half_w + gap_x)):
        d.y = y0
        body = [[r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"])] for r in part]
        grid(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * (n_terms + 2), ruled=ruled, x0=x0, fill=fill)
    d.y = y0 - (k + 1) * d.lead - d.lead * 0.6
    overall = None
    if rng.random() < 0.7:
        overall = round(sum(r["freq"] for r in rows) / len(rows), 1)
        d.text(d.left, style.t(f"{pick(rng, 'Frequência Global', 'Frequência anual', 'Freq. total')}: ")
               + pct(overall) + "%")
    d.text(d.left + half_w + gap_x, style.t(f"{pick(rng, 'Dias letivos', 'Aulas dadas')}: 200"))
    d.y -= d.lead * 1.5
    d.text(d.left, style.t(f"{school.city}, {date_s(rng, year)}"))
    d.y -= d.lead * 2.2
    d.text(d.left, "_" * 30)
    d.text(d.left + half_w + gap_x, "_" * 30)
    d.y -= d.lead
    d.text(d.left, style.t("Professor(a) regente"), size=d.size - 0.5)
    d.text(d.left + half_w + gap_x, style.t("Direção"), size=d.size - 0.5)
    d.y -= d.lead * 2
    d.c.setDash(3, 3)
    d.c.line(d.left - 10, d.y + d.lead * 0.5, d.right + 10, d.y + d.lead * 0.5)
    d.c.setDash()
    d.y -= d.lead
    d.text(d.left, style.t(pick(rng, "Recibo - devolver à escola", "CANHOTO - Destacar e devolver")), bold=True)
    d.y -= d.lead
    d.text(d.left, style.t(f"Recebi o boletim de {st.name}, {lab['class']} {st.class_name}, referente ao ano de {year}."))
    d.y -= d.lead * 1.8
    d.text(d.left, style.t("Assinatura do responsável: ______________________________   Data: ___/___/______"))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False, status=False) for r in rows]
    t["overall_attendance_pct"] = overall
    t["pages"] = d.pages
    return t


def un_semestral_pesos(path, rng, family, split, seed):
    """Two semesters with weights printed under them (`Peso 4 | Peso 6`), a
    weighted mean, a final exam, MF, CH per component, faltas and %; the
    header a two-column box (institution | student)."""
    style = Style(rng)
    scale = 10
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.3, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style), rng.randint(2019, 2025)
    level = rng.choice(["1ª Série", "2ª Série", "3ª Série"])
    st = Student(rng, style, level=level)
    fix_birth(st, rng, year, level)
    d.line(L(style, rng, "BOLETIM ACADÊMICO", "Boletim de Notas e Frequência", "BOLETIM INDIVIDUAL"), bold=True,
           size=d.size + 3)
    d.gap(0.4)
    printed = cnpj_print(school, rng)
    left = [(school.name, True), (style.t(f"{school.street}"), False), (style.t(f"{school.city} - {school.uf}"), False)]
    if printed:
        left.append((f"{style.t(school.cnpj_label)} {printed}", False))
    left.append((f"{style.t(school.inep_label)} {school.inep}", False))
    right = [(f"{L(style, rng, 'Estudante:', 'Aluno(a):', 'Discente:')} {st.name}", True),
             (f"{L(style, rng, 'Matrícula:', 'Prontuário:', 'RA:')} {st.registration}", False),
             (f"{L(style, rng, 'Nascimento:', 'Data de Nascimento:')} {st.birth}", False),
             (f"{L(style, rng, 'Turma:', 'Série/Turma:', 'Curso/Turma:')} {st.class_name}", False),
             (f"{L(style, rng, 'Período Letivo:', 'Ano Letivo:', 'Ano:')} {year}", False)]
    if rng.random() < 0.5:
        left, right = right, left
    split_x = d.left + (d.right - d.left) * rng.uniform(0.48, 0.56)
    top = d.y + d.lead * 0.9
    for i in range(max(len(left), len(right))):
        if i < len(left):
            put(d, d.left + 4, left[i][0], split_x - d.left - 10, bold=left[i][1])
        if i < len(right):
            put(d, split_x + 6, right[i][0], d.right - split_x - 10, bold=right[i][1])
        d.y -= d.lead
    bottom = d.y + d.lead * 0.5
    d.c.setLineWidth(0.8)
    d.c.rect(d.left - 2, bottom, d.right - d.left + 4, top - bottom)
    d.c.line(split_x, bottom, split_x, top)
    d.gap(1.0)
    w1, w2 = pick(rng, (4, 6), (2, 3), (3, 7), (4, 6))
    passing = pick(rng, 6, 7, 6)
    codes = pick_subjects(rng, {**{k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")},
                                **HS_SUBJECTS, **SPANISH}, 8, 12)
    rows = subject_rows(rng, style, codes, 2, scale, missing_rate=0)
    for r in rows:
        r["ch"] = rng.choice([40, 60, 80, 80, 120])
        t1, t2 = r["terms"]
        r["mp_s"] = style.num(round((t1 * w1 + t2 * w2) / (w1 + w2), style.decimals), scale)
        r["ex_s"], r["mf_s"] = "", r["mp_s"]
        if value(r["mp_s"]) < passing:
            r["ex_s"] = style.num(round(min(10.0, r["base"] + rng.uniform(-1, 3)), 1), scale)
            r["mf_s"] = style.num(round((value(r["mp_s"]) + value(r["ex_s"])) / 2, style.decimals), scale)
            ok = value(r["mf_s"]) >= 5
        else:
            ok = True
        r["mf"] = value(r["mf_s"])
        r["status"] = "aprovado" if ok else "reprovado"
        r["status_s"] = style.t(rng.choice(STATUS_WORDS[r["status"]]))
        r["faltas"] = min(r["faltas"], r["ch"] // 4)
        r["freq"] = round((r["ch"] - r["faltas"]) * 100 / r["ch"], 1)
        r["freq_s"] = f"{r['freq']:.1f}".replace(".", ",")
    sl = [L(style, rng, "1º Semestre", "1º Sem.", "S1"), L(style, rng, "2º Semestre", "2º Sem.", "S2")]
    mp = L(style, rng, "Média Ponderada", "MP", "Média Anual")
    ex = L(style, rng, "Exame Final", "Exame", "EF")
    mf = L(style, rng, "Média Final", "MF", "Nota Final")
    h1 = [(L(style, rng, "Disciplina", "Componente Curricular", "Unidade Curricular"), 1), (style.t("CH"), 1),
          (sl[0], 1), (sl[1], 1), (mp, 1), (ex, 1), (mf, 1), (style.t("Faltas"), 1),
          (L(style, rng, "Freq. (%)", "% Freq."), 1), (L(style, rng, "Situação", "Resultado"), 1)]
    h2 = [("", 1), ("", 1), (style.t(f"Peso {w1}"), 1), (style.t(f"Peso {w2}"), 1)] + [("", 1)] * 6
    body = [[r["written"], str(r["ch"]), r["terms_s"][0], r["terms_s"][1], r["mp_s"], r["ex_s"], r["mf_s"],
             str(r["faltas"]), r["freq_s"], r["status_s"]] for r in rows]
    name_w = max(d.width(r["written"]) for r in rows) + 12
    grid(d, [h1, h2], body, [name_w] + [fitw(d, h[0], w) for h, w in zip(h1[1:], [30, 52, 52, 52, 46, 46, 38, 44, 64])],
         ["l"] + ["c"] * 9,
         ruled=rng.random() < 0.8, fill=pick(rng, None, 0.9))
    d.gap(0.6)
    d.line(style.t(f"MP = (1º Sem. × {w1} + 2º Sem. × {w2}) / {w1 + w2}. Exame final para MP inferior a {passing},0; "
                   f"MF = (MP + Exame) / 2, aprovação com MF igual ou superior a 5,0."), size=d.size - 1.5)
    d.line(style.t("Frequência mínima exigida: 75% da carga horária de cada componente."), size=d.size - 1.5)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf", ch=r["ch"]) for r in rows]
    t["pages"] = d.pages
    return t


# ---------------------------------------------------------------- históricos

EF_LEVELS = ["1º Ano", "2º Ano", "3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano", "8º Ano", "9º Ano"]
ACR = {"lingua-portuguesa": "LP", "matematica": "MAT", "historia": "HIS", "geografia": "GEO", "ciencias": "CIE",
       "arte": "ART", "educacao-fisica": "EDF", "lingua-inglesa": "ING", "ensino-religioso": "ER",
       "lingua-espanhola": "ESP"}


def hgrade(rng, base, scale, style, floor=None):
    """A year's final grade as printed; an approved year's grades are at least `floor` (on 0-10)."""
    g = grade(rng, base, scale)
    while floor is not None and g < floor * scale / 10:
        g = grade(rng, max(base, floor) + 1, scale)
    s = style.num(g, scale)
    return s, value(s)


def un_hist_series_rows(path, rng, family, split, seed):
    """`Ficha 19` histórico do Ensino Fundamental on a landscape page: one row
    per série/ano with the year, components as columns (acronyms with a
    legend, or names turned 90°), CH anual, dias letivos and resultado; a
    RETIDO row followed by the same série again; estudos realizados below."""
    style = Style(rng)
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, SANS + SERIF, land=True, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.45, 1.7)
    d.top = d.y = d.h - rng.uniform(28, 40)
    school = School(rng, style)
    last = rng.randint(5, 9)
    st = Student(rng, style, level=EF_LEVELS[min(last, 8)])
    n = rng.randint(4, last)
    levels = EF_LEVELS[last - n:last]
    retido_at = rng.randrange(len(levels)) if rng.random() < 0.3 else None
    seq = []
    for i, lv in enumerate(levels):
        if i == retido_at:
            seq.append((lv, "retido"))
        seq.append((lv, "ok"))
    first = rng.randint(2012, 2024 - len(seq))
    core = ["lingua-portuguesa", "matematica", "historia", "geografia", "ciencias", "arte", "educacao-fisica"]
    div = ["lingua-inglesa"] + (["ensino-religioso"] if rng.random() < 0.5 else []) + (
        ["lingua-espanhola"] if rng.random() < 0.2 else [])
    comps = core + div
    ok_word = pick(rng, "APROVADO", "Aprovado", "PROMOVIDO", "APR", "Aprovado(a)")
    ret_word = {"APR": "RET"}.get(ok_word, pick(rng, "RETIDO", "Retido", "REPROVADO"))
    not_offered = pick(rng, "—", "-", "***", "")
    base = {c: rng.uniform(5.8, 9.4) for c in comps}
    early_english = rng.random() < 0.3
    years = []
    for i, (lv, kind) in enumerate(seq):
        li = EF_LEVELS.index(lv)
        subs = []
        for c in comps:
            if c == "lingua-inglesa" and li < 5 and not early_english:
                continue
            if c == "lingua-espanhola" and li < 5:
                continue
            b = base[c] if kind == "ok" else base[c] - rng.uniform(1.5, 3.5)
            s, v = hgrade(rng, b, scale, style, 5 if kind == "ok" else None)
            subs.append({"code": c, "grade_s": s, "grade": v})
        if kind == "retido" and not any(s["grade"] < 5 * scale / 10 for s in subs):
            low = style.num(rng.choice([2.5, 3.0, 3.5, 4.0, 4.5]) * scale / 10, scale)
            subs[1]["grade_s"], subs[1]["grade"] = low, value(low)
        word = ok_word if kind == "ok" else ret_word
        years.append({"year": first + i, "level": style.t(lv), "li": li, "subjects": subs, "word": style.t(word),
                      "status": status_of(word), "ch": pick(rng, 800, 800, 833, 1000, 960), "days": 200})
    fix_birth(st, rng, years[-1]["year"] - (1 if retido_at is not None else 0), seq[-1][0])
    # header: legal heading, school box, student fields
    if rng.random() < 0.7 and NETWORK.get(school.uf):
        d.line(style.t(NETWORK[school.uf]) + "  -  " + style.t(SECRETARIA[school.uf]), bold=True)
    top = d.y + d.lead * 0.85
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}") + "     " + school.ids_line(style))
    d.line(style.t(f"Ato de criação: {pick(rng, 'Decreto', 'Resolução SE', 'Portaria')} nº {rng.randint(10, 999)}/"
                   f"{rng.randint(1970, 2010)}"), size=d.size - 0.5)
    d.c.setLineWidth(0.7)
    d.c.rect(d.left - 4, d.y + d.lead * 0.5, d.right - d.left + 8, top - d.y - d.lead * 0.5)
    d.gap(0.4)
    d.ctext((d.left + d.right) / 2, L(style, rng, "HISTÓRICO ESCOLAR - ENSINO FUNDAMENTAL",
                                       "Histórico Escolar do Ensino Fundamental de 9 Anos",
                                       "HISTÓRICO ESCOLAR"), bold=True, size=d.size + 3)
    d.y -= d.lead * 1.2
    d.ctext((d.left + d.right) / 2, style.t("Lei Federal nº 9.394/96 e Resolução CNE/CEB nº 7/2010"), size=d.size - 1)
    d.y -= d.lead * 1.2
    with_class = last < 9 and rng.random() < 0.6
    items = [(L(style, rng, "Nome do(a) Aluno(a):", "Aluno(a):", "Nome:"), st.name, 2),
             (L(style, rng, "RA:", "Matrícula:", "Registro do Aluno:"), st.registration, 1),
             (L(style, rng, "Data de Nascimento:", "Nascimento:"), st.birth, 1),
             (style.t("Naturalidade:"), style.t(f"{rng.choice(['Fortaleza', 'Recife', 'Campinas', 'Londrina'])}"), 1),
             (style.t("RG:"), f"{rng.randint(10, 99)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}-{rng.randint(0, 9)}", 1)]
    if with_class:
        items.append((L(style, rng, "Turma atual:", "Turma:"), st.class_name, 1))
    items.append((style.t("Filiação:"), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)} e {rng.choice(FIRST)} "
                                                f"{rng.choice(LAST)}"), 2))
    kv_rows(d, items, 4, ruled=rng.random() < 0.5)
    d.gap(0.6)
    # main grid, drawn by hand (headers may be turned)
    turned = rng.random() < 0.5
    names = {c: style.t(ALL_SUBJECTS[c][0]) for c in comps}
    acr = {c: style.t(ACR[c]) for c in comps}
    c_lv, c_yr = L(style, rng, "Ano/Série", "Série", "Etapa"), L(style, rng, "Ano", "Ano Letivo")
    tail = [L(style, rng, "CH Anual", "Carga Horária", "C.H."), L(style, rng, "Dias Letivos", "Dias"),
            L(style, rng, "Resultado", "Situação Final")]
    w_lv, w_yr, w_c = 52, 38, (36 if turned else 34)
    widths = [w_lv, w_yr] + [w_c] * len(comps) + [50, 38, 70]
    room = d.right - d.left
    if sum(widths) > room:
        widths = [w * room / sum(widths) for w in widths]
    xs = [d.left]
    for w in widths:
        xs.append(xs[-1] + w)
    c = d.c
    c.setLineWidth(0.5)
    # first header row: groups
    gtop = d.y + d.lead * 0.75
    grp_h = d.lead
    ncore = len(core)
    d.y = gtop - grp_h + d.size * 0.45
    fit_text(d, xs[2], xs[2 + ncore] - xs[2], style.t("BASE NACIONAL COMUM"), "c", True)
    fit_text(d, xs[2 + ncore], xs[2 + len(comps)] - xs[2 + ncore],
             style.t(pick(rng, "PARTE DIVERSIFICADA", "Parte Diversificada", "PARTE DIVERSIF.")), "c", True)
    head_h = (max(d.width(names[x], True) for x in comps) + 10) if turned else d.lead * 1.2
    htop = gtop - grp_h
    hbot = htop - head_h
    c.rect(xs[2], htop, xs[2 + len(comps)] - xs[2], grp_h)
    c.line(xs[2 + ncore], htop, xs[2 + ncore], gtop)
    for k, (x0, x1) in enumerate(zip(xs, xs[1:])):
        is_comp = 2 <= k < 2 + len(comps)
        c.rect(x0, hbot, x1 - x0, head_h if is_comp else head_h + grp_h)
    labels = [c_lv, c_yr] + [names[x] if turned else acr[x] for x in comps] + tail
    for k, lab in enumerate(labels):
        x0, x1 = xs[k], xs[k + 1]
        is_comp = 2 <= k < 2 + len(comps)
        if turned and is_comp:
            c.saveState()
            c.setFont(d.bold, d.size)
            c.translate((x0 + x1) / 2 + d.size * 0.35, hbot + 4)
            c.rotate(90)
            c.drawString(0, 0, lab)
            c.restoreState()
        else:
            d.y = (hbot + (htop if is_comp else gtop)) / 2 - d.size * 0.35
            fit_text(d, x0, x1 - x0, lab, "c", True)
    d.y = hbot - d.lead * 0.75
    for y in years:
        got = {s["code"]: s for s in y["subjects"]}
        cells = [y["level"], str(y["year"])] + [got[x]["grade_s"] if x in got else not_offered for x in comps] + [
            str(y["ch"]), str(y["days"]), y["word"]]
        for k, cell in enumerate(cells):
            fit_text(d, xs[k], widths[k], cell, "c")
        c.setLineWidth(0.5)
        for k in range(len(widths)):
            c.rect(xs[k], d.y - d.lead * 0.3, widths[k], d.lead)
        d.y -= d.lead
    d.gap(0.5)
    if not turned:
        legend = "; ".join(f"{acr[x]} - {names[x]}" for x in comps)
        d.line(style.t("Legenda: ") + legend, size=d.size - 1)
    if ok_word == "APR":
        d.line(style.t("APR - Aprovado; RET - Retido"), size=d.size - 1)
    d.gap(0.4)
    d.line(L(style, rng, "ESTUDOS REALIZADOS", "Estudos Realizados"), bold=True)
    other = style.t(f"{rng.choice(['Escola Municipal', 'EMEF', 'Colégio'])} {rng.choice(['Rui Barbosa', 'Castro Alves', 'Monteiro Lobato'])}")
    change = rng.randrange(len(years)) if rng.random() < 0.5 else 0
    body = []
    for i, y in enumerate(years):
        sch = other if i < change else school.name
        body.append([y["level"], str(y["year"]), sch, style.t(school.city), school.uf])
    sw = max(d.width(school.name), d.width(other)) + 14
    grid(d, [[(x, 1) for x in (c_lv, c_yr, L(style, rng, "Estabelecimento de Ensino", "Escola"),
                               style.t("Município"), style.t("UF"))]], body, [52, 38, sw, 110, 30],
         ["c", "c", "l", "l", "c"], ruled=rng.random() < 0.6)
    d.gap(0.4)
    d.line(style.t(f"{school.city}, {rng.randint(1, 28)} de {rng.choice(MONTHS)} de {years[-1]['year'] + 1}."))
    signatures(d, style, rng, ("Secretário(a) de Escola", "Diretor(a) de Escola"))
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, scale)
    if not with_class:
        t["student"]["class_name"] = None
    t["years"] = [{"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": None, "status": y["status"],
                   "subjects": [{"code": s["code"], "final_grade": s["grade"], "workload_hours": None,
                                 "attendance_pct": None, "status": None} for s in y["subjects"]]} for y in years]
    t["pages"] = d.pages
    return t


def un_hist_em_estudos(path, rng, family, split, seed):
    """Ensino Médio histórico: BNCC areas as a merged first column, each série
    a column group with no year (`1ª SÉRIE` over `Nota | CH` or `MF | Faltas`),
    a total CH column; the year of each série only in `Estudos Realizados`
    (with resultado and frequência)."""
    style = Style(rng)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.5, 1.75)
    school = School(rng, style)
    st = Student(rng, style, level="3ª Série")
    first = rng.randint(2016, 2022)
    levels = [style.t(x) for x in ("1ª Série", "2ª Série", "3ª Série")]
    sub_kind = pick(rng, "nota_ch", "nota_faltas", "nota")
    areas = [(a, list(comps)) for a, comps in AREAS]
    div = [c for c in ["lingua-espanhola", "redacao", "projeto-de-vida"] if rng.random() < 0.6] or ["projeto-de-vida"]
    areas.append((pick(rng, "Parte Diversificada", "Itinerário Formativo"), div))
    only_two = {"filosofia", "sociologia", "arte"} if rng.random() < 0.5 else set()
    upper_area, upper_level = rng.random() < 0.5, rng.random() < 0.3
    mark = pick(rng, "—", "-", "")
    years = [{"year": first + i, "level": levels[i], "subs": {}} for i in range(3)]
    groups = []
    for area, comps in areas:
        rows = []
        for cc in comps:
            b = rng.uniform(5.6, 9.5)
            cells = [style.t(rng.choice(ALL_SUBJECTS[cc]))]
            tot = 0
            for i, y in enumerate(years):
                if cc in only_two and i == 2:
                    cells += [mark] * (1 if sub_kind == "nota" else 2)
                    continue
                s, v = hgrade(rng, b, 10, style, 5)
                ch = rng.choice([40, 80, 80, 120, 160])
                f = rng.choice([0, 0, 2, 4, 6, 10])
                tot += ch
                y["subs"][cc] = {"grade_s": s, "grade": v, "ch": ch, "f": f}
                cells.append(s)
                if sub_kind == "nota_ch":
                    cells.append(str(ch))
                elif sub_kind == "nota_faltas":
                    cells.append(str(f))
            if sub_kind == "nota_ch":
                cells.append(str(tot))
            rows.append(cells)
        groups.append((style.t(area.upper() if upper_area else area), rows))
    for y in years:
        y["freq"] = round(rng.uniform(85, 99.5), 1)
        y["word"] = style.t(pick(rng, "Aprovado", "APROVADO", "APR", "Promovido"))
        y["status"] = status_of(y["word"])
    fix_birth(st, rng, years[-1]["year"], "3ª Série")
    if years[-1]["word"] in ("Promovido", "PROMOVIDO"):
        years[-1]["word"] = style.t("Aprovado")
        years[-1]["status"] = "aprovado"
    # header
    network = NETWORK.get(school.uf)
    if network and rng.random() < 0.6:
        d.line(style.t(network), bold=True)
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(school.ids_line(style))
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
    d.gap(0.4)
    d.line(L(style, rng, "HISTÓRICO ESCOLAR - ENSINO MÉDIO", "Histórico Escolar do Ensino Médio",
             "HISTÓRICO ESCOLAR"), bold=True, size=d.size + 3)
    items = [(L(style, rng, "Nome:", "Estudante:", "Aluno(a):"), st.name, 2),
             (L(style, rng, "Matrícula:", "RA:", "Nº de Matrícula:"), st.registration, 1),
             (L(style, rng, "Data de Nascimento:", "Nascimento:"), st.birth, 1),
             (style.t("Nacionalidade:"), style.t("Brasileira"), 1),
             (style.t("Naturalidade:"), style.t(f"{school.city}/{school.uf}"), 1)]
    kv_rows(d, items, 2, ruled=rng.random() < 0.5)
    d.gap(0.6)
    sub = {"nota_ch": [L(style, rng, "Nota", "MF", "Média"), L(style, rng, "CH", "C.H.")],
           "nota_faltas": [L(style, rng, "MF", "Nota"), L(style, rng, "Faltas", "F")],
           "nota": [L(style, rng, "Nota", "Média Final")]}[sub_kind]
    tot_h = [L(style, rng, "CH Total", "Total CH", "Carga Horária Total")] if sub_kind == "nota_ch" else []
    h1 = [(L(style, rng, "Área do Conhecimento", "Área", "Áreas do Conhecimento"), 1),
          (L(style, rng, "Componente Curricular", "Componentes Curriculares"), 1)] + [
        (lv.upper() if upper_level else lv, len(sub)) for lv in levels] + [(x, 1) for x in tot_h]
    h2 = [("", 1), ("", 1)] + [(s, 1) for _ in levels for s in sub] + [("", 1) for _ in tot_h]
    name_w = max(d.width(r[0]) for _, rows in groups for r in rows) + 12
    widths = [rng.choice([84, 96, 110]), name_w] + [40] * (3 * len(sub)) + [52] * len(tot_h)
    area_table(d, [h1, h2], groups, widths, ["c", "l"] + ["c"] * (len(widths) - 2), ruled=rng.random() < 0.85,
               mode=pick(rng, "wrap", "rotated"), fill=pick(rng, None, 0.9))
    d.gap(0.8)
    d.need(d.lead * 7)
    d.line(L(style, rng, "ESTUDOS REALIZADOS", "Estudos Realizados no Ensino Médio"), bold=True)
    with_freq = rng.random() < 0.6
    cols = [L(style, rng, "Série", "Ano/Série"), L(style, rng, "Ano", "Ano Letivo"),
            L(style, rng, "Estabelecimento", "Unidade Escolar"), style.t("Município/UF")]
    cols += [L(style, rng, "Frequência (%)", "% Freq.")] if with_freq else []
    cols += [L(style, rng, "Resultado", "Situação")]
    body = [[y["level"], str(y["year"]), school.name, style.t(f"{school.city}/{school.uf}")]
            + ([f"{y['freq']:.1f}".replace(".", ",")] if with_freq else []) + [y["word"]] for y in years]
    grid(d, [[(x, 1) for x in cols]], body, [50, 36, d.width(school.name) + 12, 100] + ([50] if with_freq else []) + [62],
         ["c", "c", "l", "l"] + ["c"] * (2 if with_freq else 1), ruled=rng.random() < 0.6)
    d.gap(0.4)
    if any(y["word"] == "APR" for y in years):
        d.line(style.t("APR - Aprovado"), size=d.size - 1)
    d.line(style.t(f"Certificamos que o(a) estudante concluiu o Ensino Médio no ano letivo de {years[-1]['year']}."))
    signatures(d, style, rng)
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["student"]["class_name"] = None
    t["years"] = []
    for y in years:
        subs = []
        for _, comps in areas:
            for cc in comps:
                if cc in y["subs"]:
                    s = y["subs"][cc]
                    subs.append({"code": cc, "final_grade": s["grade"],
                                 "workload_hours": s["ch"] if sub_kind == "nota_ch" else None,
                                 "absences": s["f"] if sub_kind == "nota_faltas" else None,
                                 "attendance_pct": None, "status": None})
        t["years"].append({"year": y["year"], "grade_level": y["level"],
                           "overall_attendance_pct": y["freq"] if with_freq else None, "status": y["status"],
                           "subjects": subs})
    t["pages"] = d.pages
    return t


def un_hist_year_panels(path, rng, family, split, seed):
    """Histórico as one bordered panel per school year, two side by side:
    `6º ANO - 2019`, then components with nota and CH (dotted leaders or
    columns), carga horária, frequência and resultado at the panel foot."""
    style = Style(rng)
    scale = 100 if rng.random() < 0.25 else 10
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.4, 1.65)
    school = School(rng, style)
    hs = rng.random() < 0.35
    st = Student(rng, style, level=pick(rng, "3ª Série", "2ª Série") if hs else pick(rng, "9º Ano", "8º Ano"))
    levels = ["1ª Série", "2ª Série", "3ª Série"] if hs else ["6º Ano", "7º Ano", "8º Ano", "9º Ano"]
    n = rng.randint(2, len(levels))
    start = rng.randint(0, len(levels) - n)
    first = rng.randint(2015, 2024 - n)
    pool = ({k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")} | HS_SUBJECTS) if hs else \
        {**SUBJECTS, **SPANISH}
    codes = pick_subjects(rng, pool, 8, 11)
    spelled = {c: style.t(rng.choice(ALL_SUBJECTS[c])) for c in codes}
    years = []
    for i in range(n):
        subs = []
        for c in codes:
            s, v = hgrade(rng, rng.uniform(5.6, 9.6), scale, style, 6 if scale == 100 else 5)
            subs.append({"code": c, "grade_s": s, "grade": v, "ch": rng.choice([40, 80, 80, 120, 160, 200])})
        word = style.t(pick(rng, "APROVADO", "Aprovado(a)", "PROMOVIDO", "Aprovado"))
        years.append({"year": first + i, "level": style.t(levels[start + i]), "subjects": subs,
                      "freq": round(rng.uniform(84, 99.6), 1), "word": word, "status": status_of(word)})
    fix_birth(st, rng, years[-1]["year"], levels[start + n - 1])
    network = NETWORK.get(school.uf)
    if network and rng.random() < 0.5:
        d.line(style.t(network) + " - " + style.t(SECRETARIA[school.uf]), size=d.size - 0.5)
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(school.ids_line(style))
    d.gap(0.4)
    d.line(L(style, rng, "HISTÓRICO ESCOLAR", "Histórico Escolar - " + ("Ensino Médio" if hs else "Ensino Fundamental")),
           bold=True, size=d.size + 3)
    lab = {k: style.t(v) for k, v in st.labels.items()}
    d.line(f"{lab['name']} {st.name}")
    d.line(f"{lab['reg']} {st.registration}      {lab['birth']} {st.birth}")
    d.gap(0.8)
    leaders = rng.random() < 0.5
    gl = L(style, rng, "Nota", "Média", "MF")
    cl = L(style, rng, "CH", "C.H.")
    head_form = pick(rng, "{l} - {y}", "{y} - {l}", "{l} ({y})", "ANO LETIVO {y} - {l}")
    gap_x = 14
    pw = (d.right - d.left - gap_x) / 2
    ph = d.lead * (len(codes) + 5.4)
    for i in range(0, n, 2):
        if d.y - ph < 46:
            d.new_page()
        top = d.y + d.lead * 0.85
        y0 = d.y
        for j, y in enumerate(years[i:i + 2]):
            x = d.left + j * (pw + gap_x)
            d.c.setLineWidth(0.8)
            d.c.rect(x, top - ph, pw, ph)
            d.y = y0
            d.text(x + 6, style.t(head_form.format(l=y["level"], y=y["year"])).upper(), bold=True)
            d.y -= d.lead
            d.text(x + 6, L(style, rng, "Componente", "Componente Curricular", "Disciplina"), bold=True,
                   size=d.size - 0.5)
            d.rtext(x + pw - 44, gl, bold=True, size=d.size - 0.5)
            d.rtext(x + pw - 8, cl, bold=True, size=d.size - 0.5)
            d.y -= d.lead
            for s in y["subjects"]:
                name = spelled[s["code"]]
                d.text(x + 6, name)
                if leaders:
                    dots_x = x + 8 + d.width(name)
                    n_dots = int(max(0, (x + pw - 70) - dots_x) / d.width("."))
                    d.text(dots_x, "." * n_dots)
                d.rtext(x + pw - 44, s["grade_s"])
                d.rtext(x + pw - 8, str(s["ch"]))
                d.y -= d.lead
            d.y -= d.lead * 0.2
            total = sum(s["ch"] for s in y["subjects"])
            d.text(x + 6, style.t(f"{pick(rng, 'Carga horária anual', 'CH total')}: {total} h"), size=d.size - 0.5)
            d.y -= d.lead
            d.text(x + 6, style.t(f"{pick(rng, 'Frequência', 'Freq.')}: ") + pct(y["freq"]) + "%",
                   size=d.size - 0.5)
            d.rtext(x + pw - 8, f"{L(style, rng, 'Resultado:', 'Situação:')} {y['word']}", bold=True, size=d.size - 0.5)
        d.y = top - ph - d.lead * 1.2
    d.gap(0.4)
    d.need(d.lead * 6)
    d.line(style.t("Observações:"), bold=True)
    d.line(style.t(pick(rng, "Escala de notas de 0 (zero) a 10 (dez); média mínima 5,0." if scale == 10 else
                        "Escala de 0 a 100 pontos; aprovação com 60 pontos.",
                        "Estudos realizados nesta unidade escolar, conforme a Lei nº 9.394/96.")), size=d.size - 0.5)
    signatures(d, style, rng)
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, scale)
    t["student"]["class_name"] = None
    t["years"] = [{"year": y["year"], "grade_level": y["level"].upper(), "overall_attendance_pct": y["freq"],
                   "status": y["status"],
                   "subjects": [{"code": s["code"], "final_grade": s["grade"], "workload_hours": s["ch"],
                                 "attendance_pct": None, "status": None} for s in y["subjects"]]} for y in years]
    t["pages"] = d.pages
    return t


def un_hist_transfer_current(path, rng, family, split, seed):
    """Histórico issued on transfer: `I - Estudos concluídos` (components x
    years, each year `MF | Faltas`, a Resultado row) and `II - Ano em curso`
    with the bimestres graded so far (later ones blank) and the situation
    Cursando / Transferido: no final grade for that year."""
    style = Style(rng)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.45, 1.7)
    school = School(rng, style)
    n_done = rng.randint(1, 3)
    start = rng.randint(0, 3 - n_done)
    levels = ["6º Ano", "7º Ano", "8º Ano", "9º Ano"][start:start + n_done + 1]
    st = Student(rng, style, level=levels[-1])
    first = rng.randint(2016, 2025 - n_done)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 7, 10)
    spelled = {c: style.t(rng.choice(ALL_SUBJECTS[c])) for c in codes}
    with_f = rng.random() < 0.6
    done = []
    for i in range(n_done):
        subs = {}
        for c in codes:
            s, v = hgrade(rng, rng.uniform(5.6, 9.6), 10, style, 5)
            subs[c] = {"grade_s": s, "grade": v, "f": rng.choice([0, 0, 1, 2, 4, 7])}
        word = style.t(pick(rng, "Aprovado", "APROVADO", "Promovido"))
        done.append({"year": first + i, "level": style.t(levels[i]), "subs": subs, "word": word,
                     "status": status_of(word)})
    cur_year = first + n_done
    n_terms = 4
    graded = rng.randint(1, 3)
    cur = {}
    mark = pick(rng, "", "-", "—")
    for c in codes:
        ts = [style.num(grade(rng, rng.uniform(5.5, 9.5), 10), 10) if k < graded else mark for k in range(n_terms)]
        cur[c] = {"terms_s": ts, "terms": [value(x) for x in ts], "f": rng.choice([0, 1, 2, 3, 5])}
    transfer = rng.random() < 0.6
    cur_word = style.t("Transferido(a)" if transfer else pick(rng, "Cursando", "Em curso"))
    fix_birth(st, rng, cur_year, levels[-1])
    # header
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
    d.line(school.ids_line(style))
    d.gap(0.4)
    d.line(L(style, rng, "HISTÓRICO ESCOLAR", "Histórico Escolar - Transferência", "HISTÓRICO ESCOLAR PARCIAL"),
           bold=True, size=d.size + 3)
    items = [(L(style, rng, "Aluno(a):", "Nome:"), st.name, 2),
             (L(style, rng, "Matrícula:", "RA:"), st.registration, 1),
             (L(style, rng, "Data de Nascimento:", "Nasc.:"), st.birth, 1),
             (L(style, rng, "Turma:", "Turma atual:"), st.class_name, 1),
             (style.t("Curso:"), style.t("Ensino Fundamental"), 1)]
    kv_rows(d, items, 2, ruled=rng.random() < 0.4)
    d.gap(0.6)
    d.line(L(style, rng, "I - ESTUDOS CONCLUÍDOS", "I - Anos concluídos"), bold=True)
    sub = [L(style, rng, "MF", "Nota", "Média")] + ([L(style, rng, "Faltas", "F")] if with_f else [])
    h1 = [(L(style, rng, "Componente Curricular", "Disciplina"), 1)] + [
        (style.t(f"{y['level']} - {y['year']}"), len(sub)) for y in done]
    h2 = [("", 1)] + [(s, 1) for _ in done for s in sub]
    body = []
    for c in codes:
        cells = [spelled[c]]
        for y in done:
            cells.append(y["subs"][c]["grade_s"])
            if with_f:
                cells.append(str(y["subs"][c]["f"]))
        body.append(cells)
    body.append([L(style, rng, "Resultado", "Situação Final")] + [x for y in done for x in [y["word"]] + [""] * (len(sub) - 1)])
    name_w = max(max(d.width(s) for s in spelled.values()), d.width(body[-1][0])) + 12
    grid(d, [h1, h2], body, [name_w] + ([54, 36] if with_f else [70]) * n_done, ["l"] + ["c"] * (len(sub) * n_done),
         ruled=rng.random() < 0.85, fill=pick(rng, None, 0.9))
    d.gap(0.8)
    d.need(d.lead * (len(codes) + 5))
    d.line(L(style, rng, "II - ANO EM CURSO", "II - Ano letivo em curso (ficha individual)"), bold=True)
    sit = f"{L(style, rng, 'Situação:', 'Situação atual:')} {cur_word}"
    if transfer:
        sit += style.t(f" em {date_s(rng, cur_year)}")
    d.line(f"{L(style, rng, 'Ano Letivo:', 'Ano:')} {cur_year}     {L(style, rng, 'Série:', 'Ano/Série:')} "
           f"{style.t(levels[-1])}     {sit}")
    tl = term_labels(rng, n_terms, style)
    cols = [L(style, rng, "Componente Curricular", "Disciplina")] + tl + [L(style, rng, "Faltas", "Faltas até a data")]
    body = [[spelled[c]] + cur[c]["terms_s"] + [str(cur[c]["f"])] for c in codes]
    grid(d, [[(x, 1) for x in cols]], body, [name_w] + [48] * n_terms + [60], ["l"] + ["c"] * (n_terms + 1),
         ruled=rng.random() < 0.8)
    d.gap(0.6)
    d.line(style.t(f"O(a) aluno(a) {'poderá ser matriculado(a)' if transfer else 'está matriculado(a)'} no "
                   f"{levels[-1]} do Ensino Fundamental."), size=d.size - 0.5)
    signatures(d, style, rng)
    d.save()
    t = academic_truth(family, split, seed, "historico", cur_year, st, school, 10)
    t["years"] = [{"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": None, "status": y["status"],
                   "subjects": [{"code": c, "final_grade": y["subs"][c]["grade"], "workload_hours": None,
                                 "absences": y["subs"][c]["f"] if with_f else None, "attendance_pct": None,
                                 "status": None} for c in codes]} for y in done]
    t["years"].append({"year": cur_year, "grade_level": style.t(levels[-1]), "overall_attendance_pct": None,
                       "status": "transferido" if transfer else "cursando",
                       "subjects": [{"code": c, "terms": cur[c]["terms"], "final_grade": None, "workload_hours": None,
                                     "absences": cur[c]["f"], "attendance_pct": None, "status": None} for c in codes]})
    t["pages"] = d.pages
    return t


UNSEEN = {
    "un_mg_pontos": un_mg_pontos,
    "un_term_blocks": un_term_blocks,
    "un_conceito_misto": un_conceito_misto,
    "un_bncc_area_column": un_bncc_area_column,
    "un_ficha_wide_dense": un_ficha_wide_dense,
    "un_footer_ident_turma": un_footer_ident_turma,
    "un_two_up": un_two_up,
    "un_semestral_pesos": un_semestral_pesos,
    "un_hist_series_rows": un_hist_series_rows,
    "un_hist_em_estudos": un_hist_em_estudos,
    "un_hist_year_panels": un_hist_year_panels,
    "un_hist_transfer_current": un_hist_transfer_current,
}


# ---------------------------------------------------------------- look-alikes to refuse

def _ctx(rng):
    style = Style(rng)
    school, st = School(rng, style), Student(rng, style)
    return style, school, st, rng.randint(2020, 2026)


def _school_head(d, style, school, rng):
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}"))
    d.line(school.ids_line(style))
    d.gap(0.6)


def ficha_matricula(d, rng):
    style, school, st, year = _ctx(rng)
    _school_head(d, style, school, rng)
    d.line(style.t(f"{pick(rng, 'FICHA DE MATRÍCULA', 'Requerimento de Matrícula', 'FICHA DE REMATRÍCULA')} - {year}"),
           bold=True, size=d.size + 3)
    d.gap(0.4)
    d.line(style.t("1. DADOS DO(A) ESTUDANTE"), bold=True)
    kv_rows(d, [(style.t("Nome:"), st.name, 2), (style.t("Data de Nascimento:"), st.birth, 1),
                (style.t("Sexo:"), pick(rng, "F", "M"), 1), (style.t("NIS:"), str(rng.randint(10**10, 10**11 - 1)), 1),
                (style.t("ID INEP:"), str(rng.randint(10**11, 10**12 - 1)), 1),
                (style.t("Cor/Raça:"), style.t(pick(rng, "Parda", "Branca", "Preta")), 1),
                (style.t("Naturalidade:"), style.t(f"{school.city}/{school.uf}"), 1)], 2, ruled=True)
    d.gap(0.4)
    d.line(style.t("2. FILIAÇÃO E RESPONSÁVEL"), bold=True)
    kv_rows(d, [(style.t("Mãe:"), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}"), 1),
                (style.t("Pai:"), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}"), 1),
                (style.t("CPF do responsável:"), f"{rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}-"
                                                 f"{rng.randint(10, 99)}", 1),
                (style.t("Telefone:"), f"({rng.randint(11, 99)}) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}", 1),
                (style.t("Endereço:"), style.t(f"{rng.choice(['Rua', 'Av.'])} {rng.choice(LAST)}, {rng.randint(1, 999)}"), 2)],
            2, ruled=True)
    d.gap(0.4)
    d.line(style.t("3. DADOS ESCOLARES"), bold=True)
    kv_rows(d, [(style.t("Série/Ano pretendido:"), st.class_name, 1),
                (style.t("Turno:"), style.t(pick(rng, "Manhã", "Tarde")), 1),
                (style.t("Escola de origem:"), style.t(f"Escola Municipal {rng.choice(LAST)}"), 2),
                (style.t("Ano de conclusão da série anterior:"), str(year - 1), 1),
                (style.t("Resultado na série anterior:"), style.t("Aprovado(a)"), 1),
                (style.t("Nº de Matrícula:"), st.registration, 1),
                (style.t("Transporte escolar:"), style.t(pick(rng, "Sim", "Não")), 1)], 2, ruled=True)
    d.gap(0.4)
    d.line(style.t("4. DOCUMENTOS ENTREGUES"), bold=True)
    for doc, x in [("Certidão de nascimento", "X"), ("Histórico escolar / Declaração de transferência", rng.choice(["X", " "])),
                   ("Comprovante de residência", "X"), ("Cartão de vacinação", rng.choice(["X", " "])),
                   ("Laudo médico (se houver)", " ")]:
        d.line(f"[{x}] {style.t(doc)}")
    d.line(style.t(f"Altura: 1,{rng.randint(30, 70)} m   Peso: {rng.randint(30, 60)},{rng.randint(0, 9)} kg   "
                   f"Tipo sanguíneo: {pick(rng, 'O+', 'A+', 'B-')}"))
    signatures(d, style, rng, ("Responsável", "Secretaria Escolar"))


def ocorrencia_disciplinar(d, rng):
    style, school, st, year = _ctx(rng)
    _school_head(d, style, school, rng)
    d.line(style.t(pick(rng, "BOLETIM DE OCORRÊNCIA DISCIPLINAR", "Boletim de Ocorrência Escolar",
                        "REGISTRO DE OCORRÊNCIAS")), bold=True, size=d.size + 3)
    d.gap(0.3)
    kv_rows(d, [(style.t("Aluno(a):"), st.name, 2), (style.t("Turma:"), st.class_name, 1),
                (style.t("Matrícula:"), st.registration, 1), (style.t("Ano Letivo:"), str(year), 1),
                (style.t("Nascimento:"), st.birth, 1)], 2, ruled=rng.random() < 0.5)
    d.gap(0.5)
    events = ["Uso de celular durante a aula", "Atraso reiterado", "Não realizou a atividade proposta",
              "Conversa excessiva após advertência", "Saiu da sala sem autorização", "Desrespeito a colega"]
    measures = ["Advertência verbal", "Advertência escrita", "Comunicado aos responsáveis", "Orientação pedagógica"]
    body = []
    for _ in range(rng.randint(3, 7)):
        body.append([date_s(rng, year), style.t(rng.choice(list(SUBJECTS.values()))[0]),
                     f"{rng.randint(1, 6)}ª", style.t(rng.choice(events)), style.t(rng.choice(measures)),
                     rng.choice(["-0,5", "-1,0", "-0,25", "-2,0"])])
    grid(d, [[(style.t(x), 1) for x in ("Data", "Disciplina/Aula", "Horário", "Ocorrência", "Medida", "Pontos")]],
         body, [54, 100, 40, 180, 110, 40], ["c", "l", "c", "l", "l", "c"], ruled=True)
    d.gap(0.5)
    d.line(style.t(f"Nota de conduta no bimestre: {rng.choice(['8,5', '7,0', '9,0', '6,5'])} (de 10,0)"))
    d.line(style.t("Ciente do(a) responsável: ______________________________"))


def relatorio_notas_turma(d, rng):
    style, school, st, year = _ctx(rng)
    _school_head(d, style, school, rng)
    subj = style.t(rng.choice(list(SUBJECTS.values()))[0])
    d.line(style.t(pick(rng, "RELATÓRIO DE NOTAS DA TURMA", "Mapa de Notas", "ATA DE NOTAS - CONSELHO DE CLASSE")) +
           f" - {year}", bold=True, size=d.size + 2.5)
    d.line(f"{style.t('Componente Curricular:')} {subj}     {style.t('Turma:')} {st.class_name}     "
           f"{style.t('Professor(a):')} {style.t(rng.choice(FIRST) + ' ' + rng.choice(LAST))}")
    d.gap(0.3)
    scale = scale_of(rng, 0.2)
    n_terms = pick(rng, 4, 3)
    tl = term_labels(rng, n_terms, style)
    names = sorted({style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}") for _ in range(rng.randint(16, 30))} | {st.name})
    body = []
    for i, nm in enumerate(names):
        b = rng.uniform(4.5, 9.6)
        ts = [style.num(grade(rng, b, scale), scale) for _ in range(n_terms)]
        m = sum(value(x) for x in ts) / n_terms
        ms = style.num(round(m, 0 if scale == 100 else 1), scale)
        ok = value(ms) >= 6 * scale / 10
        body.append([str(i + 1), nm, str(rng.randint(10**5, 10**7))] + ts + [ms, str(rng.randint(0, 12)),
                                                                          style.t("Aprovado" if ok else "Recuperação")])
    cols = ["Nº", style.t("Nome do(a) Aluno(a)"), style.t("Matrícula")] + tl + [style.t("Média"), style.t("Faltas"),
                                                                               style.t("Situação")]
    grid(d, [[(c, 1) for c in cols]], body, [20, 160, 54] + [36] * n_terms + [40, 36, 62],
         ["c", "l", "c"] + ["c"] * (n_terms + 3), ruled=rng.random() < 0.8)
    d.gap(0.5)
    d.line(style.t(f"Média da turma: {style.num(round(rng.uniform(6, 8), 1) * scale / 10, scale)}   "
                   f"Alunos: {len(names)}"))


def declaracao_escolaridade(d, rng):
    style, school, st, year = _ctx(rng)
    _school_head(d, style, school, rng)
    d.line(style.t(pick(rng, "DECLARAÇÃO DE ESCOLARIDADE", "Declaração", "DECLARAÇÃO DE CONCLUSÃO DE SÉRIE")), bold=True,
           size=d.size + 3)
    d.gap(0.6)
    lv = rng.choice(["5º ano", "6º ano", "7º ano", "8º ano"])
    nxt = {"5º ano": "6º ano", "6º ano": "7º ano", "7º ano": "8º ano", "8º ano": "9º ano"}[lv]
    for ln in [f"Declaramos, para os devidos fins, que {st.name}, nascido(a) em {st.birth}, matrícula",
               f"nº {st.registration}, concluiu o {lv} do Ensino Fundamental nesta unidade escolar no ano letivo",
               f"de {year - 1}, tendo sido considerado(a) APROVADO(A), e encontra-se regularmente matriculado(a)",
               f"no {nxt}, turma {st.class_name}, no ano letivo de {year}, com frequência regular.",
               "O histórico escolar encontra-se em fase de expedição e será entregue no prazo de 30 dias."]:
        d.line(style.t(ln))
    d.gap(0.6)
    d.line(style.t("Anos cursados nesta unidade escolar:"), bold=True)
    levels = ["1º Ano", "2º Ano", "3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano", "8º Ano"]
    k = levels.index(lv.replace("ano", "Ano"))
    n = rng.randint(2, k + 1)
    body = [[str(year - n + i), style.t(levels[k - n + 1 + i]), style.t("Aprovado(a)"),
             str(rng.choice([800, 833, 1000])) + " h"] for i in range(n)]
    grid(d, [[(style.t(x), 1) for x in ("Ano", "Série/Ano", "Resultado", "Carga horária")]], body, [50, 70, 90, 80],
         ["c", "c", "c", "c"], ruled=rng.random() < 0.7)
    d.gap(0.6)
    d.line(style.t(f"{school.city}, {rng.randint(1, 28)} de {rng.choice(MONTHS)} de {year}."))
    signatures(d, style, rng)


def boleto_mensalidade(d, rng):
    style, school, st, year = _ctx(rng)
    bank = pick(rng, ("Banco do Brasil", "001-9"), ("Bradesco", "237-2"), ("Itaú", "341-7"), ("Caixa", "104-0"))
    val = rng.choice([890.0, 1250.0, 1475.5, 2130.0])
    fmt = lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")  # noqa: E731
    month = rng.randint(1, 12)
    code = " ".join([f"{rng.randint(10000, 99999)}.{rng.randint(10000, 99999)}",
                     f"{rng.randint(10000, 99999)}.{rng.randint(100000, 999999)}",
                     f"{rng.randint(10000, 99999)}.{rng.randint(100000, 999999)}", str(rng.randint(1, 9)),
                     f"{rng.randint(10**13, 10**14 - 1)}"])
    payer = style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    ours = str(rng.randint(10**10, 10**11 - 1))
    for part in ("RECIBO DO PAGADOR", "FICHA DE COMPENSAÇÃO"):
        d.need(d.lead * 16)
        d.line(style.t(part), size=d.size - 1.5)
        d.line(f"{bank[0]}  |  {bank[1]}  |  {code}", bold=True)
        d.hrule()
        kv_rows(d, [(style.t("Beneficiário:"), school.name, 2),
                    (style.t("CNPJ:"), f"{school.cnpj or make_digits(rng)}", 1),
                    (style.t("Vencimento:"), f"10/{month:02d}/{year}", 1),
                    (style.t("Pagador:"), payer, 2), (style.t("Nosso número:"), ours, 1),
                    (style.t("Nº do documento:"), f"{st.registration}/{month:02d}", 1),
                    (style.t("(=) Valor do documento:"), fmt(val), 1),
                    (style.t("(-) Desconto:"), fmt(round(val * 0.05, 2)), 1),
                    (style.t("(+) Multa/Juros:"), "", 1), (style.t("(=) Valor cobrado:"), "", 1)], 2, ruled=True)
        d.line(style.t("Instruções:"), bold=True)
        for ln in [f"Mensalidade escolar {month:02d}/{year} - Aluno(a): {st.name} - Turma: {st.class_name}",
                   f"Matrícula {st.registration}. Desconto de 5,0% até o vencimento.",
                   "Após o vencimento cobrar multa de 2,00% e juros de 0,033% ao dia.",
                   "Material didático: 10,5% do valor anual, parcelado em 10 vezes."]:
            d.line(style.t(ln), size=d.size - 0.5)
        d.c.setLineWidth(0.5)
        d.c.rect(d.left, d.y - 16, 220, 20)
        d.c.setFont("Courier", 6)
        d.c.drawString(d.left + 4, d.y - 10, "|| ||| | |||| || | ||| |||| | || ||| | ||||")
        d.gap(2.6)
        d.c.setDash(2, 3)
        d.hrule()
        d.c.setDash()
        d.gap(1)


def make_digits(rng):
    return "".join(str(rng.randint(0, 9)) for _ in range(14))


def resultado_simulado(d, rng):
    style, school, st, year = _ctx(rng)
    _school_head(d, style, school, rng)
    d.line(style.t(f"RESULTADO DO {rng.randint(1, 4)}º SIMULADO ENEM - {year}"), bold=True, size=d.size + 2.5)
    d.line(f"{style.t('Estudante:')} {st.name}     {style.t('Turma:')} {st.class_name}     "
           f"{style.t('Matrícula:')} {st.registration}")
    d.gap(0.4)
    areas = ["Linguagens, Códigos e suas Tecnologias", "Ciências Humanas e suas Tecnologias",
             "Ciências da Natureza e suas Tecnologias", "Matemática e suas Tecnologias"]
    body = []
    for a in areas:
        hits = rng.randint(12, 43)
        body.append([style.t(a), "45", str(hits), f"{hits * 100 / 45:.1f}".replace(".", ","),
                     f"{rng.uniform(420, 780):.1f}".replace(".", ","), f"{rng.uniform(480, 640):.1f}".replace(".", ",")])
    grid(d, [[(style.t(x), 1) for x in ("Área", "Questões", "Acertos", "% Acertos", "Nota TRI", "Média da turma")]],
         body, [210, 50, 50, 56, 56, 70], ["l", "c", "c", "c", "c", "c"], ruled=rng.random() < 0.8)
    d.gap(0.5)
    comps = [rng.choice([120, 140, 160, 180, 200]) for _ in range(5)]
    d.line(style.t(f"Redação: {sum(comps)} (C1 {comps[0]}, C2 {comps[1]}, C3 {comps[2]}, C4 {comps[3]}, C5 {comps[4]})"))
    d.line(style.t(f"Classificação geral: {rng.randint(1, 80)}º de {rng.randint(80, 240)}   Média geral: ")
           + pct(rng.uniform(500, 720)))
    d.gap(0.4)
    d.line(style.t("Desempenho por disciplina (acertos):"), bold=True)
    subj = ["Português", "Literatura", "Inglês", "História", "Geografia", "Filosofia", "Física", "Química", "Biologia",
            "Matemática"]
    body = [[style.t(s), str(rng.randint(2, 12)), str(rng.randint(8, 15))] for s in subj]
    grid(d, [[(style.t(x), 1) for x in ("Disciplina", "Acertos", "Questões")]], body, [120, 50, 50], ["l", "c", "c"],
         ruled=rng.random() < 0.5)


UNSEEN_REJECTS = {
    "ficha_matricula": ficha_matricula,
    "ocorrencia_disciplinar": ocorrencia_disciplinar,
    "relatorio_notas_turma": relatorio_notas_turma,
    "declaracao_escolaridade": declaracao_escolaridade,
    "boleto_mensalidade": boleto_mensalidade,
    "resultado_simulado": resultado_simulado,
}
