"""TUNE-SIDE extra families of gen_families.py (`--extra N`), written by the
parser's tuner (docs-parser3) for the shapes issue 14 lists as failing:
a subject as a heading with `B1: 9,5 B2: 8,0 … Média: 8,0` and `Faltas: 3
Frequência: 98,1%` lines; rotated term headers with subject names wrapped
over two lines; históricos with the school years as columns; a table per
year with a code column. They are tune data (split `tune_family`, files
`famxtune-…`): the parser may be tuned on them, so they are no measure of
unseen layouts — the HOLDOUT families of gen_families.py stay that.
"""

from fam_common import (
    ALL_SUBJECTS, HS_SUBJECTS, SANS, SERIF, SPANISH, SUBJECTS, Doc, School, Student, Style, academic_truth,
    grade, grid, pick_subjects, school_lines, student_lines, subject_rows, subject_truth, value,
)
from fam_boletins import header, pick, scale_of


def xt_heading_lines(path, rng, family, split, seed):
    """Each subject a heading (bold, often capitals) followed by a line of
    `B1: 9,5  B2: 8,0 … Média: 8,0` and a line `Faltas: 3  Frequência: 98,1%`."""
    style = Style(rng)
    scale = scale_of(rng, 0.15)
    d = Doc(path, rng, SANS + SERIF)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 6, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    form = pick(rng, "B{}:", "{}º Bim:", "{}ºB:", "Nota {}º Bim.:", "{}º Bimestre:", "N{}:")
    if n_terms == 3:
        form = pick(rng, "T{}:", "{}º Trim.:", "{}º Tri:")
    ml = style.t(pick(rng, "Média:", "Média Final:", "MF:", "Média Anual:"))
    fl = style.t(pick(rng, "Faltas:", "Total de Faltas:", "Faltas:"))
    pl = style.t(pick(rng, "Frequência:", "Freq.:", "Frequência (%):"))
    upper_heading = rng.random() < 0.5
    for r in rows:
        d.need(d.lead * 3.5)
        name = r["written"].upper() if upper_heading else r["written"]
        d.line(name, bold=True)
        parts = [f"{style.t(form.format(k + 1))} {r['terms_s'][k] or '-'}" for k in range(n_terms)]
        parts.append(f"{ml} {r['media_s']}")
        d.line("   ".join(parts), x=d.left + 10)
        d.line(f"{fl} {r['faltas']}   {pl} {r['freq_s']}%", x=d.left + 10)
        d.gap(0.3)
    d.save()
    for r in rows:
        # an empty term prints as `-` here
        r["terms"] = [value(s or None) for s in r["terms_s"]]
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, status=False) for r in rows]
    t["pages"] = d.pages
    return t


