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
  u3_descricao_direita      ERP print with the subject name at the RIGHT, after the numbers (the last
                            column, or just before the result): a code column first, then the term
                            grades, MF, absences; horizontal rules only, a tall header whose labels sit
                            at the top left of wide cells while the values are centred far from them
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
                            the number printed after (or under) the bar; the mean with its bar too
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

Look-alikes that must be refused (UNSEEN3_REJECTS), school documents with
subject names and numbers (most with a student and a school) but no grades
of the student:
  extrato_atividades        a private school's fee statement: months x (tuition, Robótica, Inglês extra,
                            Reforço de Matemática...) amounts, discounts, totals, paid / open
  carteira_vacinacao        a vaccination record for enrolment: vaccines x doses with dates and batches
  calendario_letivo         the school calendar: bimesters with dates and school days, days per month
  boletim_em_branco         a boletim FORM printed blank for manual filling (subjects, N/F cells empty)
  declaracao_componentes    a declaration of enrolment listing the components, weekly classes and hours
  boletim_desempenho_escola the school's SAEB / IDEB bulletin (proficiency per edition, no student)
  avaliacao_fisica          a PROESP-BR fitness record: body measures and test results per term
  cronograma_recuperacao    the timetable of parallel recovery classes and the students called

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
    ACRONYMS, CH, EF_FINAIS, EF_INICIAIS, EM, LEVELS_EM, LEVELS_FINAIS, LEVELS_INICIAIS, OTHER_TOWNS, SHORT,
    STATUS_PRINT, Style2, centre, choose_codes, gval, hist_plan, lab, make_grades, make_student, mean_s,
    network_lines, num, pct_s, pick, school_for, signature_block, spelling, status_from, status_word, student_block,
    subj_truth, table, term_names, truth, wrap, year_truth,
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


def shortest(term_label):
    """`BIM`, `TRI`, `UN` for a term's label word (`1º BIMESTRE` -> `BIM`)."""
    w = fold(term_label.split()[-1]).upper()
    return {"BIMESTRE": "BIM", "TRIMESTRE": "TRI", "UNIDADE": "UN", "ETAPA": "ET", "PERIODO": "PER"}.get(w, "")


def private_school(rng, style, em):
    """A school whose name is not a public network's (a bilingual school, a private system's client)."""
    for _ in range(60):
        sc = school_for(rng, style, em, public=False)
        n = fold(sc.name).upper()
        if not any(m in n for m in ("ESTADUAL", "MUNICIPAL", "E.E.", "EMEF", "E.M.E.F.", "CENTRO DE ENSINO")):
            return sc
    return sc


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
    widths = [nw] + [50] * (len(cols) - 1 - with_status) + ([70] if with_status else [])
    table(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1), rules=pick(rng, "grid", "rows"),
          head_fill=pick(rng, None, fill))
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
    size = rng.choice([6.5, 7, 7.5, 9, 10])  # 9-10 pt: a 132-column printer's landscape page
    d = Doc(path, rng, MONO, land=size >= 9 or rng.random() < 0.25, size=size)
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


