#!/usr/bin/env bash
# Documents extraction bench (issue 7, point 8): text extraction pages/s and OCR s/page at 200 and
# 300 dpi, each with peak RSS, against poppler's pdftotext and pdftoppm + the tesseract CLI on the same
# pages in the same run. Appends a dated section to bench/RESULTS.md (pass --no-record to only print).
#   bash bench/documents.sh [--no-record]
# Uses $CARGO_TARGET_DIR if set (release build of documents' `docbench` example).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$TAREFA_ROOT"
record=1
[ "${1:-}" = --no-record ] && record=0

ensure_rust
ensure_packages "${TAREFA_APT_PACKAGES[@]}" tesseract-ocr time
ensure_python_test_tools
need_cmd pdftotext poppler-utils

target="${CARGO_TARGET_DIR:-$TAREFA_ROOT/target}"
log "building documents/examples/docbench (release)"
cargo build -q --release -p documents --example docbench
bin="$target/release/examples/docbench"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "generating the synthetic PDFs"
"$TAREFA_PYTHON" documents/tests/gen/make_pdfs.py "$work/gen" >/dev/null
shared="${TAREFA_SHARED:-$TAREFA_ROOT/../shared}/testdata/pdfs" # TAREFA_SHARED: ../shared elsewhere (a worktree)
text_files=("$shared/pdfplumber-ca-warn-report.pdf" "$work/gen/historico.pdf" "$work/gen/boletim_table.pdf" "$work/gen/boletim_lines.pdf")
ocr_files=("$shared/ocrmypdf-linn.pdf" "$work/gen/boletim_table_scan.pdf" "$work/gen/historico_scan.pdf")
iters=20

# timed CMD... — runs CMD under /usr/bin/time -v; sets $elapsed (s) and $rss (MiB), stdout in $work/out.
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}" # both sides: libtesseract's OpenMP threads spin on a busy box
timed() {
  /usr/bin/time -v -o "$work/time" "$@" >"$work/out"
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time")
  elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")
}
pages_of() { pdfinfo "$1" | awk '/^Pages:/ {print $2}'; }

text_pages=0
for f in "${text_files[@]}"; do text_pages=$((text_pages + $(pages_of "$f"))); done

log "text: documents ($iters × ${#text_files[@]} files, $text_pages pages)"
timed "$bin" text "$iters" "${text_files[@]}"
ours_text=$(cat "$work/out"); ours_text_rss=$rss
log "text: pdftotext -layout, same pages"
timed bash -c 'for i in $(seq '"$iters"'); do for f in "$@"; do pdftotext -layout "$f" - >/dev/null; done; done' _ "${text_files[@]}"
pt_elapsed=$elapsed; pt_rss=$rss
pt_pps=$(awk -v p="$((text_pages * iters))" -v s="$pt_elapsed" 'BEGIN {printf "%.1f", p/s}')

ocr_pages=0
for f in "${ocr_files[@]}"; do ocr_pages=$((ocr_pages + $(pages_of "$f"))); done
declare -A ours_ocr ours_ocr_rss cli_spp cli_rss
for dpi in 200 300; do
  log "ocr @ $dpi dpi: documents ($ocr_pages pages)"
  timed "$bin" ocr "$dpi" "${ocr_files[@]}"
  ours_ocr[$dpi]=$(cat "$work/out"); ours_ocr_rss[$dpi]=$rss
  log "ocr @ $dpi dpi: pdftoppm -gray + tesseract CLI (por+eng), same pages"
  timed bash -c 'dpi=$1; shift; d=$(mktemp -d); for f in "$@"; do pdftoppm -r "$dpi" -gray "$f" "$d/p"; for p in "$d"/p*.pgm; do tesseract "$p" - -l por+eng --dpi "$dpi" >/dev/null 2>&1; rm -f "$p"; done; done; rm -rf "$d"' _ "$dpi" "${ocr_files[@]}"
  cli_spp[$dpi]=$(awk -v p="$ocr_pages" -v s="$elapsed" 'BEGIN {printf "%.2f", s/p}')
  cli_rss[$dpi]=$rss
done

field() { sed -E "s/.*\"$2\":([0-9.eE+-]+).*/\1/" <<<"$1"; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'; }
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
report=$(cat <<MD

### Documents extraction ($(date -u +%Y-%m-%d) $(date -u +%H:%M) UTC)

- machine: $(getconf _NPROCESSORS_ONLN) CPUs ($cpu), shared with other jobs; Tesseract $(tesseract --version 2>&1 | head -1 | awk '{print $2}') with Debian's fast \`por+eng\` models; poppler $(pdftotext -v 2>&1 | head -1 | awk '{print $3}')
- command: \`bash bench/documents.sh\` (release \`documents/examples/docbench\`, each side timed by \`/usr/bin/time -v\`, peak RSS = max resident set)
- **text layer**, $text_pages pages × $iters (ca-warn-report 16 pages + the generated boletins/histórico): documents $(fmt "$(field "$ours_text" pages_per_s)" 1) pages/s, peak RSS ${ours_text_rss} MiB · \`pdftotext -layout\` ${pt_pps} pages/s (a process per file), peak RSS ${pt_rss} MiB
- **OCR 200 dpi**, $ocr_pages pages (linn JBIG2 scan, generated boletim + 2-page histórico scans): documents $(fmt "$(field "${ours_ocr[200]}" s_per_page)" 2) s/page (render + orientation + deskew + line removal + page OCR; cell re-reads happen in \`extract\` only), peak RSS ${ours_ocr_rss[200]} MiB · \`pdftoppm -gray\` + \`tesseract\` CLI ${cli_spp[200]} s/page, peak RSS ${cli_rss[200]} MiB
- **OCR 300 dpi**, same pages: documents $(fmt "$(field "${ours_ocr[300]}" s_per_page)" 2) s/page, peak RSS ${ours_ocr_rss[300]} MiB · CLI ${cli_spp[300]} s/page, peak RSS ${cli_rss[300]} MiB
MD
)
printf '%s\n' "$report"
if [ "$record" = 1 ]; then
  printf '%s\n' "$report" >>bench/RESULTS.md
  log "appended to bench/RESULTS.md"
fi
