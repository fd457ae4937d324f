#!/usr/bin/env bash
# Documents field accuracy on the layout families of issue 14 (documents/tests/layouts/gen_layouts.py):
# TUNE seeds (the parser was tuned on these) and HOLDOUT seeds (never looked at while tuning), text
# PDFs and scans (150 and 300 dpi) separately, per family, plus the verdicts on the non-academic
# look-alikes (false acceptances must be 0). Appends a dated section to bench/RESULTS.md
# (--no-record to only print).
#   bash bench/documents_layouts.sh [--no-record] [--seeds N] [--scans K]
# Optional: BASELINE_BIN=<a `layouts` example built from another revision> adds its numbers on the
# same documents, for a before/after in the same run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$TAREFA_ROOT"
record=1
seeds=8
scans=6
while [ $# -gt 0 ]; do
  case "$1" in
    --no-record) record=0 ;;
    --seeds) seeds="$2"; shift ;;
    --scans) scans="$2"; shift ;;
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
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
start=$(date +%s)
"$work/layouts" "$work/gen" >"$work/report.md"
secs=$(( $(date +%s) - start ))
baseline=""
if [ -n "${BASELINE_BIN:-}" ]; then
  baseline="$("$BASELINE_BIN" "$work/gen")"
fi

report="$(cat <<MD

## Documents: layout families, field accuracy ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

\`bash bench/documents_layouts.sh --seeds $seeds --scans $scans\` — generator documents/tests/layouts/gen_layouts.py,
TUNE seeds 1000.., HOLDOUT seeds 5000.. (same families, different seeds: holdout is unseen *documents*,
not unseen *families*), debug build, OMP_THREAD_LIMIT=$OMP_THREAD_LIMIT, ${secs} s for the whole set.

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
