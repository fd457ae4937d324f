# shellcheck shell=bash
# Shared functions for Tarefa's scripts (test.sh, demo.sh, ensure-services.sh, lint.sh).
# Source it; it does not change shell options of its caller.
#
# Services are ensured the same way by every script:
#   reachable already → nothing to do;
#   a local URL (127.0.0.1 / localhost / ::1) and the server is installed → start it;
#   not installed and a Docker engine answers (`docker info`) → `docker compose up -d --wait <service>`;
#   otherwise → `apt-get install` it, then start it.
# A remote URL that does not answer is an error: we never start someone else's server.
#
# Knobs (environment):
#   TAREFA_SERVICES=auto|local|docker   how to bring a missing service up (default auto, as above)
#   TAREFA_PG_TRUST=1                   allow editing pg_hba.conf to trust 127.0.0.1/::1 when the
#                                       passwordless URL is refused (implied when CI=true, or when
#                                       this script installed PostgreSQL or created the cluster)

TAREFA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TAREFA_ROOT

# System packages Tarefa needs at build, test and run time, beyond Redis/PostgreSQL.
# Job kinds that need a tool add it here (e.g. tesseract-ocr tesseract-ocr-por poppler-utils).
TAREFA_APT_PACKAGES=(ca-certificates curl jq)
# documents/ (PDF extraction): libtesseract + leptonica (linked by the `tesseract` crate, whose
# bindgen build needs libclang and pkg-config), the Portuguese and English models, and poppler's
# pdftoppm (fallback page renderer).
TAREFA_APT_PACKAGES+=(libtesseract-dev libleptonica-dev tesseract-ocr-por tesseract-ocr-eng libclang-dev clang pkg-config poppler-utils)
# Only for the tests (scripts/test.sh): the ops console tests drive a real headless
# Chromium through chromedriver (api-lite/tests/console_browser.rs).
TAREFA_TEST_APT_PACKAGES=(chromium chromium-driver prometheus) # prometheus: promtool checks deploy/ alert rules
# documents/tests generate their PDFs with Python (reportlab, Pillow, img2pdf in a venv, see
# ensure_python_test_tools) using these fonts; the bench compares with the tesseract CLI.
TAREFA_TEST_APT_PACKAGES+=(python3 python3-venv fonts-dejavu-core fonts-liberation tesseract-ocr)

# ---------------------------------------------------------------- logging

_tarefa_script="$(basename "${0:-tarefa}")"
if [ -t 2 ]; then _c_info=$'\033[1;34m' _c_warn=$'\033[1;33m' _c_err=$'\033[1;31m' _c_off=$'\033[0m'; else _c_info='' _c_warn='' _c_err='' _c_off=''; fi

log() { printf '%s[%s %s]%s %s\n' "$_c_info" "$_tarefa_script" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2; }
warn() { printf '%s[%s %s] warning:%s %s\n' "$_c_warn" "$_tarefa_script" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2; }
die() {
  printf '%s[%s %s] error:%s %s\n' "$_c_err" "$_tarefa_script" "$(date +%H:%M:%S)" "$_c_off" "$*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, through `sudo -n` otherwise; returns its status.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "needs root (and passwordless sudo is not available): '$*' — run it yourself, then rerun"
  fi
}

systemd_running() { [ -d /run/systemd/system ] && have systemctl; }

# ---------------------------------------------------------------- packages

_tarefa_apt_updated=0