def _wrap(d, s, w):
    """Splits a subject name over two lines when it is wider than w."""
    out = []
    for word in s.split(" "):
        if out and d.width(out[-1] + " " + word) <= w:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def xt_rotated_wrapped(path, rng, family, split, seed):
    """A ruled grid whose term/média/faltas headers are printed turned 90°,
    and whose long subject names wrap over two lines inside the row."""
    style = Style(rng)
    scale = 10
    d = Doc(path, rng, SANS + SERIF)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 3)
    pool = {**SUBJECTS, **SPANISH}
    codes = pick_subjects(rng, pool, 7, 10)
    long_names = {"lingua-portuguesa": "Língua Portuguesa e Literatura",
                  "lingua-inglesa": "Língua Estrangeira Moderna - Inglês",
                  "educacao-fisica": "Educação Física e Saúde", "ciencias": "Ciências da Natureza"}
    rows = subject_rows(rng, style, codes, n_terms, scale,
                        spell=lambda c: style.t(long_names.get(c) or rng.choice(ALL_SUBJECTS[c])))
    labels = ([style.t(f"{k + 1}º {pick(rng, 'Bimestre', 'Bim.')}") for k in range(n_terms)] if n_terms == 4 else
              [style.t(f"{k + 1}º Trimestre") for k in range(n_terms)])
    labels += [style.t(pick(rng, "Média Final", "Média Anual")), style.t("Faltas"), style.t(pick(rng, "Frequência (%)", "% Freq."))]
    name_h = style.t(pick(rng, "Componente Curricular", "Disciplina"))
    longest = max(d.width(r["written"]) for r in rows)
    name_w = max(d.width(name_h, True) + 10, longest * rng.uniform(0.55, 0.75), 70)
    cw = 30
    x0 = d.left
    xs = [x0, x0 + name_w]
    for _ in labels:
        xs.append(xs[-1] + cw)
    head_h = max(d.width(lbl, True) for lbl in labels) + 12
    top = d.y + d.lead
    d.c.setLineWidth(0.5)
    d.c.setFont(d.bold, d.size)
    d.c.drawString(x0 + 3, top - head_h + 6, name_h)
    for k, lbl in enumerate(labels):
        cx = (xs[k + 1] + xs[k + 2]) / 2
        d.c.saveState()
        d.c.translate(cx + d.size * 0.35, top - head_h + 5)
        d.c.rotate(90)
        d.c.drawString(0, 0, lbl)
        d.c.restoreState()
    for x in xs:
        d.c.line(x, top, x, top - head_h)
    d.c.line(x0, top, xs[-1], top)
    d.c.line(x0, top - head_h, xs[-1], top - head_h)
    y = top - head_h
    for r in rows:
        parts = _wrap(d, r["written"], name_w - 6)
        h = d.lead * (1.0 + 0.85 * (len(parts) - 1)) + 4
        if y - h < 50:
            d.new_page()
            y = d.y + d.lead
            d.c.setLineWidth(0.5)
            d.c.line(x0, y, xs[-1], y)
        d.c.setFont(d.font, d.size)
        base = y - d.size - 3
        for i, p in enumerate(parts):
            d.c.drawString(x0 + 3, base - i * d.lead * 0.85, p)
        cells = r["terms_s"] + [r["media_s"], str(r["faltas"]), r["freq_s"]]
        vy = base if rng.random() < 0.5 or len(parts) == 1 else base - d.lead * 0.42
        for k, v in enumerate(cells):
            d.c.drawCentredString((xs[k + 1] + xs[k + 2]) / 2, vy, v)
        for x in xs:
            d.c.line(x, y, x, y - h)
        y -= h
        d.c.line(x0, y, xs[-1], y)
    d.y = y - d.lead * 1.5
    d.line(style.t("Legenda: Média mínima para aprovação 6,0."), size=d.size - 1)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, status=False) for r in rows]
    t["pages"] = d.pages
    return t


