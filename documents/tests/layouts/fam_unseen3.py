"""A FOURTH holdout of layout families for gen_families.py (`--unseen3 N`),
written without looking at the parser, at its examples or at its results,
and never to be tuned on. Each family is modelled on a kind of page
Brazilian school systems print and differs in STRUCTURE from the families
of fam_boletins.py, fam_historicos.py, fam_tune_extra.py, fam_unseen.py and
fam_unseen2.py:

Boletins
  u3_quadrantes_bimestre    a bordered PANEL PER TERM (2 x 2 on a portrait page, 3 or 4 across on a
                            landscape one), each listing every subject with `Nota | Faltas`, so the
                            panels side by side share baselines; a `Resultado Final` table below
                            (MA, maybe Rec. Final, MF, total absences, %, result); sometimes issued
                            mid-year with the later panels empty
  u3_ascii_pipes            a legacy mainframe report in a monospaced font drawn with ASCII `+---+`
                            and `|` rules: a report header on every page (`PAG: 001/002`), dotted
                            field labels (`ALUNO....:`), and a TWO-LINE record per subject (a `NOTA`
                            line with the terms, MA, Rec., MF and result, a `FALT` line with the
                            absences per term and their total)
  u3_descricao_direita      ERP print with the subject name in the LAST column (a code column first,
                            the term grades, MF, absences in between), horizontal rules only, a tall
                            header whose labels sit at the top left of wide cells while the values
                            are centred far from them
  u3_transposto_rotulo      landscape, transposed: subjects as columns (names turned 90 deg or
                            acronyms with a legend); the rows grouped per term under a merged cell
                            on the LEFT holding the term name TURNED 90 deg, each group with the
                            partial marks (N1 N2 [N3]), the term mean (MB) and maybe the absences;
                            a `Resultado` group (MA, RF, MF, total absences, situation) at the bottom
  u3_bilingue_percent       bilingual school (Portuguese / English labels, subject names in both
                            languages on two lines), trimesters on a 0-100 scale printed as
                            percentages, a letter-grade column, and components graded by letter only
                            (left out of the truth)
  u3_barras_caixas          per subject and term a bar of ten small boxes filled up to the grade with
                            the number printed after the bar; the mean with its bar too
  u3_app_celular            a school app's `export PDF` on a narrow phone-sized page: status bar,
                            app banner, then a card per subject with one `term ... grade` line per
                            term, `Média final`, `Faltas`, `Frequência` and a status chip; runs on
                            over several pages
  u3_suap_if                federal institute (SUAP-like) Ensino Médio integrado: landscape,
                            `Diário | Disciplina | C.H. | Aulas | Faltas | Freq. | Situação` then
                            N1..N4 as `Nota | F`, MD, NAF, MFD on 0-100; subject names carry a code
                            and a roman numeral (`FIS.0712 - Física II`); technical components of
                            the course are printed but have no canonical code (left out)
Históricos
  u3_hist_etapas            Ensino Fundamental de 9 anos with ONE TABLE PER ETAPA and different
                            columns: anos iniciais (a single grade per year, the first years by
                            descriptive concept only), anos finais (`Nota | CH` or `Nota | Faltas`
                            per year); attendance and result rows under each table
  u3_hist_duas_folhas       the school years SPLIT OVER TWO PAGES: `Folha 1` has the first years'
                            columns, `Folha 2 (continuação)` the remaining ones with the subject list
                            printed again (other order or spelling) and the `Estudos realizados`
  u3_hist_celula_dupla      subjects x years where each cell holds TWO values on two lines, the grade
                            over the workload in hours:minutes (`133:20`, `133h20`); year totals in
                            hh:mm too
  u3_hist_exterior          Brazilian school abroad (MEC-homologated, no CNPJ): bilingual labels,
                            subject names in Portuguese over English, grades 0-100, years as columns
                            with the level in Portuguese over its English name
  u3_hist_rodape_anos       subjects x séries where the column headers name only the série: the YEAR,
                            an establishment NUMBER (keyed to a list of schools below), the town,
                            the attendance and the result are ROWS at the FOOT of each column
  u3_hist_eja_semestres     EJA (semestral): a block per SEMESTER (`2022 - 1º Semestre - Módulo I`),
                            different components in each semester of a year; the truth gathers a
                            year's two semesters (no level or status per year: there is none)

Look-alikes that must be refused (UNSEEN3_REJECTS): a private school's fee
statement with extra activities per month (Robótica, Inglês extra, Reforço
de Matemática), a vaccination record for enrolment, a school calendar with
days per month and bimester dates, a boletim form printed blank for manual
filling, a declaration of enrolment listing the components and their weekly
classes and hours, the school's SAEB/IDEB performance bulletin (no student),
a physical-education fitness assessment (PROESP-BR) with measures per term,
and a schedule of parallel recovery classes.

Truth rule as in gen_families.py: a field is in the truth only where a person
reading the page would give it unambiguously, and it is what is PRINTED (a
term without a grade is null, a mean before the recovery is not the final
grade, a subject not taken in a year is absent from that year, a letter or
descriptive concept is not a number, a component with no canonical code is
left out, a year whose subjects carry no number is left out).
"""