def u3_descricao_direita(path, rng, family, split, seed):
    """An ERP print with the subject NAME IN THE LAST COLUMN: a code column
    first, then the term grades, MF, absences (maybe % and result), the
    description at the right; horizontal rules only; a tall header whose
    labels sit at the top left of wide cells, the values centred below."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.2 else 10
    land = rng.random() < 0.4
    d = Doc(path, rng, SANS + SERIF, land=land, size=rng.choice([7.5, 8, 8.5, 9]))
    year = rng.randint(2018, 2025)
    stage, level, pool = pick_stage(rng)
    school = school_for(rng, style, stage == "em", public=rng.random() < 0.3)
    st = make_student(rng, style, year, level)
    # the header: the school at the left, the document's title and number at the right
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(style.t(f"{school.street} - {school.city}/{school.uf}"), size=d.size - 0.5)
    d.line(school.ids_line(style), size=d.size - 0.5)
    y_top = d.top
    d.c.setFont(d.bold, d.size + 2)
    title = style.t(pick(rng, "Boletim Escolar", "BOLETIM DE NOTAS", "Relatório de Notas e Faltas"))
    d.c.drawRightString(d.right, y_top, title)
    d.c.setFont(d.font, d.size - 0.5)
    d.c.drawRightString(d.right, y_top - d.lead, style.t(f"Ano letivo {year}") if rng.random() < 0.5 else str(year))
    d.c.drawRightString(d.right, y_top - 2 * d.lead, style.t(f"Emissão: {rng.randint(1, 28):02d}/"
                                                             f"{rng.randint(1, 12):02d}/{year}"))
    d.gap(0.6)
    # the student as a two-row strip of labelled cells with horizontal rules
    show_birth, show_class = rng.random() < 0.6, rng.random() < 0.9
    cells = [(lab(style, rng, "name", False), st.name), (lab(style, rng, "reg", False), st.registration)]
    if show_class:
        cells.append((lab(style, rng, "class", False), st.class_name))
    if show_birth:
        cells.append((lab(style, rng, "birth", False), st.birth))
    span = d.right - d.left
    ws = [0.42, 0.2, 0.2, 0.18][:len(cells)]
    ws = [w / sum(ws) * span for w in ws]
    x = d.left
    d.c.setLineWidth(0.6)
    d.c.line(d.left, d.y + d.lead * 0.9, d.right, d.y + d.lead * 0.9)
    for (k, v), w in zip(cells, ws):
        d.text(x + 2, style.t(k), size=d.size - 1.5)
        x += w
    d.y -= d.lead
    x = d.left
    for (k, v), w in zip(cells, ws):
        size = min(d.size + 0.5, (d.size + 0.5) * (w - 6) / max(1.0, d.width(v, True, d.size + 0.5)))
        d.text(x + 2, v, bold=True, size=size)
        x += w
    d.c.line(d.left, d.y - d.lead * 0.4, d.right, d.y - d.lead * 0.4)
    d.y -= d.lead * 1.8
    n_terms = pick(rng, 4, 4, 3)
    codes = choose_codes(rng, pool, 7, 12)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.05)
    passing = pick(rng, 5, 6, 6, 7)
    code_form = pick(rng, "{:04d}", "{:03d}", "D{:03d}", "{:02d}.{:02d}")
    k0 = rng.randint(1, 40)
    for i, r in enumerate(rows):
        r["written"] = spelling(style, rng, r["code"])
        r["cod"] = code_form.format(k0 + i, rng.randint(1, 20)) if "." in code_form else code_form.format(k0 * 10 + i)
        r["mf_s"] = mean_s(style, r["terms"], scale)
        r["aulas"] = rng.choice([80, 120, 160, 200])
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
        r["status"] = status_from(value(r["mf_s"]), passing, scale, rng, ("reprovado", "recuperação"))
    tn = term_names(rng, style, n_terms)
    sub = style.t(pick(rng, "Nota", "Média", ""))
    with_freq, with_status = rng.random() < 0.5, rng.random() < 0.5
    status_before = with_status and rng.random() < 0.5
    cols = [([style.t(pick(rng, "Cód.", "Código", "Cód"))], "c", 34)]
    cols += [([x, sub] if sub else [x], "c", 52) for x in tn]
    cols.append(([style.t(pick(rng, "Média", "MF")), style.t(pick(rng, "Final", "Anual"))], "c", 52))
    cols.append(([style.t(pick(rng, "Faltas", "Total")), style.t(pick(rng, "(total)", "Faltas"))], "c", 44))
    if with_freq:
        cols.append(([style.t("Freq."), "(%)"], "c", 44))
    st_col = ([style.t(pick(rng, "Situação", "Resultado"))], "l", 72)
    if status_before:
        cols.append(st_col)
    name_w = max(d.width(r["written"]) for r in rows) + 16
    cols.append(([style.t(pick(rng, "Componente Curricular", "Descrição", "Disciplina"))], "l", name_w))
    if with_status and not status_before:
        cols.append(st_col)
    widths = [max(w, max(d.width(x, True, d.size - 0.5) for x in labels) + 8) for labels, _, w in cols]
    room = d.right - d.left
    extra = room - sum(widths)
    if extra > 0:  # the numeric columns take the room left: values far from their labels
        num_cols = [i for i, (_, a, _) in enumerate(cols) if a == "c" and i > 0]
        for i in num_cols:
            widths[i] += extra * rng.uniform(0.5, 0.9) / len(num_cols)
    else:
        widths = [w * room / sum(widths) for w in widths]
    xs = [d.left]
    for w in widths:
        xs.append(xs[-1] + w)
    hl = max(len(c[0]) for c in cols)
    head_h = d.lead * (hl + 0.8)
    top = d.y + d.lead * 0.8
    d.c.setLineWidth(1.0)
    d.c.line(d.left, top, xs[-1], top)
    for (labels, a, _), x, w in zip(cols, xs, widths):
        yy = top - d.size - 2
        for s in labels:
            size = min(d.size - 0.5, (d.size - 0.5) * (w - 5) / max(1.0, d.width(s, True, d.size - 0.5)))
            d.c.setFont(d.bold, size)
            d.c.drawString(x + 2, yy, s)
            yy -= d.lead * 0.9
    d.c.setLineWidth(1.0)
    d.c.line(d.left, top - head_h, xs[-1], top - head_h)
    d.y = top - head_h - d.lead * 0.8
    every = rng.random() < 0.6
    for r in rows:
        vals = [r["cod"]] + r["terms_s"] + [r["mf_s"], str(r["faltas"])]
        if with_freq:
            vals.append(pct_s(r["freq"], style.dot))
        if status_before:
            vals.append(status_word(style, rng, r["status"]))
        vals.append(r["written"])
        if with_status and not status_before:
            vals.append(status_word(style, rng, r["status"]))
        for v, (labels, a, _), x, w in zip(vals, cols, xs, widths):
            fit_text(d, x, w, v, a if a == "l" else "c")
        if every:
            d.c.setLineWidth(0.3)
            d.c.line(d.left, d.y - d.lead * 0.35, xs[-1], d.y - d.lead * 0.35)
        d.y -= d.lead * rng.uniform(1.05, 1.25) if not every else d.lead * 1.15
    d.c.setLineWidth(1.0)
    d.c.line(d.left, d.y + d.lead * 0.6, xs[-1], d.y + d.lead * 0.6)
    d.gap(1.0)
    overall = None
    if rng.random() < 0.4:
        overall = round(100 * sum(r["aulas"] - r["faltas"] for r in rows) / sum(r["aulas"] for r in rows), 1)
        d.line(style.t(f"Frequência global no ano: {pct_s(overall, style.dot)}%"))
    d.line(style.t(f"Média para aprovação: {num(style, passing * scale / 10, scale, 1)}. "
                   "Média Final = média aritmética dos períodos."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretaria", "Direção"])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": show_class})
    t["overall_attendance_pct"] = overall
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["mf_s"]), r["faltas"],
                                r["freq"] if with_freq else None, r["status"] if with_status else None)
                     for r in rows]
    return t


def u3_transposto_rotulo(path, rng, family, split, seed):
    """Landscape, transposed: the subjects are columns (names turned 90° or
    acronyms with a legend); each term is a group of rows (N1, N2 [, N3],
    MB [, F]) under a merged cell on the left with the term's name turned
    90°; a `Resultado` group (MA, RF, MF, total absences, situation) last."""
    style = Style2(rng)
    scale = 100 if rng.random() < 0.2 else 10
    d = Doc(path, rng, SANS + SERIF, land=True, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.35, 1.55)
    year = rng.randint(2017, 2025)
    stage, level, pool = pick_stage(rng, ("finais", "finais", "em"))
    school = school_for(rng, style, stage == "em")
    st = make_student(rng, style, year, level)
    for s in network_lines(style, rng, school):
        centre(d, s, size=d.size - 0.5)
    centre(d, school.name, bold=True, size=d.size + 2)
    centre(d, school.ids_line(style), size=d.size - 0.5)
    centre(d, style.t(pick(rng, "FICHA DE AVALIAÇÃO DO ALUNO", "Boletim Escolar", "MAPA INDIVIDUAL DE NOTAS"))
           + f" - {year}", bold=True, size=d.size + 2.5)
    d.gap(0.3)
    show_birth = rng.random() < 0.5
    items = [(lab(style, rng, "name"), st.name), (lab(style, rng, "reg"), st.registration),
             (lab(style, rng, "class"), st.class_name)]
    if show_birth:
        items.append((lab(style, rng, "birth"), st.birth))
    fields_lines(d, items, 4 if show_birth else 3)
    d.gap(0.4)
    n_terms = pick(rng, 4, 4, 3)
    codes = choose_codes(rng, pool, 8, 13)
    marks = pick(rng, ["N1", "N2"], ["N1", "N2", "N3"], ["AV1", "AV2", "AV3"], ["P1", "P2", "TR"])
    mb_l = style.t(pick(rng, "MB", "Média", "MÉD", "MP"))
    weights = [1] * len(marks)
    mid = rng.random() < 0.15
    done = rng.randint(1, n_terms - 1) if mid else n_terms
    passing = pick(rng, 5, 6, 6)
    per_f = rng.random() < 0.5
    rows = []
    for code in codes:
        base = rng.uniform(4.5, 9.7)
        ms, mbs, fs = [], [], []
        for k in range(n_terms):
            if k >= done:
                ms.append([""] * len(marks))
                mbs.append("")
                fs.append("")
                continue
            vals = [value(num(style, gval(rng, base, scale), scale)) for _ in marks]
            ms.append([num(style, v, scale) for v in vals])
            mbs.append(mean_s(style, vals, scale, weights))
            fs.append(str(rng.choice([0, 0, 1, 1, 2, 3, 4])))
        terms = [value(x) if x else None for x in mbs]
        ma_s = style.missing if mid else mean_s(style, terms, scale)
        rf_s, mf_s = "", ma_s
        ma = value(ma_s)
        if not mid and ma is not None and ma < passing * scale / 10:
            rf = value(num(style, gval(rng, min(10.0, base + 1.5), scale), scale))
            rf_s = num(style, rf, scale)
            mf_s = num(style, round((ma + rf) / 2, 0 if scale == 100 else style.decimals), scale)
        faltas = sum(int(f) for f in fs if f)
        status = "cursando" if mid else status_from(value(mf_s), passing, scale, rng, ("reprovado",))
        rows.append({"code": code, "ms": ms, "mbs": mbs, "fs": fs, "terms": terms, "ma_s": ma_s, "rf_s": rf_s,
                     "mf_s": "" if mid else mf_s, "faltas": faltas, "status": status})
    turned = rng.random() < 0.6
    if turned:
        heads = [spelling(style, rng, c) for c in codes]
    else:
        heads = [style.t(ACRONYMS.get(c, [SHORT[c][0]])[0]) for c in codes]
    tl = term_names(rng, style, n_terms)
    if rng.random() < 0.5:
        tl = [style.t(pick(rng, "{}º BIMESTRE", "{}º Bimestre", "{}ª UNIDADE").format(k + 1)) if n_terms == 4
              else style.t(pick(rng, "{}º TRIMESTRE", "{}º Trimestre").format(k + 1)) for k in range(n_terms)]
    groups = []
    for k in range(n_terms):
        grp = [(style.t(m), [r["ms"][k][i] for r in rows], False) for i, m in enumerate(marks)]
        grp.append((mb_l, [r["mbs"][k] for r in rows], True))
        if per_f:
            grp.append((style.t(pick(rng, "F", "Faltas", "FT")), [r["fs"][k] for r in rows], False))
        groups.append((tl[k], grp))
    final_rows = [(style.t("MA"), [r["ma_s"] for r in rows], True),
                  (style.t("RF"), [r["rf_s"] for r in rows], False),
                  (style.t("MF"), [r["mf_s"] for r in rows], True),
                  (style.t(pick(rng, "TF", "Faltas", "Total F")), [str(r["faltas"]) for r in rows], False)]
    with_sit = rng.random() < 0.6
    sit = {"aprovado": "AP", "reprovado": "RP", "cursando": "CS"}
    if with_sit:
        final_rows.append((style.t(pick(rng, "SIT", "Sit.", "RES")), [sit[r["status"]] for r in rows], False))
    groups.append((style.t(pick(rng, "RESULTADO", "FINAL", "ANUAL")), final_rows))
    # geometry
    c = d.c
    gw, lw = d.size * 2.2, max(d.width(x, True) for _, g in groups for x, _, _ in g) + 10
    room = d.right - d.left - gw - lw
    cw = min(58, room / len(codes))
    head_h = (max(d.width(h) for h in heads) + 10) if turned else d.lead * 1.3
    head_h = min(head_h, 150)
    x0 = d.left
    xs = [x0 + gw + lw + i * cw for i in range(len(codes) + 1)]
    rh = d.lead * rng.uniform(1.05, 1.25)
    top = d.y + d.lead * 0.7
    c.setLineWidth(0.6)
    c.line(x0 + gw, top, xs[-1], top)
    for i, h in enumerate(heads):
        if turned:
            size = min(d.size, d.size * (head_h - 8) / max(1.0, d.width(h)))
            rotated(d, xs[i] + cw / 2 + size * 0.35, top - head_h + 4, h, size)
        else:
            d.y = top - head_h / 2 - d.size * 0.35
            fit_text(d, xs[i], cw, h, "c", bold=True)
    d.y = top - head_h
    d.y = top - head_h + 4
    fit_text(d, x0 + gw, lw, style.t(pick(rng, "Componente", "Avaliação", "")), "l", True)
    for x in [x0 + gw] + xs:
        c.line(x, top, x, top - head_h)
    c.line(x0, top - head_h, xs[-1], top - head_h)
    y = top - head_h
    for gname, grp in groups:
        gh = rh * len(grp)
        if y - gh < 40:
            d.new_page()
            y = d.top
            c.line(x0, y, xs[-1], y)
        for lbl, vals, bold in grp:
            d.y = y - rh + (rh - d.size * 0.7) / 2
            fit_text(d, x0 + gw, lw, lbl, "l", bold)
            for i, v in enumerate(vals):
                fit_text(d, xs[i], cw, v, "c", bold)
            c.setLineWidth(0.3)
            c.line(x0 + gw, y - rh, xs[-1], y - rh)
            y -= rh
        c.setLineWidth(0.8)
        c.line(x0, y, xs[-1], y)
        for x in [x0, x0 + gw] + xs:
            c.line(x, y, x, y + gh)
        label = gname
        if d.width(label, True, d.size - 0.5) > gh - 6:
            label = gname.split()[0] if gname.split()[0][0].isdigit() else gname
            label = label + style.t(" " + shortest(gname)) if label != gname else label
        if d.width(label, True, d.size - 0.5) > gh - 6:
            label = label.split()[0]
        size = min(d.size, d.size * (gh - 6) / max(1.0, d.width(label, True)))
        rotated(d, x0 + gw / 2 + size * 0.35, y + (gh - d.width(label, True, size)) / 2, label, size, True)
    d.y = y - d.lead * 1.2
    notes = []
    if not turned:
        notes.append("; ".join(f"{h} = {style.t(ALL_SUBJECTS[cd][0])}" for h, cd in zip(heads, codes)))
    notes.append(style.t(f"{mb_l} = média do período; MA = média anual; RF = recuperação final; "
                         "MF = (MA + RF) / 2 quando houver RF, senão MF = MA."))
    if with_sit:
        notes.append(style.t("AP = aprovado; RP = reprovado; CS = cursando."))
    for n_ in notes:
        for ln in wrap(d, style.t("Legenda: ") + n_ if n_ is notes[0] else n_, d.right - d.left, size=d.size - 1,
                       sep="; "):
            d.line(ln, size=d.size - 1)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["mf_s"]) if r["mf_s"] else None, r["faltas"], None,
                                r["status"] if with_sit else None) for r in rows]
    return t


def letter_of(p):
    """A US-style letter for a percentage."""
    for lo, letter in ((93, "A"), (90, "A-"), (87, "B+"), (83, "B"), (80, "B-"), (77, "C+"), (73, "C"), (70, "C-"),
                       (60, "D")):
        if p >= lo:
            return letter
    return "F"


def u3_bilingue_percent(path, rng, family, split, seed):
    """A bilingual school's report card: every label in Portuguese and
    English, subject names in both languages on two lines, trimesters on a
    0-100 scale printed as percentages, a letter column, and components
    graded by letter only (Arte, Educação Física...: not in the truth)."""
    style = Style2(rng, case=pick(rng, None, "as_is", "as_is"))
    scale = 100
    land = rng.random() < 0.35
    d = Doc(path, rng, SANS + SERIF, land=land, size=rng.choice([7.5, 8, 8.5]))
    year = rng.randint(2019, 2026)
    stage, level, pool = pick_stage(rng, ("finais", "finais", "iniciais", "em"))
    school = private_school(rng, style, stage == "em")
    st = make_student(rng, style, year, level)
    # banner: the school at the left, `Report Card` at the right
    c = d.c
    bh = d.size * 4.2
    shade = pick(rng, 0.25, 0.35, 0.9)
    c.setFillGray(shade)
    c.rect(d.left, d.y - bh * 0.45, d.right - d.left, bh, stroke=0, fill=1)
    c.setFillGray(1 if shade < 0.5 else 0)
    c.setFont(d.bold, d.size + 3)
    c.drawString(d.left + 8, d.y + bh * 0.18, school.name)
    c.setFont(d.font, d.size)
    c.drawString(d.left + 8, d.y - bh * 0.22, style.t(pick(rng, "Escola Bilíngue · Bilingual School",
                                                         "Educação Bilíngue / Bilingual Education",
                                                         "Bilingual School - Escola Bilíngue")))
    c.setFont(d.bold, d.size + 2)
    c.drawRightString(d.right - 8, d.y + bh * 0.18, style.t(pick(rng, "Boletim Escolar / Report Card",
                                                                "REPORT CARD - BOLETIM")))
    c.setFont(d.font, d.size)
    c.drawRightString(d.right - 8, d.y - bh * 0.22, style.t(f"Ano letivo / School year {year}"))
    c.setFillGray(0)
    d.y -= bh * 0.9
    cnpj_printed = school.cnpj_printed and rng.random() < 0.7
    line = style.t(f"{school.street} - {school.city}/{school.uf}")
    if cnpj_printed:
        line += f"   CNPJ {school.cnpj_printed}"
    line += f"   INEP {school.inep}"
    d.line(line, size=d.size - 0.5)
    d.gap(0.4)
    show_birth = rng.random() < 0.5
    items = [(style.t("Aluno(a) / Student:"), st.name), (style.t("Matrícula / Student ID:"), st.registration),
             (style.t(pick(rng, "Turma / Class:", "Série / Grade:")), st.class_name)]
    if show_birth:
        items.append((style.t("Nascimento / Date of birth:"), st.birth))
    fields_lines(d, items, 2, bold_labels=True)
    d.gap(0.5)
    n_terms = pick(rng, 3, 3, 4)
    unit_pt, unit_en = (("Trimestre", "Term") if n_terms == 3 else ("Bimestre", "Quarter"))
    numeric = choose_codes(rng, [c_ for c_ in pool if c_ not in ("arte", "educacao-fisica")], 6, 9)
    letter_only = [c_ for c_ in ("arte", "educacao-fisica") if c_ in pool and rng.random() < 0.8]
    if "lingua-inglesa" not in numeric and "lingua-inglesa" in pool:
        numeric.append("lingua-inglesa")
    mid = rng.random() < 0.2
    done = rng.randint(1, n_terms - 1) if mid else n_terms
    passing = pick(rng, 60, 60, 70)
    pct_sign = rng.random() < 0.7
    rows = []
    for code in numeric:
        base = rng.uniform(5.0, 9.8)
        vals = [int(gval(rng, base, 100)) if k < done else None for k in range(n_terms)]
        present = [v for v in vals if v is not None]
        final = None if mid else int(round(sum(present) / len(present)))
        faltas = rng.choice([0, 0, 1, 2, 3, 4, 6, 9])
        rows.append({"code": code, "vals": vals, "final": final, "faltas": faltas, "letter_only": False,
                     "status": "cursando" if mid else ("aprovado" if final >= passing else "reprovado")})
    for code in letter_only:
        rows.append({"code": code, "letters": [pick(rng, "A", "A", "B+", "A-", "B") if k < done else ""
                                               for k in range(n_terms)],
                     "faltas": rng.choice([0, 1, 2, 3]), "letter_only": True,
                     "status": "cursando" if mid else "aprovado"})
    if rng.random() < 0.5:
        rows.sort(key=lambda r: fold(ENGLISH[r["code"]]))
    two_lines = rng.random() < 0.7

    def p(v):
        if v is None:
            return pick(rng, "—", "", "-")
        return f"{v}%" if pct_sign else str(v)

    cols = [("Componente Curricular", "Subject")] + [(f"{k + 1}º {unit_pt}", f"{unit_en} {k + 1}")
                                                    for k in range(n_terms)]
    cols += [("Média Final", "Final Average"), ("Conceito", "Letter"), ("Faltas", "Absences"),
             ("Situação", "Status")]
    cols = [(style.t(a), b) for a, b in cols]
    name_w = max(d.width(style.t(ALL_SUBJECTS[r["code"]][0])) for r in rows) + 14
    if not two_lines:
        name_w = max(d.width(style.t(ALL_SUBJECTS[r["code"]][0]) + " / " + ENGLISH[r["code"]]) for r in rows) + 12
    widths = [name_w] + [54] * n_terms + [58, 46, 46, 70]
    room = d.right - d.left
    if sum(widths) > room:
        widths = [w * room / sum(widths) for w in widths]
    xs = [d.left]
    for w in widths:
        xs.append(xs[-1] + w)
    small = d.size - 1.5
    top = d.y + d.lead * 0.8
    hh = d.lead * 2.1
    c.setFillGray(0.88)
    c.rect(d.left, top - hh, xs[-1] - d.left, hh, stroke=0, fill=1)
    c.setFillGray(0)
    for i, (a, b) in enumerate(cols):
        d.y = top - d.lead * 0.85
        fit_text(d, xs[i], widths[i], a, "l" if i == 0 else "c", bold=True)
        d.y -= d.lead * 0.85
        c.setFillGray(0.35)
        d.c.setFont(d.font, small)
        if i == 0:
            d.c.drawString(xs[i] + 3, d.y, b)
        else:
            d.c.drawCentredString(xs[i] + widths[i] / 2, d.y, b)
        c.setFillGray(0)
    c.setLineWidth(0.8)
    c.line(d.left, top - hh, xs[-1], top - hh)
    y = top - hh
    rh = d.lead * (2.0 if two_lines else 1.25)
    zebra = rng.random() < 0.5
    out = []
    for ri, r in enumerate(rows):
        if y - rh < 60:
            d.new_page()
            y = d.top
        if zebra and ri % 2:
            c.setFillGray(0.95)
            c.rect(d.left, y - rh, xs[-1] - d.left, rh, stroke=0, fill=1)
            c.setFillGray(0)
        pt = style.t(spelling(style, rng, r["code"]) if rng.random() < 0.3 else ALL_SUBJECTS[r["code"]][0])
        base_y = y - rh / 2 - d.size * 0.35
        if two_lines:
            d.y = y - d.lead * 0.85
            d.text(xs[0] + 3, pt)
            d.y -= d.lead * 0.85
            c.setFillGray(0.35)
            d.text(xs[0] + 3, ENGLISH[r["code"]], size=small)
            c.setFillGray(0)
        else:
            d.y = base_y
            d.text(xs[0] + 3, f"{pt} / {ENGLISH[r['code']]}")
        d.y = base_y
        if r["letter_only"]:
            cells = r["letters"] + ["—", r["letters"][done - 1] if not mid else "", str(r["faltas"])]
        else:
            cells = [p(v) for v in r["vals"]] + [p(r["final"]), "" if mid else letter_of(r["final"]),
                                                  str(r["faltas"])]
        status_s = style.t({"aprovado": "Aprovado / Passed", "reprovado": "Reprovado / Failed",
                            "cursando": "Cursando / In progress"}[r["status"]])
        cells.append(status_s)
        for i, v in enumerate(cells):
            fit_text(d, xs[i + 1], widths[i + 1], v, "c")
        c.setLineWidth(0.3)
        c.line(d.left, y - rh, xs[-1], y - rh)
        y -= rh
        if not r["letter_only"]:
            out.append(subj_truth(r["code"], r["vals"], r["final"], r["faltas"], None, r["status"]))
    c.setLineWidth(0.8)
    c.line(d.left, y, xs[-1], y)
    d.y = y - d.lead * 1.4
    legend = ("A: 93-100 | A-: 90-92 | B+: 87-89 | B: 83-86 | B-: 80-82 | C+: 77-79 | C: 73-76 | C-: 70-72 | "
              "D: 60-69 | F: 0-59")
    d.line(style.t("Escala de conceitos / Grading scale: ") + legend, size=d.size - 1.5)
    d.line(style.t(f"Aprovação com média final igual ou superior a {passing}% / Passing grade: {passing}%."),
           size=d.size - 1.5)
    if letter_only:
        d.line(style.t("Componentes avaliados por conceito / Components graded by letter only: ")
               + ", ".join(style.t(ALL_SUBJECTS[c_][0]) for c_ in letter_only) + ".", size=d.size - 1.5)
    signature_block(d, style, rng, ["Coordenação Pedagógica / Academic Coordinator", "Direção / Principal"])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    shown_cnpj(t, school, cnpj_printed)
    t["subjects"] = out
    return t


def u3_barras_caixas(path, rng, family, split, seed):
    """Per subject and term a bar of ten small boxes filled up to the grade,
    the number printed after the bar; the annual mean with its bar; absences
    and sometimes the result as plain columns. A legend explains the bars."""
    style = Style2(rng)
    scale = 10
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.3, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.7, 2.1)
    year = rng.randint(2017, 2025)
    stage, level, pool = pick_stage(rng, ("iniciais", "iniciais", "finais"))
    school = school_for(rng, style, False, public=rng.random() < 0.6)
    st = make_student(rng, style, year, level)
    for s in network_lines(style, rng, school)[:1 if rng.random() < 0.5 else 2]:
        d.line(s, size=d.size - 0.5)
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(school.ids_line(style), size=d.size - 0.5)
    d.gap(0.2)
    d.line(style.t(pick(rng, "BOLETIM DE DESEMPENHO", "Boletim Escolar Ilustrado", "Acompanhamento do Desempenho"))
           + f" - {year}", bold=True, size=d.size + 2.5)
    show_birth = rng.random() < 0.5
    items = [(lab(style, rng, "name"), st.name), (lab(style, rng, "class"), st.class_name),
             (lab(style, rng, "reg"), st.registration)]
    if show_birth:
        items.append((lab(style, rng, "birth"), st.birth))
    old = d.lead
    d.lead = d.size * 1.5
    fields_lines(d, items, 2)
    d.lead = old
    d.gap(0.4)
    n_terms = pick(rng, 4, 4, 3)
    tl = term_names(rng, style, n_terms)
    codes = choose_codes(rng, pool, 6, 9)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.05)
    passing = pick(rng, 5, 6)
    with_status = rng.random() < 0.5
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        r["media_s"] = mean_s(style, r["terms"], scale)
        r["status"] = status_from(value(r["media_s"]), passing, scale, rng, ("reprovado", "recuperação"))
    for r in rows:
        r["status_s"] = status_word(style, rng, r["status"])
    first = style.t(pick(rng, "Componente", "Componente Curricular", "Disciplina"))
    box = d.size * rng.uniform(0.6, 0.75)
    numw = d.width("10,0") + 6
    cellw = box * 10 + 2 + numw + 6
    name_w = max(max(d.width(r["written"]) for r in rows), d.width(first, True)) + 12
    fal_w = max(d.width(style.t("Faltas"), True) + 10, 34)
    st_w = max(d.width(r["status_s"]) for r in rows) + 8 if with_status else 0
    xs = [d.left, d.left + name_w]
    for _ in range(n_terms + 1):
        xs.append(xs[-1] + cellw)
    room = d.right - d.left
    if xs[-1] + fal_w + st_w - d.left > room:
        k = (room - name_w - fal_w - st_w) / (cellw * (n_terms + 1))
        box *= k
        cellw *= k
        xs = [d.left, d.left + name_w] + [d.left + name_w + cellw * (i + 1) for i in range(n_terms + 1)]
    c = d.c
    heads = tl + [style.t(pick(rng, "Média Anual", "Média", "MÉDIA FINAL"))]
    d.text(d.left, first, bold=True)
    for i, h in enumerate(heads):
        d.text(xs[i + 1] + 2, h, bold=True)
    d.text(xs[-1] + 4, style.t("Faltas"), bold=True)
    if with_status:
        d.text(xs[-1] + fal_w + 4, style.t("Situação"), bold=True)
    c.setLineWidth(0.8)
    c.line(d.left, d.y - d.lead * 0.3, d.right, d.y - d.lead * 0.3)
    d.y -= d.lead
    dark = pick(rng, 0.2, 0.35, 0.5)
    num_after = rng.random() < 0.75
    for r in rows:
        d.need(d.lead)
        d.text(d.left, r["written"])
        vals = list(zip(r["terms_s"], r["terms"])) + [(r["media_s"], value(r["media_s"]))]
        for i, (s, v) in enumerate(vals):
            x = xs[i + 1] + 2
            filled = 0 if v is None else int(round(v))
            for b in range(10):
                if b < filled:
                    c.setFillGray(dark)
                    c.rect(x + b * box, d.y - 1, box * 0.82, box * 0.82 + 1, stroke=0, fill=1)
                    c.setFillGray(0)
                else:
                    c.setLineWidth(0.3)
                    c.rect(x + b * box, d.y - 1, box * 0.82, box * 0.82 + 1, stroke=1, fill=0)
            if num_after:
                d.text(x + 10 * box + 3, s, bold=i == len(vals) - 1)
            else:  # the number under the bar
                d.y -= d.size * 0.95
                d.text(x + box * 3, s, size=d.size - 1, bold=i == len(vals) - 1)
                d.y += d.size * 0.95
        d.text(xs[-1] + 4 + fal_w / 2 - d.width(str(r["faltas"])) / 2 - 4, str(r["faltas"]))
        if with_status:
            d.text(xs[-1] + fal_w + 4, r["status_s"])
        c.setLineWidth(0.2)
        low = d.lead * 0.45 if num_after else d.size * 1.45
        c.line(d.left, d.y - low, d.right, d.y - low)
        d.y -= d.lead if num_after else max(d.lead, d.size * 2.6)
    d.gap(0.6)
    d.line(style.t(pick(rng, "Cada quadrado preenchido corresponde a 1 ponto (escala de 0 a 10).",
                        "Legenda: cada quadrado = 1 ponto. Notas de 0 a 10.",
                        "As barras representam a nota do período (0 a 10).")), size=d.size - 1)
    d.line(style.t(f"Média mínima para aprovação: {passing},0."), size=d.size - 1)
    signature_block(d, style, rng, ["Professor(a)", "Coordenação", "Responsável"])
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["terms"], value(r["media_s"]), r["faltas"], None,
                                r["status"] if with_status else None) for r in rows]
    return t


def u3_app_celular(path, rng, family, split, seed):
    """A school app's `export PDF` on a narrow phone-sized page: a status
    bar, the app's banner, the student card, then one card per subject with
    a `term ... grade` line per term, `Média final`, `Faltas`, `Frequência`
    and a status chip; the cards run on over several pages."""
    style = Style2(rng, case=pick(rng, None, "as_is", "as_is"))
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, SANS, size=rng.choice([8.5, 9, 9.5, 10]))
    d.w, d.h = rng.choice([(330, 700), (360, 740), (375, 812), (340, 720)])
    d.c.setPageSize((d.w, d.h))
    d.left, d.right = rng.uniform(14, 22), d.w - rng.uniform(14, 22)
    d.top = d.y = d.h - 30
    d.lead = d.size * rng.uniform(1.45, 1.7)
    d.footer = None
    year = rng.randint(2020, 2026)
    stage, level, pool = pick_stage(rng)
    school = school_for(rng, style, stage == "em")
    st = make_student(rng, style, year, level)
    app = pick(rng, "Meu Boletim", "Escola Digital", "Agenda Escolar", "Portal da Família", "Diário do Aluno")
    c = d.c
    clock = f"{rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}"
    batt = f"{rng.randint(12, 100)}%"
    page_no = [1]

    def status_bar():
        c.setFont(d.bold, d.size - 1.5)
        c.drawString(d.left, d.h - 14, clock)
        c.drawRightString(d.right, d.h - 14, f"4G  {batt}")
        c.setFont(d.font, d.size - 2.5)
        c.setFillGray(0.45)
        c.drawCentredString(d.w / 2, 10, f"{page_no[0]}")
        c.setFillGray(0)

    def new_page(doc):
        page_no[0] += 1
        status_bar()
        doc.y = doc.h - 34

    status_bar()
    d.on_new_page = new_page
    # banner
    bh = d.size * 3.2
    shade = pick(rng, 0.15, 0.25, 0.3)
    c.setFillGray(shade)
    c.rect(0, d.y - bh * 0.55, d.w, bh, stroke=0, fill=1)
    c.setFillGray(1)
    c.setFont(d.bold, d.size + 3)
    c.drawString(d.left, d.y - bh * 0.1, app)
    c.setFillGray(0)
    d.y -= bh * 1.0 + d.lead * 0.6
    # the student card
    show_birth, show_reg = rng.random() < 0.3, rng.random() < 0.75
    lines = [(st.name, True, d.size + 2), (f"{lab(style, rng, 'class')} {st.class_name}", False, d.size)]
    if show_reg:
        lines.append((f"{lab(style, rng, 'reg')} {st.registration}", False, d.size - 0.5))
    if show_birth:
        lines.append((f"{lab(style, rng, 'birth')} {st.birth}", False, d.size - 0.5))
    lines.append((school.name, False, d.size - 0.5))
    ch = sum(max(d.lead, s * 1.4) for _, _, s in lines) + 10
    c.setFillGray(0.95)
    c.roundRect(d.left, d.y - ch + d.lead, d.right - d.left, ch, 6, stroke=0, fill=1)
    c.setFillGray(0)
    d.y -= 2
    for s, b, size in lines:
        fit_text(d, d.left + 5, d.right - d.left - 10, s, "l", bold=b) if d.width(s, b, size) > d.right - d.left - 14 \
            else d.text(d.left + 8, s, bold=b, size=size)
        d.y -= max(d.lead, size * 1.4)
    d.gap(0.8)
    d.line(style.t(pick(rng, "Boletim", "Notas e faltas", "Desempenho")) + f" {year}", bold=True, size=d.size + 3)
    when = f"{rng.randint(1, 28):02d}/{rng.randint(2, 12):02d}/{year}"
    d.line(style.t(pick(rng, f"Ano letivo {year}", f"Atualizado em {when}",
                        f"Ano letivo {year} · atualizado em {when}")), size=d.size - 1.5)
    d.gap(0.4)
    n_terms = pick(rng, 4, 4, 3)
    form = pick(rng, "{}º bimestre", "{}º Bimestre", "{}º período") if n_terms == 4 else pick(
        rng, "{}º trimestre", "{}º Trimestre")
    tl = [style.t(form.format(k + 1)) for k in range(n_terms)]
    codes = choose_codes(rng, pool, 6, 11)
    rows = make_grades(rng, style, codes, n_terms, scale, missing=0.03)
    mid = rng.random() < 0.3
    done = rng.randint(1, n_terms - 1) if mid else n_terms
    waiting = pick(rng, "—", "Aguardando", "-", "Não lançada")
    passing = pick(rng, 5, 6, 6, 7)
    with_freq, with_chip = rng.random() < 0.7, rng.random() < 0.75
    for r in rows:
        r["written"] = spelling(style, rng, r["code"])
        for k in range(done, n_terms):
            r["terms_s"][k], r["terms"][k], r["per_term"][k] = waiting, None, 0
        r["faltas"] = sum(r["per_term"])
        r["media_s"] = waiting if mid else mean_s(style, r["terms"], scale)
        r["aulas"] = rng.choice([80, 120, 160, 200]) * done // n_terms
        r["freq"] = round(100 * (r["aulas"] - r["faltas"]) / r["aulas"], 1)
        r["status"] = "cursando" if mid else status_from(value(r["media_s"]), passing, scale, rng, ("reprovado",))
    mean_l = style.t(pick(rng, "Média final", "Média anual", "Média"))
    fal_l = style.t(pick(rng, "Faltas", "Total de faltas"))
    freq_l = style.t(pick(rng, "Frequência", "Presença"))
    for r in rows:
        items = [(x, r["terms_s"][k]) for k, x in enumerate(tl)] + [(mean_l, r["media_s"]), (fal_l, str(r["faltas"]))]
        if with_freq:
            items.append((freq_l, pct_s(r["freq"], style.dot) + "%"))
        card_h = d.lead * (len(items) + 1.6 + (1.1 if with_chip else 0)) + 6
        d.need(card_h)
        c.setLineWidth(0.6)
        c.setStrokeGray(0.7)
        c.roundRect(d.left, d.y - card_h + d.lead, d.right - d.left, card_h, 7, stroke=1, fill=0)
        c.setStrokeGray(0)
        d.y -= 3
        d.text(d.left + 8, r["written"], bold=True, size=d.size + 1)
        d.y -= d.lead * 1.3
        for i, (k, v) in enumerate(items):
            bold = k == mean_l
            d.text(d.left + 10, k, bold=bold)
            d.rtext(d.right - 10, v, bold=bold)
            if i < len(items) - 1:
                c.setLineWidth(0.2)
                c.setStrokeGray(0.85)
                c.line(d.left + 10, d.y - d.lead * 0.35, d.right - 10, d.y - d.lead * 0.35)
                c.setStrokeGray(0)
            d.y -= d.lead
        if with_chip:
            word = status_word(style, rng, r["status"])
            w = d.width(word, True, d.size - 1) + 14
            c.setFillGray(0.88)
            c.roundRect(d.left + 10, d.y - 3, w, d.size + 4, 5, stroke=0, fill=1)
            c.setFillGray(0)
            d.text(d.left + 17, word, bold=True, size=d.size - 1)
            d.y -= d.lead * 1.1
        d.y -= d.lead * 0.9
    d.line(style.t("As informações podem ser alteradas pela escola até o fechamento do período."), size=d.size - 2.5)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages,
              {"birth_date": show_birth, "registration": show_reg})
    t["school"]["cnpj"] = None
    t["subjects"] = [subj_truth(r["code"], r["terms"], None if mid else value(r["media_s"]), r["faltas"],
                                r["freq"] if with_freq else None, r["status"] if with_chip else None) for r in rows]
    return t


IF_STATES = {"SP": "de São Paulo", "CE": "do Ceará", "PR": "do Paraná", "MG": "de Minas Gerais",
             "PE": "de Pernambuco", "RS": "do Rio Grande do Sul", "BA": "da Bahia", "GO": "de Goiás"}
IF_COURSES = {
    "Informática": ["Lógica de Programação", "Banco de Dados", "Redes de Computadores", "Programação Web",
                    "Sistemas Operacionais"],
    "Edificações": ["Desenho Técnico", "Materiais de Construção", "Topografia", "Instalações Prediais"],
    "Agropecuária": ["Zootecnia", "Agricultura Geral", "Solos e Adubação", "Irrigação e Drenagem"],
    "Eletrotécnica": ["Eletricidade Básica", "Máquinas Elétricas", "Instalações Elétricas", "Eletrônica Analógica"],
    "Administração": ["Gestão de Pessoas", "Contabilidade Geral", "Empreendedorismo", "Logística"],
}
IF_PREFIX = {"lingua-portuguesa": "LPL", "matematica": "MAT", "fisica": "FIS", "quimica": "QUI", "biologia": "BIO",
             "historia": "HIS", "geografia": "GEO", "filosofia": "FIL", "sociologia": "SOC", "arte": "ART",
             "educacao-fisica": "EDF", "lingua-inglesa": "ING", "lingua-espanhola": "ESP"}


def u3_suap_if(path, rng, family, split, seed):
    """A federal institute's boletim (SUAP-like), Ensino Médio integrado:
    `Diário | Disciplina | C.H. | Aulas | Faltas | Freq. | Situação`, then
    N1..N4 as `Nota | F`, MD, NAF, MFD on 0-100; subject names carry a code
    and a roman numeral; the technical components of the course are printed
    too (no canonical code: left out of the truth)."""
    style = Style2(rng, case=pick(rng, None, "as_is", "as_is", "upper"))
    scale = 100
    d = Doc(path, rng, SANS, land=True, size=rng.choice([6.5, 7, 7.5]))
    d.lead = d.size * rng.uniform(1.45, 1.7)
    year = rng.randint(2019, 2025)
    serie = rng.randint(1, 3)
    school = School(rng, style)
    state = IF_STATES.get(school.uf, "de São Paulo")
    campus = school.city
    school.name = style.t(f"Instituto Federal {state} - Campus {campus}")
    school.cnpj, fmt = make_cnpj(rng)
    school.cnpj_printed = fmt
    st = make_student(rng, style, year, LEVELS_EM[serie - 1])
    st.registration = f"{year - serie + 1}{rng.randint(1000, 9999)}{rng.randint(100000, 999999)}"
    course = rng.choice(list(IF_COURSES))
    cc = fold(course)[:3].upper()
    st.class_name = style.t(f"{year}{serie}.{cc}.{pick(rng, 'A', 'B', 'M', 'V')}")
    c = d.c
    d.line(style.t("MINISTÉRIO DA EDUCAÇÃO"), size=d.size - 0.5)
    d.line(style.t(f"Instituto Federal de Educação, Ciência e Tecnologia {state}"), bold=True, size=d.size + 1)
    d.line(school.name, bold=True, size=d.size + 2)
    d.line(f"CNPJ: {school.cnpj_printed}   " + style.t(f"Código INEP: {school.inep}   {school.street} - "
                                                       f"{school.city}/{school.uf}"), size=d.size - 0.5)
    d.gap(0.3)
    c.setLineWidth(1.2)
    c.line(d.left, d.y + d.lead * 0.6, d.right, d.y + d.lead * 0.6)
    d.gap(0.4)
    d.line(style.t(pick(rng, "Boletim", "BOLETIM DO ALUNO", "Boletim Escolar")) + f" - {year}", bold=True,
           size=d.size + 3)
    show_birth = rng.random() < 0.4
    items = [(style.t("Aluno:"), st.name), (style.t("Matrícula:"), st.registration),
             (style.t("Curso:"), style.t(f"{rng.randint(100, 999)} - Técnico em {course} Integrado ao Ensino Médio")),
             (style.t("Turma:"), st.class_name), (style.t("Ano/Período Letivo:"), f"{year}/1"),
             (style.t("Situação no Período:"), style.t(pick(rng, "Matriculado", "Em curso")))]
    if show_birth:
        items.append((style.t("Data de Nascimento:"), st.birth))
    fields_lines(d, items, 2, bold_labels=True)
    d.gap(0.6)
    codes = [c_ for c_ in ["lingua-portuguesa", "matematica", "fisica", "quimica", "biologia", "historia",
                           "geografia", "filosofia", "sociologia", "arte", "educacao-fisica", "lingua-inglesa",
                           "lingua-espanhola"] if rng.random() < 0.8 or c_ in ("lingua-portuguesa", "matematica")]
    tech = rng.sample(IF_COURSES[course], rng.randint(2, min(4, len(IF_COURSES[course]))))
    mid = rng.random() < 0.25
    done = rng.randint(1, 3) if mid else 4
    weights = pick(rng, (2, 2, 3, 3), (1, 1, 1, 1))
    naf_rule = pick(rng, "avg", "max")
    rows = []
    order = [("c", x) for x in codes] + [("t", x) for x in tech]
    if rng.random() < 0.4:
        rng.shuffle(order)
    for kind, x in order:
        if kind == "c":
            base_name = rng.choice([n for n in ALL_SUBJECTS[x] if "." not in n][:2])
            name = f"{base_name} {ROMAN[serie - 1]}"
            prefix = IF_PREFIX[x]
        else:
            name = f"{x} {ROMAN[serie - 1]}" if rng.random() < 0.5 else x
            prefix = cc
        code_s = f"{prefix}.{rng.randint(1, 999):04d}"
        ch = rng.choice([40, 80, 80, 120, 160]) if kind == "c" else rng.choice([60, 80, 120])
        aulas_total = ch * 6 // 5
        aulas = aulas_total * done // 4
        base = rng.uniform(4.8, 9.7)
        notes = [int(gval(rng, base, 100)) if k < done else None for k in range(4)]
        fs = [rng.choice([0, 0, 2, 2, 4, 6]) if k < done else None for k in range(4)]
        faltas = sum(f for f in fs if f is not None)
        faltas = min(faltas, aulas // 3)
        freq = round(100 * (aulas - faltas) / aulas, 1)
        md = naf = mfd = None
        status = "cursando"
        if not mid:
            md = int(round(sum(n * w for n, w in zip(notes, weights)) / sum(weights)))
            mfd = md
            if md < 60:
                naf = int(gval(rng, min(10.0, base + 1.5), 100))
                mfd = int(round((md + naf) / 2)) if naf_rule == "avg" else max(md, naf)
            status = "aprovado" if mfd >= 60 and freq >= 75 else "reprovado"
        display = style.t(f"{code_s} - {name}") if rng.random() < 0.7 else style.t(name)
        rows.append({"kind": kind, "code": x, "name": display, "ch": ch, "aulas": aulas, "faltas": faltas,
                     "freq": freq, "notes": notes, "fs": fs, "md": md, "naf": naf, "mfd": mfd, "status": status,
                     "diario": str(rng.randint(10000, 99999))})
    with_diario = rng.random() < 0.6
    sit = {"aprovado": ["Aprovado", "Aprovado"], "reprovado": ["Reprovado", "Reprovado"],
           "cursando": ["Cursando", "Cursando"]}
    h1 = ([(style.t("Diário"), 1)] if with_diario else []) + [
        (style.t("Disciplina"), 1), (style.t("C.H."), 1), (style.t("Aulas"), 1), (style.t("Faltas"), 1),
        (style.t("Freq."), 1), (style.t("Situação"), 1)]
    h1 += [(f"N{k + 1}", 2) for k in range(4)] + [(style.t("MD"), 1), (style.t("NAF"), 1), (style.t("MFD"), 1)]
    h2 = [("", 1)] * (7 if with_diario else 6) + [(style.t(x), 1) for _ in range(4) for x in ("Nota", "F")]
    h2 += [("", 1)] * 3
    dash = pick(rng, "-", "")
    body = []
    for r in rows:
        cells = ([r["diario"]] if with_diario else []) + [r["name"], str(r["ch"]), str(r["aulas"]), str(r["faltas"]),
                                                          pct_s(r["freq"], style.dot) + "%",
                                                          style.t(rng.choice(sit[r["status"]]))]
        for n_, f_ in zip(r["notes"], r["fs"]):
            cells += [dash if n_ is None else str(n_), dash if f_ is None else str(f_)]
        cells += [dash if v is None else str(v) for v in (r["md"], r["naf"], r["mfd"])]
        body.append(cells)
    nw = max(d.width(r["name"]) for r in rows) + 10
    widths = ([30] if with_diario else []) + [nw, 26, 28, 28, 34, 48] + [24, 16] * 4 + [24, 24, 26]
    table(d, [h1, h2], body, widths, (["c"] if with_diario else []) + ["l"] + ["c"] * (len(widths) - 1 - with_diario),
          rules=pick(rng, "grid", "rows"), head_fill=pick(rng, 0.85, 0.9))
    d.gap(0.6)
    wtxt = "(2×N1 + 2×N2 + 3×N3 + 3×N4) / 10" if weights == (2, 2, 3, 3) else "(N1 + N2 + N3 + N4) / 4"
    d.line(style.t(f"MD: média da disciplina = {wtxt}; NAF: nota da avaliação final (para MD < 60); "
                   + ("MFD = (MD + NAF) / 2." if naf_rule == "avg" else "MFD = maior valor entre MD e NAF.")),
           size=d.size - 1)
    d.line(style.t("Aprovação: MFD igual ou superior a 60 e frequência mínima de 75%."), size=d.size - 1)
    d.line(style.t(f"Documento emitido pelo SUAP em {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year} às "
                   f"{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}. Código de verificação: "
                   f"{rng.randint(16**7, 16**8 - 1):08x}"), size=d.size - 1.5)
    d.save()
    t = truth(family, split, seed, "boletim", year, st, school, scale, d.pages, {"birth_date": show_birth})
    t["subjects"] = [subj_truth(r["code"], r["notes"], r["mfd"], r["faltas"], r["freq"], r["status"], r["ch"])
                     for r in rows if r["kind"] == "c"]
    return t


# ================================================================ históricos

def hist_top(d, style, rng, school, title, centred=True, network=True):
    put = (lambda s, **k: centre(d, s, **k)) if centred else (lambda s, **k: d.line(s, **k))
    if network:
        for s in network_lines(style, rng, school):
            put(s, size=d.size - 0.5)
    put(school.name, bold=True, size=d.size + 2)
    put(style.t(f"{school.street} - {school.city}/{school.uf}"), size=d.size - 0.5)
    put(school.ids_line(style), size=d.size - 0.5)
    d.gap(0.4)
    put(style.t(title), bold=True, size=d.size + 3)
    d.gap(0.3)


def year_grades(rng, style, codes, scale, passing, bad=False):
    """A year's printed final grades: all passing, or one or two failing when `bad`."""
    fails = set(rng.sample(codes, rng.randint(1, 2))) if bad else set()
    subs = []
    for c_ in codes:
        if c_ in fails:
            g = round(rng.uniform(1.5, passing - 0.6), 1)
            g = float(int(round(g * 10))) if scale == 100 else g
        else:
            g = gval(rng, rng.uniform(passing + 0.3, 9.6), scale, lo=passing)
        gs = num(style, g, scale)
        subs.append({"code": c_, "grade_s": gs, "grade": value(gs), "ch": CH[c_],
                     "faltas": rng.choice([0, 0, 1, 2, 3, 5, 8])})
    return subs


