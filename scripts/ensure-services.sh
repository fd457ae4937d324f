#!/usr/bin/env bash
# Makes sure Redis and PostgreSQL are reachable (starting, or installing, them when not)
# and that the databases in DATABASE_URL and TAREFA__DATABASE__URL exist.
# A no-op when everything is already up. See scripts/lib.sh for how services are brought up.
#
#   bash scripts/ensure-services.sh            # tests' and binaries' defaults
#   TAREFA__REDIS__URL=redis://127.0.0.1:6380 bash scripts/ensure-services.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export TAREFA__REDIS__URL="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TAREFA__DATABASE__URL="${TAREFA__DATABASE__URL:-postgres://postgres@127.0.0.1:5432/tarefa}"

ensure_services "${1:-}"
log "services ready: redis $(redact_url "$TAREFA__REDIS__URL"), postgres $(redact_url "$DATABASE_URL") and $(redact_url "$TAREFA__DATABASE__URL")"