from reportlab.pdfbase import pdfmetrics

from fam_common import (
    ALL_SUBJECTS, FIRST, LAST, MIDDLE, MONO, SANS, SERIF, Doc, School, fit_text, fold, make_cnpj, value,
)
from fam_unseen2 import (
    ACRONYMS, CH, DIVERSIFIED, EF_FINAIS, EF_INICIAIS, EM, LEVELS_EM, LEVELS_FINAIS, LEVELS_INICIAIS, MONTHS,
    OLD_LEVELS, OTHER_TOWNS, SHORT, STATES, STATUS_PRINT, Style2, centre, choose_codes, gval, hist_plan, lab, make_grades,
    make_student, mean_s, network_lines, num, pct_s, pick, school_for, signature_block, spelling, status_from,
    status_word, student_block, subj_truth, table, term_names, truth, wrap, year_truth,
)

# English names of the components (bilingual schools, schools abroad)
ENGLISH = {
    "lingua-portuguesa": "Portuguese Language", "matematica": "Mathematics", "ciencias": "Science",
    "historia": "History", "geografia": "Geography", "arte": "Art", "educacao-fisica": "Physical Education",
    "lingua-inglesa": "English Language", "ensino-religioso": "Religious Education", "lingua-espanhola": "Spanish",
    "fisica": "Physics", "quimica": "Chemistry", "biologia": "Biology", "filosofia": "Philosophy",
    "sociologia": "Sociology", "redacao": "Writing", "projeto-de-vida": "Life Project", "literatura": "Literature",
    "informatica": "Computer Science",
}
ENGLISH_LEVEL = {"1º Ano": "1st Grade", "2º Ano": "2nd Grade", "3º Ano": "3rd Grade", "4º Ano": "4th Grade",
                 "5º Ano": "5th Grade", "6º Ano": "6th Grade", "7º Ano": "7th Grade", "8º Ano": "8th Grade",
                 "9º Ano": "9th Grade", "1ª Série": "10th Grade", "2ª Série": "11th Grade", "3ª Série": "12th Grade"}
EF_ALL = ["1º Ano", "2º Ano", "3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano", "8º Ano", "9º Ano"]
ROMAN = ["I", "II", "III", "IV"]
UNITS = ["ª Unidade", "º Bimestre", "ª Etapa"]
STATUS_EN = {"aprovado": "Passed", "reprovado": "Failed", "cursando": "In progress", "promovido": "Promoted",
             "retido": "Retained"}


def words_num(n):
    """0..100 in Portuguese words."""
    units = ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove", "dez", "onze", "doze",
             "treze", "quatorze", "quinze", "dezesseis", "dezessete", "dezoito", "dezenove"]
    tens = ["", "", "vinte", "trinta", "quarenta", "cinquenta", "sessenta", "setenta", "oitenta", "noventa"]
    if n < 20:
        return units[n]
    if n == 100:
        return "cem"
    t, u = divmod(n, 10)
    return tens[t] + ("" if u == 0 else " e " + units[u])


def rotated(d, x, y, s, size=None, bold=False, angle=90):
    """Text turned `angle` degrees with its baseline start at (x, y)."""
    c = d.c
    c.saveState()
    c.setFont(d.bold if bold else d.font, size or d.size)
    c.translate(x, y)
    c.rotate(angle)
    c.drawString(0, 0, s)
    c.restoreState()


def full_status(style, rng, status):
    """The result as a word (no abbreviation)."""
    return style.t(rng.choice([w for w in STATUS_PRINT[status] if "." not in w]))


