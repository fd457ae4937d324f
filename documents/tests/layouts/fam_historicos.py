"""Histórico (transcript) families of gen_families.py: years as rows (one
row per subject-year), per-year sections split across pages mid-table, and
years as column groups with `Nota | CH` under each. Each returns its truth
(`years`, each with its subjects' final grade, workload, attendance, status
where printed).
"""

from fam_common import (
    ALL_SUBJECTS, HS_SUBJECTS, SANS, SERIF, SPANISH, SUBJECTS, Doc, School, Student, Style, academic_truth,
    fold, grade, grid, school_lines, student_lines, value,
)
from fam_boletins import pick


def years_data(rng, style, n_years, first, hs, scale=10):
    """Per year: level, subjects (code, written, grade string, CH, freq), status."""
    pool = dict(SUBJECTS)
    if hs:
        pool = {k: v for k, v in SUBJECTS.items() if k not in ("ciencias", "ensino-religioso")}
        pool.update(HS_SUBJECTS)
    if rng.random() < 0.4:
        pool.update(SPANISH)
    codes = list(pool)
    rng.shuffle(codes)
    codes = codes[: rng.randint(7, min(12, len(codes)))]
    order = list(ALL_SUBJECTS)
    codes.sort(key=order.index)
    spelled = {c: style.t(rng.choice(ALL_SUBJECTS[c])) for c in codes}
    if hs:
        levels = ["1ª Série", "2ª Série", "3ª Série"]
    else:
        levels = ["6º Ano", "7º Ano", "8º Ano", "9º Ano"]
    start = rng.randint(0, len(levels) - n_years)
    years = []
    for i in range(n_years):
        subs = []
        for c in codes:
            g = grade(rng, rng.uniform(5.5, 9.6), scale)
            gs = style.num(g, scale)
            subs.append({"code": c, "written": spelled[c], "grade_s": gs, "grade": value(gs),
                         "ch": rng.choice([40, 80, 80, 120, 160, 200]), "freq": round(rng.uniform(82, 100), 1)})
        years.append({"year": first + i, "level": style.t(levels[start + i]), "subjects": subs,
                      "freq": round(sum(s["freq"] for s in subs) / len(subs), 1), "status": "aprovado"})
    return codes, spelled, years


def hist_header(d, style, rng, school, st, hs):
    network = pick(rng, None, "SECRETARIA DE ESTADO DA EDUCAÇÃO", "Secretaria Municipal de Educação")
    school_lines(d, school, style, rng, network)
    d.gap(0.5)
    level = "Ensino Médio" if hs else "Ensino Fundamental"
    d.line(style.t(pick(rng, "HISTÓRICO ESCOLAR", f"Histórico Escolar - {level}", f"HISTÓRICO ESCOLAR DO {level.upper()}",
                        "Histórico Escolar")), bold=True, size=d.size + 3)
    d.gap(0.3)
    student_lines(d, st, style, rng, None)
    d.gap(0.6)


def pct_s(x):
    return f"{x:.1f}".replace(".", ",")