def u3_hist_etapas(path, rng, family, split, seed):
    """Ensino Fundamental de 9 anos with ONE TABLE PER ETAPA, with different
    columns: `Anos Iniciais` (a single grade per year; the first years by
    descriptive concept only, left out of the truth) and `Anos Finais`
    (`Nota | CH` or `Nota | Faltas` per year); each table ends with its
    attendance and result rows."""
    style = Style2(rng)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.35, 1.6)
    school = school_for(rng, style, False, public=rng.random() < 0.7)
    last = rng.randint(5, 8)
    first = rng.choice([0, 0, 1, 2])
    plan = [(lv, None) for lv in EF_ALL[first:last + 1]]
    if rng.random() < 0.2:  # a retained year in the anos finais, then the same série again
        i = rng.randint(5, last) - first
        plan[i] = (plan[i][0], "retido")
        plan.insert(i + 1, (plan[i][0], None))
    concept_upto = pick(rng, 2, 2, 3, 0)  # 1º..concept_upto: descriptive concepts only
    y0 = rng.randint(2010, 2016)
    passing = pick(rng, 5, 6)
    ini_pool = ["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia", "arte", "educacao-fisica"]
    if rng.random() < 0.6:
        ini_pool.append("ensino-religioso")
    ini_english = rng.random() < 0.3
    fin_codes = choose_codes(rng, EF_FINAIS, 8, 10)
    years = []
    for i, (lv, bad) in enumerate(plan):
        n = EF_ALL.index(lv) + 1
        y = {"year": y0 + i, "raw_level": lv, "level": style.t(lv), "n": n, "concept": n <= concept_upto}
        if n <= 5:
            codes = list(ini_pool) + (["lingua-inglesa"] if ini_english and n >= 3 else [])
            codes = sorted(codes, key=lambda c_: (EF_INICIAIS + ["lingua-inglesa"]).index(c_))
        else:
            codes = [c_ for c_ in fin_codes if not (c_ == "ensino-religioso" and n >= 8 and rng.random() < 0.5)]
        if y["concept"]:
            y["subjects"] = [{"code": c_, "grade_s": pick(rng, "S", "S", "PS", "ST") if not bad else "NS",
                              "grade": None, "ch": None, "faltas": 0} for c_ in codes]
        else:
            y["subjects"] = year_grades(rng, style, codes, 10, passing, bad=bool(bad))
        y["freq"] = round(rng.uniform(80, 100), 1)
        y["status"] = bad or (pick(rng, "promovido", "aprovado") if n < 9 else "aprovado")
        years.append(y)
    last_y = years[-1]
    st = make_student(rng, style, last_y["year"], last_y["raw_level"])
    hist_top(d, style, rng, school, pick(rng, "HISTÓRICO ESCOLAR - ENSINO FUNDAMENTAL DE 9 ANOS",
                                         "Histórico Escolar do Ensino Fundamental",
                                         "HISTÓRICO ESCOLAR - ENSINO FUNDAMENTAL (Lei nº 11.274/2006)"),
             centred=rng.random() < 0.6)
    show_birth = rng.random() < 0.85
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    dash = pick(rng, "—", "-", "*")
    sw = {"promovido": pick(rng, "Promovido", "Promovido(a)", "PROM."),
          "aprovado": pick(rng, "Aprovado", "Aprovado(a)"), "retido": pick(rng, "Retido", "Retido(a)")}
    sw = {k: style.t(v) for k, v in sw.items()}
    ini = [y for y in years if y["n"] <= 5]
    fin = [y for y in years if y["n"] >= 6]
    with_freq = rng.random() < 0.8
    tables = []
    if ini:
        tables.append(("ini", ini))
    if fin:
        tables.append(("fin", fin))
    fin_mode = pick(rng, "ch", "ch", "faltas")
    for kind, ys in tables:
        d.need(d.lead * 8)
        d.line(style.t(pick(rng, "ENSINO FUNDAMENTAL - ANOS INICIAIS", "1ª ETAPA - ANOS INICIAIS (1º ao 5º ano)",
                            "Anos Iniciais do Ensino Fundamental") if kind == "ini" else
                       pick(rng, "ENSINO FUNDAMENTAL - ANOS FINAIS", "2ª ETAPA - ANOS FINAIS (6º ao 9º ano)",
                            "Anos Finais do Ensino Fundamental")), bold=True, size=d.size + 1)
        codes = []
        for y in ys:
            for s in y["subjects"]:
                if s["code"] not in codes:
                    codes.append(s["code"])
        by = [{s["code"]: s for s in y["subjects"]} for y in ys]
        first_h = style.t(pick(rng, "Componentes Curriculares", "Componente Curricular", "Disciplinas"))
        if kind == "ini":
            heads = [[(first_h, 1)] + [(y["level"], 1) for y in ys], [("", 1)] + [(str(y["year"]), 1) for y in ys]]
            body = [[spelling(style, rng, c_)] + [by[i][c_]["grade_s"] if c_ in by[i] else dash
                                                   for i in range(len(ys))] for c_ in codes]
            body.append({"cells": [style.t(pick(rng, "Carga Horária Anual", "C.H. Anual"))]
                         + [str(pick(rng, 800, 800, 833, 1000)) for _ in ys], "bold": True})
            body.append([style.t("Dias Letivos")] + ["200" for _ in ys])
            if with_freq:
                body.append([style.t(pick(rng, "Frequência (%)", "% de Frequência"))]
                            + [pct_s(y["freq"], style.dot) for y in ys])
            body.append([style.t(pick(rng, "Resultado", "Situação Final"))] + [sw[y["status"]] for y in ys])
            nw = max(d.width(b[0] if isinstance(b, list) else b["cells"][0]) for b in body) + 12
            table(d, heads, body, [nw] + [52] * len(ys), ["l"] + ["c"] * len(ys),
                  rules=pick(rng, "grid", "grid", "rows"), head_fill=pick(rng, None, 0.9))
            if any(y["concept"] for y in ys):
                d.line(style.t("Anos com avaliação descritiva: S - Satisfatório; PS - Parcialmente Satisfatório; "
                               "ST - Satisfatório com Trabalho de Reforço; NS - Não Satisfatório."), size=d.size - 1.5)
        else:
            sub = (style.t("Nota"), style.t(pick(rng, "CH", "C.H.")) if fin_mode == "ch" else style.t("Faltas"))
            form = pick(rng, "{l} - {y}", "{l} ({y})", "{y} - {l}")
            heads = [[(first_h, 1)] + [(form.format(l=y["level"], y=y["year"]), 2) for y in ys],
                     [("", 1)] + [(x, 1) for _ in ys for x in sub]]
            body = []
            for c_ in codes:
                cells = [spelling(style, rng, c_)]
                for i in range(len(ys)):
                    s = by[i].get(c_)
                    if s is None:
                        cells += [dash, dash]
                    else:
                        cells += [s["grade_s"], str(s["ch"] if fin_mode == "ch" else s["faltas"])]
                body.append(cells)
            if fin_mode == "ch":
                body.append({"cells": [style.t("Carga Horária Total")]
                             + [(str(sum(s["ch"] for s in y["subjects"])), 2) for y in ys], "bold": True})
            if with_freq:
                body.append([style.t(pick(rng, "Frequência (%)", "% de Frequência"))]
                            + [(pct_s(y["freq"], style.dot), 2) for y in ys])
            body.append([style.t(pick(rng, "Resultado", "Situação Final"))] + [(sw[y["status"]], 2) for y in ys])
            nw = max(d.width(b[0] if isinstance(b[0], str) else b[0][0]) if isinstance(b, list)
                     else d.width(b["cells"][0]) for b in body) + 12
            table(d, heads, body, [nw] + [34, 30] * len(ys), ["l"] + ["c"] * (2 * len(ys)),
                  rules=pick(rng, "grid", "grid", "rows"), head_fill=pick(rng, None, 0.9))
        d.gap(0.8)
    d.line(style.t("Observações:"), bold=True)
    d.line(style.t(f"Notas de 0 a 10; média mínima para aprovação {passing},0. "
                   + pick(rng, "Carga horária em horas.", "C.H. em horas-relógio.")), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), last_y["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", last_y["year"], st, school, 10, d.pages,
              {"birth_date": show_birth, "class_name": False})
    out = []
    for y in years:
        if y["concept"]:
            continue
        fin_y = y["n"] >= 6
        out.append(year_truth(y, ch=fin_y and fin_mode == "ch", absences=fin_y and fin_mode == "faltas",
                              att=with_freq))
    t["years"] = out
    return t


