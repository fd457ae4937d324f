"""Sixteen more layout families for the documents extractor (issue 14),
written independently of gen_layouts.py and of the parser, modelled on what
Brazilian school systems print (state exports like SED-SP and SIGE,
municipal networks, private schools, legacy text reports, históricos),
plus twelve school documents that are not transcripts and must be refused.

    gen_families.py OUT [--tune N] [--holdout N] [--scans K] [--rejects]
                        [--reject-scans K] [--only FAMILY,...]
                        [--extra N] [--extra-scans K]
                        [--unseen N] [--unseen-scans K] [--unseen-rejects]
                        [--unseen-reject-scans K]
                        [--unseen2 N] [--unseen2-scans K] [--unseen2-rejects]
                        [--unseen2-reject-scans K]
                        [--unseen3 N] [--unseen3-scans K] [--unseen3-rejects]
                        [--unseen3-reject-scans K]

Writes OUT/famtune-<family>-<seed>.pdf / famholdout-<family>-<seed>.pdf
with a .json ground truth in gen_layouts.py's schema (kind, family, split,
seed, scale, scan_dpi, doc_type, year, student, school,
overall_attendance_pct, subjects, years) plus `pages` and `generator`.

The split is by FAMILY, not by seed: HOLDOUT_FAMILIES were drawn once with
random.Random(20261205).sample(sorted(all 16 names), 8) and are recorded
below; their documents have split `holdout_family` (seeds 5000..), the
others `tune_family` (seeds 1000..). The parser is tuned on tune families
only; holdout families are measured, never looked at while tuning.
`--tune N` / `--holdout N` are seeds per family (default 3 / 3).
`--scans K` writes K scanned copies per split (150, 200, 300 dpi in turn;
slight rotation, noise, blur, JPEG) spread over the families, named
<name>-scan<dpi>.pdf. `--rejects` writes the look-alikes as
famreject-<kind>-<seed>.pdf (split `reject`, kind `reject`);
`--reject-scans K` scans the first K of them too.

`--extra N` also writes N seeds (3000..) of the TUNE-SIDE extra families of
fam_tune_extra.py as famxtune-<family>-<seed>.pdf (split `tune_family`;
written by the parser's tuner for shapes issue 14 lists, so never a measure
of unseen layouts); `--extra-scans K` scans K of them. They take family
indices after the 16, so the other families' documents do not change.

`--unseen N` writes N seeds (9000..) of each UNSEEN family of fam_unseen.py
as famunseen-<family>-<seed>.pdf (split `unseen_family`): a second holdout of
twelve layout families written without looking at the parser, never to be
tuned on. `--unseen-scans K` scans K of them, spread over the families
(150/200/300 dpi in turn). `--unseen-rejects` writes the six look-alikes of
fam_unseen.UNSEEN_REJECTS as famunseenreject-<kind>-<seed>.pdf (split
`reject`, seeds 9000.., max(1, N) seeds each); `--unseen-reject-scans K` scans
the first K. They take rng indices after every existing family and reject
kind, so no existing document changes. Families (fam_unseen.py says more):
  un_mg_pontos              SEE-MG / SIMADE boletim (points distributed over the year)
  un_term_blocks            SIGEduc-style `notas por unidade` report
  un_conceito_misto         private-school card (Sponte-like), numbers and concepts
  un_bncc_area_column       BNCC-organised boletim (EF / Novo Ensino Médio)
  un_ficha_wide_dense       state `Ficha Individual do Aluno` export (SEDUC-CE/BA/GO/PE)
  un_footer_ident_turma     private network card (Layers/Positivo-like)
  un_two_up                 municipal compact card
  un_semestral_pesos        IF / technical-school semestral boletim
  un_hist_series_rows       `Ficha 19`-style histórico do Ensino Fundamental (1º-9º ano)
  un_hist_em_estudos        Ensino Médio histórico with Estudos Realizados
  un_hist_year_panels       private-system histórico, a panel per year
  un_hist_transfer_current  histórico issued on transfer, with the year in course
Rejects: ficha_matricula, ocorrencia_disciplinar, relatorio_notas_turma,
declaracao_escolaridade, boleto_mensalidade, resultado_simulado.

`--unseen2 N` writes N seeds (12000..) of each family of fam_unseen2.py as
famunseen2-<family>-<seed>.pdf (split `unseen2_family`): a third holdout of
eleven layout families, written without looking at the parser, its
examples or its results, never to be tuned on. `--unseen2-scans K` scans K
of them, spread over the families as for `--unseen-scans`;
`--unseen2-rejects` writes the seven look-alikes of
fam_unseen2.UNSEEN2_REJECTS as famreject2-<kind>-<seed>.pdf (split
`reject`, seeds 12000.., max(1, N) seeds each); `--unseen2-reject-scans K`
scans the first K. Their rng indices come after every family and reject
kind above, so no document of the other options changes. Families
(fam_unseen2.py says more):
  u2_dotted_leaders          portrait, small font, dotted leaders to right-aligned term columns
  u2_term_rows_acronyms      terms as rows (Nota / Faltas), subjects as acronym columns + legend
  u2_trimestre_two_tables    trimesters; grades table and a separate attendance table
  u2_header_two_boxes        school / student boxes side by side, semester recoveries between bimesters
  u2_instrumentos_nested     a block per subject: assessment rows with weights, term mean, absences
  u2_portal_print            student portal printed from a browser (URL margins, zebra, teacher column)
  u2_duas_vias               the same card twice on one page (school's and guardian's copies)
  u2_hist_anos_linhas        histórico, a row per year, subjects as (turned) abbreviated columns
  u2_hist_blocos_horizontais histórico, a block per year with its school, subjects across
  u2_hist_certidao_texto     histórico in running text, a paragraph per year
  u2_hist_em_notas_ch        Ensino Médio histórico, `Médias Finais` and `Carga Horária` column groups
Rejects: lista_material, rota_transporte, holerite_professor, regimento_avaliacao,
ata_conselho_classe, frequencia_bolsa_familia, plano_ensino.

`--unseen3 N` writes N seeds (13000..) of each family of fam_unseen3.py as
famunseen3-<family>-<seed>.pdf (split `unseen3_family`): a fourth holdout of
fourteen layout families, written without looking at the parser, its
examples or its results, never to be tuned on. `--unseen3-scans K` scans K
of them, spread over the families as for `--unseen-scans`;
`--unseen3-rejects` writes the eight look-alikes of
fam_unseen3.UNSEEN3_REJECTS as famreject3-<kind>-<seed>.pdf (split
`reject`, seeds 13000.., max(1, N) seeds each); `--unseen3-reject-scans K`
scans the first K. Their rng indices come after every family and reject
kind above, so no document of the other options changes. Families
(fam_unseen3.py says more):
  u3_quadrantes_bimestre     a bordered panel per term (2 x 2 or all across), `Nota | Faltas` in each
  u3_ascii_pipes             legacy monospaced report, ASCII `+---+ |` rules, two-line NOTA / FALT records
  u3_descricao_direita       subject name at the RIGHT after the numbers, horizontal rules, values far from labels
  u3_transposto_rotulo       subjects as columns, term row groups under a turned term label on the left
  u3_bilingue_percent        bilingual (pt/en) card, 0-100 percentages, letter column, letter-only components
  u3_barras_caixas           a bar of ten small boxes per term and subject, the number after (or under) it
  u3_app_celular             a school app's PDF on a phone-sized page, a card per subject, one line per term
  u3_suap_if                 federal institute (SUAP-like), N1..N4 `Nota | F`, MD, NAF, MFD on 0-100
  u3_hist_etapas             Ensino Fundamental histórico, one table per etapa with different columns
  u3_hist_duas_folhas        histórico whose school years are split over two pages (subjects printed again)
  u3_hist_celula_dupla       histórico cells holding the grade over the workload in hours:minutes
  u3_hist_exterior           Brazilian school abroad, bilingual, grades 0-100, no CNPJ
  u3_hist_rodape_anos        the year, school number and town as rows at the FOOT of each série column
  u3_hist_eja_semestres      EJA, a block per semester, a year's semesters gathered in the truth
Rejects: extrato_atividades, carteira_vacinacao, calendario_letivo, boletim_em_branco,
declaracao_componentes, boletim_desempenho_escola, avaliacao_fisica, cronograma_recuperacao.

Truth rule: a field is in the truth only where a person reading the page
would give it unambiguously (a term without a grade is null, a partial
mean is not a final grade, letter concepts are not numbers, the `N1 N2
Rec` of a term count only when the term's mean is printed).
Needs reportlab, Pillow, img2pdf, pdftoppm and the DejaVu/Liberation fonts.
"""