# ensure_packages PKG... — installs, with apt, the packages that `dpkg -s` does not show as installed.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  have apt-get || die "missing packages ${missing[*]} and apt-get is not available: install them by hand"
  log "installing with apt: ${missing[*]}"
  if [ "$_tarefa_apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    _tarefa_apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

# ensure_python_test_tools — a venv with the PyPI packages documents/tests use to generate PDFs,
# at $TAREFA_PYTOOLS (default ~/.cache/tarefa/pytools); exports TAREFA_PYTHON (its python).
ensure_python_test_tools() {
  local dir="${TAREFA_PYTOOLS:-$HOME/.cache/tarefa/pytools}"
  if ! "$dir/bin/python" -c 'import reportlab, PIL, img2pdf' 2>/dev/null; then
    log "installing reportlab, Pillow, img2pdf into $dir"
    [ -x "$dir/bin/python" ] || python3 -m venv "$dir" || die "python3 -m venv $dir failed (apt: python3-venv)"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check reportlab Pillow img2pdf \
      || die "pip install reportlab Pillow img2pdf failed"
  fi
  # forecasting/tests read real public series (co2, macrodata, sunspots) from statsmodels' package data.
  if ! "$dir/bin/python" -c 'import statsmodels' 2>/dev/null; then
    log "installing statsmodels into $dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check statsmodels || die "pip install statsmodels failed"
  fi
  export TAREFA_PYTHON="$dir/bin/python"
}

# ensure_python_client — a venv with what the Python client (clients/python) needs, and what its
# tests, its FastAPI example and the demo's tour use (httpx, pydantic, pytest, fastapi, uvicorn,
# build, reportlab, aiosmtpd; schemathesis for tests/test_security.py's schema-driven run), at
# $TAREFA_PYCLIENT (default ~/.cache/tarefa/pyclient). The client itself is not installed there
# (a venv shared by several checkouts would import the wrong one): callers put
# clients/python/src on PYTHONPATH. Exports TAREFA_PYCLIENT_PY (its python).
ensure_python_client() {
  local dir="${TAREFA_PYCLIENT:-$HOME/.cache/tarefa/pyclient}"
  if ! "$dir/bin/python" -c 'import httpx, pydantic, pytest, pytest_asyncio, fastapi, uvicorn, build, reportlab, aiosmtpd, setuptools, wheel, datamodel_code_generator, schemathesis' 2>/dev/null \
    || [ "$("$dir/bin/python" -m pip show datamodel-code-generator 2>/dev/null | sed -n 's/^Version: //p')" != 0.97.0 ] \
    || [ "$("$dir/bin/python" -m pip show schemathesis 2>/dev/null | sed -n 's/^Version: //p')" != 4.32.5 ]; then
    log "installing the Python client's dependencies and test tools into $dir"
    [ -x "$dir/bin/python" ] || python3 -m venv "$dir" || die "python3 -m venv $dir failed (apt: python3-venv)"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "setuptools>=68" wheel \
      "httpx>=0.25" "pydantic>=2.5" pytest pytest-asyncio fastapi uvicorn build reportlab aiosmtpd \
      datamodel-code-generator==0.97.0 black==26.10.1 isort==8.0.1 schemathesis==4.32.5 \
      || die "pip install of the Python client's tools failed"
  fi
  export TAREFA_PYCLIENT_PY="$dir/bin/python"
}

# need_cmd CMD PKG — makes sure CMD is on PATH, installing PKG when it is not.
need_cmd() {
  have "$1" && return 0
  ensure_packages "$2"
  have "$1" || die "'$1' still missing after installing $2"
}

# A Rust toolchain (rustup's when cargo is missing), a C linker, clippy and rustfmt.
ensure_rust() {
  if ! have cargo && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  have cc || ensure_packages build-essential
  if ! have cargo; then
    ensure_packages curl ca-certificates
    log "cargo not found: installing the Rust toolchain with rustup (https://rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --no-modify-path --profile minimal --component clippy,rustfmt \
      || die "rustup install failed"
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  if have rustup; then
    local comp
    for comp in clippy rustfmt; do
      rustup component list --installed 2>/dev/null | grep -q "^$comp" || rustup component add "$comp" >&2 || true
    done
  fi
}

# Prints the directory cargo builds into (honours CARGO_TARGET_DIR and .cargo/config).
cargo_target_dir() {
  local dir
  dir="$(cd "$TAREFA_ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  printf '%s\n' "${dir:-${CARGO_TARGET_DIR:-$TAREFA_ROOT/target}}"
}

# ---------------------------------------------------------------- URLs and ports

# url_host URL / url_port URL DEFAULT / url_db URL — the parts of scheme://[user[:pw]@]host[:port][/db][?q].
_url_authority() {
  local rest="${1#*://}"
  rest="${rest%%/*}"
  rest="${rest%%\?*}"
  printf '%s\n' "${rest##*@}"
}
url_host() {
  local a
  a="$(_url_authority "$1")"
  if [[ "$a" == \[* ]]; then a="${a#[}" && printf '%s\n' "${a%%]*}"; else printf '%s\n' "${a%%:*}"; fi
}
url_port() {
  local a
  a="$(_url_authority "$1")"
  a="${a##*]}"
  if [[ "$a" == *:* ]]; then printf '%s\n' "${a##*:}"; else printf '%s\n' "$2"; fi
}
url_db() {
  local rest="${1#*://}"
  rest="${rest%%\?*}"
  [[ "$rest" == */* ]] && printf '%s\n' "${rest#*/}" || printf '\n'
}
# The same URL with its database replaced (postgres://…/tarefa → postgres://…/postgres).
url_with_db() {
  local url="$1" db="$2" query="" base
  [[ "$url" == *\?* ]] && query="?${url#*\?}"
  base="${url%%\?*}"
  local rest="${base#*://}" scheme="${base%%://*}"
  printf '%s://%s/%s%s\n' "$scheme" "${rest%%/*}" "$db" "$query"
}
# Hides a password: postgres://u:secret@h → postgres://u:***@h
redact_url() { printf '%s\n' "$1" | sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#'; }

is_local_host() { case "$1" in 127.0.0.1 | localhost | ::1 | "") return 0 ;; *) return 1 ;; esac; }

# port_open HOST PORT — true when a TCP connect succeeds within 2 s.
# shellcheck disable=SC2016 # $1/$2 expand in the child bash
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# wait_until SECONDS DESCRIPTION CMD... — polls CMD every 0.5 s; fails with DESCRIPTION on timeout.
wait_until() {
  local secs="$1" what="$2" deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || {
      warn "timed out after ${secs}s waiting for $what"
      return 1
    }
    sleep 0.5
  done
}

wait_for_port() { wait_until "${3:-30}" "$1:$2" port_open "$1" "$2"; }

# ---------------------------------------------------------------- docker

docker_engine_ok() {
  have docker && timeout 15 docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 \
    && [ -f "$TAREFA_ROOT/docker-compose.yml" ]
}

# Brings a compose service up (publishing its port on 127.0.0.1) and waits for its healthcheck.
compose_up() {
  log "starting '$*' with docker compose"
  (cd "$TAREFA_ROOT" && docker compose up -d --wait "$@") || die "docker compose up $* failed"
}

# Which way a service that is not installed gets installed: docker (engine up) or apt.
_install_route() {
  case "${TAREFA_SERVICES:-auto}" in
    docker) echo docker ;;
    local) echo apt ;;
    *) if docker_engine_ok; then echo docker; else echo apt; fi ;;
  esac
}