def u3_hist_duas_folhas(path, rng, family, split, seed):
    """The school years split over TWO PAGES: `Folha 1` with the
    identification and the first years' column groups, `Folha 2
    (continuação)` with the student's name again, the remaining years and
    the subject list printed again (maybe in another order or spelling),
    then the `Estudos realizados` table and the signatures."""
    style = Style2(rng)
    stage = pick(rng, "finais", "finais", "em", "old")
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.4, 1.65)
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, scale, n_years=3 if stage == "em" else rng.randint(3, 4))
    if len(years) < 3:
        years = years
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    k = (len(years) + 1) // 2 if rng.random() < 0.7 else len(years) - 1
    course = {"em": "ENSINO MÉDIO", "old": "ENSINO FUNDAMENTAL"}.get(stage, "ENSINO FUNDAMENTAL")
    title = pick(rng, f"HISTÓRICO ESCOLAR - {course}", "HISTÓRICO ESCOLAR")
    hist_top(d, style, rng, school, title, centred=rng.random() < 0.5)
    folha = pick(rng, "Folha {}/2", "Fl. {} de 2", "Página {} de 2")
    d.c.setFont(d.font, d.size - 0.5)
    d.c.drawRightString(d.right, d.top, style.t(folha.format(1)))
    show_birth = rng.random() < 0.85
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    mode = pick(rng, "ch", "ch", "faltas", "only")
    dash = pick(rng, "—", "-", "xxx")
    form = pick(rng, "{l} - {y}", "{l}\n{y}", "{y} / {l}")
    with_freq = rng.random() < 0.8

    def year_table(ys, order, spell):
        if "\n" in form:
            heads = [[(style.t(pick(rng, "Componentes Curriculares", "Disciplinas")), 1)]
                     + [(y["level"], 1 if mode == "only" else 2) for y in ys],
                     [("", 1)] + [(str(y["year"]), 1 if mode == "only" else 2) for y in ys]]
        else:
            heads = [[(style.t(pick(rng, "Componentes Curriculares", "Disciplinas")), 1)]
                     + [(form.format(l=y["level"], y=y["year"]), 1 if mode == "only" else 2) for y in ys]]
        if mode != "only":
            sub = (style.t(pick(rng, "Nota", "Média")),
                   style.t(pick(rng, "CH", "C.H.")) if mode == "ch" else style.t("Faltas"))
            heads.append([("", 1)] + [(x, 1) for _ in ys for x in sub])
        by = [{s["code"]: s for s in y["subjects"]} for y in ys]
        span = 1 if mode == "only" else 2
        body = []
        for c_ in order:
            cells = [spell[c_]]
            for i in range(len(ys)):
                s = by[i].get(c_)
                if mode == "only":
                    cells.append(s["grade_s"] if s else dash)
                else:
                    cells += ([s["grade_s"], str(s["ch"] if mode == "ch" else s["faltas"])] if s else [dash, dash])
            body.append(cells)
        if mode == "ch":
            body.append({"cells": [style.t("Total de C.H.")] + [(str(sum(s["ch"] for s in y["subjects"])), span)
                                                                for y in ys], "bold": True})
        if with_freq:
            body.append([style.t(pick(rng, "Frequência (%)", "Freq. anual %"))]
                        + [(pct_s(y["freq"], style.dot), span) for y in ys])
        body.append([style.t(pick(rng, "Resultado", "Situação"))] + [(status_word(style, rng, y["status"]), span)
                                                                     for y in ys])
        nw = max(d.width(spell[c_]) for c_ in order) + 14
        table(d, heads, body, [max(nw, 120)] + ([56] if mode == "only" else [34, 30]) * len(ys),
              ["l"] + ["c"] * (span * len(ys)), rules=pick(rng, "grid", "grid", "rows"),
              head_fill=pick(rng, None, 0.9))

    spell1 = {c_: spelling(style, rng, c_) for c_ in codes}
    year_table(years[:k], codes, spell1)
    # page 2
    d.new_page()
    d.c.setFont(d.font, d.size - 0.5)
    d.c.drawRightString(d.right, d.top, style.t(folha.format(2)))
    d.line(school.name, bold=True, size=d.size + 1)
    d.line(style.t(pick(rng, "HISTÓRICO ESCOLAR (continuação)", "Continuação do Histórico Escolar",
                        "HISTÓRICO ESCOLAR - CONTINUAÇÃO")), bold=True, size=d.size + 1.5)
    d.line(f"{lab(style, rng, 'name')} {st.name}     {lab(style, rng, 'reg')} {st.registration}")
    d.gap(0.5)
    order2 = list(codes)
    if rng.random() < 0.4:
        order2.sort(key=lambda c_: fold(ALL_SUBJECTS[c_][0]))
    spell2 = spell1 if rng.random() < 0.6 else {c_: spelling(style, rng, c_) for c_ in codes}
    year_table(years[k:], order2, spell2)
    d.gap(0.8)
    d.line(style.t(pick(rng, "ESTUDOS REALIZADOS", "Estabelecimentos de Ensino Frequentados")), bold=True)
    other = school_for(rng, style, stage == "em")
    body = []
    for i, y in enumerate(years):
        sc = school if i >= len(years) - 2 or rng.random() < 0.6 else other
        body.append([str(y["year"]), y["level"], sc.name, f"{style.t(sc.city)}/{sc.uf}",
                     status_word(style, rng, y["status"])])
    table(d, [[(style.t(x), 1) for x in ("Ano", "Série/Ano", "Estabelecimento", "Município/UF", "Resultado")]], body,
          [34, 56, max(d.width(b[2]) for b in body) + 10, 100, 64], ["c", "c", "l", "l", "c"],
          rules=pick(rng, "grid", "rows"))
    d.gap(0.6)
    d.line(style.t(f"Escala de notas: 0 a {scale}. ") + style.t(pick(rng, "O referido é verdade e dou fé.",
                                                                      "Documento sem emendas ou rasuras.")),
           size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, ch=mode == "ch", absences=mode == "faltas", att=with_freq) for y in years]
    return t