def shown_cnpj(t, school, printed):
    if not printed:
        t["school"]["cnpj"] = None
    return t


def pick_stage(rng, weights=("finais", "finais", "iniciais", "em")):
    stage = rng.choice(weights)
    level = rng.choice({"finais": LEVELS_FINAIS, "iniciais": LEVELS_INICIAIS, "em": LEVELS_EM}[stage])
    pool = {"finais": EF_FINAIS, "iniciais": EF_INICIAIS, "em": EM}[stage]
    return stage, level, pool


def fields_lines(d, items, per_line, sep_w=None, bold_labels=False):
    """`Label value` items laid out `per_line` to a line in equal columns."""
    colw = (d.right - d.left) / per_line
    for i in range(0, len(items), per_line):
        for j, (k, v) in enumerate(items[i:i + per_line]):
            x = d.left + j * colw
            if bold_labels:
                d.text(x, k, bold=True)
                kx = x + d.width(k, True) + 4
                room = colw - (kx - x) - 6
                size = min(d.size, d.size * room / max(1.0, d.width(v)))
                d.text(kx, v, size=size)
            else:
                s = f"{k} {v}"
                size = min(d.size, d.size * (colw - 6) / max(1.0, d.width(s)))
                d.text(x, s, size=size)
        d.y -= d.lead


# ================================================================ boletins