# ---------------------------------------------------------------- Redis

# redis_ping HOST PORT — true when the server answers PING (+PONG, or an auth error: it is up).
redis_ping() {
  # shellcheck disable=SC2016 # $1/$2 expand in the child bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r line <&3 || exit 1
    case "$line" in "+PONG"* | "-NOAUTH"* | "-ERR"*"auth"*) exit 0 ;; *) exit 1 ;; esac
  ' _ "$1" "$2" 2>/dev/null
}

# ensure_redis [DIR] — Redis at $TAREFA__REDIS__URL answers PING when this returns.
# When Redis has to be started here, its files go in DIR; with DIR it runs with AOF on
# (the demo keeps its queues across restarts), without DIR it keeps nothing on disk (tests).
ensure_redis() {
  local persist_dir="${1:-}" url="${TAREFA__REDIS__URL:-redis://127.0.0.1:6379}" host port
  host="$(url_host "$url")"
  port="$(url_port "$url" 6379)"
  [ -n "$host" ] || host=127.0.0.1
  if redis_ping "$host" "$port"; then
    log "redis: up at $(redact_url "$url")"
    return 0
  fi
  is_local_host "$host" || die "redis at $(redact_url "$url") does not answer, and it is not local: start it, or point TAREFA__REDIS__URL elsewhere"
  [ "$host" = localhost ] && host=127.0.0.1

  if ! have redis-server && [ "$(_install_route)" = docker ]; then
    [ "$port" = 6379 ] || die "docker compose publishes redis on 6379, but TAREFA__REDIS__URL uses port $port"
    compose_up redis
  else
    need_cmd redis-server redis-server
    # Installing the package may have started it already (systemd, or init.d in containers).
    redis_ping "$host" "$port" || _start_local_redis "$port" "$persist_dir"
  fi
  wait_until 30 "redis on $host:$port" redis_ping "$host" "$port" || die "redis did not come up (see the log above)"
  log "redis: started at $(redact_url "$url")"
}