def hhmm(minutes, form):
    h, m = divmod(minutes, 60)
    return form.format(h=h, m=m)


def u3_hist_celula_dupla(path, rng, family, split, seed):
    """Subjects x years where each cell holds TWO values on two lines: the
    final grade over the workload in hours:minutes (classes of 50 minutes:
    `133:20`, `133h20`); the year totals in the same notation; attendance
    and result rows; a note explains the cells."""
    style = Style2(rng)
    stage = pick(rng, "finais", "finais", "em", "old")
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.3, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.3, 1.5)
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, 10)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    hist_top(d, style, rng, school, pick(rng, "HISTÓRICO ESCOLAR", "Histórico Escolar",
                                         "HISTÓRICO ESCOLAR - " + ("ENSINO MÉDIO" if stage == "em"
                                                                   else "ENSINO FUNDAMENTAL")),
             centred=rng.random() < 0.5)
    show_birth = rng.random() < 0.85
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    weekly = {"lingua-portuguesa": 5, "matematica": 5, "ciencias": 3, "historia": 3, "geografia": 3, "arte": 2,
              "educacao-fisica": 2, "lingua-inglesa": 2, "ensino-religioso": 1, "lingua-espanhola": 2, "fisica": 2,
              "quimica": 2, "biologia": 2, "filosofia": 1, "sociologia": 1}
    for c_ in codes:
        if rng.random() < 0.2:
            weekly[c_] = max(1, weekly[c_] + pick(rng, -1, 1))
    weeks = pick(rng, 40, 40, 42)
    form = pick(rng, "{h}:{m:02d}", "{h}:{m:02d}", "{h}h{m:02d}", "{h}h{m:02d}min")
    for y in years:
        for s in y["subjects"]:
            s["min"] = weekly[s["code"]] * weeks * 50
            s["ch"] = s["min"] / 60
    c = d.c
    dash = pick(rng, "—", "-", "")
    spell = {c_: spelling(style, rng, c_) for c_ in codes}
    nw = max(d.width(spell[c_]) for c_ in codes) + 14
    room = d.right - d.left - nw
    cw = min(70, room / len(years))
    xs = [d.left, d.left + nw] + [d.left + nw + cw * (i + 1) for i in range(len(years))]
    top = d.y + d.lead * 0.8
    hh = d.lead * 2.2
    fill = pick(rng, None, 0.9)
    if fill:
        c.setFillGray(fill)
        c.rect(d.left, top - hh, xs[-1] - d.left, hh, stroke=0, fill=1)
        c.setFillGray(0)
    d.y = top - d.lead * 0.95
    fit_text(d, xs[0], nw, style.t(pick(rng, "Componentes Curriculares", "Disciplinas")), "l", True)
    for i, y in enumerate(years):
        d.y = top - d.lead * 0.95
        fit_text(d, xs[i + 1], cw, y["level"], "c", True)
        d.y -= d.lead * 0.95
        fit_text(d, xs[i + 1], cw, str(y["year"]), "c", True)
    c.setLineWidth(0.6)
    c.rect(d.left, top - hh, xs[-1] - d.left, hh)
    for x in xs[1:-1]:
        c.line(x, top, x, top - hh)
    y_ = top - hh
    by = [{s["code"]: s for s in y["subjects"]} for y in years]
    rh = d.lead * 2.1
    small = d.size - 1.2
    grade_bold = rng.random() < 0.5
    for c_ in codes:
        if y_ - rh < 50:
            d.new_page()
            y_ = d.top
        d.y = y_ - rh / 2 - d.size * 0.35
        fit_text(d, xs[0], nw, spell[c_], "l")
        for i in range(len(years)):
            s = by[i].get(c_)
            if s is None:
                d.y = y_ - rh / 2 - d.size * 0.35
                fit_text(d, xs[i + 1], cw, dash, "c")
                continue
            d.y = y_ - d.lead * 0.9
            fit_text(d, xs[i + 1], cw, s["grade_s"], "c", grade_bold)
            d.y -= d.lead * 0.95
            c.setFont(d.font, small)
            c.drawCentredString(xs[i + 1] + cw / 2, d.y, hhmm(s["min"], form))
        c.setLineWidth(0.4)
        c.rect(d.left, y_ - rh, xs[-1] - d.left, rh)
        for x in xs[1:-1]:
            c.line(x, y_, x, y_ - rh)
        y_ -= rh
    with_freq = rng.random() < 0.8
    foot = [(style.t(pick(rng, "C.H. Total", "Carga Horária Anual")),
             [hhmm(sum(s["min"] for s in y["subjects"]), form) for y in years])]
    if with_freq:
        foot.append((style.t(pick(rng, "Frequência (%)", "% Frequência")),
                     [pct_s(y["freq"], style.dot) for y in years]))
    foot.append((style.t(pick(rng, "Resultado", "Situação Final")),
                 [status_word(style, rng, y["status"]) for y in years]))
    for lbl, vals in foot:
        d.y = y_ - d.lead * 0.85
        fit_text(d, xs[0], nw, lbl, "l", True)
        for i, v in enumerate(vals):
            fit_text(d, xs[i + 1], cw, v, "c")
        c.setLineWidth(0.4)
        c.rect(d.left, y_ - d.lead * 1.2, xs[-1] - d.left, d.lead * 1.2)
        for x in xs[1:-1]:
            c.line(x, y_, x, y_ - d.lead * 1.2)
        y_ -= d.lead * 1.2
    d.y = y_ - d.lead * 1.2
    example = hhmm(5 * 40 * 50, form)
    note = (f"Em cada célula: nota final (0 a 10) e, abaixo, a carga horária cursada em horas e minutos "
            f"(hora-aula de 50 minutos; ex.: {example} = 200 aulas). Média mínima para aprovação: {passing},0.")
    for ln in wrap(d, style.t(note), d.right - d.left, size=d.size - 1):
        d.line(ln, size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, 10, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, ch=True, att=with_freq) for y in years]
    return t