def u3_quadrantes_bimestre(path, rng, family, split, seed):
    """A bordered panel per term, each with every subject and `Nota | Faltas`
    (2 x 2 on a portrait page, all across on a landscape one); a final table
    with the annual mean, the recovery, the final mean, the total of
    absences and the result. Sometimes issued mid-year (later panels empty,
    no final mean, `Cursando`)."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.15 else 10
    n_terms = pick(rng, 4, 4, 4, 3)
    land = rng.random() < (0.6 if n_terms == 3 else 0.3)
    d = Doc(path, rng, SANS + SERIF, land=land, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.35, 1.6)
    year = rng.randint(2017, 2025)
    stage, level, pool = pick_stage(rng)
    school = school_for(rng, style, stage == "em")
    st = make_student(rng, style, year, level)
    centred = rng.random() < 0.5
    put = (lambda s, **k: centre(d, s, **k)) if centred else (lambda s, **k: d.line(s, **k))
    if rng.random() < 0.6:
        for s in network_lines(style, rng, school):
            put(s, size=d.size - 0.5)
    put(school.name, bold=True, size=d.size + 2)
    put(school.ids_line(style), size=d.size - 0.5)
    d.gap(0.3)
    put(style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim Escolar", "BOLETIM DE DESEMPENHO", "Boletim por Período"))
        + f" - {year}", bold=True, size=d.size + 3)
    d.gap(0.4)
    show_birth = rng.random() < 0.5
    items = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration),
             (lab(style, rng, "class"), st.class_name)]
    if show_birth:
        items.append((lab(style, rng, "birth"), st.birth))
    items.append((style.t(pick(rng, "Turno:", "Período:")), style.t(pick(rng, "Matutino", "Vespertino", "Integral"))))
    fields_lines(d, items, 3 if land else 2, bold_labels=rng.random() < 0.5)
    d.gap(0.5)
    codes = choose_codes(rng, pool, 7, 10)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.04)
    mid = rng.random() < 0.2
    done = rng.randint(1, n_terms - 1) if mid else n_terms
    blank = pick(rng, "", "-", "—")
    passing = pick(rng, 5, 6, 6, 7)
    rec_on = not mid and rng.random() < 0.6
    rule = pick(rng, "max", "avg")
    short = rng.random() < 0.4
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        r["panel_name"] = spelling(style, rng, r["code"], short=True) if short else r["written"]
        for k in range(done, n_terms):
            r["terms_s"][k], r["terms"][k], r["per_term"][k] = blank, None, 0
        r["faltas"] = sum(r["per_term"])
        r["ma_s"] = style.missing if mid else mean_s(style, r["terms"], scale)
        r["rec_s"], r["mf_s"] = "", r["ma_s"]
        ma = value(r["ma_s"])
        if rec_on and ma is not None and ma < passing * scale / 10:
            recv = value(num(style, gval(rng, min(10.0, r["base"] + 1.7), scale), scale))
            r["rec_s"] = num(style, recv, scale)
            mf = max(ma, recv) if rule == "max" else (ma + recv) / 2
            r["mf_s"] = num(style, round(mf, 0 if scale == 100 else style.decimals), scale)
        r["status"] = "cursando" if mid else status_from(value(r["mf_s"]), passing, scale, rng, ("reprovado",))
        r["aulas"] = rng.choice([80, 120, 160, 200]) * done // n_terms
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
    # the panels
    unit = {4: pick(rng, "{}º BIMESTRE", "{}º Bimestre", "{}ª ETAPA", "{}º PERÍODO"),
            3: pick(rng, "{}º TRIMESTRE", "{}º Trimestre", "{}ª ETAPA")}[n_terms]
    titles = [style.t(unit.format(k + 1)) for k in range(n_terms)]
    across = n_terms if land else 2
    gapx = rng.uniform(8, 16)
    pw = (d.right - d.left - gapx * (across - 1)) / across
    nl, fl = pick(rng, ("Nota", "Faltas"), ("N", "F"), ("Média", "Faltas"), ("Nota", "Ft."))
    cl = pick(rng, "Componente", "Disciplina", "Componente Curricular", "")
    rules = pick(rng, "grid", "grid", "rows")
    fill = pick(rng, 0.85, 0.9, 0.8)
    old_left, old_right = d.left, d.right
    for b0 in range(0, n_terms, across):
        band_top = d.y
        bottom = d.y
        for j, k in enumerate(range(b0, min(n_terms, b0 + across))):
            x = old_left + j * (pw + gapx)
            d.left, d.right, d.y = x, x + pw, band_top
            body = [[r["panel_name"], r["terms_s"][k], "" if k >= done else str(r["per_term"][k])] for r in rows]
            nw = pw - 2 * max(30, d.width(nl, True) + 10)
            table(d, [[(titles[k], 3)], [(style.t(cl), 1), (style.t(nl), 1), (style.t(fl), 1)]], body,
                  [nw, (pw - nw) / 2, (pw - nw) / 2], ["l", "c", "c"], rules=rules, head_fill=fill)
            if rules == "rows":
                top = band_top + d.lead * 0.7
                d.c.setLineWidth(0.8)
                d.c.rect(x, d.y + d.lead * 0.7, pw, top - d.y - d.lead * 0.7)
            bottom = min(bottom, d.y)
        d.left, d.right = old_left, old_right
        d.y = bottom - d.lead * 0.8
    d.left, d.right = old_left, old_right
    # the final table
    d.need(d.lead * (len(rows) + 4))
    d.line(style.t(pick(rng, "RESULTADO FINAL", "Resultado Anual", "SÍNTESE DO ANO LETIVO")), bold=True,
           size=d.size + 1)
    with_freq, with_status = rng.random() < 0.6, rng.random() < 0.7
    cols = [style.t(pick(rng, "Componente Curricular", "Disciplina")), style.t(pick(rng, "Média Anual", "MA"))]
    if rec_on:
        cols.append(style.t(pick(rng, "Rec. Final", "Recuperação", "RF")))
    cols += [style.t(pick(rng, "Média Final", "MF", "Nota Final")), style.t(pick(rng, "Total de Faltas", "Faltas"))]
    if with_freq:
        cols.append(style.t(pick(rng, "Frequência (%)", "% Freq.")))
    if with_status:
        cols.append(style.t(pick(rng, "Situação", "Resultado")))
    body = []
    for r in rows:
        cells = [r["written"], r["ma_s"]] + ([r["rec_s"]] if rec_on else [])
        cells += ["" if mid else r["mf_s"], str(r["faltas"])]
        if with_freq:
            cells.append(pct_s(r["freq"], style.dot))
        if with_status:
            cells.append(status_word(style, rng, r["status"]))
        body.append(cells)
    nw = max(d.width(r["written"]) for r in rows) + 12
    table(d, [[(c, 1) for c in cols]], body, [nw] + [50] * (len(cols) - 1 - with_status) + ([70] if with_status else []),
          ["l"] + ["c"] * (len(cols) - 1), rules=pick(rng, "grid", "rows"), head_fill=pick(rng, None, fill))
    d.gap(0.6)
    if rec_on:
        d.line(style.t("MF = maior nota entre MA e RF." if rule == "max" else "MF = (MA + RF) / 2."), size=d.size - 1)
    if mid:
        d.line(style.t(f"Documento parcial: notas lançadas até o {titles[done - 1].lower()}."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Responsável"])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], None if mid else value(r["mf_s"]), r["faltas"],
                                r["freq"] if with_freq else None, r["status"] if with_status else None)
                     for r in rows]
    return t


def u3_ascii_pipes(path, rng, family, split, seed):
    """A legacy mainframe report in a monospaced font, drawn with ASCII
    `+---+` and `|`: a report header on every page, `LABEL....: value`
    fields, and a two-line record per subject: `NOTA` (terms, MA, Rec., MF,
    result) and `FALT` (absences per term and their total)."""
    style = Style2(rng, case=pick(rng, "upper_noaccent", "upper_noaccent", "upper"))
    scale = 100 if rng.random() < 0.3 else 10
    d = Doc(path, rng, MONO, land=rng.random() < 0.25, size=rng.choice([6.5, 7, 7.5]))
    d.lead = d.size * rng.uniform(1.2, 1.4)
    d.footer = None
    cw = pdfmetrics.stringWidth("M", d.font, d.size)
    width = int((d.right - d.left) / cw)
    year = rng.randint(2016, 2025)
    stage, level, pool = pick_stage(rng, ("finais", "finais", "em", "em"))
    school = school_for(rng, style, stage == "em", public=True)
    st = make_student(rng, style, year, level)
    n_terms = pick(rng, 4, 4, 3)
    codes = choose_codes(rng, pool, 8, 12)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.05)
    passing = pick(rng, 5, 6)
    rec_on = rng.random() < 0.6
    with_freq = rng.random() < 0.5
    for r in rows:
        opts = [s for s in ALL_SUBJECTS[r["code"]] if len(s) <= 24]
        r["written"] = style.t(rng.choice(opts))
        r["ma_s"] = mean_s(style, r["terms"], scale)
        ma = value(r["ma_s"])
        r["rec_s"], r["mf_s"] = "", r["ma_s"]
        if rec_on and ma is not None and ma < passing * scale / 10:
            recv = value(num(style, gval(rng, min(10.0, r["base"] + 1.8), scale), scale))
            r["rec_s"] = num(style, recv, scale)
            r["mf_s"] = num(style, max(ma, recv), scale)
        r["status"] = status_from(value(r["mf_s"]), passing, scale, rng, ("reprovado",))
        r["aulas"] = rng.choice([80, 120, 160, 200])
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
    term_l = pick(rng, "{}.BIM", "{}oBIM", "BIM{}", "{}.TRI" if n_terms == 3 else "{}.BIM", "{}a UN")
    tl = [term_l.format(k + 1) for k in range(n_terms)]
    nm, fm = pick(rng, ("NOTA", "FALT"), ("N", "F"), ("NT", "FT"), ("MED", "FAL"))
    first = pick(rng, "COMPONENTE CURRICULAR", "DISCIPLINA", "COMPONENTE")
    cols = [(first, max(len(first), max(len(r["written"]) for r in rows)) + 2, "l"), ("", len(nm) + 2, "l")]
    cols += [(x, 7, "c") for x in tl]
    cols += [("M.A.", 7, "c")] + ([("REC", 6, "c")] if rec_on else []) + [("M.F.", 7, "c"), ("TOT", 6, "c")]
    if with_freq:
        cols.append(("FREQ%", 7, "c"))
    for r in rows:
        r["status_s"] = full_status(style, rng, r["status"])
    cols.append(("SITUACAO" if style.case == "upper_noaccent" else "SITUAÇÃO",
                 max(10, max(len(r["status_s"]) for r in rows)) + 2, "l"))
    boxed = rng.random() < 0.6
    between = rng.random() < 0.5

    def render(cells):
        out = "|" if boxed else ""
        for (label, w, a), cell in zip(cols, cells):
            s = cell[:w - 1]
            if a == "l":
                s = " " + s.ljust(w - 1)
            else:
                s = s.center(w)
            out += s + ("|" if boxed else " ")
        return out

    def rule(ch="-"):
        if not boxed:
            return ch * sum(w + 1 for _, w, _ in cols)
        return "+" + "+".join(ch * w for _, w, _ in cols) + "+"

    table_w = len(rule())
    if table_w > width:  # a narrower page than the report: smaller characters, as a print driver does
        d.size *= width / table_w
        d.lead = d.size * 1.3
        cw = pdfmetrics.stringWidth("M", d.font, d.size)
        width = table_w
    body = []
    for r in rows:
        cells = [r["written"], nm] + r["terms_s"] + [r["ma_s"]] + ([r["rec_s"]] if rec_on else [])
        cells += [r["mf_s"], ""] + ([""] if with_freq else []) + [r["status_s"]]
        body.append([render(cells)])
        cells = ["", fm] + [str(x) for x in r["per_term"]] + [""] + ([""] if rec_on else [])
        cells += ["", str(r["faltas"])] + ([pct_s(r["freq"], style.dot)] if with_freq else []) + [""]
        body[-1].append(render(cells))
        if between:
            body[-1].append(rule("-" if boxed else "."))
    net = network_lines(style, rng, school)[0]
    sysname = pick(rng, "SISTEMA DE GESTAO ESCOLAR", "SGE - SISTEMA ACADEMICO", "SIGA ESCOLA - MODULO SECRETARIA",
                   "PRODESP - CADASTRO DE ALUNOS")
    emit = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year + (1 if rng.random() < 0.4 else 0)} " \
           f"{rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}"
    report_id = f"{pick(rng, 'BOL', 'REL', 'NTF')}{rng.randint(100, 999):04d}"

    def lr(a, b):
        return a + " " * max(2, width - len(a) - len(b)) + b

    dots = pick(rng, ".", "_", " ")
    fw = pick(rng, 10, 12)

    def field(k, v):
        return (k + dots * max(1, fw - len(k)) + ": " + v)

    ident = [field(style.t("ESCOLA"), school.name)]
    ident.append("   ".join(x for x in (
        field(style.t("CNPJ"), school.cnpj_printed) if school.cnpj_printed else "",
        field("INEP", school.inep)) if x))
    ident.append(field(style.t("MUNICIPIO") if style.case == "upper_noaccent" else style.t("MUNICÍPIO"),
                       f"{style.t(school.city)}-{school.uf}"))
    show_birth = rng.random() < 0.6
    ident.append(field(style.t("ALUNO"), st.name))
    reg_l = pick(rng, "RA", "MATRICULA", "COD.ALUNO")
    ident.append(field(reg_l, st.registration) + ("   " + field("NASC", st.birth) if show_birth else ""))
    ident.append(field(style.t("TURMA"), st.class_name) + "   " + field("ANO LETIVO", str(year)))
    head = [rule("=" if boxed else "-"), render([c[0] for c in cols]), rule("=" if boxed else "-")]
    lines_per_page = int((d.top - 50) / d.lead)
    pages, cur = [], None

    def page_head(n):
        return [lr(net, "PAG: @@@/###"),
                lr(f"{sysname}", f"EMISSAO: {emit}"),
                lr(f"{report_id} - " + style.t("BOLETIM ESCOLAR INDIVIDUAL"), f"ANO BASE: {year}"), ""]

    cur = page_head(1) + ident + [""] + head
    for rec in body:
        if len(cur) + len(rec) > lines_per_page - 2:
            pages.append(cur)
            cur = page_head(len(pages) + 1) + [field(style.t("ALUNO"), st.name) + "  (CONT.)", ""] + head
        cur += rec
    if not between:
        cur.append(rule())
    legend = ["", "LEGENDA: M.A. = MEDIA ANUAL" + ("  REC = RECUPERACAO FINAL" if rec_on else "")
              + "  M.F. = MEDIA FINAL  TOT = TOTAL DE FALTAS", "", "*** FIM DO RELATORIO ***"]
    if len(cur) + len(legend) > lines_per_page:
        pages.append(cur)
        cur = page_head(len(pages) + 1)
    cur += legend
    pages.append(cur)
    n = len(pages)
    for i, lines in enumerate(pages):
        if i:
            d.new_page()
        d.y = d.top
        for ln in lines:
            d.c.setFont(d.font, d.size)
            d.c.drawString(d.left, d.y, ln.replace("@@@", f"{i + 1:03d}").replace("###", f"{n:03d}"))
            d.y -= d.lead
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["mf_s"]), r["faltas"],
                                r["freq"] if with_freq else None, r["status"]) for r in rows]
    return t