def hist_year_rows(path, rng, family, split, seed):
    """One row per subject and year: `Ano | Série | Componente | CH | Nota |
    Freq. | Resultado`; year and série often printed only on a group's
    first row (merged cells)."""
    style = Style(rng)
    d = Doc(path, rng, size=rng.choice([7.5, 8, 8.5]))
    d.lead = d.size * rng.uniform(1.35, 1.6)
    school = School(rng, style)
    hs = rng.random() < 0.4
    n_years = rng.randint(2, 3)
    first = rng.randint(2017, 2022)
    st = Student(rng, style)
    codes, spelled, years = years_data(rng, style, n_years, first, hs)
    hist_header(d, style, rng, school, st, hs)
    merged = rng.random() < 0.6
    with_freq = rng.random() < 0.6
    cols = [style.t("Ano"), style.t(pick(rng, "Série", "Ano/Série", "Etapa")),
            style.t(pick(rng, "Componente Curricular", "Disciplina")), style.t(pick(rng, "CH", "C.H.", "Carga Horária")),
            style.t(pick(rng, "Nota", "Média Final", "MF"))]
    if with_freq:
        cols.append(style.t(pick(rng, "Freq. (%)", "% Freq.")))
    cols.append(style.t(pick(rng, "Resultado", "Situação")))
    body = []
    for y in years:
        for i, s in enumerate(y["subjects"]):
            first_row = i == 0 or not merged
            cells = [str(y["year"]) if first_row else "", y["level"] if first_row else "", s["written"], str(s["ch"]),
                     s["grade_s"]]
            if with_freq:
                cells.append(pct_s(s["freq"]))
            cells.append(style.t(pick(rng, "Aprovado", "APROVADO", "Aprov.")) if not merged or i == 0 else
                         style.t("Aprovado"))
            body.append(cells)
    name_w = max(d.width(s) for s in spelled.values()) + 12
    widths = [36, 56, name_w, 40, 44] + ([48] if with_freq else []) + [62]
    grid(d, [[(c, 1) for c in cols]], body, widths, ["c", "c", "l", "c", "c"] + ["c"] * (len(cols) - 5),
         ruled=rng.random() < 0.7)
    d.gap()
    d.line(style.t("Observações: ---"))
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["years"] = [{"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": None, "status": None,
                   "subjects": [{"code": s["code"], "final_grade": s["grade"], "workload_hours": s["ch"],
                                 "attendance_pct": s["freq"] if with_freq else None, "status": "aprovado"}
                                for s in y["subjects"]]} for y in years]
    t["pages"] = d.pages
    return t


def hist_split_pages(path, rng, family, split, seed):
    """A section per year (`Ano Letivo: 2021 Série: 7º Ano`, school and town),
    a table per section, one of them broken across pages mid-table with
    no header on the continuation; each section ends with its result and
    annual attendance."""
    style = Style(rng)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([9.5, 10, 10.5]))
    d.lead = d.size * rng.uniform(1.9, 2.3)
    school = School(rng, style)
    hs = rng.random() < 0.5
    n_years = rng.randint(2, 3)
    first = rng.randint(2017, 2022)
    st = Student(rng, style)
    codes, spelled, years = years_data(rng, style, n_years, first, hs)
    hist_header(d, style, rng, school, st, hs)
    cols = [style.t(pick(rng, "Componente Curricular", "Disciplinas")), style.t(pick(rng, "Nota Final", "Média", "Nota")),
            style.t(pick(rng, "C.H.", "CH (h)", "Carga Horária"))]
    name_w = max(d.width(s) for s in spelled.values()) + 14
    widths = [name_w, 60, 70]
    ruled = rng.random() < 0.7
    broken = rng.randrange(n_years)
    for k, y in enumerate(years):
        body = [[s["written"], s["grade_s"], str(s["ch"])] for s in y["subjects"]]
        brk = None
        if k == broken:
            # fill the page with remarks so that this section's table breaks after `want` rows
            want = rng.randint(2, len(body) - 2)
            fits = int((d.y - 46) / d.lead) - 3
            if fits < want:
                d.new_page()
                fits = int((d.y - 46) / d.lead) - 3
            fill = fits - want
            if fill > 0:
                remarks = ["Estudos realizados conforme a Lei nº 9.394/96 (LDB).", "Carga horária em horas-relógio.",
                           "Componentes da parte diversificada conforme a proposta pedagógica."]
                d.line(style.t("Observações:"), bold=True)
                for line in remarks[: max(0, fill - 1)]:
                    d.line(style.t(line), size=d.size - 1)
                d.y -= max(0, fill - 1 - len(remarks)) * d.lead
            brk = want
        elif d.y < 200:
            d.new_page()
        head = pick(rng, "Ano Letivo: {y}   Série: {s}", "{y} - {s}", "ANO: {y}  SÉRIE/ANO: {s}")
        d.line(style.t(head.format(y=y["year"], s=y["level"])), bold=True)
        d.line(style.t(f"{pick(rng, 'Estabelecimento', 'Escola')}: {school.name} - {school.city}/{school.uf}"),
               size=d.size - 1)
        grid(d, [[(c, 1) for c in cols]], body, widths, ["l", "c", "c"], ruled=ruled, repeat_header=False,
             break_at=brk)
        total_ch = sum(s["ch"] for s in y["subjects"])
        d.line(style.t(f"Carga horária anual: {total_ch} h"))
        d.line(style.t(f"{pick(rng, 'Frequência', 'Frequência anual', 'Freq.')}: {pct_s(y['freq'])}%"
                       f"     {pick(rng, 'Resultado', 'Situação final')}: {pick(rng, 'Aprovado', 'APROVADO', 'Promovido')}"))
        d.gap(0.8)
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["years"] = []
    for y in years:
        t["years"].append({"year": y["year"], "grade_level": y["level"], "overall_attendance_pct": y["freq"],
                           "status": None,
                           "subjects": [{"code": s["code"], "final_grade": s["grade"], "workload_hours": s["ch"]}
                                        for s in y["subjects"]]})
    t["pages"] = d.pages
    return t