_start_local_redis() {
  local port="$1" dir="$2" args=() major
  # A packaged, systemd-managed Redis on the default port: let systemd run it.
  if [ "$port" = 6379 ] && systemd_running && systemctl cat redis-server.service >/dev/null 2>&1; then
    log "starting redis-server.service"
    as_root systemctl start redis-server.service && redis_ping 127.0.0.1 "$port" && return 0
    sleep 1
    redis_ping 127.0.0.1 "$port" && return 0
    warn "redis-server.service did not answer; starting redis-server by hand"
  fi
  if [ -n "$dir" ]; then
    args=(--appendonly yes --save "")
  else
    dir="${TMPDIR:-/tmp}/tarefa-redis-$(id -u)"
    args=(--appendonly no --save "")
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  major="$(redis-server --version | sed -n 's/.*v=\([0-9]*\).*/\1/p')"
  local bind=(--bind 127.0.0.1)
  # "-::1" (bind if available) exists since Redis 7.
  [ "${major:-0}" -ge 7 ] && bind=(--bind 127.0.0.1 -::1)
  log "starting redis-server on 127.0.0.1:$port (files in $dir, log $dir/redis.log)"
  redis-server --daemonize yes "${bind[@]}" --port "$port" "${args[@]}" \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" \
    || die "redis-server failed to start: see $dir/redis.log"
}

# ---------------------------------------------------------------- PostgreSQL

pg_up() {
  if have pg_isready; then
    pg_isready -q -t 2 -h "$1" -p "$2"
  else
    port_open "$1" "$2"
  fi
}

# pg_login URL — true when URL accepts a passwordless (or in-URL password) login.
pg_login() { psql "$1" -XAtqc 'select 1' >/dev/null 2>&1; }

_tarefa_pg_ours=0 # set to 1 when this run installed PostgreSQL or created the cluster

# ensure_postgres URL — PostgreSQL at URL accepts logins and URL's database exists when this returns.
ensure_postgres() {
  local url="$1" host port db
  host="$(url_host "$url")"
  port="$(url_port "$url" 5432)"
  db="$(url_db "$url")"
  [ -n "$host" ] || host=127.0.0.1
  [ "$host" = localhost ] && host=127.0.0.1
  if ! pg_up "$host" "$port"; then
    is_local_host "$host" || die "postgresql at $(redact_url "$url") does not answer, and it is not local: start it, or set the URL"
    if ! have pg_ctlcluster && [ "$(_install_route)" = docker ]; then
      [ "$port" = 5432 ] || die "docker compose publishes postgres on 5432, but the URL uses port $port"
      compose_up postgres
    else
      if ! have pg_ctlcluster; then
        ensure_packages postgresql postgresql-client
        _tarefa_pg_ours=1
      fi
      _start_local_postgres "$port"
    fi
    wait_until 60 "postgresql on $host:$port" pg_up "$host" "$port" || die "postgresql did not come up (see the log above)"
    log "postgresql: started on $host:$port"
  else
    log "postgresql: up on $host:$port"
  fi

  need_cmd psql postgresql-client
  local admin_url
  admin_url="$(url_with_db "$url" postgres)"
  if ! pg_login "$admin_url"; then
    if is_local_host "$host" && { [ "$_tarefa_pg_ours" -eq 1 ] || [ "${CI:-}" = true ] || [ "${TAREFA_PG_TRUST:-}" = 1 ]; }; then
      _pg_trust_localhost
      pg_login "$admin_url" || die "still cannot log in to $(redact_url "$admin_url") after trusting localhost"
    else
      die "postgresql refuses $(redact_url "$admin_url"): put a password in the URL, or rerun with TAREFA_PG_TRUST=1 to let this script trust 127.0.0.1 in pg_hba.conf"
    fi
  fi
  [ -z "$db" ] || ensure_database "$url"
}

