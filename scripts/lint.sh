#!/usr/bin/env bash
# Formatting and clippy, warnings as errors. Part of scripts/test.sh; runnable alone.
#   bash scripts/lint.sh          # check
#   bash scripts/lint.sh --fix    # apply rustfmt, then check clippy
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TAREFA_ROOT"
ensure_rust

locked=()
[ "${CI:-}" = true ] && locked=(--locked)

status=0
if [ "${1:-}" = --fix ]; then
  cargo fmt --all
else
  log "cargo fmt --all --check"
  color=()
  [ -t 1 ] || color=(-- --color never) # plain diffs in CI logs
  cargo fmt --all --check "${color[@]}" || {
    warn "formatting differs: run 'cargo fmt --all' (or 'bash scripts/lint.sh --fix')"
    status=1
  }
fi
log "promtool check rules deploy/prometheus-alerts.yml"
promtool check rules deploy/prometheus-alerts.yml || status=1
log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy "${locked[@]}" --workspace --all-targets -- -D warnings || status=1
exit "$status"
