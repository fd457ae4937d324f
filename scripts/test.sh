#!/usr/bin/env bash
# THE test command (the README's, and what .ci/run executes):
#   1. ensures Redis and PostgreSQL, as scripts/ensure-services.sh does;
#   2. lint: rustfmt --check and clippy -D warnings (TAREFA_SKIP_LINT=1 skips it locally);
#   3. the doc tests, the Python client's tests (pytest against a real api-lite + worker it starts),
#      then the whole workspace's tests with cargo-nextest (plain `cargo test` when nextest is
#      missing); nextest last so its summary closes the output.
# Every step runs even when an earlier one failed; the exit status is non-zero if any failed.
# Extra arguments go to the test runner: bash scripts/test.sh -E 'test(queues)'
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TAREFA_ROOT"

# sqlx::test makes a fresh database per test from DATABASE_URL; each test also gets its own Redis prefix.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TAREFA__REDIS__URL="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
# libtesseract's OpenMP threads spin-wait; one thread per OCR halves its wall time on a busy box (documents/).
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# Compile-time-checked queries (if any) use the committed .sqlx/ data, not the test database.
[ -d .sqlx ] && export SQLX_OFFLINE=true

started=$SECONDS
ensure_rust
ensure_services "" # no Redis dir: a Redis started for tests keeps nothing on disk
ensure_packages "${TAREFA_TEST_APT_PACKAGES[@]}"
ensure_python_test_tools # documents/tests make their PDFs with reportlab/Pillow/img2pdf
ensure_python_client     # clients/python's tests (pytest, fastapi, uvicorn, build)

locked=()
[ "${CI:-}" = true ] && locked=(--locked)

results=()
run_step() {
  local name="$1" t0=$SECONDS
  shift
  log "── $name"
  if "$@"; then
    results+=("ok      $name ($((SECONDS - t0))s)")
  else
    results+=("FAILED  $name ($((SECONDS - t0))s)")
  fi
}

if [ "${TAREFA_SKIP_LINT:-}" = 1 ]; then
  results+=("skipped lint (TAREFA_SKIP_LINT=1)")
else
  run_step "lint (fmt + clippy -D warnings)" bash scripts/lint.sh
fi

# Doc tests first, so the main runner's summary is the last test output (CI reads it).
# They only exist in library crates; skipped when a filter was given for the runner.
if [ $# -eq 0 ]; then
  run_step "doc tests" cargo test "${locked[@]}" --workspace --doc
fi

# The Python client against the binaries built here (its coverage test fails when an operation of
# /openapi.json has no client method). Skipped when a filter was given for the runner.
python_client_tests() {
  cargo build "${locked[@]}" -p api-lite -p worker || return 1
  PYTHONPATH="$TAREFA_ROOT/clients/python/src:$TAREFA_ROOT/clients/python" \
    TAREFA_BIN_DIR="$(cargo_target_dir)/debug" \
    "$TAREFA_PYCLIENT_PY" -m pytest -q -p no:cacheprovider "$TAREFA_ROOT/clients/python/tests"
}
if [ $# -eq 0 ]; then
  run_step "python client (pytest)" python_client_tests
fi

if cargo nextest --version >/dev/null 2>&1; then
  # The `ci` profile is used in CI when .config/nextest.toml defines one.
  profile=default
  if [ "${CI:-}" = true ] && grep -q '^\[profile\.ci\]' .config/nextest.toml 2>/dev/null; then profile=ci; fi
  run_step "tests (cargo nextest, profile $profile)" \
    cargo nextest run "${locked[@]}" --workspace --no-fail-fast --profile "$profile" "$@"
else
  warn "cargo-nextest not found (cargo install cargo-nextest --locked): using cargo test"
  run_step "tests (cargo test)" cargo test "${locked[@]}" --workspace --no-fail-fast "$@"
fi

printf '\n== scripts/test.sh summary (%ss) ==\n' "$((SECONDS - started))"
printf '  %s\n' "${results[@]}"
for r in "${results[@]}"; do
  [[ "$r" == FAILED* ]] && exit 1
done
exit 0
