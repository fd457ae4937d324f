"""Generates the synthetic school documents documents/tests read, with their
ground truth, into the directory given as argv[1]:

  boletim_table.pdf  report card, gridded table, Helvetica (standard font, WinAnsi)
  boletim_lines.pdf  report card, one line per subject ("Matemática .... B1: 7,0 ..."),
                     DejaVu Sans (embedded TrueType subset with ToUnicode)
  historico.pdf      transcript, one table per school year over two pages,
                     Liberation Serif (embedded TrueType)
  *_scan.pdf         the same pages rasterized at 200 dpi, rotated 1-2 degrees,
                     with noise and JPEG artefacts, put back into a PDF (img2pdf)
  bomb.pdf           a page whose content stream inflates to 80 MiB
  blank60.pdf        60 empty pages
  <name>.json        the ground truth for each document

Deterministic (fixed seeds). Needs reportlab, Pillow, img2pdf (see
scripts/lib.sh ensure_python_test_tools), pdftoppm and the DejaVu/Liberation fonts.
"""

import io
import json
import os
import random
import subprocess
import sys
import zlib

import img2pdf
from PIL import Image, ImageFilter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Table, TableStyle

OUT = sys.argv[1]
FONTS = [
    ("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("DejaVu-Bold", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("Liberation", "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
    ("Liberation-Bold", "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"),
]
for name, path in FONTS:
    pdfmetrics.registerFont(TTFont(name, path))

W, H = A4


def br(x):
    """8.5 -> '8,5'"""
    return f"{x:.1f}".replace(".", ",")


def cnpj(base12):
    d = [int(c) for c in base12]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        r = sum(a * b for a, b in zip(d, weights)) % 11
        d.append(0 if r < 2 else 11 - r)
    s = "".join(map(str, d))
    return s, f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


def subject_rows(rng, names, terms=4, hours=None):
    rows = []
    for code, name in names:
        grades = [round(rng.uniform(4.5, 10.0) * 2) / 2 for _ in range(terms)]
        mean = round(sum(grades) / terms, 1)
        absences = rng.randint(0, 12)
        ch = hours or 80
        freq = round(100.0 * (1 - absences / ch), 1)
        status = "Aprovado" if mean >= 6.0 else "Recuperação"
        rows.append(dict(code=code, name=name, terms=grades, final=mean, absences=absences,
                         attendance=freq, status=status.lower() if status == "Aprovado" else "recuperação",
                         status_text=status, workload=ch))
    return rows


BOLETIM_SUBJECTS = [
    ("lingua-portuguesa", "Língua Portuguesa"), ("matematica", "Matemática"), ("ciencias", "Ciências"),
    ("historia", "História"), ("geografia", "Geografia"), ("arte", "Arte"),
    ("educacao-fisica", "Educação Física"), ("lingua-inglesa", "Língua Inglesa"),
    ("ensino-religioso", "Ensino Religioso"),
]


def truth_subject(r, with_terms=True):
    t = dict(code=r["code"], final_grade=r["final"], absences=r["absences"],
             attendance_pct=r["attendance"], status=r["status"])
    if with_terms:
        t["terms"] = r["terms"]
    return t


def boletim_table():
    rng = random.Random(7)
    rows = subject_rows(rng, BOLETIM_SUBJECTS)
    digits, shown = cnpj("112223330001")
    c = canvas.Canvas(os.path.join(OUT, "boletim_table.pdf"), pagesize=A4)
    c.setFont("Helvetica-Bold", 14)
    c.drawString(50, H - 60, "ESCOLA ESTADUAL PROFESSORA MARIA JOSÉ DA CONCEIÇÃO")
    c.setFont("Helvetica", 10)
    c.drawString(50, H - 78, f"CNPJ: {shown}")
    c.setFont("Helvetica-Bold", 12)
    c.drawString(50, H - 105, "BOLETIM ESCOLAR - ANO LETIVO 2024")
    c.setFont("Helvetica", 10)
    c.drawString(50, H - 130, "Aluno(a): João Pedro de Souza Araújo")
    c.drawString(350, H - 130, "Matrícula: 2024001234")
    c.drawString(50, H - 146, "Data de Nascimento: 15/03/2011")
    c.drawString(350, H - 146, "Turma: 7º Ano B")
    data = [["Disciplina", "1º Bim", "2º Bim", "3º Bim", "4º Bim", "Média", "Faltas", "Freq. (%)", "Situação"]]
    for r in rows:
        data.append([r["name"]] + [br(g) for g in r["terms"]] + [br(r["final"]), str(r["absences"]),
                                                                 br(r["attendance"]), r["status_text"]])
    t = Table(data, colWidths=[120, 42, 42, 42, 42, 42, 40, 52, 72], rowHeights=20)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 10),
        ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
        ("ALIGN", (1, 0), (-2, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    tw, th = t.wrapOn(c, W, H)
    t.drawOn(c, 40, H - 175 - th)
    overall = round(sum(r["attendance"] for r in rows) / len(rows), 1)
    c.setFont("Helvetica", 10)
    c.drawString(50, H - 200 - th, f"Frequência Global: {br(overall)}%")
    c.showPage()
    c.save()
    return dict(doc_type="boletim", year=2024,
                student=dict(name="João Pedro de Souza Araújo", registration="2024001234",
                             birth_date="2011-03-15", class_name="7º Ano B"),
                school=dict(name="ESCOLA ESTADUAL PROFESSORA MARIA JOSÉ DA CONCEIÇÃO", cnpj=digits),
                subjects=[truth_subject(r) for r in rows], overall_attendance_pct=overall,
                warnings=[])


def boletim_lines():
    rng = random.Random(11)
    names = BOLETIM_SUBJECTS[:6] + [("fisica", "Física"), ("quimica", "Química")]
    rows = subject_rows(rng, names)
    rows[3]["final"] = 9.5  # inconsistent with the terms on purpose: a warning
    digits, shown = cnpj("123456780001")
    c = canvas.Canvas(os.path.join(OUT, "boletim_lines.pdf"), pagesize=A4)
    c.setFont("DejaVu-Bold", 15)
    c.drawString(50, H - 60, "Colégio Santa Luzia de Educação Básica")
    c.setFont("DejaVu", 10)
    c.drawString(50, H - 78, f"CNPJ: {shown}")
    c.drawString(50, H - 110, "Boletim de Desempenho — Ano Letivo: 2024")
    c.drawString(50, H - 130, "Nome do Aluno: Ana Beatriz Gonçalves Müller")
    c.drawString(50, H - 146, "RA: 5588123")
    c.drawString(50, H - 162, "Data Nasc.: 02/09/2010")
    c.drawString(50, H - 178, "Série/Turma: 8º Ano A")
    y = H - 215
    for r in rows:
        c.setFont("DejaVu-Bold", 10)
        c.drawString(50, y, r["name"])
        c.setFont("DejaVu", 9)
        terms = "  ".join(f"B{i + 1}: {br(g)}" for i, g in enumerate(r["terms"]))
        c.drawString(170, y, f"{terms}  Média: {br(r['final'])}  Faltas: {r['absences']}  "
                             f"Frequência: {br(r['attendance'])}%  Situação: {r['status_text']}")
        y -= 22
    c.showPage()
    c.save()
    return dict(doc_type="boletim", year=2024,
                student=dict(name="Ana Beatriz Gonçalves Müller", registration="5588123",
                             birth_date="2010-09-02", class_name="8º Ano A"),
                school=dict(name="Colégio Santa Luzia de Educação Básica", cnpj=digits),
                subjects=[truth_subject(r) for r in rows], overall_attendance_pct=None,
                warnings=["subjects[3].final_grade"])


HISTORICO_SUBJECTS = [
    ("lingua-portuguesa", "Língua Portuguesa"), ("matematica", "Matemática"), ("ciencias", "Ciências"),
    ("historia", "História"), ("geografia", "Geografia"), ("educacao-fisica", "Educação Física"),
    ("lingua-inglesa", "Língua Inglesa"),
]


def historico():
    rng = random.Random(23)
    digits, shown = cnpj("987654320001")
    bad = shown[:-1] + str((int(shown[-1]) + 1) % 10)  # wrong check digit: a warning
    c = canvas.Canvas(os.path.join(OUT, "historico.pdf"), pagesize=A4)

    def head():
        c.setFont("Liberation-Bold", 15)
        c.drawString(50, H - 60, "HISTÓRICO ESCOLAR — ENSINO FUNDAMENTAL")
        c.setFont("Liberation", 11)
        c.drawString(50, H - 80, "Escola: Escola Municipal Monteiro Lobato")
        c.drawString(350, H - 80, f"CNPJ: {bad}")
        c.drawString(50, H - 98, "Aluno(a): Carlos Eduardo Lima Ferreira")
        c.drawString(350, H - 98, "Matrícula: 20190456")
        c.drawString(50, H - 116, "Data de Nascimento: 21/07/2009")

    years = []
    head()
    y = H - 150
    for k, (year, level) in enumerate([(2021, "6º Ano"), (2022, "7º Ano"), (2023, "8º Ano")]):
        if k == 2:
            c.showPage()
            head()
            y = H - 150
        rows = subject_rows(rng, HISTORICO_SUBJECTS, hours=160)
        overall = round(sum(r["attendance"] for r in rows) / len(rows), 1)
        c.setFont("Liberation-Bold", 12)
        c.drawString(50, y, f"Ano Letivo: {year} - Série: {level}")
        y -= 10
        data = [["Componente Curricular", "Média Final", "CH", "Faltas", "Frequência (%)", "Resultado"]]
        for r in rows:
            data.append([r["name"], br(r["final"]), str(r["workload"]), str(r["absences"]), br(r["attendance"]),
                         r["status_text"]])
        t = Table(data, colWidths=[150, 70, 40, 50, 85, 85], rowHeights=18)
        t.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, 0), "Liberation-Bold", 10),
            ("FONT", (0, 1), (-1, -1), "Liberation", 11),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
            ("ALIGN", (1, 0), (-1, -1), "CENTER"),
        ]))
        tw, th = t.wrapOn(c, W, H)
        t.drawOn(c, 45, y - th)
        y -= th + 18
        c.setFont("Liberation", 11)
        c.drawString(50, y, f"Frequência Anual: {br(overall)}%")
        c.drawString(300, y, "Resultado Final: Aprovado")
        y -= 40
        years.append(dict(year=year, grade_level=level, overall_attendance_pct=overall, status="aprovado",
                          subjects=[dict(truth_subject(r, with_terms=False), workload_hours=160) for r in rows]))
    c.showPage()
    c.save()
    return dict(doc_type="historico", year=2023,
                student=dict(name="Carlos Eduardo Lima Ferreira", registration="20190456",
                             birth_date="2009-07-21", class_name=None),
                school=dict(name="Escola Municipal Monteiro Lobato", cnpj=digits[:-1] + bad[-1]),
                years=years, subjects=[], overall_attendance_pct=None, warnings=["school.cnpj"])


