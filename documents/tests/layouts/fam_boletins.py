"""Boletim (report card) families of gen_families.py, each modelled on what a
kind of Brazilian school system prints. Every function draws one PDF and
returns its ground truth (gen_layouts.py's schema); what a person could not
read unambiguously from the page is left out of the truth (None / absent).
"""

from fam_common import (
    ALL_SUBJECTS, AREAS, HS_SUBJECTS, MONO, SANS, SERIF, SPANISH, SUBJECTS, EXTRA, Doc, School, Student,
    Style, academic_truth, fold, grid, pick_subjects, restatus, school_lines, student_lines, subject_rows,
    subject_truth, value,
)


def term_labels(rng, n, style):
    """Header labels of n terms, in one of the wordings systems use."""
    if n == 4:
        forms = ["{}º Bim", "{}º BIM", "{}ºB", "B{}", "{}º Bimestre", "{}° Bim.", "Bim {}", "{}ª Etapa",
                 "{}ª Unidade", "{}º Período"]
    elif n == 3:
        forms = ["{}º Tri", "{}º Trim.", "T{}", "{}º Trimestre", "{}ª Etapa", "{}º TRIM"]
    else:
        forms = ["{}º Sem", "{}º Semestre", "S{}"]
    f = rng.choice(forms)
    if rng.random() < 0.1 and n <= 4:
        roman = ["I", "II", "III", "IV"]
        unit = "Unidade" if rng.random() < 0.5 else ("Bimestre" if n == 4 else "Trimestre")
        return [style.t(f"{roman[i]} {unit}") for i in range(n)]
    return [style.t(f.format(i + 1)) for i in range(n)]


def pick(rng, *opts):
    return rng.choice(opts)


def title_line(d, style, rng, year, words=None):
    words = words or ["BOLETIM ESCOLAR", "Boletim Escolar", "BOLETIM DE DESEMPENHO", "Boletim Individual",
                      "RELATÓRIO DE NOTAS E FALTAS", "Ficha Individual do Aluno"]
    title = style.t(rng.choice(words))
    form = rng.choice(["{t} - {y}", "{t} {y}", "{t} - Ano Letivo {y}", "{t} / Exercício {y}", "{t}"])
    d.line(form.format(t=title, y=year), bold=True, size=d.size + 2.5)
    return "{y}" in form


def header(d, style, rng, school, st, year, network=None, title_words=None):
    school_lines(d, school, style, rng, network)
    d.gap(0.5)
    year_in_title = title_line(d, style, rng, year, title_words)
    d.gap(0.3)
    student_lines(d, st, style, rng, None if year_in_title else year)
    d.gap(0.7)


def scale_of(rng, p100=0.25):
    return 100 if rng.random() < p100 else 10


# ---------------------------------------------------------------- families

def sed_sp_dense(path, rng, family, split, seed):
    """State network export: dense ruled table with a code column, `Rec.`,
    `MF` and `Resultado`; optionally grade and absences per term as N/F pairs."""
    style = Style(rng)
    scale = scale_of(rng, 0.1)
    d = Doc(path, rng, SANS, size=rng.choice([7, 7.5, 8]))
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    st = Student(rng, style, level=rng.choice(["6º Ano", "7º Ano", "8º Ano", "9º Ano"]))
    st.labels["reg"] = "RA:"
    network = pick(rng, "GOVERNO DO ESTADO DE SÃO PAULO - SECRETARIA DA EDUCAÇÃO",
                   "Secretaria de Estado da Educação", "SECRETARIA DA EDUCAÇÃO - SED")
    header(d, style, rng, school, st, year, network)
    codes = pick_subjects(rng, SUBJECTS, 7, 9)
    rows = subject_rows(rng, style, codes, 4, scale)
    pairs = rng.random() < 0.4
    tl = term_labels(rng, 4, style)
    rec_on = rng.random() < 0.7
    for r in rows:
        r["rec_s"] = ""
        r["mf_s"] = r["media_s"]
        if rec_on and r["media"] < 5 * scale / 10:
            rec = min(10.0, r["media"] / (scale / 10) + 2.5) * scale / 10
            r["rec_s"] = style.num(round(rec, 1), scale)
            r["mf_s"] = style.num(max(r["media"], value(r["rec_s"])), scale)
        r["mf"] = value(r["mf_s"])
    restatus(rows, style, rng, scale, "mf")
    head = [style.t(pick(rng, "Cód.", "Código", "Cod"))] + [style.t(pick(rng, "Componente Curricular", "Disciplina"))]
    cols = []
    for i in range(4):
        if pairs:
            cols += [f"{tl[i]} N", f"{tl[i]} F"]
        else:
            cols.append(tl[i])
    if rec_on:
        cols.append(style.t(pick(rng, "Rec.", "Rec. Final", "REC")))
    mf_l = style.t(pick(rng, "MF", "Média Final", "M.F."))
    tail = [("mf", mf_l), ("faltas", style.t(pick(rng, "Faltas", "TF", "Total Faltas"))),
            ("freq", style.t(pick(rng, "% Freq.", "Freq.(%)", "% Freq"))),
            ("status", style.t(pick(rng, "Resultado", "Situação")))]
    cols += [lbl for _, lbl in tail]
    codes_num = {c: str(rng.randint(1000, 9999)) for c in codes}
    body = []
    for r in rows:
        cells = [codes_num[r["code"]], r["written"]]
        for i in range(4):
            cells.append(r["terms_s"][i])
            if pairs:
                cells.append(str(r["per_term"][i]))
        if rec_on:
            cells.append(r["rec_s"])
        cells += [r["mf_s"], str(r["faltas"]), r["freq_s"], r["status_s"]]
        body.append(cells)
    name_w = max(d.width(r["written"]) for r in rows) + 12
    small = 24 if pairs else 34
    widths = [30, name_w] + [small] * (len(cols) - 4) + [34, 34, 36, 58]
    grid(d, [[(h, 1) for h in head + cols]], body, widths, ["c", "l"] + ["c"] * len(cols),
         ruled=True, fill=pick(rng, None, 0.85, 0.92))
    overall = None
    if rng.random() < 0.5:
        overall = round(sum(r["freq"] for r in rows) / len(rows), 1)
        d.gap(0.5)
        d.line(style.t(f"Frequência Global: {overall:.1f}%".replace(".", ",")))
    d.line(style.t(pick(rng, "Legenda: MF = Média Final; TF = Total de Faltas", "Documento emitido pela internet.",
                        "Rec. = Recuperação Final")))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf") for r in rows]
    t["overall_attendance_pct"] = overall
    t["pages"] = d.pages
    return t


