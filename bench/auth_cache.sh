#!/usr/bin/env bash
# bench/auth_cache.sh: single-request enqueue (`POST /v1/jobs/diag.noop`, intake only, no
# worker) through three api-lite processes side by side on the same PostgreSQL and Redis,
# measured with wrk in alternating rounds so each variant sees the same machine load:
#   db      auth.key_cache_ttl_ms = 0, limits off: every request looks its key up in
#           PostgreSQL (+ the async last_used UPDATE) — the path before issue 21;
#   cache   the in-process key cache (Redis auth epoch read at most every 250 ms), limits off;
#   limits  the cache plus the per-key and per-tenant GCRA check and the waiting-jobs cap
#           (limits set high enough never to refuse): what a default deployment runs.
# Appends a dated section to bench/RESULTS.md.
#
# Usage: bash bench/auth_cache.sh [BIN_DIR]   (default: $CARGO_TARGET_DIR/release, else debug)
# Env: BENCH_SECS (10), BENCH_ROUNDS (3), BENCH_CONNS (16), TAREFA__REDIS__URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/tarefa-target}"
BIN="${1:-}"
if [ -z "$BIN" ]; then
  if [ -x "$TARGET/release/api-lite" ]; then BIN="$TARGET/release"; else BIN="$TARGET/debug"; fi
fi
PROFILE="$(basename "$BIN")"
SECS="${BENCH_SECS:-10}" ROUNDS="${BENCH_ROUNDS:-3}" CONNS="${BENCH_CONNS:-16}"
REDIS="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}"
DB="tarefa_bench_auth_$$"
PG_ADMIN="postgres://postgres@127.0.0.1:5432/postgres"
PREFIX="bauth$$"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_ADMIN" -qc "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS" --scan --pattern "*$PREFIX*" | xargs -r -n 500 redis-cli -u "$REDIS" del >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

psql "$PG_ADMIN" -qc "create database \"$DB\""
export TAREFA__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB" TAREFA__REDIS__URL="$REDIS"
export TAREFA__REDIS__PREFIX="$PREFIX" RUST_LOG=warn
"$BIN/api-lite" migrate >/dev/null
KEY="$("$BIN/api-lite" tenants create --name "Bench Auth $$" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A PORT
start() { # name, then env assignments
  local name="$1"; shift
  local port; port="$(free_port)"
  PORT[$name]="$port"
  env TAREFA__API__LISTEN="127.0.0.1:$port" "$@" "$BIN/api-lite" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "api-lite ($name) did not start: $(cat "$WORK/$name.log")" >&2; exit 1
}
OFF=(TAREFA__LIMITS__KEY_PER_SECOND=0 TAREFA__LIMITS__TENANT_PER_SECOND=0 TAREFA__LIMITS__MAX_WAITING_PER_QUEUE=0)
start db TAREFA__AUTH__KEY_CACHE_TTL_MS=0 "${OFF[@]}"
start cache "${OFF[@]}"
start limits TAREFA__LIMITS__KEY_PER_SECOND=1000000 TAREFA__LIMITS__KEY_BURST=1000000 \
  TAREFA__LIMITS__TENANT_PER_SECOND=1000000 TAREFA__LIMITS__TENANT_BURST=1000000 \
  TAREFA__LIMITS__MAX_WAITING_PER_QUEUE=100000000

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"payload": {}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
local codes = {}
response = function(status) codes[status] = (codes[status] or 0) + 1 end
done = function(summary, latency, requests)
  local bad = 0
  for s, n in pairs(codes) do if s ~= 202 then bad = bad + n end end
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f\n", summary.requests, bad,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
# Warm-up: connections, the cache, Lua scripts loaded.
for v in db cache limits; do wrk -t1 -c4 -d2s -s "$WORK/post.lua" "http://127.0.0.1:${PORT[$v]}/v1/jobs/diag.noop" >/dev/null; done

declare -A RPS P50 P99 BAD
for r in $(seq 1 "$ROUNDS"); do
  for v in db cache limits; do
    line="$(wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$WORK/post.lua" "http://127.0.0.1:${PORT[$v]}/v1/jobs/diag.noop" | grep '^RESULT')"
    read -r _ n bad dur p50 p99 <<<"$line"
    rps="$(python3 -c "print(round($n / $dur))")"
    RPS[$v]+="$rps " P50[$v]+="$p50 " P99[$v]+="$p99 " BAD[$v]+="$bad "
    echo "round $r $v: $rps req/s (non-202: $bad), p50 $p50 ms, p99 $p99 ms" >&2
  done
done

median() { python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" $1; }
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — API key cache and limits (issue 21)"
  echo
  echo "- machine: $(nproc) cores, $(uname -m), shared with other builds; api-lite binaries: \`$PROFILE\` profile"
  echo "- command: \`bash bench/auth_cache.sh\` — wrk, 2 threads, $CONNS keep-alive connections, ${SECS} s per round, $ROUNDS alternating rounds per variant, intake only (no worker), one tenant, one key"
  echo
  echo "| variant | req/s per round | median req/s | p50 ms (median) | p99 ms (median) | non-202 |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for v in db cache limits; do
    echo "| $v | ${RPS[$v]}| $(median "${RPS[$v]}") | $(median "${P50[$v]}") | $(median "${P99[$v]}") | ${BAD[$v]}|"
  done
  echo
  echo "- baseline \`db\` = the old path (PostgreSQL key lookup per request), measured in the same run"
  echo "- cache vs db: $(python3 -c "print(f'{$(median "${RPS[cache]}") / $(median "${RPS[db]}"):.2f}x')"); limits vs db: $(python3 -c "print(f'{$(median "${RPS[limits]}") / $(median "${RPS[db]}"):.2f}x')")"
} | tee -a bench/RESULTS.md
