#!/usr/bin/env bash
# THE run command: gets Tarefa running on this machine and shows it working.
#
#   bash scripts/demo.sh          # (re)start everything, post a few jobs, print how to go on
#   bash scripts/demo.sh status   # which processes run, is the API ready
#   bash scripts/demo.sh stop     # stop api-lite, worker and scheduler (Redis/PostgreSQL stay up)
#
# Start: ensures Redis (AOF on, files in .tarefa/redis when started here) and PostgreSQL
# (installing them with apt, or with docker compose when a Docker engine is available),
# builds the release binaries, runs `api-lite migrate`, creates a demo tenant (or reuses the
# one in .tarefa/demo.json while its key still works), starts api-lite + worker + scheduler
# in the background (logs in .tarefa/logs/, pids in .tarefa/pids/), waits for /readyz,
# posts diag.noop and diag.sleep jobs and waits until they succeed. Re-runnable: a second
# run restarts the processes on freshly built binaries and keeps the tenant.
# Then it runs the tour (clients/python/examples/demo_tour.py, with the Python client): grades
# ingested and an alert e-mailed to a guardian (caught by a local SMTP catcher the demo starts on
# 127.0.0.1:1025 unless something listens there already; messages in .tarefa/mail/new), a
# boletim PDF read by the extractor, a booking event turned into reminders, and a WhatsApp campaign
# sent to a stand-in of Meta's Cloud API (clients/python/examples/fake_whatsapp.py on
# 127.0.0.1:8091, which posts signed status webhooks back; messages in .tarefa/whatsapp.jsonl).
# The demo points WhatsApp at that stand-in unless TAREFA__NOTIFICATIONS__WHATSAPP_BASE_URL is set.
# TAREFA_BIN_DIR=/path/to/bin uses prebuilt api-lite, worker and scheduler instead of building.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TAREFA_ROOT"

STATE="$TAREFA_ROOT/.tarefa"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
DEMO_JSON="$STATE/demo.json"
PROCS=(api-lite worker scheduler)
MAILDIR="$STATE/mail"
WA_LOG="$STATE/whatsapp.jsonl"
WA_PORT="${TAREFA_DEMO_WHATSAPP_PORT:-8091}"
if [ -z "${TAREFA__NOTIFICATIONS__WHATSAPP_BASE_URL:-}" ]; then
  export TAREFA__NOTIFICATIONS__WHATSAPP_BASE_URL="http://127.0.0.1:$WA_PORT"
  export TAREFA__NOTIFICATIONS__WHATSAPP_APP_SECRET="${TAREFA__NOTIFICATIONS__WHATSAPP_APP_SECRET:-demo-app-secret}"
  export DEMO_WA_TOKEN="${DEMO_WA_TOKEN:-demo-token}"
  DEMO_WHATSAPP=1
else
  DEMO_WHATSAPP=0
fi

export TAREFA__REDIS__URL="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}"
export TAREFA__DATABASE__URL="${TAREFA__DATABASE__URL:-postgres://postgres@127.0.0.1:5432/tarefa}"
export TAREFA__API__LISTEN="${TAREFA__API__LISTEN:-127.0.0.1:8080}"
export TAREFA_CONFIG_DIR="${TAREFA_CONFIG_DIR:-$TAREFA_ROOT/config}"
# Uploaded documents and rendered reports (the local blob store) stay with the demo's state.
export TAREFA__DOCUMENTS__BLOB_DIR="${TAREFA__DOCUMENTS__BLOB_DIR:-$TAREFA_ROOT/.tarefa/blobs}"
# Encryption at rest: a master key kept with the demo's state (the database's data keys are
# wrapped by it, so it must survive restarts). Production sets its own; see README "Encryption at rest".
if [ -z "${TAREFA_MASTER_KEYS:-}" ]; then
  mkdir -p "$TAREFA_ROOT/.tarefa"
  if [ ! -s "$TAREFA_ROOT/.tarefa/master_keys" ]; then
    (umask 077; printf 'demo1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$TAREFA_ROOT/.tarefa/master_keys")
  fi
  TAREFA_MASTER_KEYS="$(cat "$TAREFA_ROOT/.tarefa/master_keys")"
  export TAREFA_MASTER_KEYS
fi
export RUST_LOG="${RUST_LOG:-info}"

# Where a client reaches the API (a wildcard listen address is reached on loopback).
listen_host="${TAREFA__API__LISTEN%:*}"
listen_port="${TAREFA__API__LISTEN##*:}"
case "$listen_host" in
  0.0.0.0 | "") client_host=127.0.0.1 ;;
  "[::]") client_host="[::1]" ;;
  *) client_host="$listen_host" ;;