def sige_caps_landscape(path, rng, family, split, seed):
    """SIGE-like export on a landscape page, upper case without accents,
    header as a two-column label/value table, `N1..N4` or `1A ETAPA`."""
    style = Style(rng, case="upper_noaccent")
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng, SANS + MONO, land=True, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    st = Student(rng, style)
    d.line(style.t(pick(rng, "SIGE - Sistema Integrado de Gestão Escolar", "SIGE ESCOLA - Boletim do Aluno",
                        "Sistema de Gestão Escolar")), bold=True)
    d.line(style.t(f"Secretaria da Educação do Estado - {school.uf}"))
    d.gap(0.4)
    L = {k: style.t(v) for k, v in st.labels.items()}
    kv = [(style.t("Escola:"), school.name), (L["name"], st.name), (L["reg"], st.registration),
          (L["birth"], st.birth), (L["class"], st.class_name), (L["year"], str(year))]
    if school.cnpj_printed:
        kv.insert(1, (style.t(school.cnpj_label.rstrip(" :-") + ":"), school.cnpj_printed))
    kv.insert(2, (style.t(school.inep_label.rstrip(" :-") + ":"), school.inep))
    lw = max(d.width(k, True) for k, _ in kv) + 10
    grid(d, [], [[k, v] for k, v in kv], [lw, 320], ["l", "l"], ruled=rng.random() < 0.7)
    d.gap(0.8)
    n_terms = pick(rng, 4, 4, 3)
    tl = [style.t(f"N{i + 1}") for i in range(n_terms)] if rng.random() < 0.5 else term_labels(rng, n_terms, style)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 7, 10)
    spell = lambda c: style.t(ALL_SUBJECTS[c][0])  # noqa: E731 - exports print the full name
    rows = subject_rows(rng, style, codes, n_terms, scale, spell=spell)
    rec_on = rng.random() < 0.5
    for r in rows:
        r["rec_s"], r["mf_s"] = "", r["media_s"]
        if rec_on and r["media"] < 6 * scale / 10:
            r["rec_s"] = style.num(round(min(10.0, r["base"] + 1.5) * scale / 10, 1), scale)
            r["mf_s"] = style.num(round((r["media"] + value(r["rec_s"])) / 2, 1), scale)
        r["mf"] = value(r["mf_s"])
    restatus(rows, style, rng, scale, "mf")
    cols = [style.t("Disciplina")] + tl + [style.t("Média")]
    if rec_on:
        cols += [style.t("Rec."), style.t("Média Final")]
    cols += [style.t("Faltas"), style.t("Freq. %"), style.t("Situação")]
    body = []
    for r in rows:
        cells = [r["written"]] + r["terms_s"] + [r["media_s"]]
        if rec_on:
            cells += [r["rec_s"], r["mf_s"]]
        cells += [str(r["faltas"]), r["freq_s"], r["status_s"]]
        body.append(cells)
    name_w = max(d.width(r["written"]) for r in rows) + 14
    widths = [name_w] + [44] * (len(cols) - 4) + [44, 48, 80]
    grid(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * (len(cols) - 1), ruled=True,
         fill=pick(rng, None, 0.88))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf") for r in rows]
    t["pages"] = d.pages
    return t


