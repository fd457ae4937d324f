#!/usr/bin/env bash
# bench/run.sh: builds the release binaries, prepares PostgreSQL (database
# `tarefa_bench`, migrated with `api-lite migrate`, a fresh bench tenant and
# key), runs `bench run` (engine (a)-(e) and HTTP, each beside its same-run
# baseline) and appends a dated section to bench/RESULTS.md.
#
# Usage: bash bench/run.sh [extra `bench run` flags, e.g. --only drain]
# Env: TAREFA__REDIS__URL (default redis://127.0.0.1:6379),
#      BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tarefa_bench).
# The run uses its own Redis key prefix and deletes its keys afterwards; it
# never FLUSHes. Run it while nothing else compiles or benches (2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export TAREFA__REDIS__URL="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}"
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tarefa_bench}"
RESULTS=bench/RESULTS.md
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET_DIR/release"

echo "bench/run.sh: building (release)…" >&2
cargo build --release -p worker -p api-lite -p bench >&2

# PostgreSQL: the bench's own database, migrated, with a tenant for this run.
db_name="${BENCH_DATABASE_URL##*/}"
admin_url="${BENCH_DATABASE_URL%/*}/postgres"
if [ "$(psql "$admin_url" -Atc "select 1 from pg_database where datname = '$db_name'")" != "1" ]; then
  psql "$admin_url" -qc "create database \"$db_name\"" >&2
fi
export TAREFA__DATABASE__URL="$BENCH_DATABASE_URL"
export TAREFA_CONFIG_DIR="$PWD/config"
unset TAREFA_ENV
RUST_LOG=warn "$BIN/api-lite" migrate >/dev/null
tenant_json="$(RUST_LOG=warn "$BIN/api-lite" tenants create --name "bench $(date -u +%Y%m%dT%H%M%SZ) $$")"
BENCH_API_KEY="$(printf '%s' "$tenant_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"
export BENCH_API_KEY

# Short like the production prefix `tarefa` (key names count in the bytes kept per job).
prefix="tb$(printf '%x%x' $(( $(date +%s) % 16777216 )) $$)"
trap '"$BIN/bench" cleanup --prefix "$prefix" >&2 || true' EXIT

cmd=("$BIN/bench" run --prefix "$prefix" --bin-dir "$BIN" --config-dir config "$@")
echo "bench/run.sh: ${cmd[*]}" >&2
out="$(mktemp)"
start=$(date +%s)
"${cmd[@]}" >"$out"
took=$(( $(date +%s) - start ))

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
mem_kb="$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
redis_version="$(redis-cli -u "$TAREFA__REDIS__URL" INFO server 2>/dev/null | awk -F: '/^redis_version/ {print $2}' | tr -d '\r' || true)"
pg_version="$(psql "$BENCH_DATABASE_URL" -Atc 'show server_version' 2>/dev/null || echo '?')"
{
  [ -s "$RESULTS" ] || printf '# Tarefa benchmark results\n\nSections are in run order (newest last). The engine + HTTP sections are one run of `bash bench/run.sh` each; other sections name their own command. Figures are from one shared 2-core machine: check each run'"'"'s Notes for how much CPU other processes took, and compare ratios (same-run baselines) rather than absolute numbers across runs.\n'
  printf '\n## %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf -- '- machine: %s CPUs (`getconf _NPROCESSORS_ONLN`; `nproc` obeys OMP_THREAD_LIMIT), %s, %s GiB RAM, %s\n' "$(getconf _NPROCESSORS_ONLN)" "$cpu" "$(( mem_kb / 1048576 ))" "$(uname -sr)"
  printf -- '- Redis %s (loopback, shared with other users of this machine), PostgreSQL %s; %s\n' "${redis_version:-?}" "$pg_version" "$(rustc --version)"
  printf -- '- git: %s%s\n' "$(git rev-parse --short HEAD)" \
    "$(git diff --quiet HEAD -- jobs worker api-lite config || echo " plus uncommitted changes in jobs/worker/api-lite/config (diff sha1 $(git diff HEAD -- jobs worker api-lite config | sha1sum | cut -c1-10))")"
  printf -- '- command: `bash bench/run.sh%s`, which ran `%s` (%s s in all)\n\n' \
    "$( [ $# -gt 0 ] && printf ' %s' "$@" )" "${cmd[*]}" "$took"
  cat "$out"
} >>"$RESULTS"
rm -f "$out"
rm -rf "/tmp/$prefix"   # the processes' logs; kept only when the run fails
echo "bench/run.sh: appended to $RESULTS (${took} s)" >&2