esac
BASE="http://$client_host:$listen_port"
probe_host="${client_host#[}"
probe_host="${probe_host%]}"

# ---------------------------------------------------------------- processes

pid_of() {
  local f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] || return 1
  # The pid must still be our binary (pids get reused), and not a zombie.
  local comm="" stat=""
  read -r comm stat < <(ps -p "$pid" -o comm=,stat= 2>/dev/null) || true
  [ "$comm" = "$1" ] && [[ "$stat" != Z* ]] && printf '%s\n' "$pid"
}

stop_procs() {
  local name pid waited=0 any=0
  for name in "${PROCS[@]}"; do
    if pid="$(pid_of "$name")"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      any=1
    fi
  done
  # Workers get engine.shutdown_grace_ms (20 s by default) to finish in-flight jobs.
  while ((any)) && ((waited < 60)); do
    any=0
    for name in "${PROCS[@]}"; do pid_of "$name" >/dev/null && any=1; done
    ((any)) || break
    sleep 0.5
    waited=$((waited + 1))
  done
  for name in "${PROCS[@]}"; do
    if pid="$(pid_of "$name")"; then
      warn "$name (pid $pid) ignored SIGTERM for 30 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDS/$name.pid"
  done
}

# The SMTP catcher (aiosmtpd, a Maildir in .tarefa/mail): started when nothing listens on the
# relay port; its pid in .tarefa/pids/smtp-catcher.pid.
start_smtp_catcher() {
  local port="${TAREFA__NOTIFICATIONS__SMTP_PORT:-1025}" f="$PIDS/smtp-catcher.pid"
  if port_open 127.0.0.1 "$port"; then
    log "an SMTP server already listens on 127.0.0.1:$port: the demo's e-mails go there"
    return 0
  fi
  mkdir -p "$MAILDIR/tmp" "$MAILDIR/new" "$MAILDIR/cur" # a Maildir (aiosmtpd does not make these)
  log "starting an SMTP catcher on 127.0.0.1:$port (messages in ${MAILDIR#"$TAREFA_ROOT"/}/new)"
  nohup setsid "$TAREFA_PYCLIENT_PY" -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c aiosmtpd.handlers.Mailbox "$MAILDIR" >>"$LOGS/smtp-catcher.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$f"
  local i
  for i in $(seq 1 40); do
    port_open 127.0.0.1 "$port" && return 0
    sleep 0.25
  done
  warn "the SMTP catcher did not start (see ${LOGS#"$TAREFA_ROOT"/}/smtp-catcher.log)"
}

# The WhatsApp stand-in (only when the demo points WhatsApp at it).
start_fake_whatsapp() {
  ((DEMO_WHATSAPP)) || return 0
  local f="$PIDS/fake-whatsapp.pid"
  if port_open 127.0.0.1 "$WA_PORT"; then
    log "something listens on 127.0.0.1:$WA_PORT already: assuming it is the WhatsApp stand-in"
    return 0
  fi
  log "starting the WhatsApp Cloud API stand-in on 127.0.0.1:$WA_PORT (messages in ${WA_LOG#"$TAREFA_ROOT"/})"
  nohup setsid "$TAREFA_PYCLIENT_PY" "$TAREFA_ROOT/clients/python/examples/fake_whatsapp.py" \
    --port "$WA_PORT" --callback "$BASE/v1/callbacks/whatsapp" \
    --app-secret "$TAREFA__NOTIFICATIONS__WHATSAPP_APP_SECRET" --waba-id demo-waba --log "$WA_LOG" \
    >>"$LOGS/fake-whatsapp.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$f"
}