import io
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import img2pdf  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from fam_boletins import BOLETINS  # noqa: E402
from fam_common import Doc, rng_for  # noqa: E402
from fam_historicos import HISTORICOS  # noqa: E402
from fam_rejects import REJECTS  # noqa: E402
from fam_tune_extra import EXTRA_TUNE  # noqa: E402
from fam_unseen import UNSEEN, UNSEEN_REJECTS  # noqa: E402
from fam_unseen2 import UNSEEN2, UNSEEN2_REJECTS  # noqa: E402
from fam_unseen3 import UNSEEN3, UNSEEN3_REJECTS  # noqa: E402

FAMILIES = {**BOLETINS, **HISTORICOS}
SPLIT_SEED = 20261205
# random.Random(20261205).sample(sorted(FAMILIES), 8), drawn once (2026-12-05) and kept:
HOLDOUT_FAMILIES = ["bncc_areas_em", "hist_years_cols_ch", "keyvalue_pipe", "mono_export", "partial_year_dashes",
                    "sed_sp_dense", "sige_caps_landscape", "subject_cards"]
TUNE_FAMILIES = sorted(f for f in FAMILIES if f not in HOLDOUT_FAMILIES)
DPIS = [150, 200, 300]


def split_of(family):
    return "holdout_family" if family in HOLDOUT_FAMILIES else "tune_family"