def municipal_trimestral(path, rng, family, split, seed):
    """Municipal network, three trimesters, `Média Anual`, `Exame Final`,
    `Média Final`; student fields in a drawn box; no frequency column."""
    style = Style(rng)
    scale = 10
    d = Doc(path, rng, SANS + SERIF)
    school, year = School(rng, style, public=True), rng.randint(2019, 2025)
    st = Student(rng, style, level=rng.choice(["1º Ano", "2º Ano", "3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano"]))
    d.line(style.t(f"PREFEITURA MUNICIPAL DE {school.city.upper()}"), bold=True)
    d.line(style.t(pick(rng, "Secretaria Municipal de Educação", "SECRETARIA MUNICIPAL DE EDUCAÇÃO E CULTURA")))
    school_lines(d, school, style, rng)
    d.gap(0.4)
    year_in_title = title_line(d, style, rng, year)
    top = d.y + d.lead * 0.9
    d.gap(0.2)
    student_lines(d, st, style, rng, None if year_in_title else year)
    d.c.setLineWidth(0.8)
    d.c.rect(d.left - 4, d.y + d.lead * 0.5, d.right - d.left + 8, top - d.y - d.lead * 0.5)
    d.gap(1.0)
    tl = term_labels(rng, 3, style)
    codes = pick_subjects(rng, SUBJECTS, 6, 9)
    rows = subject_rows(rng, style, codes, 3, scale)
    for r in rows:
        r["ex_s"], r["mf_s"] = "", r["media_s"]
        if r["media"] < 6:
            r["ex_s"] = style.num(round(min(10.0, r["base"] + 1.2), 1), scale)
            r["mf_s"] = style.num(round((r["media"] + value(r["ex_s"])) / 2, 1), scale)
        r["mf"] = value(r["mf_s"])
    restatus(rows, style, rng, scale, "mf")
    ma = style.t(pick(rng, "Média Anual", "MA", "Méd. Anual"))
    ex = style.t(pick(rng, "Exame Final", "EF", "Exame"))
    mf = style.t(pick(rng, "Média Final", "MF", "Nota Final"))
    cols = [style.t(pick(rng, "Componente Curricular", "Disciplinas", "Área do Conhecimento"))] + tl + [ma, ex, mf,
                                                                                                   style.t("Faltas"),
                                                                                                   style.t("Situação")]
    body = [[r["written"]] + r["terms_s"] + [r["media_s"], r["ex_s"], r["mf_s"], str(r["faltas"]), r["status_s"]]
            for r in rows]
    name_w = max(max(d.width(r["written"]) for r in rows), d.width(cols[0], True)) + 12
    widths = [name_w] + [46] * 3 + [48, 44, 48, 38, 66]
    grid(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * 8, ruled=rng.random() < 0.8)
    d.gap(1)
    d.line(style.t("Média para aprovação: 6,0. Exame final para média anual inferior a 6,0."))
    d.line("_" * 30 + "          " + "_" * 30)
    d.line(style.t("Secretário(a) Escolar                              Diretor(a)"))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="mf", freq=False) for r in rows]
    t["pages"] = d.pages
    return t


def private_n1n2rec(path, rng, family, split, seed):
    """Private school: each term has `N1 N2 Rec` (and often `Méd`) under a
    spanned term header; terms count only where the term mean is printed."""
    style = Style(rng)
    scale = 10
    n_terms = pick(rng, 4, 3, 3)
    show_mean = rng.random() < 0.65
    sub = [style.t(x) for x in (pick(rng, "N1", "AV1", "P1"), pick(rng, "N2", "AV2", "P2"),
                                 pick(rng, "Rec", "REC", "Rec."))]
    if show_mean:
        sub.append(style.t(pick(rng, "Méd", "MB", "MT", "Média")))
    land = n_terms * len(sub) > 10
    d = Doc(path, rng, SANS + SERIF, land=land, size=rng.choice([7.5, 8, 8.5]))
    school, year = School(rng, style, public=False), rng.randint(2019, 2025)
    st = Student(rng, style)
    d.c.setLineWidth(1)
    d.c.rect(d.left, d.y - 8, 46, 30)
    d.text(d.left + 8, style.t("LOGO"), size=7)
    d.left += 56
    school_lines(d, school, style, rng)
    d.left -= 56
    d.gap(0.8)
    header_y = title_line(d, style, rng, year)
    student_lines(d, st, style, rng, None if header_y else year)
    d.gap(0.6)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH, "redacao": EXTRA["redacao"]}, 7, 11)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0)
    for r in rows:
        r["cells"] = []
        for k in range(n_terms):
            tmean = r["terms"][k]
            n1 = round(min(10.0, max(0.0, tmean + rng.uniform(-1, 1))), 1)
            n2 = round(min(10.0, max(0.0, 2 * tmean - n1)), 1)
            avg = (n1 + n2) / 2
            rec = ""
            shown = style.num(round(avg, 1), scale)
            if avg < 6:
                rec_v = round(min(10.0, avg + rng.uniform(0.5, 3)), 1)
                rec = style.num(rec_v, scale)
                shown = style.num(round(max(avg, rec_v), 1), scale)
            r["terms"][k] = value(shown)
            cells = [style.num(n1, scale), style.num(n2, scale), rec]
            if show_mean:
                cells.append(shown)
            r["cells"] += cells
        r["media_s"] = style.num(round(sum(r["terms"]) / n_terms, 1), scale)
        r["media"] = value(r["media_s"])
    restatus(rows, style, rng, scale, "media")
    tl = term_labels(rng, n_terms, style)
    ma = style.t(pick(rng, "Média Anual", "MA", "Média Final"))
    fl = style.t(pick(rng, "Faltas", "Faltas", "F"))
    res = style.t(pick(rng, "Resultado", "Situação"))
    h1 = [(style.t("Disciplina"), 1)] + [(lbl, len(sub)) for lbl in tl] + [("", 1), ("", 1), ("", 1)]
    h2 = [("", 1)] + [(s, 1) for _ in tl for s in sub] + [(ma, 1), (fl, 1), (res, 1)]
    body = [[r["written"]] + r["cells"] + [r["media_s"], str(r["faltas"]), r["status_s"]] for r in rows]
    name_w = max(d.width(r["written"]) for r in rows) + 12
    cw = 25 if not land else 30
    widths = [name_w] + [cw] * (n_terms * len(sub)) + [44, 34, 62]
    grid(d, [h1, h2], body, widths, ["l"] + ["c"] * (len(widths) - 1), ruled=True, fill=pick(rng, None, 0.9))
    d.gap(0.6)
    d.line(style.t(f"{sub[0]}/{sub[1]}: avaliações do período; {sub[2]}: recuperação paralela."), size=d.size - 1)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, terms=show_mean, freq=False) for r in rows]
    t["pages"] = d.pages
    return t


