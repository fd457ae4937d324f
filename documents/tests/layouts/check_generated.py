"""Checks a directory written by gen_families.py (or gen_layouts.py): every
truth JSON is well-formed for the scorer (tests/common/score.rs) and every
PDF beside it opens (`pdfinfo`) with the page count the truth records.

    check_generated.py DIR

Prints one line per problem and `N passed, N failed`; exits 1 on any failure.
"""

import json
import os
import re
import subprocess
import sys

SPLITS = {"tune", "holdout", "tune_family", "holdout_family", "unseen_family", "unseen2_family", "unseen3_family",
          "reject"}
STATUSES = {None, "aprovado", "reprovado", "recuperação", "cursando", "promovido", "retido", "transferido"}
CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def num_or_none(v, lo=0.0, hi=None):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi))


def check_subject(s, scale, where, errs):
    if not isinstance(s.get("code"), str) or not CODE.match(s["code"]):
        errs.append(f"{where}.code {s.get('code')!r} is not a slug")
    for t in s.get("terms", []) or []:
        if not num_or_none(t, 0, scale):
            errs.append(f"{where}.terms has {t!r} outside 0..{scale}")
    if not num_or_none(s.get("final_grade"), 0, scale):
        errs.append(f"{where}.final_grade {s.get('final_grade')!r} outside 0..{scale}")
    if not num_or_none(s.get("absences")) or isinstance(s.get("absences"), float):
        errs.append(f"{where}.absences {s.get('absences')!r} is not a count")
    if not num_or_none(s.get("attendance_pct"), 0, 100):
        errs.append(f"{where}.attendance_pct {s.get('attendance_pct')!r}")
    if s.get("status") not in STATUSES:
        errs.append(f"{where}.status {s.get('status')!r}")
    if not num_or_none(s.get("workload_hours")):
        errs.append(f"{where}.workload_hours {s.get('workload_hours')!r}")


def check_truth(t):
    errs = []
    for k in ("kind", "family", "split", "seed"):
        if k not in t:
            errs.append(f"missing {k}")
    if t.get("split") not in SPLITS:
        errs.append(f"split {t.get('split')!r}")
    if t.get("kind") == "reject":
        if t.get("split") != "reject":
            errs.append("a reject outside split reject")
        return errs
    if t.get("kind") != "academic":
        return errs + [f"kind {t.get('kind')!r}"]
    scale = t.get("scale")
    if scale not in (10, 100):
        errs.append(f"scale {scale!r}")
        scale = 100
    if t.get("doc_type") not in ("boletim", "historico"):
        errs.append(f"doc_type {t.get('doc_type')!r}")
    if not isinstance(t.get("year"), int) or not 2000 <= t["year"] <= 2030:
        errs.append(f"year {t.get('year')!r}")
    st = t.get("student") or {}
    for k in ("name", "registration", "birth_date", "class_name"):
        if k not in st:
            errs.append(f"student.{k} missing")
    if st.get("birth_date") and not re.match(r"^\d{4}-\d{2}-\d{2}$", st["birth_date"]):
        errs.append(f"student.birth_date {st['birth_date']!r}")
    sc = t.get("school") or {}
    if "name" not in sc or "cnpj" not in sc:
        errs.append("school.name / school.cnpj missing")
    if sc.get("cnpj") is not None and not re.match(r"^\d{14}$", sc["cnpj"]):
        errs.append(f"school.cnpj {sc['cnpj']!r} is not 14 digits")
    if not num_or_none(t.get("overall_attendance_pct"), 0, 100):
        errs.append("overall_attendance_pct")
    subjects = t.get("subjects")
    if not isinstance(subjects, list):
        return errs + ["subjects is not a list"]
    years = t.get("years")
    if t["doc_type"] == "boletim":
        if not subjects:
            errs.append("a boletim without subjects")
        codes = [s.get("code") for s in subjects]
        if len(codes) != len(set(codes)):
            errs.append("duplicate subject codes")
        for i, s in enumerate(subjects):
            check_subject(s, scale, f"subjects[{i}]", errs)
    else:
        if not isinstance(years, list) or not years:
            return errs + ["a histórico without years"]
        if t["year"] != max(y["year"] for y in years):
            errs.append("year is not the last year")
        for i, y in enumerate(years):
            if not y.get("subjects"):
                errs.append(f"years[{i}] without subjects")
            if y.get("status") not in STATUSES:
                errs.append(f"years[{i}].status")
            for j, s in enumerate(y.get("subjects", [])):
                check_subject(s, scale, f"years[{i}].subjects[{j}]", errs)
    return errs


def pdf_pages(path):
    o = subprocess.run(["pdfinfo", path], capture_output=True, text=True)
    if o.returncode != 0:
        return None, o.stderr.strip()
    m = re.search(r"^Pages:\s+(\d+)", o.stdout, re.M)
    return (int(m.group(1)), "") if m else (None, "no page count")


def main():
    folder = sys.argv[1]
    passed = failed = 0
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".json")):
        base = name[:-5]
        errs = []
        try:
            with open(os.path.join(folder, name)) as f:
                truth = json.load(f)
            errs += check_truth(truth)
        except (ValueError, OSError) as e:
            truth, errs = {}, [f"unreadable: {e}"]
        pdf = os.path.join(folder, base + ".pdf")
        if not os.path.exists(pdf):
            errs.append("no PDF")
        else:
            pages, why = pdf_pages(pdf)
            if pages is None:
                errs.append(f"PDF does not open: {why}")
            elif pages < 1 or ("pages" in truth and truth["pages"] != pages):
                errs.append(f"PDF has {pages} pages, truth says {truth.get('pages')}")
        if errs:
            failed += 1
            for e in errs:
                print(f"{base}: {e}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