def scan(pdf_path, out_path, dpi, rng):
    """Rasterizes with pdftoppm, turns it slightly, adds noise, blur and JPEG, back to PDF."""
    prefix = out_path + ".tmp"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", pdf_path, prefix], check=True)
    folder = os.path.dirname(out_path) or "."
    pages = sorted(p for p in os.listdir(folder) if p.startswith(os.path.basename(prefix)) and p.endswith(".png"))
    images = []
    for p in pages:
        full = os.path.join(folder, p)
        im = Image.open(full).convert("L")
        os.remove(full)
        im = im.rotate(rng.uniform(-1.2, 1.2), resample=Image.BICUBIC, expand=False, fillcolor=rng.randint(235, 255))
        noise = Image.effect_noise(im.size, rng.uniform(18, 45))
        im = Image.blend(im, noise, rng.uniform(0.05, 0.13))
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.15, 0.55)))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=rng.randint(55, 85), dpi=(dpi, dpi))
        images.append(buf.getvalue())
    with open(out_path, "wb") as f:
        f.write(img2pdf.convert(images, layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))))


def write_json(path, truth):
    with open(path, "w") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)


def add_scan(out, name, truth, k, rng):
    dpi = DPIS[k % len(DPIS)]
    sname = f"{name}-scan{dpi}"
    scan(os.path.join(out, name + ".pdf"), os.path.join(out, sname + ".pdf"), dpi, rng)
    write_json(os.path.join(out, sname + ".json"), dict(truth, scan_dpi=dpi))


def write_rejects(out, kinds, seeds, prefix, index_base, scans):
    """The look-alikes `kinds` (split `reject`) for each seed, the first `scans` of them scanned too."""
    k = 0
    for seed in seeds:
        for ki, (kind, fn) in enumerate(kinds.items()):
            rng = rng_for(seed, index_base + ki)
            name = f"{prefix}-{kind}-{seed}"
            d = Doc(os.path.join(out, name + ".pdf"), rng)
            fn(d, rng)
            d.save()
            truth = {"kind": "reject", "family": kind, "split": "reject", "seed": seed, "scan_dpi": None,
                     "pages": d.pages, "generator": "gen_families"}
            write_json(os.path.join(out, name + ".json"), truth)
            if k < scans:
                add_scan(out, name, truth, k, rng)
                k += 1


