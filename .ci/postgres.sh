#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + pgvector for tests/CI on Debian 12 (run as root).
#
#   bash .ci/postgres.sh          # install if missing, start (or reuse), print URL
#   bash .ci/postgres.sh stop     # stop the cluster
#
# Only the line `export DATABASE_URL=...` goes to stdout; every log goes to
# stderr.  Note that `eval "$(bash .ci/postgres.sh)"` hides a failure (eval of
# an empty string succeeds), so prefer:
#   out="$(bash .ci/postgres.sh)" && eval "$out"
#
# Environment:
#   PGPORT        (54329)                  TCP port, listens on 127.0.0.1 only
#   PGDATA_DIR    (/tmp/savoir-ci-pg)      data directory
#   PG_URL_FILE   (/tmp/savoir-ci-pg.url)  the URL is also written here
#   PG_DB         (savoir_test)            database to create
#   PGVECTOR_SUITE        (trixie)         Debian suite whose deb-src has pgvector
#   PGVECTOR_APT_MIRROR   (derived)        override the mirror URI derived from
#                                          the system's apt sources
set -euo pipefail

# Everything goes to stderr; fd 3 is the real stdout, for the final line only.
exec 3>&1 1>&2

PG_BIN=/usr/lib/postgresql/15/bin
PORT="${PGPORT:-54329}"
DATA="${PGDATA_DIR:-/tmp/savoir-ci-pg}"
URL_FILE="${PG_URL_FILE:-/tmp/savoir-ci-pg.url}"
DB="${PG_DB:-savoir_test}"
SUITE="${PGVECTOR_SUITE:-trixie}"
MARKER=".savoir-ci-cluster" # marks a data dir this script created (safe to re-init)
export DEBIAN_FRONTEND=noninteractive

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Run as the postgres OS user with only fds 0-2 open: the server daemonizes,
# and an inherited fd 3 (our stdout) would make `$(bash postgres.sh)` hang.
as_pg() {
  (
    cd /
    for fd in "/proc/$BASHPID/fd"/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec runuser -u postgres -- "$@"
  )
}

[ "$(id -u)" -eq 0 ] || die "must run as root"

# --------------------------------------------------------------------------
# cluster helpers
# --------------------------------------------------------------------------

# True if postmaster.pid names a live postgres process; removes a stale one
# (in containers a dead server's PID is often reused by an unrelated process,
# which would make postgres refuse to start).
cluster_running() {
  local pidfile="$DATA/postmaster.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/comm" ] &&
     [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
    return 0
  fi
  log "removing stale $pidfile (pid '${pid}' is not a running postgres)"
  rm -f "$pidfile"
  return 1
}

stop_cluster() {
  if [ -x "$PG_BIN/pg_ctl" ] && [ -d "$DATA" ] && cluster_running; then
    log "stopping cluster in $DATA"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2
  else
    log "no cluster running in $DATA"
  fi
}

if [ "${1:-start}" = stop ]; then
  stop_cluster
  exit 0
elif [ "${1:-start}" != start ]; then
  die "usage: $0 [start|stop]"
fi