stop_fake_whatsapp() {
  local f="$PIDS/fake-whatsapp.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ -n "$pid" ] && ps -p "$pid" -o args= 2>/dev/null | grep -q fake_whatsapp; then
    log "stopping the WhatsApp stand-in (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop_smtp_catcher() {
  local f="$PIDS/smtp-catcher.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ -n "$pid" ] && ps -p "$pid" -o args= 2>/dev/null | grep -q aiosmtpd; then
    log "stopping the SMTP catcher (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

start_proc() {
  local name="$1"
  shift
  log "starting $name${*:+ $*} (log: ${LOGS#"$TAREFA_ROOT"/}/$name.log)"
  printf '\n===== %s: %s %s =====\n' "$(date -u +%FT%TZ)" "$name" "$*" >>"$LOGS/$name.log"
  # setsid: the process outlives this shell and the terminal; $! is the binary's own pid.
  nohup setsid "$BIN/$name" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$PIDS/$name.pid"
}

check_alive() {
  local name
  for name in "${PROCS[@]}"; do
    if ! pid_of "$name" >/dev/null; then
      warn "$name exited; last lines of ${LOGS#"$TAREFA_ROOT"/}/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
  done
}

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
ready() { [ "$(http_status "$BASE/readyz")" = 200 ]; }

status() {
  local name pid
  for name in "${PROCS[@]}"; do
    if pid="$(pid_of "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: not running"; fi
  done
  if ready; then echo "api: $BASE/readyz → 200"; else echo "api: $BASE/readyz not ready"; fi
}

# ---------------------------------------------------------------- tenant and jobs

api_key=""

# Reuses .tarefa/demo.json while its key is accepted; otherwise creates a new tenant.
demo_tenant() {
  if [ -f "$DEMO_JSON" ]; then
    api_key="$(jq -r '.api_key // empty' "$DEMO_JSON" 2>/dev/null || true)"
    if [ -n "$api_key" ]; then
      local code
      code="$(http_status -H "Authorization: Bearer $api_key" "$BASE/v1/queues")"
      case "$code" in
        200)
          log "reusing the demo tenant $(jq -r .tenant_id "$DEMO_JSON") from ${DEMO_JSON#"$TAREFA_ROOT"/}"
          return 0
          ;;
        401 | 403) log "the key in ${DEMO_JSON#"$TAREFA_ROOT"/} is no longer accepted ($code): creating a new tenant" ;;
        *) die "GET /v1/queues answered $code with the demo key; see ${LOGS#"$TAREFA_ROOT"/}/api-lite.log" ;;
      esac
    fi
  fi
  local out line
  out="$("$BIN/api-lite" tenants create --name "Demo $(date +%Y-%m-%d\ %H:%M:%S)" --timezone America/Sao_Paulo)" \
    || die "api-lite tenants create failed"
  line="$(printf '%s\n' "$out" | grep '^{' | tail -n 1)"
  api_key="$(printf '%s' "$line" | jq -r '.api_key // empty' 2>/dev/null || true)"
  [ -n "$api_key" ] || die "api-lite tenants create printed no api_key: $out"
  (umask 077 && printf '%s\n' "$line" >"$DEMO_JSON")
  log "created demo tenant $(jq -r .tenant_id "$DEMO_JSON") (key saved in ${DEMO_JSON#"$TAREFA_ROOT"/})"
}

JOB_IDS=()

post_job() {
  local kind="$1" payload="$2" body code
  body="$(mktemp)"
  code="$(curl -s -o "$body" -w '%{http_code}' --max-time 10 -X POST "$BASE/v1/jobs/$kind" \
    -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
    -d "{\"payload\": $payload}" || true)"
  if [ "$code" != 202 ] && [ "$code" != 200 ]; then
    warn "POST /v1/jobs/$kind answered $code: $(cat "$body")"
    rm -f "$body"
    return 1
  fi
  local id
  id="$(jq -r '.id' "$body")"
  rm -f "$body"
  log "posted $kind $payload → $id"
  JOB_IDS+=("$id")
}

# Polls every posted job until each is in a final state (succeeded, dead, cancelled: `failed` means
# "waiting for its retry"); prints the table; fails unless all succeeded.
wait_jobs() {
  local deadline=$((SECONDS + ${1:-120})) id st pending all_ok
  declare -A status_of=() json_of=()
  while :; do
    pending=0
    for id in "${JOB_IDS[@]}"; do
      case "${status_of[$id]:-}" in succeeded | dead | cancelled) continue ;; esac
      json_of[$id]="$(curl -s --max-time 5 -H "Authorization: Bearer $api_key" "$BASE/v1/jobs/$id" || true)"
      st="$(printf '%s' "${json_of[$id]}" | jq -r '.status // "?"' 2>/dev/null || echo '?')"
      status_of[$id]="$st"
      case "$st" in succeeded | dead | cancelled) ;; *) pending=$((pending + 1)) ;; esac
    done
    ((pending == 0)) && break
    if ((SECONDS >= deadline)); then
      warn "$pending job(s) not finished after ${1:-120}s"
      break
    fi
    sleep 0.5
  done
  printf '\n%-38s %-12s %-10s %s\n' JOB KIND STATUS ATTEMPTS
  all_ok=1
  for id in "${JOB_IDS[@]}"; do
    printf '%-38s %-12s %-10s %s\n' "$id" \
      "$(printf '%s' "${json_of[$id]}" | jq -r '.kind // "?"' 2>/dev/null)" \
      "${status_of[$id]}" \
      "$(printf '%s' "${json_of[$id]}" | jq -r '.attempts // "-"' 2>/dev/null)"
    [ "${status_of[$id]}" = succeeded ] || all_ok=0
  done
  echo
  ((all_ok))
}