def spread_scans(k_total, n, nfam):
    """Which (seed index, family index) get a scan: k_total of them spread over
    the families, and over the seeds once every family has one."""
    chosen = set()
    k_total = min(k_total, n * nfam)
    for k in range(k_total):
        if k_total <= nfam:
            chosen.add((k % n, k * nfam // k_total))
        else:
            chosen.add(((k // nfam) % n, k % nfam))
    return chosen



def write_unseen(out, only, families, prefix, split, first_seed, n, scans, base_index):
    """N seeds (from first_seed) of each holdout family, the i-th family drawn
    with rng index base_index + i, `scans` of them scanned (spread_scans)."""
    chosen = spread_scans(scans, n, len(families))
    k = 0
    for si, seed in enumerate(range(first_seed, first_seed + n)):
        for i, (family, fn) in enumerate(families.items()):
            if only and family not in only:
                continue
            rng = rng_for(seed, base_index + i)
            name = f"{prefix}-{family}-{seed}"
            truth = fn(os.path.join(out, name + ".pdf"), rng, family, split, seed)
            write_json(os.path.join(out, name + ".json"), truth)
            if (si, i) in chosen:
                add_scan(out, name, truth, k, rng)
                k += 1

def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    out = args[0]
    opts = {"--tune": 3, "--holdout": 3, "--scans": 0, "--reject-scans": 0, "--extra": 0, "--extra-scans": 0,
            "--unseen": 0, "--unseen-scans": 0, "--unseen-reject-scans": 0,
            "--unseen2": 0, "--unseen2-scans": 0, "--unseen2-reject-scans": 0,
            "--unseen3": 0, "--unseen3-scans": 0, "--unseen3-reject-scans": 0}
    for k in opts:
        if k in args:
            opts[k] = int(args[args.index(k) + 1])
    only = None
    if "--only" in args:
        only = set(args[args.index("--only") + 1].split(","))
    os.makedirs(out, exist_ok=True)
    index = {name: i for i, name in enumerate(sorted(FAMILIES))}
    for split, prefix, base, n, fams in [("tune_family", "famtune", 1000, opts["--tune"], TUNE_FAMILIES),
                                         ("holdout_family", "famholdout", 5000, opts["--holdout"], HOLDOUT_FAMILIES)]:
        scans_left, k = opts["--scans"], 0
        for seed in range(base, base + n):
            for family in fams:
                if only and family not in only:
                    continue
                rng = rng_for(seed, index[family])
                name = f"{prefix}-{family}-{seed}"
                truth = FAMILIES[family](os.path.join(out, name + ".pdf"), rng, family, split, seed)
                write_json(os.path.join(out, name + ".json"), truth)
                if scans_left > 0:
                    add_scan(out, name, truth, k, rng)
                    k += 1
                    scans_left -= 1
    # TUNE-SIDE extra families (fam_tune_extra.py): indices after the 16.
    scans_left, k = opts["--extra-scans"], 0
    for seed in range(3000, 3000 + opts["--extra"]):
        for i, (family, fn) in enumerate(EXTRA_TUNE.items()):
            if only and family not in only:
                continue
            rng = rng_for(seed, len(FAMILIES) + i)
            name = f"famxtune-{family}-{seed}"
            truth = fn(os.path.join(out, name + ".pdf"), rng, family, "tune_family", seed)
            write_json(os.path.join(out, name + ".json"), truth)
            if scans_left > 0:
                add_scan(out, name, truth, k, rng)
                k += 1
                scans_left -= 1
    if "--rejects" in args:
        write_rejects(out, REJECTS, range(7000, 7000 + max(1, opts["--holdout"])), "famreject", 100,
                      opts["--reject-scans"])
    # UNSEEN families (fam_unseen.py): rng indices after the 16 and the extra ones.
    write_unseen(out, only, UNSEEN, "famunseen", "unseen_family", 9000, opts["--unseen"],
                 opts["--unseen-scans"], len(FAMILIES) + len(EXTRA_TUNE))
    if "--unseen-rejects" in args:
        write_rejects(out, UNSEEN_REJECTS, range(9000, 9000 + max(1, opts["--unseen"])), "famunseenreject",
                      100 + len(REJECTS), opts["--unseen-reject-scans"])
    # UNSEEN2 families (fam_unseen2.py): rng indices after every family and look-alike above.
    write_unseen(out, only, UNSEEN2, "famunseen2", "unseen2_family", 12000, opts["--unseen2"],
                 opts["--unseen2-scans"], len(FAMILIES) + len(EXTRA_TUNE) + len(UNSEEN))
    if "--unseen2-rejects" in args:
        write_rejects(out, UNSEEN2_REJECTS, range(12000, 12000 + max(1, opts["--unseen2"])), "famreject2",
                      100 + len(REJECTS) + len(UNSEEN_REJECTS), opts["--unseen2-reject-scans"])
    # UNSEEN3 families (fam_unseen3.py): rng indices after every family and look-alike above.
    write_unseen(out, only, UNSEEN3, "famunseen3", "unseen3_family", 13000, opts["--unseen3"],
                 opts["--unseen3-scans"], len(FAMILIES) + len(EXTRA_TUNE) + len(UNSEEN) + len(UNSEEN2))
    if "--unseen3-rejects" in args:
        write_rejects(out, UNSEEN3_REJECTS, range(13000, 13000 + max(1, opts["--unseen3"])), "famreject3",
                      100 + len(REJECTS) + len(UNSEEN_REJECTS) + len(UNSEEN2_REJECTS),
                      opts["--unseen3-reject-scans"])
    print(out)


if __name__ == "__main__":
    main()
