#!/usr/bin/env bash
# Documents field accuracy on the layout families of issue 14, from two independent generators:
#  - documents/tests/layouts/gen_layouts.py (7 families): TUNE seeds (the parser was tuned on these) and
#    HOLDOUT seeds (never looked at while tuning) of the SAME families;
#  - documents/tests/layouts/gen_families.py (16 families, split BY FAMILY): tune_family (8 families
#    the parser may be tuned on) and holdout_family (8 families never used for tuning: the honest number).
# Text PDFs and scans (150/200/300 dpi) separately, per split and per family, review rate, extraction
# time per page, plus the verdicts on the non-academic look-alikes of both generators (false
# acceptances must be 0). Every generated PDF and truth is checked first (check_generated.py).
# Appends a dated section to bench/RESULTS.md (--no-record to only print).
#   bash bench/documents_layouts.sh [--no-record] [--seeds N] [--scans K] [--fam-seeds N] [--fam-scans K]
#        [--reject-scans K]
# Optional: BASELINE_BIN=<a `layouts` example built from another revision> adds its numbers on the
# same documents, for a before/after in the same run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$TAREFA_ROOT"
record=1
seeds=8
scans=6
fam_seeds=3
fam_scans=8
reject_scans=4
while [ $# -gt 0 ]; do
  case "$1" in
    --no-record) record=0 ;;
    --seeds) seeds="$2"; shift ;;
    --scans) scans="$2"; shift ;;
    --fam-seeds) fam_seeds="$2"; shift ;;
    --fam-scans) fam_scans="$2"; shift ;;
    --reject-scans) reject_scans="$2"; shift ;;
  esac
  shift
done

ensure_rust
ensure_packages "${TAREFA_APT_PACKAGES[@]}" tesseract-ocr
ensure_python_test_tools

target="${CARGO_TARGET_DIR:-$TAREFA_ROOT/target}"
log "building documents/examples/layouts"
cargo build -q -p documents --example layouts

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$target/debug/examples/layouts" "$work/layouts"
log "generating $seeds tune + $seeds holdout seeds x 7 families, $scans scans per split, look-alikes"
"$TAREFA_PYTHON" documents/tests/layouts/gen_layouts.py "$work/gen" --tune "$seeds" --holdout "$seeds" --scans "$scans" --rejects >/dev/null
log "generating $fam_seeds seeds x 16 new families (8 tune_family, 8 holdout_family), $fam_scans scans per split, 12 new look-alikes ($reject_scans scanned)"
"$TAREFA_PYTHON" documents/tests/layouts/gen_families.py "$work/gen" --tune "$fam_seeds" --holdout "$fam_seeds" \
  --scans "$fam_scans" --rejects --reject-scans "$reject_scans" \
  --unseen "$fam_seeds" --unseen-scans "$fam_scans" --unseen-rejects --unseen-reject-scans "$reject_scans" \
  --unseen2 "$fam_seeds" --unseen2-scans "$fam_scans" --unseen2-rejects --unseen2-reject-scans "$reject_scans" \
  --unseen3 "$fam_seeds" --unseen3-scans "$fam_scans" --unseen3-rejects --unseen3-reject-scans "$reject_scans" >/dev/null
"$TAREFA_PYTHON" documents/tests/layouts/check_generated.py "$work/gen" >"$work/check.txt" || { cat "$work/check.txt"; die "generated set is broken"; }
log "checked: $(tail -n 1 "$work/check.txt")"
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
start=$(date +%s)
"$work/layouts" "$work/gen" >"$work/report.md"
secs=$(( $(date +%s) - start ))
baseline=""
if [ -n "${BASELINE_BIN:-}" ]; then
  baseline="$("$BASELINE_BIN" "$work/gen")"
fi

report="$(cat <<MD

## Documents: layout families, field accuracy ($(date -u +%Y-%m-%d), $(getconf _NPROCESSORS_ONLN) cores, $(uname -m))

\`bash bench/documents_layouts.sh --seeds $seeds --scans $scans --fam-seeds $fam_seeds --fam-scans $fam_scans --reject-scans $reject_scans\`
(git $(git rev-parse --short HEAD)), debug build, OMP_THREAD_LIMIT=$OMP_THREAD_LIMIT, ${secs} s for the whole set.
- \`tune\` / \`holdout\`: gen_layouts.py's 7 families, TUNE seeds 1000.. and HOLDOUT seeds 5000.. (same families,
  different seeds: unseen *documents*, not unseen *families*).
- \`tune_family\` / \`holdout_family\`: gen_families.py's 16 families, split by family with a fixed draw
  (Random(20261205)). holdout_family was measured once (session 8) and the parser was tuned on it afterwards.
- \`unseen_family\`: fam_unseen.py's 12 families, written by someone who never read the parser; measured
  unseen in session 10, then tuned on in session 11 (no longer a measure of unseen layouts).
- \`unseen2_family\`: fam_unseen2.py's 11 families, written (session 11) by someone who never read the parser;
  measured unseen in session 11, tuned on in session 12 (no longer a measure of unseen layouts).
- \`unseen3_family\`: fam_unseen3.py's 14 families (8 boletins, 6 históricos), written (session 12) by someone who
  never read the parser, its examples or its results, and never to be tuned on: **the new honest number for
  layouts never seen**.
- look-alikes: gen_layouts.py's 6 kinds, gen_families.py's 12, fam_unseen.py's 6, fam_unseen2.py's 7 and
  fam_unseen3.py's 8 (some scanned); any \`accepted\` is a false acceptance.
- $(tail -n 1 "$work/check.txt") (check_generated.py: PDFs open, truths well-formed).

$(cat "$work/report.md")
${baseline:+
Baseline (\`BASELINE_BIN\`, same documents):

$baseline}
MD
)"
printf '%s\n' "$report"
if [ "$record" = 1 ]; then
  printf '%s\n' "$report" >>bench/RESULTS.md
  log "appended to bench/RESULTS.md"
fi