# --------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------
PKGS=(postgresql-15 postgresql-server-dev-15 make gcc libc6-dev sslscan dpkg-dev xz-utils ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  t0=$SECONDS
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >&2
  log "apt-get install took $((SECONDS - t0)) s"
else
  log "packages already installed"
fi
[ -x "$PG_BIN/pg_ctl" ] || die "$PG_BIN/pg_ctl not found after install"

# --------------------------------------------------------------------------
# 2. pgvector from Debian's source package (not in bookworm; built from $SUITE)
# --------------------------------------------------------------------------

# Prints "URI<TAB>SIGNED-BY" of the system's main Debian archive entry, read
# from one-line (.list) and deb822 (.sources) files.  The entry whose suite is
# exactly the release codename wins (so -security/-updates are not picked).
derive_mirror() {
  local codename files=()
  # shellcheck disable=SC1091
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$codename" ] || codename=bookworm
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  shopt -s nullglob
  files+=(/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  shopt -u nullglob
  [ "${#files[@]}" -gt 0 ] || return 1
  local f
  for f in "${files[@]}"; do
    case "$f" in
      *.sources)
        awk -v want="$codename" '
          function flush() {
            if (types ~ /(^| )deb(-src)?( |$)/ && tolower(enabled) != "no" && uris != "") {
              n = split(suites, s, " ")
              for (i = 1; i <= n; i++) {
                if (s[i] == want || s[i] ~ "^" want "-") {
                  split(uris, u, " ")
                  print (s[i] == want ? 0 : 1) "\t" u[1] "\t" signed
                  break
                }
              }
            }
            types = uris = suites = signed = enabled = ""; last = ""
          }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          /^[ \t]/   { if (last == "uris") uris = uris " " $1; next }   # continuation
          {
            key = tolower($1); sub(/:$/, "", key)
            val = $0; sub(/^[^:]*:[ \t]*/, "", val)
            last = key
            if (key == "types") types = val
            else if (key == "uris") uris = val
            else if (key == "suites") suites = val
            else if (key == "signed-by") signed = (val ~ /^\//) ? val : ""
            else if (key == "enabled") enabled = val
          }
          END { flush() }' "$f"
        ;;
      *)
        awk -v want="$codename" '
          /^[ \t]*(#|$)/ { next }
          $1 == "deb" || $1 == "deb-src" {
            i = 2; signed = ""
            if ($2 ~ /^\[/) {
              for (; i <= NF; i++) {
                if ($i ~ /^\[?signed-by=/) { v = $i; sub(/^\[?signed-by=/, "", v); sub(/\]$/, "", v); signed = v }
                if ($i ~ /\]$/) { i++; break }
              }
            }
            uri = $i; suite = $(i + 1)
            if (uri ~ /^cdrom:/) next
            if (suite == want) print 0 "\t" uri "\t" signed
            else if (suite ~ "^" want "-") print 1 "\t" uri "\t" signed
          }' "$f"
        ;;
    esac
  done | grep -v -E $'\t[^\t]*security' | sort -s -t $'\t' -k1,1n | head -n1 | cut -f2-
}

install_pgvector() {
  local control=/usr/share/postgresql/15/extension/vector.control
  if [ -f "$control" ]; then
    log "pgvector already installed ($(grep -E '^default_version' "$control" | tr -d "' "))"
    return 0
  fi
  local t0=$SECONDS mirror signed entry
  if [ -n "${PGVECTOR_APT_MIRROR:-}" ]; then
    mirror="$PGVECTOR_APT_MIRROR"; signed=""
  else
    entry="$(derive_mirror || true)"
    [ -n "$entry" ] || die "could not derive the Debian mirror from /etc/apt/sources.list{,.d/*}; set PGVECTOR_APT_MIRROR"
    mirror="${entry%%$'\t'*}"
    signed="${entry#*$'\t'}"
  fi
  mirror="${mirror%/}"
  # The keyring must know the $SUITE archive keys; the bookworm keyring does.
  if [ -z "$signed" ] || [ ! -f "$signed" ]; then
    signed=""
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] && signed=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  log "building pgvector from '$SUITE' deb-src at $mirror"

  local tmp
  tmp="$(mktemp -d /tmp/pgvector-src.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  chmod 755 "$tmp"
  mkdir -p "$tmp/etc/sources.list.d" "$tmp/lists/partial" "$tmp/src"
  # apt downloads as the _apt user: let it write the source files.
  if getent passwd _apt >/dev/null; then chown _apt "$tmp/src"; fi
  printf 'deb-src %s%s %s main\n' "${signed:+[signed-by=$signed] }" "$mirror" "$SUITE" >"$tmp/etc/sources.list"
  local aptopts=(
    -o "Dir::Etc::SourceList=$tmp/etc/sources.list"
    -o "Dir::Etc::SourceParts=$tmp/etc/sources.list.d"
    -o "Dir::State::Lists=$tmp/lists"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  )
  apt-get "${aptopts[@]}" update -q >&2
  (cd "$tmp/src" && apt-get "${aptopts[@]}" source -q pgvector >&2)
  local srcdir
  srcdir="$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
  [ -n "$srcdir" ] || die "apt-get source pgvector produced no source tree"
  log "building $(basename "$srcdir")"
  make -C "$srcdir" -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >&2
  make -C "$srcdir" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" install >&2
  rm -rf "$tmp"
  trap - EXIT
  [ -f "$control" ] || die "pgvector install did not produce $control"
  log "pgvector installed in $((SECONDS - t0)) s"
}
install_pgvector

# --------------------------------------------------------------------------
# 3. cluster on 127.0.0.1:$PORT
# --------------------------------------------------------------------------
port_busy() { timeout 3 bash -c ": </dev/tcp/127.0.0.1/$PORT" 2>/dev/null; }
ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; }

init_cluster() {
  mkdir -p "$DATA"
  if [ -n "$(ls -A "$DATA")" ]; then
    die "$DATA exists, is not empty and holds no cluster; remove it or set PGDATA_DIR"
  fi
  chown postgres:postgres "$DATA"
  chmod 700 "$DATA"
  log "initdb in $DATA"
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >&2
  touch "$DATA/$MARKER"
  chown postgres:postgres "$DATA/$MARKER"
}

# Returns 0 when started, 2 when the port could not be bound (after a few
# tries: 54329 lies in Linux's ephemeral range, so a client socket may hold it
# for a moment), 1 on any other failure.
start_cluster() {
  # Sockets: in the data dir unless its path is too long for a socket name.
  local sockdir="$DATA" log="$DATA/server.log" off try
  [ "${#DATA}" -le 80 ] || sockdir=""
  for try in 1 2 3; do
    off=$(( $(stat -c %s "$log" 2>/dev/null || echo 0) + 1 ))
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories='$sockdir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2; then
      return 0
    fi
    tail -c +"$off" "$log" 2>/dev/null | tail -n 20 >&2 || true
    tail -c +"$off" "$log" 2>/dev/null | grep -q 'could not bind\|could not create any TCP/IP' || return 1
    log "port $PORT busy (try $try/3)"
    sleep 3
  done
  return 2
}

if ready; then
  log "a server already accepts connections on 127.0.0.1:$PORT; reusing it"
else
  port_busy && die "127.0.0.1:$PORT is taken by something that is not an accepting PostgreSQL; set PGPORT"
  if [ -f "$DATA/PG_VERSION" ]; then
    [ "$(cat "$DATA/PG_VERSION")" = 15 ] || die "$DATA holds a PostgreSQL $(cat "$DATA/PG_VERSION") cluster, not 15"
    if cluster_running; then
      # Ours, but not reachable on $PORT (e.g. started with another port).
      log "cluster in $DATA is running but not on 127.0.0.1:$PORT; restarting it"
      as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2
    fi
  else
    init_cluster
  fi
  log "starting cluster on 127.0.0.1:$PORT"
  rc=0; start_cluster || rc=$?
  if [ "$rc" -eq 2 ]; then
    die "could not bind 127.0.0.1:$PORT; set PGPORT"
  elif [ "$rc" -ne 0 ]; then
    [ -f "$DATA/$MARKER" ] || die "could not start PostgreSQL (see $DATA/server.log)"
    # A throwaway test cluster (fsync=off) may not survive a machine crash.
    log "start failed; re-creating the throwaway cluster in $DATA"
    rm -rf "$DATA"
    init_cluster
    start_cluster || die "could not start PostgreSQL (see $DATA/server.log)"
  fi
fi

for _ in $(seq 1 60); do
  ready && break
  sleep 0.5
done
ready || die "PostgreSQL on 127.0.0.1:$PORT is not ready"
log "PostgreSQL ready on 127.0.0.1:$PORT"

# --------------------------------------------------------------------------
# 4. database + vector extension
# --------------------------------------------------------------------------
psql_() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

if [ "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  log "creating database $DB"
  psql_ -d postgres -c "CREATE DATABASE \"$DB\" OWNER postgres" >&2
fi
psql_ -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS vector" >&2
log "vector extension $(psql_ -d "$DB" -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'") in $DB"
log "SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector  =>  $(psql_ -d "$DB" -tAc "SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")"

# --------------------------------------------------------------------------
# 5. URL
# --------------------------------------------------------------------------
URL="postgres://postgres@127.0.0.1:$PORT/$DB"
printf '%s\n' "$URL" >"$URL_FILE"
printf 'export DATABASE_URL=%s\n' "$URL" >&3