def mono_export(path, rng, family, split, seed):
    """A legacy system's text report printed in a monospaced font: columns
    aligned by spaces, rules of dashes, no ruling; the grid often runs on
    to a second page that has no header row."""
    style = Style(rng, case=pick(rng, "as_is", "upper_noaccent", "upper_noaccent"))
    scale = scale_of(rng, 0.3)
    d = Doc(path, rng, MONO, size=rng.choice([8, 8.5, 9, 9.5]))
    d.lead = d.size * rng.uniform(1.25, 1.5)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    cw = d.width("0")
    width_chars = int((d.right - d.left) / cw)
    rule = rng.choice("-=")
    stamp = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year + 1} {rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}"

    def page_head(pg, total):
        d.line(style.t(f"{school.name}").ljust(width_chars - 12) + style.t(f"Pág. {pg}/{total}"))
        d.line(style.t(f"Emitido em {stamp}"))
        d.line(rule * width_chars)

    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH, **EXTRA}, 9, 14)
    n_terms = pick(rng, 4, 4, 3, 2)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    split_at = rng.randint(3, len(rows) - 2) if rng.random() < 0.65 else None
    total = 2 if split_at else 1
    page_head(1, total)
    d.line(school.ids_line(style))
    d.line(style.t(pick(rng, "BOLETIM ESCOLAR", "RELATORIO DE NOTAS E FALTAS", "Boletim Individual")) + f" - {year}")
    d.line(rule * width_chars)
    L = {k: style.t(v) for k, v in st.labels.items()}
    lw = max(len(L[k]) for k in ("name", "reg", "birth", "class")) + 1
    d.line(f"{L['name']:<{lw}}{st.name}")
    d.line(f"{L['reg']:<{lw}}{st.registration:<16}{L['birth']} {st.birth}")
    d.line(f"{L['class']:<{lw}}{st.class_name}")
    d.line(rule * width_chars)
    tl = [lbl.replace(" ", "") for lbl in term_labels(rng, n_terms, style)]
    name_w = max(len(r["written"]) for r in rows) + 2
    cols = tl + [style.t(pick(rng, "MEDIA", "MF", "Média")), style.t(pick(rng, "FALTAS", "Faltas", "F")),
                 style.t(pick(rng, "FREQ%", "%Freq"))]
    with_status = rng.random() < 0.5
    if with_status:
        cols.append(style.t("SITUACAO" if style.case != "as_is" else "Situação"))
    w = max(7, max(len(c) for c in cols) + 1)
    d.line(style.t(pick(rng, "DISCIPLINA", "COMPONENTE"))[:name_w].ljust(name_w) + "".join(c.rjust(w) for c in cols[:-1])
           + (" " + cols[-1] if with_status else cols[-1].rjust(w)))
    d.line(rule * width_chars)

    def cont_head(doc):
        page_head(2, total)
        if rng.random() < 0.5:
            doc.line(f"{L['name']} {st.name} ({style.t('continuação')})")

    for i, r in enumerate(rows):
        if split_at is not None and i == split_at:
            d.line(style.t("(continua na próxima página)"))
            d.stamp()
            d.c.showPage()
            d.pages += 1
            d.y = d.top
            cont_head(d)
        vals = r["terms_s"] + [r["media_s"], str(r["faltas"]), r["freq_s"]]
        line = r["written"].ljust(name_w) + "".join((v or " ").rjust(w) for v in vals)
        if with_status:
            line += " " + r["status_s"]
        d.line(line)
    d.line(rule * width_chars)
    d.line(style.t("Fim do relatório."))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, status=with_status) for r in rows]
    t["pages"] = d.pages
    return t


