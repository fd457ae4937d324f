"""Near non-transcripts for gen_families.py: school documents that carry a
student, a school, subject names and numbers but no grades of the student,
and must be refused (`not_a_transcript`) with nothing written. Some are
deliberately full of subject names and decimal numbers.
"""

from fam_common import (
    ALL_SUBJECTS, FIRST, LAST, SUBJECTS, School, Student, Style, grid, school_lines, student_lines,
)
from fam_boletins import pick, term_labels

MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
          "novembro", "dezembro"]


def _date(rng, year):
    return f"{rng.randint(1, 28):02d}/{rng.randint(2, 11):02d}/{year}"


def _ctx(d, rng):
    style = Style(rng)
    school, st = School(rng, style), Student(rng, style)
    return style, school, st, rng.randint(2020, 2026)


def atestado_matricula(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.gap()
    d.line(style.t(pick(rng, "ATESTADO DE MATRÍCULA", "Atestado de Escolaridade", "ATESTADO DE FREQUÊNCIA")), bold=True,
           size=d.size + 3)
    d.gap()
    d.line(style.t(f"Atestamos, para os devidos fins, que {st.name}, nascido(a) em {st.birth},"))
    d.line(style.t(f"RA/Matrícula {st.registration}, está regularmente matriculado(a) nesta unidade escolar"))
    d.line(style.t(f"no {st.class_name}, turno da manhã, no ano letivo de {year}, com frequência de 97,5%."))
    d.line(style.t("Componentes cursados: " + ", ".join(v[0] for v in list(SUBJECTS.values())[:7]) + "."))
    d.gap()
    d.line(style.t(f"{school.city}, {rng.randint(1, 28)} de {rng.choice(MONTHS)} de {year}."))
    d.line("_" * 36)
    d.line(style.t("Secretário(a) Escolar - RG 12.345.678-9"))


def lista_presenca(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.line(style.t(f"LISTA DE PRESENÇA - {st.class_name} - {year}"), bold=True, size=d.size + 2)
    subj = rng.choice(list(SUBJECTS.values()))[0]
    d.line(style.t(f"Componente: {subj}     Professor(a): {rng.choice(FIRST)} {rng.choice(LAST)}"))
    days = [f"{rng.randint(1, 28):02d}/{m:02d}" for m in (3,) for _ in range(8)]
    cols = [("Nº", 1), (style.t("Aluno(a)"), 1)] + [(x, 1) for x in days] + [(style.t("Faltas"), 1), ("%", 1)]
    body = []
    for i in range(rng.randint(12, 22)):
        name = style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
        marks = [rng.choice("PPPPPPF") for _ in days]
        f = marks.count("F")
        body.append([str(i + 1), name] + marks + [str(f), f"{100 - f * 12.5:.1f}".replace(".", ",")])
    grid(d, [cols], body, [22, 150] + [30] * len(days) + [36, 36], ["c", "l"] + ["c"] * (len(days) + 2))


def horario_semanal(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.line(style.t(f"QUADRO DE HORÁRIOS - {st.class_name} - Ano Letivo {year}"), bold=True, size=d.size + 2)
    names = [v[0] for v in SUBJECTS.values()]
    body = []
    for name in rng.sample(names, 8):
        body.append([style.t(name)] + [rng.choice(["07:30", "08:20", "09:10", "10:20", ""]) for _ in range(5)]
                    + [str(rng.randint(1, 5)), f"{rng.choice([40, 80, 120, 160, 200])}"])
    cols = [(style.t(x), 1) for x in ("Componente", "Seg", "Ter", "Qua", "Qui", "Sex", "Aulas/sem.", "CH anual")]
    grid(d, [cols], body, [150, 44, 44, 44, 44, 44, 56, 56], ["l"] + ["c"] * 7)
    d.gap()
    d.line(style.t("Professor(a) regente: " + rng.choice(FIRST) + " " + rng.choice(LAST)))


def carne_mensalidade(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.line(style.t(pick(rng, "CARNÊ DE MENSALIDADES", "Demonstrativo de Mensalidades Escolares")), bold=True,
           size=d.size + 2)
    student_lines(d, st, style, rng, year, extras=False)
    value = rng.choice([850, 1250, 1490, 2100])
    body = []
    for m in range(1, 13):
        disc = rng.choice([0, 5, 10])
        body.append([f"{m:02d}/12", f"10/{m:02d}/{year}", f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", "."),
                     f"{disc},0%", f"{value * (1 - disc / 100):,.2f}".replace(",", "X").replace(".", ",").replace("X", "."),
                     style.t(rng.choice(["Pago", "Em aberto", "Pago"]))])
    grid(d, [[(style.t(x), 1) for x in ("Parcela", "Vencimento", "Valor (R$)", "Desconto", "Líquido", "Situação")]],
         body, [50, 70, 70, 60, 70, 70], ["c"] * 6)
    d.line(style.t("Linha digitável: 23790.12345 60000.123456 78000.987654 1 99990000125000"))


def diario_classe_vazio(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    subj = rng.choice(list(SUBJECTS.values()))[0]
    tl = term_labels(rng, 4, style)
    d.line(style.t(f"DIÁRIO DE CLASSE - {tl[rng.randrange(4)]} - {year}"), bold=True, size=d.size + 2)
    d.line(style.t(f"Componente Curricular: {subj}    Turma: {st.class_name}    Professor(a): {rng.choice(FIRST)}"))
    cols = [("Nº", 1), (style.t("Nome do Aluno"), 1)] + [(style.t(x), 1) for x in ("N1", "N2", "Rec", "Média", "Faltas")]
    body = [[str(i + 1), style.t(f"{rng.choice(FIRST)} {rng.choice(LAST)}")] + [""] * 5 for i in range(rng.randint(14, 24))]
    grid(d, [cols], body, [24, 200, 40, 40, 40, 46, 46], ["c", "l"] + ["c"] * 5)
    d.line(style.t("Média = (N1 + N2) / 2; média mínima 6,0; Rec. substitui a menor nota."))


def declaracao_transferencia(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.gap()
    d.line(style.t("DECLARAÇÃO DE TRANSFERÊNCIA"), bold=True, size=d.size + 3)
    d.gap()
    d.line(style.t(f"Declaramos que {st.name}, matrícula {st.registration}, nascido(a) em {st.birth},"))
    d.line(style.t(f"cursou nesta escola o {st.class_name} no ano letivo de {year - 1}, tendo sido APROVADO(A),"))
    d.line(style.t(f"e solicitou transferência em {_date(rng, year)}. O histórico escolar será expedido em 30 dias."))
    d.line(style.t("Frequência no período: 94,2%. Carga horária cursada: 640 horas."))
    d.gap()
    d.line(style.t(f"{school.city}, {_date(rng, year)}."))


def emprestimo_biblioteca(d, rng):
    style, school, st, year = _ctx(d, rng)
    d.line(style.t(f"Biblioteca Escolar - {school.name}"), bold=True)
    d.line(style.t("COMPROVANTE DE EMPRÉSTIMO"), bold=True, size=d.size + 2)
    student_lines(d, st, style, rng, None, extras=False)
    books = [("Matemática: Compreensão e Prática - 8º ano", "510.7"), ("Geografia Geral e do Brasil", "910"),
             ("Português: Linguagens - vol. 2", "469.5"), ("Ciências Naturais - Ensino Fundamental", "507"),
             ("História: Sociedade & Cidadania", "981")]
    body = [[style.t(b), cdd, _date(rng, year), _date(rng, year), "0,50"] for b, cdd in rng.sample(books, 3)]
    grid(d, [[(style.t(x), 1) for x in ("Título", "CDD", "Retirada", "Devolução", "Multa/dia (R$)")]], body,
         [230, 44, 64, 64, 70], ["l", "c", "c", "c", "c"])


def atestado_medico(d, rng):
    style, school, st, year = _ctx(d, rng)
    d.line(style.t("CLÍNICA PEDIÁTRICA SÃO LUCAS - CRM 45.678"), bold=True)
    d.line(style.t("ATESTADO MÉDICO"), bold=True, size=d.size + 3)
    d.gap()
    d.line(style.t(f"Atesto para fins escolares que o(a) paciente {st.name}, aluno(a) do {st.class_name}"))
    d.line(style.t(f"da {school.name}, esteve sob meus cuidados em {_date(rng, year)}, devendo"))
    d.line(style.t(f"afastar-se das atividades escolares (inclusive Educação Física) por {rng.randint(2, 7)} dias."))
    d.line(f"CID 10: J{rng.randint(0, 99):02d}.{rng.randint(0, 9)}   Temp.: 38,5 °C   Peso: 42,0 kg")


def calendario_provas(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    tl = term_labels(rng, 4, style)
    d.line(style.t(f"CALENDÁRIO DE AVALIAÇÕES - {tl[rng.randrange(4)]} - {st.class_name} - {year}"), bold=True)
    body = []
    for name in rng.sample([v[0] for v in ALL_SUBJECTS.values()], 8):
        body.append([_date(rng, year), style.t(name), style.t(rng.choice(["Prova", "Trabalho", "Simulado"])),
                     rng.choice(["3,0", "4,0", "5,0", "6,0", "10,0"]), rng.choice(["7,0", "6,0", "5,0"])])
    grid(d, [[(style.t(x), 1) for x in ("Data", "Disciplina", "Instrumento", "Valor", "Média mínima")]], body,
         [64, 170, 80, 50, 70], ["c", "l", "c", "c", "c"])
    d.line(style.t("A recuperação paralela será aplicada na semana seguinte à avaliação."))


def cardapio(d, rng):
    style, school, st, year = _ctx(d, rng)
    d.line(style.t(f"{school.name} - Alimentação Escolar (PNAE)"), bold=True)
    d.line(style.t(f"CARDÁPIO SEMANAL - {rng.choice(MONTHS).capitalize()} de {year}"), bold=True, size=d.size + 2)
    meals = ["Arroz, feijão e frango", "Macarrão com carne moída", "Sopa de legumes", "Cuscuz com ovo",
             "Vatapá com arroz", "Frutas da estação", "Iogurte e biscoito"]
    body = [[style.t(day)] + [style.t(rng.choice(meals)) for _ in range(2)]
            + [f"{rng.uniform(350, 650):.1f}".replace(".", ","), f"{rng.uniform(8, 25):.1f}".replace(".", ",")]
            for day in ("Segunda", "Terça", "Quarta", "Quinta", "Sexta")]
    grid(d, [[(style.t(x), 1) for x in ("Dia", "Lanche", "Almoço", "kcal", "Proteína (g)")]], body,
         [60, 150, 150, 50, 70], ["l", "l", "l", "c", "c"])
    d.line(style.t("Nutricionista responsável: CRN-3 12345"))


def matriz_curricular(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.line(style.t(f"MATRIZ CURRICULAR - ENSINO FUNDAMENTAL ANOS FINAIS - {year}"), bold=True, size=d.size + 1)
    levels = ["6º Ano", "7º Ano", "8º Ano", "9º Ano"]
    body = []
    for code, sp in SUBJECTS.items():
        body.append([style.t(sp[0])] + [str(rng.choice([1, 2, 2, 3, 4, 5])) for _ in levels]
                    + [str(rng.choice([400, 480, 560, 640]))])
    body.append([style.t("Total semanal")] + ["25"] * 4 + ["4000"])
    grid(d, [[(style.t("Componente Curricular"), 1)] + [(x, 1) for x in levels] + [(style.t("CH total"), 1)]], body,
         [170, 50, 50, 50, 50, 60], ["l"] + ["c"] * 5)
    d.line(style.t("Aulas de 50 minutos; 200 dias letivos; 800 horas anuais."))


def convocacao_recuperacao(d, rng):
    style, school, st, year = _ctx(d, rng)
    school_lines(d, school, style, rng)
    d.line(style.t("CONVOCAÇÃO PARA RECUPERAÇÃO FINAL"), bold=True, size=d.size + 2)
    student_lines(d, st, style, rng, year, extras=False)
    d.line(style.t("O(a) estudante deverá comparecer às avaliações de recuperação abaixo:"))
    body = [[style.t(v[0]), _date(rng, year), rng.choice(["08:00", "10:00", "14:00"]), str(rng.randint(1, 12)), "6,0"]
            for v in rng.sample(list(SUBJECTS.values()), 3)]
    grid(d, [[(style.t(x), 1) for x in ("Disciplina", "Data", "Horário", "Sala", "Nota mínima")]], body,
         [170, 70, 54, 40, 70], ["l", "c", "c", "c", "c"])
    d.line(style.t("Ciente do responsável: ____________________"))


REJECTS = {
    "atestado_matricula": atestado_matricula,
    "lista_presenca": lista_presenca,
    "horario_semanal": horario_semanal,
    "carne_mensalidade": carne_mensalidade,
    "diario_classe_vazio": diario_classe_vazio,
    "declaracao_transferencia": declaracao_transferencia,
    "emprestimo_biblioteca": emprestimo_biblioteca,
    "atestado_medico": atestado_medico,
    "calendario_provas": calendario_provas,
    "cardapio": cardapio,
    "matriz_curricular": matriz_curricular,
    "convocacao_recuperacao": convocacao_recuperacao,
}