def _hist_years(rng, style, hs, n_years, first):
    pool = dict(SUBJECTS)
    if hs:
        pool = {k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")}
        pool.update(HS_SUBJECTS)
    codes = pick_subjects(rng, pool, 7, 11)
    spelled = {c: style.t(rng.choice(ALL_SUBJECTS[c])) for c in codes}
    levels = ["1ª Série", "2ª Série", "3ª Série"] if hs else ["6º Ano", "7º Ano", "8º Ano", "9º Ano"]
    start = rng.randint(0, len(levels) - n_years)
    years = []
    for i in range(n_years):
        subs = {}
        for c in codes:
            gs = style.num(grade(rng, rng.uniform(5.5, 9.6), 10), 10)
            subs[c] = {"grade_s": gs, "grade": value(gs), "ch": rng.choice([40, 80, 120, 160])}
        years.append({"year": first + i, "level": style.t(levels[start + i]), "subs": subs})
    return codes, spelled, years


def xt_hist_year_columns(path, rng, family, split, seed):
    """Histórico: subjects as rows, each school year a column whose header is
    the level over the year (`6º Ano` / `2021`), the cell the year's grade."""
    style = Style(rng)
    d = Doc(path, rng, SANS + SERIF)
    school = School(rng, style)
    st = Student(rng, style)
    hs = rng.random() < 0.4
    n_years = rng.randint(2, 3 if hs else 4)
    first = rng.randint(2016, 2021)
    codes, spelled, years = _hist_years(rng, style, hs, n_years, first)
    school_lines(d, school, style, rng)
    d.gap(0.4)
    d.line(style.t(pick(rng, "HISTÓRICO ESCOLAR", "Histórico Escolar do Ensino Fundamental", "Histórico Escolar")),
           bold=True, size=d.size + 3)
    student_lines(d, st, style, rng, None)
    d.gap(0.6)
    one_line = rng.random() < 0.4
    name_h = style.t(pick(rng, "Componentes Curriculares", "Disciplinas", "Componente Curricular"))
    if one_line:
        heads = [[(name_h, 1)] + [(f"{y['level']} {y['year']}", 1) for y in years]]
    else:
        heads = [[("", 1)] + [(y["level"], 1) for y in years], [(name_h, 1)] + [(str(y["year"]), 1) for y in years]]
    body = [[spelled[c]] + [y["subs"][c]["grade_s"] for y in years] for c in codes]
    name_w = max(d.width(s) for s in spelled.values()) + 14
    grid(d, heads, body, [name_w] + [64] * n_years, ["l"] + ["c"] * n_years, ruled=rng.random() < 0.7)
    d.gap()
    d.line(style.t("Resultado: APROVADO em todos os anos."))
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["years"] = [{"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": None, "status": None,
                   "subjects": [{"code": c, "final_grade": y["subs"][c]["grade"]} for c in codes]} for y in years]
    t["pages"] = d.pages
    return t


def xt_hist_code_tables(path, rng, family, split, seed):
    """Histórico: a heading per year (`2021 - 6º Ano`, `Ano Letivo: 2021`),
    then that year's table with a code column before the subject:
    `Código | Componente | CH | Nota | Faltas`."""
    style = Style(rng)
    d = Doc(path, rng, SANS + SERIF)
    school = School(rng, style)
    st = Student(rng, style)
    hs = rng.random() < 0.4
    n_years = rng.randint(2, 3)
    first = rng.randint(2016, 2021)
    codes, spelled, years = _hist_years(rng, style, hs, n_years, first)
    school_lines(d, school, style, rng)
    d.gap(0.4)
    d.line(style.t(pick(rng, "HISTÓRICO ESCOLAR", "Histórico Escolar")), bold=True, size=d.size + 3)
    student_lines(d, st, style, rng, None)
    d.gap(0.6)
    prefix = {c: pick(rng, c[:3].upper(), c[:2].upper()) for c in codes}
    faltas = {}
    cols = [style.t(pick(rng, "Código", "Cód.")), style.t(pick(rng, "Componente Curricular", "Disciplina")),
            style.t(pick(rng, "CH", "C.H.")), style.t(pick(rng, "Nota", "Média Final", "MF")), style.t("Faltas")]
    head = pick(rng, "Ano Letivo: {y} - {s}", "{y} - {s}", "ANO: {y}   SÉRIE: {s}")
    for y in years:
        d.need(d.lead * (len(codes) + 3))
        d.line(style.t(head.format(y=y["year"], s=y["level"])), bold=True)
        body = []
        for k, c in enumerate(codes):
            f = rng.choice([0, 0, 1, 2, 4, 7])
            faltas[(y["year"], c)] = f
            s = y["subs"][c]
            body.append([f"{prefix[c]}{k + 1:02d}", spelled[c], str(s["ch"]), s["grade_s"], str(f)])
        name_w = max(d.width(s) for s in spelled.values()) + 14
        grid(d, [[(x, 1) for x in cols]], body, [46, name_w, 40, 50, 44], ["c", "l", "c", "c", "c"],
             ruled=rng.random() < 0.7)
        d.gap(0.8)
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["years"] = [{"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": None, "status": None,
                   "subjects": [{"code": c, "final_grade": y["subs"][c]["grade"], "workload_hours": y["subs"][c]["ch"],
                                 "absences": faltas[(y["year"], c)]} for c in codes]} for y in years]
    t["pages"] = d.pages
    return t


EXTRA_TUNE = {
    "xt_heading_lines": xt_heading_lines,
    "xt_rotated_wrapped": xt_rotated_wrapped,
    "xt_hist_year_columns": xt_hist_year_columns,
    "xt_hist_code_tables": xt_hist_code_tables,
}