def hist_years_cols_ch(path, rng, family, split, seed):
    """Subjects as rows, each year a column group (`7º Ano / 2020` over
    `Nota | CH`), then rows of total workload, attendance and result per
    year; a table of the schools attended (years, towns) below."""
    style = Style(rng)
    n_years = rng.randint(3, 4)
    d = Doc(path, rng, land=n_years == 4 and rng.random() < 0.6, size=rng.choice([7.5, 8, 8.5]))
    school = School(rng, style)
    hs = n_years == 3 and rng.random() < 0.4
    first = rng.randint(2016, 2021)
    st = Student(rng, style)
    codes, spelled, years = years_data(rng, style, n_years, first, hs)
    hist_header(d, style, rng, school, st, hs)
    form = pick(rng, "{s} / {y}", "{s} - {y}", "{y} ({s})")
    nl, cl = pick(rng, ("Nota", "CH"), ("N", "CH"), ("Média", "C.H."), ("MF", "CH"))
    h1 = [(style.t(pick(rng, "Componentes Curriculares", "Base Nacional Comum")), 1)] + [
        (form.format(s=y["level"], y=y["year"]), 2) for y in years]
    h2 = [("", 1)] + [(style.t(x), 1) for _ in years for x in (nl, cl)]
    body = []
    for i, c in enumerate(codes):
        cells = [spelled[c]]
        for y in years:
            s = y["subjects"][i]
            cells += [s["grade_s"], str(s["ch"])]
        body.append(cells)
    body.append([style.t("Carga Horária Total")] + [x for y in years for x in ("", str(sum(s["ch"] for s in y["subjects"])))])
    freq_row = rng.random() < 0.7
    if freq_row:
        body.append([style.t("Frequência (%)")] + [x for y in years for x in (pct_s(y["freq"]), "")])
    body.append([style.t(pick(rng, "Resultado Final", "Situação"))] + [x for y in years for x in (
        style.t(pick(rng, "Aprovado", "APROVADO", "Promovido")), "")])
    name_w = max(d.width(b[0]) for b in body) + 12
    widths = [name_w] + [44, 34] * n_years
    grid(d, [h1, h2], body, widths, ["l"] + ["c"] * (2 * n_years), ruled=rng.random() < 0.8, fill=pick(rng, None, 0.9))
    d.gap()
    d.line(style.t("Estudos Realizados"), bold=True)
    grid(d, [[(style.t(x), 1) for x in ("Ano", "Série", "Estabelecimento", "Município/UF")]],
         [[str(y["year"]), y["level"], school.name, f"{style.t(school.city)}/{school.uf}"] for y in years],
         [40, 60, max(d.width(school.name) + 12, 140), 110], ["c", "c", "l", "l"], ruled=rng.random() < 0.5)
    d.save()
    t = academic_truth(family, split, seed, "historico", years[-1]["year"], st, school, 10)
    t["years"] = [{"year": y["year"], "grade_level": y["level"],
                   "overall_attendance_pct": y["freq"] if freq_row else None, "status": None,
                   "subjects": [{"code": s["code"], "final_grade": s["grade"], "workload_hours": s["ch"]}
                                for s in y["subjects"]]} for y in years]
    t["pages"] = d.pages
    return t


HISTORICOS = {
    "hist_year_rows": hist_year_rows,
    "hist_split_pages": hist_split_pages,
    "hist_years_cols_ch": hist_years_cols_ch,
}