ABROAD = [("Hamamatsu", "Shizuoka", "2-15-8 Takatsuka, Minami-ku, Hamamatsu-shi, Shizuoka-ken"),
          ("Toyohashi", "Aichi", "1-42 Ekimae-odori, Toyohashi-shi, Aichi-ken"),
          ("Oizumi", "Gunma", "3-11-5 Nishikoizumi, Oizumi-machi, Ora-gun, Gunma-ken"),
          ("Suzuka", "Mie", "5-7-21 Shiroko, Suzuka-shi, Mie-ken"),
          ("Nagoya", "Aichi", "2-3-15 Kanayama, Naka-ku, Nagoya-shi, Aichi-ken")]


def u3_hist_exterior(path, rng, family, split, seed):
    """A Brazilian school abroad (homologated by the MEC; no CNPJ): every
    label in Portuguese and English, subject names in Portuguese over
    English, grades 0-100, the years as columns with the level in Portuguese
    over its English name and the year; a `Língua Japonesa` component with no
    canonical code (left out); hours, attendance and result rows."""
    style = Style2(rng, case=pick(rng, None, "as_is", "as_is"))
    scale = 100
    stage = pick(rng, "finais", "finais", "em")
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7, 7.5, 8]))
    d.lead = d.size * rng.uniform(1.3, 1.5)
    city, pref, addr = rng.choice(ABROAD)
    school = School(rng, style)
    patron = rng.choice(["Professora Cecília Meireles", "Tiradentes", "Vinicius de Moraes", "Santa Luzia",
                         "Paulo Freire"])
    school.name = style.t(pick(rng, f"Escola Brasileira {patron}", f"Colégio Brasileiro de {city}",
                               f"Escola Brasileira de {city}"))
    school.cnpj = school.cnpj_printed = None
    codes, years, passing = hist_plan(rng, style, stage, scale, n_years=rng.randint(2, 4) if stage != "em" else 3)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    d.line(school.name, bold=True, size=d.size + 3)
    d.line(style.t(pick(rng, "Escola brasileira no exterior homologada pelo MEC",
                        "Homologada pelo Ministério da Educação do Brasil")) +
           f" - Parecer CNE/CEB nº {rng.randint(1, 40)}/{rng.randint(2004, 2016)}", size=d.size - 0.5)
    d.line(f"{addr} - {pick(rng, 'Japão', 'Japão / Japan', 'JAPAN')}", size=d.size - 0.5)
    inep_shown = rng.random() < 0.5
    if inep_shown:
        d.line(style.t(f"Código INEP: {school.inep}"), size=d.size - 0.5)
    d.gap(0.5)
    centre(d, style.t(pick(rng, "HISTÓRICO ESCOLAR / ACADEMIC TRANSCRIPT", "Histórico Escolar - School Transcript")),
           bold=True, size=d.size + 3)
    centre(d, style.t("Ensino Médio / High School" if stage == "em" else
                      "Ensino Fundamental - Anos Finais / Middle School"), size=d.size)
    d.gap(0.4)
    show_birth = rng.random() < 0.85
    nat_town, nat_uf = rng.choice(OTHER_TOWNS)
    nat = pick(rng, f"{style.t(nat_town)}/{nat_uf} - Brasil", f"{city}/{pref} - Japão")
    items = [(style.t("Nome / Name:"), st.name), (style.t("Matrícula / Student ID:"), st.registration)]
    if show_birth:
        items.append((style.t("Data de nascimento / Date of birth:"), st.birth))
    items.append((style.t("Naturalidade / Place of birth:"), nat))
    items.append((style.t("Nacionalidade / Nationality:"), style.t("Brasileira / Brazilian")))
    fields_lines(d, items, 2, bold_labels=True)
    d.gap(0.5)
    japanese = rng.random() < 0.8
    jp = [{"grade_s": str(rng.randint(60, 98))} for _ in years]
    c = d.c
    two = rng.random() < 0.75
    names = [(c_, style.t(ALL_SUBJECTS[c_][0]), ENGLISH[c_]) for c_ in codes]
    if japanese:
        names.insert(rng.randint(1, len(names)), (None, style.t("Língua Japonesa"), "Japanese Language"))
    label_w = max(d.width(p) for _, p, _ in names) + 14 if two else max(d.width(f"{p} / {e}") for _, p, e in names) + 12
    small = d.size - 1.3
    label_w = max(label_w, d.width(style.t("Componente Curricular"), True) + 12,
                  d.width(style.t("Notas de 0 a 100 / Grades 0-100"), size=small) + 10)
    room = d.right - d.left - label_w
    cw = min(74, room / len(years))
    xs = [d.left, d.left + label_w] + [d.left + label_w + cw * (i + 1) for i in range(len(years))]
    small = d.size - 1.3
    top = d.y + d.lead * 0.8
    hh = d.lead * 3.2
    c.setFillGray(0.9)
    c.rect(d.left, top - hh, xs[-1] - d.left, hh, stroke=0, fill=1)
    c.setFillGray(0)
    d.y = top - d.lead * 0.95
    d.text(d.left + 3, style.t("Componente Curricular"), bold=True)
    d.y -= d.lead * 0.9
    c.setFont(d.font, small)
    c.drawString(d.left + 3, d.y, "Subject")
    d.y -= d.lead * 0.9
    c.drawString(d.left + 3, d.y, style.t("Notas de 0 a 100 / Grades 0-100"))
    for i, y in enumerate(years):
        d.y = top - d.lead * 0.95
        fit_text(d, xs[i + 1], cw, y["level"], "c", True)
        d.y -= d.lead * 0.9
        c.setFont(d.font, small)
        c.drawCentredString(xs[i + 1] + cw / 2, d.y, f"({ENGLISH_LEVEL[y['raw_level']]})")
        d.y -= d.lead * 0.9
        fit_text(d, xs[i + 1], cw, str(y["year"]), "c", True)
    c.setLineWidth(0.7)
    c.line(d.left, top, xs[-1], top)
    c.line(d.left, top - hh, xs[-1], top - hh)
    by = [{s["code"]: s for s in y["subjects"]} for y in years]
    rh = d.lead * (2.0 if two else 1.2)
    y_ = top - hh
    dash = pick(rng, "—", "-", "")
    for code, pt, en in names:
        d.y = y_ - rh / 2 - d.size * 0.35
        if two:
            d.y = y_ - d.lead * 0.9
            d.text(d.left + 3, pt)
            d.y -= d.lead * 0.85
            c.setFillGray(0.3)
            d.text(d.left + 3, en, size=small)
            c.setFillGray(0)
            d.y = y_ - rh / 2 - d.size * 0.35
        else:
            d.text(d.left + 3, f"{pt} / {en}")
        for i in range(len(years)):
            if code is None:
                v = jp[i]["grade_s"]
            else:
                s = by[i].get(code)
                v = s["grade_s"] if s else dash
            fit_text(d, xs[i + 1], cw, v, "c")
        c.setLineWidth(0.25)
        c.line(d.left, y_ - rh, xs[-1], y_ - rh)
        y_ -= rh
    with_freq = rng.random() < 0.8
    foot = [(style.t("Carga Horária Anual / Annual Hours"), [str(pick(rng, 800, 1000, 1200)) for _ in years])]
    if with_freq:
        foot.append((style.t("Frequência / Attendance (%)"), [pct_s(y["freq"], style.dot) for y in years]))
    sw = {"aprovado": "Aprovado / Passed", "promovido": "Promovido / Promoted", "retido": "Retido / Retained"}
    foot.append((style.t("Resultado / Result"), [style.t(sw[y["status"]]) for y in years]))
    c.setLineWidth(0.7)
    c.line(d.left, y_, xs[-1], y_)
    for lbl, vals in foot:
        d.y = y_ - d.lead * 0.9
        fit_text(d, xs[0], label_w, lbl, "l", True)
        for i, v in enumerate(vals):
            fit_text(d, xs[i + 1], cw, v, "c")
        c.setLineWidth(0.25)
        c.line(d.left, y_ - d.lead * 1.25, xs[-1], y_ - d.lead * 1.25)
        y_ -= d.lead * 1.25
    for x in xs:
        c.setLineWidth(0.5)
        c.line(x, top, x, y_)
    d.y = y_ - d.lead * 1.5
    d.line(style.t(f"Aprovação com nota igual ou superior a {passing * 10} / Passing grade: {passing * 10}."),
           size=d.size - 1)
    d.line(style.t("Calendário escolar brasileiro (fevereiro a dezembro). / Brazilian school calendar (February to "
                   "December)."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar / School Secretary", "Diretor(a) / Principal"],
                    f"{city}, {pick(rng, 'Japão', 'Japan')}", years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, att=with_freq) for y in years]
    return t