def scan(name, angle, seed, dpi=200):
    """Rasterize, rotate, add noise and JPEG artefacts, back to a PDF."""
    rng = random.Random(seed)
    prefix = os.path.join(OUT, f"_{name}")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", os.path.join(OUT, f"{name}.pdf"), prefix], check=True)
    pages = sorted(p for p in os.listdir(OUT) if p.startswith(f"_{name}") and p.endswith(".pgm"))
    jpegs = []
    for p in pages:
        img = Image.open(os.path.join(OUT, p)).convert("L")
        img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
        img = img.filter(ImageFilter.GaussianBlur(0.6))
        px = img.load()
        w, h = img.size
        for y in range(0, h):  # sensor noise, +-24 gray levels on every 3rd pixel
            for x in range(y % 3, w, 3):
                px[x, y] = max(0, min(255, px[x, y] + rng.randint(-24, 24)))
        for _ in range(w * h // 1500):  # dust specks
            x, y = rng.randrange(w), rng.randrange(h)
            px[x, y] = rng.choice((0, 60))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=55, dpi=(dpi, dpi))
        jpegs.append(buf.getvalue())
        os.remove(os.path.join(OUT, p))
    layout = img2pdf.get_layout_fun((img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297)))
    with open(os.path.join(OUT, f"{name}_scan.pdf"), "wb") as f:
        f.write(img2pdf.convert(jpegs, layout_fun=layout))


def bomb():
    """One page whose content stream is 80 MiB of spaces, Flate-compressed (~80 KB)."""
    z = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(z.compress(chunk) for _ in range(80)) + z.flush()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(os.path.join(OUT, "bomb.pdf"), "wb") as f:
        f.write(out)


def blank(n):
    c = canvas.Canvas(os.path.join(OUT, f"blank{n}.pdf"), pagesize=A4)
    for i in range(n):
        c.drawString(50, 800, f"Página {i + 1}")
        c.showPage()
    c.save()


def main():
    os.makedirs(OUT, exist_ok=True)
    truths = dict(boletim_table=boletim_table(), boletim_lines=boletim_lines(), historico=historico())
    for name, t in truths.items():
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(t, f, ensure_ascii=False, indent=1)
    scan("boletim_table", 1.5, 1)
    scan("boletim_lines", -1.2, 2)
    scan("historico", -2.0, 3)
    bomb()
    blank(60)


if __name__ == "__main__":
    main()