def continuation_grid(path, rng, family, split, seed):
    """A ruled grid with many components that breaks to page 2 without
    repeating its header row (the column model carries over)."""
    style = Style(rng)
    scale = scale_of(rng)
    d = Doc(path, rng, SANS + SERIF, size=rng.choice([10, 10.5, 11]))
    d.lead = d.size * rng.uniform(2.0, 2.6)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH, **EXTRA}, 11, 14)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    tl = term_labels(rng, n_terms, style)
    tail = [("media", style.t(pick(rng, "Média", "MF", "Média Final"))), ("faltas", style.t(pick(rng, "Faltas", "Nº Faltas"))),
            ("freq", style.t(pick(rng, "Freq.", "% Freq.", "Frequência")))]
    rng.shuffle(tail)
    if rng.random() < 0.5:
        tail.append(("status", style.t("Situação")))
    keys = [k for k, _ in tail]
    get = {"media": lambda r: r["media_s"], "faltas": lambda r: str(r["faltas"]), "freq": lambda r: r["freq_s"] + "%",
           "status": lambda r: r["status_s"]}
    body = [[r["written"]] + r["terms_s"] + [get[k](r) for k in keys] for r in rows]
    name_w = max(d.width(r["written"]) for r in rows) + 14
    widths = [name_w] + [46] * n_terms + [(70 if k == "status" else 50) for k in keys]
    rows_fit = int((d.y - 46) / d.lead) - 1
    break_at = max(2, min(len(rows) - 2, rows_fit - rng.randint(0, 3)))
    if rng.random() < 0.5:
        d.on_new_page = lambda doc: doc.line(style.t(pick(rng, f"{st.name} - continuação", "Continuação",
                                                          f"Página 2 - {school.name}")), size=d.size - 1)
    grid(d, [[(style.t(pick(rng, "Componente Curricular", "Disciplina")), 1)] + [(x, 1) for x in tl]
             + [(lbl, 1) for _, lbl in tail]], body, widths, ["l"] + ["c"] * (len(widths) - 1),
         ruled=rng.random() < 0.75, repeat_header=False, break_at=break_at)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, final="media" if "media" in keys else None, status="status" in keys)
                     for r in rows]
    t["pages"] = d.pages
    return t


def keyvalue_pipe(path, rng, family, split, seed):
    """One `Componente: X | 1º Bim: 8,0 | ... | Média: 7,8 | Faltas: 2` record
    per subject (sometimes wrapped after the component)."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 6, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    sep = pick(rng, " | ", " | ", "; ", "   ", " • ")
    comp = style.t(pick(rng, "Componente:", "Disciplina:", "Componente Curricular:"))
    keys = [lbl + ":" for lbl in term_labels(rng, n_terms, style)]
    mk = style.t(pick(rng, "Média:", "Média Final:", "MF:", "Nota Final:"))
    fk = style.t(pick(rng, "Faltas:", "Total de Faltas:", "Ausências:"))
    qk = style.t(pick(rng, "Freq.:", "Frequência:", "% Freq.:"))
    wrap = rng.random() < 0.4
    for r in rows:
        parts = [f"{k} {v if v else '-'}" for k, v in zip(keys, r["terms_s"])]
        parts += [f"{mk} {r['media_s']}", f"{fk} {r['faltas']}", f"{qk} {r['freq_s']}%"]
        d.need(d.lead * 3)
        if wrap:
            d.line(f"{comp} {r['written']}", bold=True)
            d.line(sep.join(parts), x=d.left + 14)
        else:
            line = sep.join([f"{comp} {r['written']}"] + parts)
            size = min(d.size, d.size * (d.right - d.left) / d.width(line))
            d.line(line, size=size)
        d.gap(0.25)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, status=False) for r in rows]
    t["pages"] = d.pages
    return t


def landscape_nota_faltas(path, rng, family, split, seed):
    """Landscape grid: each term spans `Nota | Faltas`, then `Aulas Dadas`,
    `Total de Faltas`, `% Freq.`, `MF`, `Resultado`."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng, land=True, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 7, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    tl = term_labels(rng, n_terms, style)
    nl, fl = pick(rng, ("Nota", "Faltas"), ("N", "F"), ("Nota", "Falta"), ("Média", "Faltas"))
    h1 = [(style.t(pick(rng, "Componente Curricular", "Disciplina")), 1)] + [(x, 2) for x in tl] + [("", 1)] * 5
    h2 = [("", 1)] + [(style.t(s), 1) for _ in tl for s in (nl, fl)] + [
        (style.t(pick(rng, "Aulas Dadas", "A.D.", "Aulas")), 1), (style.t(pick(rng, "Total Faltas", "TF")), 1),
        (style.t(pick(rng, "% Freq.", "Freq. %")), 1), (style.t(pick(rng, "MF", "Média Final")), 1),
        (style.t(pick(rng, "Resultado", "Situação")), 1)]
    body = []
    for r in rows:
        cells = [r["written"]]
        for k in range(n_terms):
            cells += [r["terms_s"][k], str(r["per_term"][k])]
        given = rng.choice([160, 120, 80, 200, 40])
        cells += [str(given), str(r["faltas"]), r["freq_s"], r["media_s"], r["status_s"]]
        body.append(cells)
    name_w = max(d.width(r["written"]) for r in rows) + 12
    widths = [name_w] + [34] * (2 * n_terms) + [44, 40, 42, 40, 72]
    grid(d, [h1, h2], body, widths, ["l"] + ["c"] * (len(widths) - 1), ruled=True, fill=pick(rng, None, 0.9, 0.8))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r) for r in rows]
    t["pages"] = d.pages
    return t