def u3_hist_rodape_anos(path, rng, family, split, seed):
    """Subjects x séries whose column headers name only the série; the YEAR,
    an establishment NUMBER (keyed to a list of schools under the table),
    the town, the attendance and the result are ROWS at the FOOT of each
    column. One grade per série, or `Nota | CH` pairs under it."""
    style = Style2(rng)
    stage = pick(rng, "finais", "old", "old", "em")
    scale = 100 if rng.random() < 0.15 else 10
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.3, size=rng.choice([7, 7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.35, 1.6)
    school = school_for(rng, style, stage == "em")
    codes, years, passing = hist_plan(rng, style, stage, scale)
    st = make_student(rng, style, years[-1]["year"], years[-1]["raw_level"])
    title = pick(rng, "HISTÓRICO ESCOLAR", "Histórico Escolar", "HISTÓRICO ESCOLAR - " + (
        "ENSINO MÉDIO" if stage == "em" else "ENSINO FUNDAMENTAL"))
    hist_top(d, style, rng, school, title, centred=rng.random() < 0.6, network=rng.random() < 0.7)
    show_birth = rng.random() < 0.85
    student_block(d, style, rng, st, show_birth)
    d.gap(0.6)
    others = [school_for(rng, style, stage == "em") for _ in range(2)]
    ests = []
    sch_of = []
    for i, y in enumerate(years):
        sc = school if i >= len(years) - 1 or rng.random() < 0.55 else rng.choice(others)
        if sc not in ests:
            ests.append(sc)
        sch_of.append(sc)
    # numbered in order of attendance
    with_ch = rng.random() < 0.45
    span = 2 if with_ch else 1
    heads = [[(style.t(pick(rng, "Componentes Curriculares", "Disciplinas", "Base Nacional Comum")), 1)]
             + [(y["level"], span) for y in years]]
    if with_ch:
        heads.append([("", 1)] + [(style.t(x), 1) for _ in years for x in ("Nota", "CH")])
    by = [{s["code"]: s for s in y["subjects"]} for y in years]
    dash = pick(rng, "—", "-", "*")
    body = []
    for c_ in codes:
        cells = [spelling(style, rng, c_)]
        for i in range(len(years)):
            s = by[i].get(c_)
            cells += ([s["grade_s"]] + ([str(s["ch"])] if with_ch else [])) if s else [dash] * span
        body.append(cells)
    with_freq = rng.random() < 0.75
    foot = []
    if with_ch:
        foot.append([style.t("Carga Horária Total")] + [(str(sum(s["ch"] for s in y["subjects"])), span)
                                                         for y in years])
    if with_freq:
        foot.append([style.t(pick(rng, "Frequência (%)", "% Freq."))] + [(pct_s(y["freq"], style.dot), span)
                                                                       for y in years])
    foot.append([style.t(pick(rng, "Resultado", "Situação"))] + [(status_word(style, rng, y["status"]), span)
                                                                 for y in years])
    foot.append({"cells": [style.t(pick(rng, "Ano", "Ano Letivo"))] + [(str(y["year"]), span) for y in years],
                 "bold": True})
    foot.append([style.t(pick(rng, "Estabelecimento (nº)", "Estab.", "Escola (ver abaixo)"))]
                + [(str(ests.index(sc) + 1), span) for sc in sch_of])
    foot.append([style.t(pick(rng, "Município/UF", "Cidade-UF"))] + [(f"{style.t(sc.city)}/{sc.uf}", span)
                                                                      for sc in sch_of])
    body += [{"cells": f["cells"], "bold": True, "fill": 0.93} if isinstance(f, dict) else f for f in foot]
    nw = max(d.width(b[0]) if isinstance(b, list) else d.width(b["cells"][0]) for b in body) + 12
    cw = max(d.width(f"{style.t(sc.city)}/{sc.uf}") for sc in sch_of) + 8
    widths = [nw] + ([cw * 0.55, cw * 0.45] if with_ch else [max(cw, 44)]) * len(years)
    table(d, heads, body, widths, ["l"] + ["c"] * (span * len(years)), rules=pick(rng, "grid", "grid", "rows"),
          head_fill=pick(rng, None, 0.9))
    d.gap(0.6)
    d.line(style.t(pick(rng, "ESTABELECIMENTOS DE ENSINO", "Escolas em que estudou")), bold=True)
    for i, sc in enumerate(ests):
        inep = f" - INEP {sc.inep}" if rng.random() < 0.5 else ""
        d.line(f"{i + 1} - {sc.name} - {style.t(sc.city)}/{sc.uf}{inep}")
    d.gap(0.4)
    d.line(style.t(f"Notas de 0 a {scale}; média mínima para aprovação: "
                   f"{num(style, passing * scale / 10, scale, 1)}."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a)", "Diretor(a)"], style.t(school.city), years[-1]["year"] + 1)
    d.save()
    t = truth(family, split, seed, "historico", years[-1]["year"], st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [year_truth(y, ch=with_ch, att=with_freq) for y in years]
    return t


def u3_hist_eja_semestres(path, rng, family, split, seed):
    """EJA (semestral): a block per SEMESTER (`2022 - 1º Semestre - Módulo
    I`) with its components, workload, grade (and absences) and result per
    component; the components differ between the two semesters of a year.
    The truth gathers a year's semesters; it has no level, attendance or
    status per year, since the page prints none."""
    style = Style2(rng)
    stage = pick(rng, "em", "em", "finais")
    scale = 100 if rng.random() < 0.2 else 10
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.35, 1.6)
    school = school_for(rng, style, stage == "em", public=True)
    pool = ([c_ for c_ in EM if c_ not in ("projeto-de-vida", "redacao")] if stage == "em"
            else [c_ for c_ in EF_FINAIS if c_ != "ensino-religioso"])
    codes = choose_codes(rng, pool, 8, 12)
    rng.shuffle(codes)
    half = len(codes) // 2
    blocks = [sorted(codes[:half], key=pool.index), sorted(codes[half:], key=pool.index)]
    n_sem = pick(rng, 3, 4, 4) if stage == "em" else pick(rng, 4, 4)
    y0 = rng.randint(2015, 2023)
    s0 = pick(rng, 1, 1, 2)
    passing = pick(rng, 5, 6)
    sems = []
    for i in range(n_sem):
        k = s0 - 1 + i
        sems.append({"year": y0 + k // 2, "sem": k % 2 + 1, "mod": ROMAN[i], "codes": blocks[i % 2]})
    st = make_student(rng, style, sems[-1]["year"], LEVELS_EM[-1] if stage == "em" else LEVELS_FINAIS[-1])
    by_ = rng.randint(1972, sems[-1]["year"] - 19)
    dd, mm = rng.randint(1, 28), rng.randint(1, 12)
    st.birth_iso, st.birth = f"{by_}-{mm:02d}-{dd:02d}", f"{dd:02d}/{mm:02d}/{by_}"
    course = ("EDUCAÇÃO DE JOVENS E ADULTOS - ENSINO MÉDIO" if stage == "em"
              else "EDUCAÇÃO DE JOVENS E ADULTOS - ENSINO FUNDAMENTAL (ANOS FINAIS)")
    hist_top(d, style, rng, school, pick(rng, f"HISTÓRICO ESCOLAR - {course}", "HISTÓRICO ESCOLAR - EJA",
                                         "Histórico Escolar - Educação de Jovens e Adultos"),
             centred=rng.random() < 0.6)
    show_birth = rng.random() < 0.9
    student_block(d, style, rng, st, show_birth)
    d.line(style.t(pick(rng, "Modalidade: EJA presencial - regime semestral",
                        "Curso: EJA - organização por módulos semestrais")), size=d.size - 0.5)
    d.gap(0.6)
    with_f = rng.random() < 0.5
    head_form = pick(rng, "{y} - {s}º Semestre - Módulo {m}", "Período letivo {y}.{s} - Módulo {m}",
                     "MÓDULO {m} ({s}º semestre de {y})", "{y}/{s} - Etapa {m}")
    res_words = {"aprovado": pick(rng, "Aprovado", "APROVADO", "Aprovado(a)")}
    years = {}
    for s in sems:
        d.need(d.lead * (len(s["codes"]) + 5))
        d.line(style.t(head_form.format(y=s["year"], s=s["sem"], m=s["mod"])), bold=True, size=d.size + 0.5)
        body = []
        for c_ in s["codes"]:
            g = gval(rng, rng.uniform(passing + 0.3, 9.5), scale, lo=passing)
            gs = num(style, g, scale)
            ch = pick(rng, 40, 60, 80, 80, 100) if c_ in ("lingua-portuguesa", "matematica") else pick(rng, 40, 40, 60)
            f = rng.choice([0, 0, 2, 4, 6])
            cells = [spelling(style, rng, c_), str(ch), gs] + ([str(f)] if with_f else []) + [
                style.t(res_words["aprovado"])]
            body.append(cells)
            years.setdefault(s["year"], []).append(
                {"code": c_, "final_grade": value(gs), "absences": f if with_f else None, "attendance_pct": None,
                 "status": "aprovado", "workload_hours": ch})
        cols = [style.t(pick(rng, "Componente Curricular", "Disciplina")), style.t(pick(rng, "C.H.", "Carga Horária")),
                style.t(pick(rng, "Nota", "Média Final", "Nota Final"))] + ([style.t("Faltas")] if with_f else []) + [
            style.t(pick(rng, "Resultado", "Situação"))]
        nw = max(d.width(b[0]) for b in body) + 14
        table(d, [[(x, 1) for x in cols]], body, [max(nw, 150), 50, 56] + ([44] if with_f else []) + [70],
              ["l"] + ["c"] * (len(cols) - 1), rules=pick(rng, "grid", "rows"), head_fill=pick(rng, None, 0.9))
        d.gap(0.7)
    total = sum(s_["workload_hours"] for ys in years.values() for s_ in ys)
    d.line(style.t(f"Carga horária total do curso: {total} horas."))
    end = sems[-1]
    what = "Educação de Jovens e Adultos - Ensino Médio" if stage == "em" else "EJA - Ensino Fundamental"
    d.line(style.t(f"Concluiu a {what} no {end['sem']}º semestre de {end['year']}."))
    d.line(style.t(f"Notas de 0 a {scale}; aprovação com nota mínima {num(style, passing * scale / 10, scale, 1)} e "
                   "frequência mínima de 75%."), size=d.size - 1)
    signature_block(d, style, rng, ["Secretário(a) Escolar", "Diretor(a)"], style.t(school.city), end["year"])
    d.save()
    t = truth(family, split, seed, "historico", end["year"], st, school, scale, d.pages,
              {"birth_date": show_birth, "class_name": False})
    t["years"] = [{"year": y, "grade_level": None, "overall_attendance_pct": None, "status": None, "subjects": subs}
                  for y, subs in sorted(years.items())]
    return t


UNSEEN3 = {
    "u3_quadrantes_bimestre": u3_quadrantes_bimestre,
    "u3_ascii_pipes": u3_ascii_pipes,
    "u3_descricao_direita": u3_descricao_direita,
    "u3_transposto_rotulo": u3_transposto_rotulo,
    "u3_bilingue_percent": u3_bilingue_percent,
    "u3_barras_caixas": u3_barras_caixas,
    "u3_app_celular": u3_app_celular,
    "u3_suap_if": u3_suap_if,
    "u3_hist_etapas": u3_hist_etapas,
    "u3_hist_duas_folhas": u3_hist_duas_folhas,
    "u3_hist_celula_dupla": u3_hist_celula_dupla,
    "u3_hist_exterior": u3_hist_exterior,
    "u3_hist_rodape_anos": u3_hist_rodape_anos,
    "u3_hist_eja_semestres": u3_hist_eja_semestres,
}


# ================================================================ look-alikes to refuse

def _ctx3(rng):
    style = Style2(rng)
    school = School(rng, style)
    year = rng.randint(2019, 2026)
    st = make_student(rng, style, year, rng.choice(LEVELS_INICIAIS + LEVELS_FINAIS + LEVELS_EM))
    return style, school, st, year


def _para3(d, text, bold=False, size=None):
    for ln in wrap(d, text, d.right - d.left, bold, size):
        d.line(ln, bold=bold, size=size)


def _money3(x):
    return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _person3(rng, style):
    return style.t(" ".join(p for p in (rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)) if p))


def _date3(rng, year):
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"


def extrato_atividades(d, rng):
    """A private school's fee statement: the months as rows, the tuition and
    each extra activity (Robótica, Inglês extra, Reforço de Matemática,
    Judô...) as columns of amounts, totals, paid / open."""
    style, school, st, year = _ctx3(rng)
    d.line(school.name, bold=True, size=d.size + 1.5)
    if school.cnpj_printed:
        d.line(f"{style.t(school.cnpj_label)} {school.cnpj_printed}")
    d.line(style.t(pick(rng, "EXTRATO FINANCEIRO DO ALUNO", "Demonstrativo de Mensalidades e Atividades",
                        "EXTRATO DE DÉBITOS E PAGAMENTOS")) + f" - {year}", bold=True, size=d.size + 2)
    d.line(f"{lab(style, rng, 'name')} {st.name}     {lab(style, rng, 'class')} {st.class_name}")
    who = _person3(rng, style)
    d.line(style.t(f"Responsável financeiro: {who}   CPF: ***.{rng.randint(100, 999)}.{rng.randint(100, 999)}-**"))
    d.gap(0.5)
    acts = rng.sample([("Robótica", 95.0), ("Inglês extra", 120.0), ("Reforço de Matemática", 80.0), ("Judô", 70.0),
                       ("Ballet", 85.0), ("Xadrez", 45.0), ("Futsal", 65.0), ("Redação - plantão", 60.0)],
                      rng.randint(2, 4))
    tuition = rng.choice([890.0, 1150.0, 1420.0, 1780.0])
    cols = [style.t("Mês/Venc."), style.t("Mensalidade")] + [style.t(a) for a, _ in acts] + [
        style.t("Desconto"), style.t("Total (R$)"), style.t("Situação")]
    body, total = [], 0.0
    paid_until = rng.randint(2, 11)
    for m in range(2, 13):
        vals = [tuition] + [p if rng.random() < 0.9 else 0.0 for _, p in acts]
        disc = tuition * pick(rng, 0.0, 0.05, 0.1)
        tot = sum(vals) - disc
        total += tot
        body.append([f"{m:02d}/{year} - 10/{m:02d}"] + [_money3(v) if v else "-" for v in vals]
                    + [_money3(disc) if disc else "-", _money3(tot),
                       style.t("Pago" if m <= paid_until else pick(rng, "Em aberto", "A vencer"))])
    table(d, [[(c_, 1) for c_ in cols]], body, [70, 64] + [62] * len(acts) + [50, 62, 56],
          ["l"] + ["r"] * (len(cols) - 2) + ["c"], rules=pick(rng, "grid", "rows"))
    d.gap(0.4)
    _para3(d, style.t(f"Total do exercício: R$ {_money3(total)}. Pagamentos após o vencimento: multa de 2% e juros de "
                      "1% a.m. Atividades extracurriculares podem ser canceladas com 30 dias de antecedência."))


def carteira_vacinacao(d, rng):
    """A vaccination record presented at enrolment: vaccines as rows, doses
    as columns with dates and batch numbers, the student's data on top."""
    style, school, st, year = _ctx3(rng)
    d.line(style.t(pick(rng, "DECLARAÇÃO DE SITUAÇÃO VACINAL", "Caderneta de Vacinação - Cópia para a Escola",
                        "COMPROVANTE DE VACINAÇÃO PARA MATRÍCULA")), bold=True, size=d.size + 2)
    d.line(style.t(f"Unidade Básica de Saúde {rng.choice(['Vila Nova', 'Centro', 'Jardim América', 'São José'])} - "
                   f"{school.city}/{school.uf}   CNES {rng.randint(10**6, 10**7 - 1)}"))
    d.gap(0.3)
    d.line(f"{style.t('Nome:')} {st.name}")
    d.line(f"{style.t('Data de nascimento:')} {st.birth}   {style.t('Cartão SUS:')} "
           f"{rng.randint(100, 999)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}")
    d.line(style.t(f"Escola: {school.name}   Turma: ") + st.class_name)
    d.gap(0.5)
    by = int(st.birth[-4:])
    vaccines = [("BCG", 1), ("Hepatite B", 3), ("Pentavalente (DTP+Hib+HB)", 3), ("VIP/VOP (Poliomielite)", 4),
                ("Pneumocócica 10V", 3), ("Meningocócica C", 3), ("Febre Amarela", 2), ("Tríplice Viral (SCR)", 2),
                ("DTP (reforços)", 2), ("HPV", 2), ("dT adulto", 1), ("COVID-19", 3)]
    body = []
    for v, n in vaccines:
        cells = [style.t(v)]
        for k in range(4):
            if k < n and rng.random() < 0.9:
                day, month = rng.randint(1, 28), rng.randint(1, 12)
                when = min(year, by + k + rng.randint(0, 4))
                cells.append(f"{day:02d}/{month:02d}/{when}\u00a0L{rng.randint(100, 999)}")
            else:
                cells.append("" if k >= n else pick(rng, "-", "pendente"))
        body.append(cells)
    table(d, [[(style.t(x), 1) for x in ("Vacina", "1ª dose", "2ª dose", "3ª dose", "Reforço")]], body,
          [150, 90, 90, 90, 90], ["l", "c", "c", "c", "c"], rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    _para3(d, style.t("Situação vacinal: " + pick(rng, "em dia.", "com pendências - procurar a UBS em até 30 dias.")
                      + f" Emitido em {_date3(rng, year)} por {_person3(rng, style)}, técnico(a) de enfermagem, COREN "
                      f"{rng.randint(100000, 999999)}."))


def calendario_letivo(d, rng):
    """A school calendar: the bimesters with start, end and school days, the
    school days per month, holidays and the class councils; 200 days."""
    style, school, st, year = _ctx3(rng)
    d.line(school.name, bold=True, size=d.size + 1)
    d.line(style.t(pick(rng, f"CALENDÁRIO ESCOLAR {year}", f"Calendário Letivo - Ano {year}",
                        f"CALENDÁRIO ESCOLAR - ANO LETIVO {year}")), bold=True, size=d.size + 2.5)
    d.gap(0.4)
    tl = term_names(rng, style, 4)
    body = []
    starts = [("05/02", "19/04", 50), ("22/04", "05/07", 49), ("22/07", "27/09", 48), ("30/09", "13/12", 53)]
    for t_, (a, b, n) in zip(tl, starts):
        body.append([t_, f"{a}/{year}", f"{b}/{year}", str(n), f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}"])
    table(d, [[(style.t(x), 1) for x in ("Período", "Início", "Término", "Dias letivos", "Conselho de Classe")]], body,
          [80, 70, 70, 70, 100], ["l", "c", "c", "c", "c"], rules=pick(rng, "grid", "rows"))
    d.gap(0.6)
    months = ["Fev", "Mar", "Abr", "Mai", "Jun", "Jul", "Ago", "Set", "Out", "Nov", "Dez"]
    days = [17, 20, 19, 21, 19, 8, 21, 20, 21, 18, 16]
    table(d, [[(style.t("Mês"), 1)] + [(style.t(m), 1) for m in months] + [("Total", 1)]],
          [[style.t("Dias letivos")] + [str(x) for x in days] + [str(sum(days))],
           [style.t("Sábados letivos")] + [str(rng.choice([0, 0, 1])) for _ in months] + [""]],
          [80] + [32] * len(months) + [40], ["l"] + ["c"] * (len(months) + 1))
    d.gap(0.6)
    d.line(style.t("Feriados e recessos:"), bold=True)
    for h in ["Carnaval: 12 e 13/02", "Sexta-feira Santa: 29/03", "Tiradentes: 21/04", "Recesso escolar: 08 a 19/07",
              "Independência: 07/09", "Nossa Senhora Aparecida: 12/10", "Proclamação da República: 15/11"]:
        d.line(style.t("  • " + h) if rng.random() < 0.5 else style.t("  - " + h))
    d.gap(0.3)
    _para3(d, style.t("Carga horária mínima anual: 800 horas distribuídas em 200 dias de efetivo trabalho escolar "
                      "(Lei nº 9.394/96, art. 24)."))


def boletim_em_branco(d, rng):
    """A report card FORM printed blank for manual filling: the student's
    name and class are filled in, the subject rows are there, every grade
    and absence cell is empty."""
    style, school, st, year = _ctx3(rng)
    d.line(school.name, bold=True, size=d.size + 1.5)
    d.line(school.ids_line(style))
    d.line(style.t(pick(rng, "BOLETIM ESCOLAR", "Ficha de Notas - Preenchimento Manual", "Boletim Escolar (modelo)"))
           + f" - {year}", bold=True, size=d.size + 2)
    d.line(f"{lab(style, rng, 'name')} {st.name}     {lab(style, rng, 'class')} {st.class_name}")
    d.gap(0.4)
    n_terms = pick(rng, 4, 3)
    tl = term_names(rng, style, n_terms)
    codes = choose_codes(rng, EF_FINAIS, 7, 10)
    heads = [[(style.t("Componente Curricular"), 1)] + [(x, 2) for x in tl] + [(style.t("Média Final"), 1),
                                                                               (style.t("Total de Faltas"), 1)],
             [("", 1)] + [(style.t(x), 1) for _ in tl for x in ("N", "F")] + [("", 1), ("", 1)]]
    body = [[spelling(style, rng, c_)] + [""] * (2 * n_terms + 2) for c_ in codes]
    table(d, heads, body, [140] + [30, 24] * n_terms + [56, 56], ["l"] + ["c"] * (2 * n_terms + 2))
    d.gap(0.6)
    _para3(d, style.t("Preencher a caneta azul. As notas deverão ser transcritas para o sistema até o último dia do "
                      "período. Média mínima para aprovação: 6,0."))
    signature_block(d, style, rng, ["Professor(a) conselheiro(a)", "Coordenação"])


def declaracao_componentes(d, rng):
    """A declaration of enrolment listing the components the student is
    taking this year, with their weekly classes and annual hours."""
    style, school, st, year = _ctx3(rng)
    school_head = [school.name, school.ids_line(style)]
    for s in school_head:
        centre(d, s, bold=s == school.name)
    d.gap(0.8)
    centre(d, style.t(pick(rng, "DECLARAÇÃO DE MATRÍCULA", "Declaração de Matrícula e Frequência",
                           "DECLARAÇÃO")), bold=True, size=d.size + 3)
    d.gap(0.6)
    purpose = pick(rng, "comprovação junto ao empregador", "estágio", "meia-entrada", "benefício social")
    _para3(d, style.t(f"Declaramos, para fins de {purpose}, "
                      f"que {st.name}, nascido(a) em {st.birth}, matrícula {st.registration}, encontra-se regularmente "
                      f"matriculado(a) no {st.class_name} desta unidade escolar no ano letivo de {year}, turno "
                      f"{pick(rng, 'matutino', 'vespertino', 'noturno')}, cursando os componentes curriculares "
                      "abaixo:"))
    d.gap(0.4)
    codes = choose_codes(rng, EF_FINAIS + ["fisica", "quimica", "biologia"], 7, 11)
    body = []
    for c_ in codes:
        w = {"lingua-portuguesa": 5, "matematica": 5}.get(c_, rng.choice([1, 2, 2, 3]))
        body.append([spelling(style, rng, c_), str(w), str(w * 40)])
    body.append({"cells": [style.t("Total"), str(sum(int(b[1]) for b in body)), str(sum(int(b[2]) for b in body))],
                 "bold": True})
    table(d, [[(style.t(x), 1) for x in ("Componente Curricular", "Aulas semanais", "Carga horária anual (h)")]], body,
          [170, 90, 120], ["l", "c", "c"], rules=pick(rng, "grid", "rows"))
    d.gap(0.6)
    _para3(d, style.t(f"Frequência até a presente data: {pct_s(rng.uniform(85, 99))}%. Por ser verdade, firmamos a "
                      "presente declaração."))
    signature_block(d, style, rng, ["Secretário(a) Escolar"], style.t(school.city), year)


def boletim_desempenho_escola(d, rng):
    """The school's SAEB / IDEB performance bulletin: proficiency in Língua
    Portuguesa and Matemática per edition, approval rate and IDEB against
    the target; no student."""
    style, school, st, year = _ctx3(rng)
    d.line(style.t("MINISTÉRIO DA EDUCAÇÃO - INEP"), bold=True)
    d.line(style.t(pick(rng, "Boletim de Desempenho da Escola - SAEB/IDEB", "BOLETIM IDEB DA ESCOLA",
                        "Resultados do SAEB e do IDEB")), bold=True, size=d.size + 2.5)
    d.line(style.t(f"Escola: {school.name}   Código INEP: {school.inep}"))
    d.line(style.t(f"Município: {school.city}/{school.uf}   Rede: {pick(rng, 'Estadual', 'Municipal')}   Etapa: "
                   + pick(rng, "Anos Finais do Ensino Fundamental (9º ano)",
                          "Anos Iniciais do Ensino Fundamental (5º ano)")))
    d.gap(0.5)
    editions = [e for e in (2013, 2015, 2017, 2019, 2021, 2023) if e <= year][-5:]
    body = []
    for e in editions:
        lp, mt = rng.uniform(220, 280), rng.uniform(225, 290)
        apr = rng.uniform(0.82, 0.99)
        n = ((lp - 100) / 3 + (mt - 125) / 3.25) / 20
        body.append([str(e), pct_s(lp), pct_s(mt), f"{apr:.2f}".replace(".", ","), f"{n * apr:.1f}".replace(".", ","),
                     f"{rng.uniform(3.8, 6.0):.1f}".replace(".", ",")])
    table(d, [[(style.t(x), 1) for x in ("Edição", "Proficiência LP", "Proficiência MT", "Indicador de rendimento (P)",
                                         "IDEB observado", "Meta")]], body, [46, 80, 80, 120, 80, 50],
          ["c"] * 6, rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    d.line(style.t("Distribuição dos estudantes por nível de proficiência (última edição):"), bold=True)
    lv = [rng.uniform(0, 30) for _ in range(9)]
    tot = sum(lv)
    table(d, [[(style.t("Nível"), 1)] + [(str(i), 1) for i in range(9)]],
          [[style.t("Língua Portuguesa (%)")] + [pct_s(100 * x / tot) for x in lv]],
          [110] + [36] * 9, ["l"] + ["c"] * 9)
    d.gap(0.4)
    _para3(d, style.t("IDEB = N × P, em que N é a média da proficiência padronizada (0 a 10) e P o indicador de "
                      "rendimento. Fonte: Saeb e Censo Escolar."))


def avaliacao_fisica(d, rng):
    """A PROESP-BR physical-education fitness record of one student: body
    measures and test results per assessment (decimal numbers per term) and
    a health-zone classification."""
    style, school, st, year = _ctx3(rng)
    d.line(school.name, bold=True)
    d.line(style.t(pick(rng, "FICHA DE AVALIAÇÃO FÍSICA - PROESP-BR", "Avaliação da Aptidão Física e Saúde",
                        "EDUCAÇÃO FÍSICA - AVALIAÇÃO MORFOFUNCIONAL")) + f" - {year}", bold=True, size=d.size + 2)
    d.line(f"{lab(style, rng, 'name')} {st.name}   {lab(style, rng, 'class')} {st.class_name}   "
           f"{lab(style, rng, 'birth')} {st.birth}")
    d.line(style.t(f"Professor(a) de Educação Física: {_person3(rng, style)}"))
    d.gap(0.5)
    tl = [style.t(x) for x in pick(rng, ("1ª Avaliação (mar)", "2ª Avaliação (jun)", "3ª Avaliação (out)"),
                                   ("1º Bim", "2º Bim", "3º Bim", "4º Bim"))]
    tests = [("Massa corporal (kg)", 35, 70, 1), ("Estatura (m)", 1.35, 1.80, 2), ("IMC (kg/m²)", 15, 25, 1),
             ("Envergadura (cm)", 135, 180, 1), ("Flexibilidade - sentar e alcançar (cm)", 15, 45, 1),
             ("Abdominal em 1 min (rep.)", 15, 45, 0), ("Salto horizontal (cm)", 110, 210, 0),
             ("Corrida de 20 m (s)", 3.2, 4.8, 2), ("Corrida/caminhada 6 min (m)", 800, 1400, 0)]
    body = []
    for name, lo, hi, dec in tests:
        base = rng.uniform(lo, hi)
        vals = []
        for _ in tl:
            base *= rng.uniform(0.98, 1.04)
            vals.append(f"{base:.{dec}f}".replace(".", ","))
        body.append([style.t(name)] + vals + [style.t(pick(rng, "Zona saudável", "Zona saudável", "Zona de risco"))])
    table(d, [[(style.t("Medida / Teste"), 1)] + [(x, 1) for x in tl] + [(style.t("Classificação"), 1)]], body,
          [190] + [62] * len(tl) + [80], ["l"] + ["c"] * (len(tl) + 1), rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    _para3(d, style.t("Classificação segundo os pontos de corte do PROESP-BR por sexo e idade. Resultados para "
                      "acompanhamento da saúde, sem atribuição de nota."))


def cronograma_recuperacao(d, rng):
    """The timetable of the parallel recovery classes of a term: per
    component the dates, time, room, teacher and content, and the students
    called to each."""
    style, school, st, year = _ctx3(rng)
    d.line(school.name, bold=True, size=d.size + 1)
    k = rng.randint(1, 4)
    d.line(style.t(f"CRONOGRAMA DE RECUPERAÇÃO PARALELA - {k}º BIMESTRE/{year}"), bold=True, size=d.size + 2)
    d.line(style.t(f"Turma: {st.class_name}   Coordenação: {_person3(rng, style)}"))
    d.gap(0.5)
    body = []
    for c_ in rng.sample(["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia", "lingua-inglesa"], 4):
        dates = ", ".join(f"{rng.randint(1, 28):02d}/{rng.randint(3, 11):02d}" for _ in range(rng.randint(2, 3)))
        body.append([spelling(style, rng, c_), dates, pick(rng, "13h30 às 15h10", "07h00 às 07h50", "15h20 às 17h00"),
                     f"{pick(rng, 'Sala', 'Lab.')} {rng.randint(1, 14)}", _person3(rng, style),
                     style.t(pick(rng, "Frações e porcentagem", "Interpretação de texto", "Equações do 1º grau",
                                  "Cartografia", "Verb to be", "Célula e tecidos"))])
    table(d, [[(style.t(x), 1) for x in ("Componente", "Datas", "Horário", "Local", "Professor(a)", "Conteúdo")]], body,
          [100, 90, 80, 46, 110, 110], ["l", "c", "c", "c", "l", "l"], rules=pick(rng, "grid", "rows"))
    d.gap(0.6)
    d.line(style.t("Estudantes convocados:"), bold=True)
    body = []
    for i in range(rng.randint(5, 9)):
        name = st.name if i == 0 else _person3(rng, style)
        comps = ", ".join(spelling(style, rng, c_, short=True) for c_ in rng.sample(
            ["lingua-portuguesa", "matematica", "ciencias", "historia", "geografia"], rng.randint(1, 3)))
        body.append([str(i + 1), name, comps])
    table(d, [[(style.t(x), 1) for x in ("Nº", "Estudante", "Componentes")]], body, [26, 220, 200], ["c", "l", "l"],
          rules=pick(rng, "grid", "rows"))
    d.gap(0.5)
    _para3(d, style.t("A presença é obrigatória. A nota da avaliação de recuperação substitui a nota do bimestre "
                      "quando for maior."))


UNSEEN3_REJECTS = {
    "extrato_atividades": extrato_atividades,
    "carteira_vacinacao": carteira_vacinacao,
    "calendario_letivo": calendario_letivo,
    "boletim_em_branco": boletim_em_branco,
    "declaracao_componentes": declaracao_componentes,
    "boletim_desempenho_escola": boletim_desempenho_escola,
    "avaliacao_fisica": avaliacao_fisica,
    "cronograma_recuperacao": cronograma_recuperacao,
}