# ---------------------------------------------------------------- main

start() {
  mkdir -p "$LOGS" "$PIDS"
  [ -n "${TAREFA_BIN_DIR:-}" ] || ensure_rust
  ensure_services "$STATE/redis"

  if [ -n "${TAREFA_BIN_DIR:-}" ]; then
    BIN="$TAREFA_BIN_DIR"
    log "using the binaries in $BIN (TAREFA_BIN_DIR): not building"
  else
    log "building release binaries (first build takes a few minutes)"
    cargo build --release -p api-lite -p worker -p scheduler
    BIN="$(cargo_target_dir)/release"
  fi
  local name
  for name in "${PROCS[@]}"; do [ -x "$BIN/$name" ] || die "$BIN/$name is missing"; done

  # A rerun restarts everything on the binaries just built.
  stop_procs
  if port_open "$probe_host" "$listen_port"; then
    die "something else listens on $TAREFA__API__LISTEN: stop it, or run with TAREFA__API__LISTEN=127.0.0.1:8081"
  fi

  ensure_python_client
  start_smtp_catcher
  start_fake_whatsapp

  log "api-lite migrate"
  "$BIN/api-lite" migrate || die "api-lite migrate failed"

  start_proc api-lite
  start_proc worker
  start_proc scheduler
  wait_until 60 "$BASE/readyz" ready || {
    check_alive || true
    curl -s --max-time 5 "$BASE/readyz" >&2 || true
    die "api-lite is not ready; logs in ${LOGS#"$TAREFA_ROOT"/}/ (stop the processes with: bash scripts/demo.sh stop)"
  }
  sleep 1
  check_alive || die "a process exited right after starting (see above); stop the others with: bash scripts/demo.sh stop"

  demo_tenant

  post_job diag.noop '{}' || die "could not post a job"
  post_job diag.noop '{}'
  post_job diag.noop '{}'
  # Fails its first attempt with a retryable error, then succeeds on the retry.
  post_job diag.sleep '{"ms": 300, "fail_times": 1}'
  wait_jobs 120 || {
    check_alive || true
    die "not every demo job succeeded; see ${LOGS#"$TAREFA_ROOT"/}/worker.log"
  }

  log "the tour: what Tarefa does for the products (clients/python/examples/demo_tour.py)"
  local tour_ok=1 wa_args=()
  ((DEMO_WHATSAPP)) && wa_args=(--wa-log "$WA_LOG")
  PYTHONPATH="$TAREFA_ROOT/clients/python/src" "$TAREFA_PYCLIENT_PY" \
    "$TAREFA_ROOT/clients/python/examples/demo_tour.py" --url "$BASE" --key "$api_key" \
    --maildir "$MAILDIR" --out "$STATE/demo-out" "${wa_args[@]}" || tour_ok=0

  cat <<EOF
Tarefa is running.

  API docs      $BASE/docs        (OpenAPI document: $BASE/openapi.json)
  API key       $api_key
                (tenant and key saved in .tarefa/demo.json)
  Logs          .tarefa/logs/api-lite.log  worker.log  scheduler.log
  E-mails       .tarefa/mail/new/       (caught by the demo's SMTP catcher)
  WhatsApp      .tarefa/whatsapp.jsonl  (what the Cloud API stand-in received)
  Python        PYTHONPATH=clients/python/src $TAREFA_PYCLIENT_PY   (from tarefa import Tarefa)
  Stop          bash scripts/demo.sh stop      (Redis and PostgreSQL stay up)

Try next:

  curl -s -X POST $BASE/v1/jobs/diag.sleep \\
    -H 'Authorization: Bearer $api_key' -H 'Content-Type: application/json' \\
    -d '{"payload": {"ms": 2000, "fail_times": 2}}'
  curl -s -H 'Authorization: Bearer $api_key' $BASE/v1/jobs/<id>
  curl -s -H 'Authorization: Bearer $api_key' $BASE/v1/queues
EOF
  ((tour_ok)) || die "a step of the tour failed (see above); Tarefa keeps running"
}

case "${1:-start}" in
  start) start ;;
  stop) stop_procs && stop_smtp_catcher && stop_fake_whatsapp && log "stopped (Redis and PostgreSQL were left running)" ;;
  status) status ;;
  -h | --help | help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start | stop | status)" ;;
esac