# Starts the local cluster listening on PORT (creating one when the machine has none).
_start_local_postgres() {
  local port="$1" line ver name status
  line="$(pg_lsclusters -h 2>/dev/null | awk -v p="$port" '$3 == p { print $1, $2, $4; exit }')"
  if [ -z "$line" ]; then
    if [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
      pg_lsclusters >&2
      die "no PostgreSQL cluster listens on port $port (see the clusters above): start one there, or change the URL"
    fi
    ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$ver" ] || die "postgresql is installed but /usr/lib/postgresql has no server version"
    log "creating PostgreSQL cluster $ver/main on port $port (trust on localhost TCP, peer on the socket)"
    as_root pg_createcluster -p "$port" "$ver" main -- --auth-local=peer --auth-host=trust >&2 \
      || die "pg_createcluster failed"
    _tarefa_pg_ours=1
    line="$ver main down"
  fi
  read -r ver name status <<<"$line"
  [[ "$status" == online* ]] && return 0
  log "starting PostgreSQL cluster $ver/$name"
  if systemd_running; then
    as_root systemctl start "postgresql@$ver-$name" && return 0
    warn "systemctl start postgresql@$ver-$name failed; trying pg_ctlcluster"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start \
    || die "pg_ctlcluster $ver $name start failed: see /var/log/postgresql/postgresql-$ver-$name.log"
}

# Puts "trust" lines for 127.0.0.1 and ::1 first in pg_hba.conf and reloads (dev/CI machines only).
_pg_trust_localhost() {
  local hba
  hba="$(as_root runuser -u postgres -- psql -XAtqc 'show hba_file' 2>/dev/null)" \
    || die "cannot ask PostgreSQL for its pg_hba.conf (as the postgres OS user)"
  [ -f "$hba" ] || die "pg_hba.conf not found at '$hba'"
  grep -q '^# tarefa: trust localhost' "$hba" && die "pg_hba.conf already trusts localhost, yet the login fails"
  warn "postgresql refuses passwordless logins: adding trust for 127.0.0.1/::1 at the top of $hba"
  as_root cp "$hba" "$hba.tarefa-backup"
  as_root sed -i '1i # tarefa: trust localhost (dev/CI machine; added by scripts/lib.sh)\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  as_root runuser -u postgres -- psql -XAtqc 'select pg_reload_conf()' >/dev/null
  sleep 0.5
}

# ensure_database URL — creates URL's database when it does not exist.
ensure_database() {
  local url="$1" db admin_url
  db="$(url_db "$url")"
  [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || die "unexpected database name '$db' in $(redact_url "$url")"
  admin_url="$(url_with_db "$url" postgres)"
  if [ "$(psql "$admin_url" -XAtqc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
    log "creating database $db"
    psql "$admin_url" -XAtqc "create database \"$db\"" >/dev/null || die "create database $db failed"
  fi
}

# ---------------------------------------------------------------- everything

# ensure_services [REDIS_DIR] — system packages, Redis at $TAREFA__REDIS__URL,
# PostgreSQL at $DATABASE_URL (tests) and $TAREFA__DATABASE__URL (binaries) with their databases.
ensure_services() {
  ensure_packages "${TAREFA_APT_PACKAGES[@]}"
  ensure_redis "${1:-}"
  local url seen=""
  for url in "${DATABASE_URL:-}" "${TAREFA__DATABASE__URL:-}"; do
    if [ -z "$url" ] || [ "$url" = "$seen" ]; then continue; fi
    ensure_postgres "$url"
    seen="$url"
  done
}