def partial_year_dashes(path, rng, family, split, seed):
    """Issued mid-year: later terms not graded yet (`-`, `—`, `*` or blank,
    mixed), a `Média Parcial` or empty final column, status `Cursando`."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    d = Doc(path, rng)
    school, year = School(rng, style), rng.randint(2020, 2026)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 4, 3)
    done = rng.randint(1, n_terms - 1)
    codes = pick_subjects(rng, SUBJECTS, 6, 9)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0.15)
    marks = ["-", "—", "*", "", "--"]
    mixed = rng.random() < 0.5
    mark = rng.choice(marks)
    partial = rng.random() < 0.5
    for r in rows:
        for k in range(done, n_terms):
            r["terms_s"][k] = rng.choice(marks) if mixed else mark
            r["terms"][k] = None
        present = [t for t in r["terms"] if t is not None]
        r["media_s"] = style.num(round(sum(present) / len(present), 1), scale) if present and partial else mark
        r["status_s"] = style.t(rng.choice(["Cursando", "CURSANDO", "Em curso"]))
        r["status"] = "cursando"
    tl = term_labels(rng, n_terms, style)
    cols = [style.t("Componente Curricular")] + tl + [style.t("Média Parcial" if partial else "Média Final"),
                                                     style.t("Faltas"), style.t("Situação")]
    body = [[r["written"]] + r["terms_s"] + [r["media_s"], str(r["faltas"]), r["status_s"]] for r in rows]
    name_w = max(d.width(r["written"]) for r in rows) + 12
    grid(d, [[(c, 1) for c in cols]], body, [name_w] + [44] * n_terms + [56, 40, 62],
         ["l"] + ["c"] * (len(cols) - 1), ruled=rng.random() < 0.6)
    d.gap()
    d.line(style.t(pick(rng, "* Nota não lançada.", "— Período ainda não avaliado.", "Legenda: - sem nota no período")))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    # a partial mean is not the final grade; an empty final column has none
    t["subjects"] = [subject_truth(r, final=None, freq=False) for r in rows]
    t["pages"] = d.pages
    return t


def conceito_letter(x, scale):
    v = x / (scale / 10)
    return "A" if v >= 9 else "B" if v >= 7 else "C" if v >= 5 else "D"


def conceito_plus_numeric(path, rng, family, split, seed):
    """Each term's numeric grade followed by its letter concept (A-D), a
    legend mapping letters to ranges; only the numbers are the truth."""
    style = Style(rng)
    scale = scale_of(rng, 0.3)
    d = Doc(path, rng, land=rng.random() < 0.3)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 6, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale, missing_rate=0)
    tl = term_labels(rng, n_terms, style)
    cl = style.t(pick(rng, "Conc.", "Conceito", "C"))
    cols = [(style.t("Disciplina"), 1)]
    for x in tl:
        cols += [(x, 1), (cl, 1)]
    cols += [(style.t(pick(rng, "Média", "MF")), 1), (style.t(pick(rng, "Conceito Final", "CF")), 1),
             (style.t("Faltas"), 1)]
    body = []
    for r in rows:
        cells = [r["written"]]
        for k in range(n_terms):
            cells += [r["terms_s"][k], conceito_letter(r["terms"][k], scale)]
        cells += [r["media_s"], conceito_letter(r["media"], scale), str(r["faltas"])]
        body.append(cells)
    name_w = max(d.width(r["written"]) for r in rows) + 12
    widths = [name_w] + [40, 30] * n_terms + [42, 52, 38]
    grid(d, [cols], body, widths, ["l"] + ["c"] * (len(widths) - 1), ruled=rng.random() < 0.7)
    d.gap()
    lo = "9,0 a 10,0" if scale == 10 else "90 a 100"
    d.line(style.t(f"Legenda: A = {lo}; B = 7,0 a 8,9; C = 5,0 a 6,9; D = abaixo de 5,0"
                   if scale == 10 else "Legenda: A = 90 a 100; B = 70 a 89; C = 50 a 69; D = abaixo de 50"))
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False, status=False) for r in rows]
    t["pages"] = d.pages
    return t


ABBREV = {
    "lingua-portuguesa": ["PORT.", "L. PORT.", "LÍNG. PORT."], "matematica": ["MAT.", "MATEM."],
    "historia": ["HIST."], "geografia": ["GEOG.", "GEO."], "ciencias": ["CIÊN.", "CIÊNC."], "arte": ["ARTE"],
    "educacao-fisica": ["ED. FÍS.", "EDUC. FÍS."], "lingua-inglesa": ["INGLÊS", "L. INGL."],
    "ensino-religioso": ["ENS. REL.", "ENS. RELIG."],
}


def boxed_form_transposed(path, rng, family, split, seed):
    """Form-style header: fields in boxes, label small on top, value below;
    the grid transposed: subjects (abbreviated) as columns, terms as rows."""
    style = Style(rng)
    scale = scale_of(rng, 0.15)
    d = Doc(path, rng, SANS + SERIF, land=rng.random() < 0.4)
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style, level=rng.choice(["3º Ano", "4º Ano", "5º Ano", "6º Ano", "7º Ano"]))
    d.line(style.t(pick(rng, "BOLETIM ESCOLAR", "Boletim de Notas", "FICHA DE ACOMPANHAMENTO")), bold=True,
           size=d.size + 3)
    d.gap(0.4)
    lab = lambda *o: style.t(rng.choice(o)).upper()  # noqa: E731
    boxes = [[(lab("Escola", "Unidade Escolar", "Estabelecimento de Ensino"), school.name, 3)],
             [(lab("Nome do Aluno", "Aluno(a)", "Nome do Estudante", "Estudante"), st.name, 2),
              (lab("Matrícula", "RA", "Nº de Matrícula"), st.registration, 1)],
             [(lab("Data de Nascimento", "Nasc.", "Data Nasc."), st.birth, 1),
              (lab("Turma", "Série/Turma", "Ano/Turma"), st.class_name, 1),
              (lab("Ano Letivo", "Exercício", "Ano"), str(year), 1)]]
    ids = []
    if school.cnpj_printed:
        ids.append(("CNPJ", school.cnpj_printed, 1))
    ids.append((lab("Código INEP", "INEP", "Cód. INEP"), school.inep, 1))
    boxes.append(ids)
    unit = (d.right - d.left) / 3
    bh = d.size * 2.9
    for row in boxes:
        x = d.left
        top = d.y
        for label, val, span in row:
            d.c.setLineWidth(0.6)
            d.c.rect(x, top - bh, unit * span, bh)
            d.y = top - d.size * 0.95
            d.text(x + 3, label, size=d.size * 0.62)
            d.y = top - bh + d.size * 0.55
            d.text(x + 4, val)
            x += unit * span
        d.y = top - bh
    d.gap(1.5)
    n_terms = pick(rng, 4, 3)
    codes = [c for c in pick_subjects(rng, SUBJECTS, 6, 9)]
    rows = subject_rows(rng, style, codes, n_terms, scale, spell=lambda c: style.t(rng.choice(ABBREV[c])))
    tl = term_labels(rng, n_terms, style)
    head = [[(style.t(pick(rng, "Período", "Bimestre/Disciplina", "")), 1)] + [(r["written"], 1) for r in rows]]
    body = [[tl[k]] + [r["terms_s"][k] for r in rows] for k in range(n_terms)]
    body.append([style.t(pick(rng, "Média Final", "MÉDIA ANUAL", "Média"))] + [r["media_s"] for r in rows])
    body.append([style.t(pick(rng, "Faltas", "Total de Faltas"))] + [str(r["faltas"]) for r in rows])
    first_w = max(d.width(c[0]) for c in body) + 14
    cw = min(60, (d.right - d.left - first_w) / len(rows))
    grid(d, head, body, [first_w] + [cw] * len(rows), ["l"] + ["c"] * len(rows), ruled=True,
         fill=pick(rng, None, 0.9))
    d.gap()
    d.line(style.t("Legenda: " + "; ".join(f"{r['written']} = {ALL_SUBJECTS[r['code']][0]}" for r in rows[:3]) + " ..."),
           size=d.size - 1.5)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False, status=False) for r in rows]
    t["pages"] = d.pages
    return t


def subject_cards(path, rng, family, split, seed):
    """One bordered card per subject, cards side by side in two (or three)
    columns: the lines of neighbouring cards share a baseline."""
    style = Style(rng)
    scale = scale_of(rng, 0.2)
    land = rng.random() < 0.3
    d = Doc(path, rng, land=land, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style), rng.randint(2019, 2025)
    st = Student(rng, style)
    header(d, style, rng, school, st, year)
    n_terms = pick(rng, 4, 3)
    codes = pick_subjects(rng, {**SUBJECTS, **SPANISH}, 6, 10)
    rows = subject_rows(rng, style, codes, n_terms, scale)
    tl = term_labels(rng, n_terms, style)
    ml = style.t(pick(rng, "Média Final", "Média", "MF"))
    fl = style.t(pick(rng, "Faltas", "Total de Faltas"))
    sl = style.t(pick(rng, "Situação", "Resultado"))
    ncol = 3 if land else 2
    gapx = 14
    cw = (d.right - d.left - gapx * (ncol - 1)) / ncol
    lines_per_card = n_terms + 4
    ch = lines_per_card * d.lead + 6
    for i in range(0, len(rows), ncol):
        if d.y - ch < 46:
            d.new_page()
        top = d.y + d.lead * 0.8
        for j, r in enumerate(rows[i:i + ncol]):
            x = d.left + j * (cw + gapx)
            d.c.setLineWidth(0.7)
            d.c.rect(x, top - ch, cw, ch)
            y0 = d.y
            d.text(x + 6, r["written"], bold=True)
            d.y -= d.lead
            items = list(zip(tl, r["terms_s"])) + [(ml, r["media_s"]), (fl, str(r["faltas"])), (sl, r["status_s"])]
            for label, v in items:
                d.text(x + 10, label)
                d.rtext(x + cw - 8, v if v else "-")
                d.y -= d.lead
            d.y = y0
        d.y -= ch + 8
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r, freq=False) for r in rows]
    t["pages"] = d.pages
    return t


def bncc_areas_em(path, rng, family, split, seed):
    """Novo Ensino Médio: components grouped under the BNCC areas (area rows
    with no grades), then the formative itinerary (`Projeto de Vida`,
    an `Eletiva`)."""
    style = Style(rng)
    scale = scale_of(rng, 0.3)
    d = Doc(path, rng, size=rng.choice([8, 8.5, 9]))
    school, year = School(rng, style), rng.randint(2022, 2025)
    st = Student(rng, style, level=rng.choice(["1ª Série", "2ª Série", "3ª Série"]))
    header(d, style, rng, school, st, year, network=pick(rng, None, "NOVO ENSINO MÉDIO", "Ensino Médio - Tempo Integral"))
    n_terms = pick(rng, 4, 3)
    tl = term_labels(rng, n_terms, style)
    cols = [style.t(pick(rng, "Área / Componente", "Componente Curricular"))] + tl + [
        style.t(pick(rng, "MF", "Média Final")), style.t("Faltas"), style.t(pick(rng, "Freq.(%)", "% Freq.")),
        style.t(pick(rng, "Resultado", "Situação"))]
    body, all_rows = [], []
    area_upper = rng.random() < 0.6
    areas = AREAS + [("Itinerário Formativo", ["projeto-de-vida"])]
    for area, comps in areas:
        body.append([style.t(area.upper() if area_upper else area)] + [""] * (len(cols) - 1))
        pool = {c: ALL_SUBJECTS[c] for c in comps}
        rows = subject_rows(rng, style, list(pool), n_terms, scale)
        for r in rows:
            body.append([("   " if rng.random() < 0.5 else "") + r["written"]] + r["terms_s"]
                        + [r["media_s"], str(r["faltas"]), r["freq_s"], r["status_s"]])
        all_rows += rows
    elective = style.t(pick(rng, "Eletiva: Robótica Educacional", "Eletiva - Oficina de Escrita", "Eletiva I"))
    body.append([elective] + [style.num(round(rng.uniform(6, 10), 1), scale) for _ in range(n_terms)]
                + ["", "0", "100,0", style.t("Aprovado")])
    name_w = max(max(d.width(b[0]) for b in body), 150) + 10
    widths = [name_w] + [36] * n_terms + [38, 36, 42, 60]
    grid(d, [[(c, 1) for c in cols]], body, widths, ["l"] + ["c"] * (len(widths) - 1), ruled=rng.random() < 0.7)
    d.save()
    t = academic_truth(family, split, seed, "boletim", year, st, school, scale)
    t["subjects"] = [subject_truth(r) for r in all_rows]
    t["pages"] = d.pages
    return t


BOLETINS = {
    "sed_sp_dense": sed_sp_dense,
    "sige_caps_landscape": sige_caps_landscape,
    "municipal_trimestral": municipal_trimestral,
    "private_n1n2rec": private_n1n2rec,
    "mono_export": mono_export,
    "continuation_grid": continuation_grid,
    "keyvalue_pipe": keyvalue_pipe,
    "landscape_nota_faltas": landscape_nota_faltas,
    "partial_year_dashes": partial_year_dashes,
    "conceito_plus_numeric": conceito_plus_numeric,
    "boxed_form_transposed": boxed_form_transposed,
    "subject_cards": subject_cards,
    "bncc_areas_em": bncc_areas_em,
}
