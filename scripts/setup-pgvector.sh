#!/usr/bin/env bash
# Make the pgvector extension (0.8.0) available to the machine's PostgreSQL 15.
#
# Idempotent: if vector.control / vector.so are already installed for PG15,
# the build is skipped. In every case the script finishes by checking that
# `CREATE EXTENSION vector` works in a scratch database (pgvector_check).
#
# Build path (Debian bookworm, run as root):
#   1. add a deb-src-only entry for Debian trixie/main (same mirror as
#      /etc/apt/sources.list.d/debian.sources) -- no binary indexes are added,
#      so which binary packages apt installs is unchanged;
#   2. apt-get update; apt-get install -y postgresql-server-dev-15;
#   3. apt-get source --download-only pgvector (0.8.0) into a temp dir,
#      unpack the upstream *.orig.tar.* and `make OPTFLAGS="" && make install`.
#
# Environment overrides: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres).
set -euo pipefail

PG_MAJOR=15
PGVECTOR_VERSION=0.8.0
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources
TRIXIE_SRC_LIST=/etc/apt/sources.list.d/flowspark-trixie-src.sources
PG15_PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
export DEBIAN_FRONTEND=noninteractive

step() { printf '[setup-pgvector] %s\n' "$*"; }
die()  { printf '[setup-pgvector] ERROR: %s\n' "$*" >&2; exit 1; }

# Path of the PG15 pg_config (never the libpq-dev /usr/bin/pg_config unless it
# reports PostgreSQL 15).
find_pg_config() {
  if [[ -x "$PG15_PG_CONFIG" ]]; then
    echo "$PG15_PG_CONFIG"
  elif command -v pg_config >/dev/null 2>&1 &&
       pg_config --version | grep -q "PostgreSQL ${PG_MAJOR}\."; then
    command -v pg_config
  fi
}

is_installed() {
  local pgc sharedir pkglibdir
  pgc="$(find_pg_config)"
  if [[ -n "$pgc" ]]; then
    sharedir="$("$pgc" --sharedir)"
    pkglibdir="$("$pgc" --pkglibdir)"
  else
    sharedir=/usr/share/postgresql/${PG_MAJOR}
    pkglibdir=/usr/lib/postgresql/${PG_MAJOR}/lib
  fi
  [[ -f "$sharedir/extension/vector.control" && -f "$pkglibdir/vector.so" ]] ||
    [[ -f "/usr/share/postgresql/${PG_MAJOR}/extension/vector.control" &&
       -f "/usr/lib/postgresql/${PG_MAJOR}/lib/vector.so" ]]
}

# Start the PG15 cluster if it is not accepting connections; wait up to ~30 s.
ensure_pg_running() {
  if pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    step "PostgreSQL is accepting connections on $PGHOST:$PGPORT"
    return 0
  fi
  step "PostgreSQL not accepting connections on $PGHOST:$PGPORT; starting cluster ${PG_MAJOR}/main"
  pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start ||
    step "pg_ctlcluster start returned non-zero (it may already be starting); waiting"
  local i
  for ((i = 0; i < 30; i++)); do
    if pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
      step "PostgreSQL is up after ${i}s"
      return 0
    fi
    sleep 1
  done
  pg_lsclusters >&2 || true
  die "PostgreSQL did not become ready on $PGHOST:$PGPORT within 30 s"
}

verify() {
  ensure_pg_running
  step "verifying: CREATE EXTENSION vector in scratch database pgvector_check"
  local psql=(env PGOPTIONS="-c client_min_messages=warning"
              psql -X -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER")
  "${psql[@]}" -d postgres -qc "DROP DATABASE IF EXISTS pgvector_check WITH (FORCE)"
  "${psql[@]}" -d postgres -qc "CREATE DATABASE pgvector_check"
  local rc=0 out
  out="$("${psql[@]}" -d pgvector_check -Atc "CREATE EXTENSION IF NOT EXISTS vector" \
           -c "SELECT 'vector ' || extversion FROM pg_extension WHERE extname = 'vector'" \
           -c "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector" 2>&1)" || rc=$?
  "${psql[@]}" -d postgres -qc "DROP DATABASE IF EXISTS pgvector_check WITH (FORCE)"
  printf '%s\n' "$out" | sed 's/^/[setup-pgvector]   /'
  [[ $rc -eq 0 ]] || die "CREATE EXTENSION vector failed (psql exit $rc)"
  step "OK: pgvector works ($(printf '%s\n' "$out" | grep '^vector ' || echo 'vector'))"
}

# Mirror URI + keyring of the main (non-security) stanza of debian.sources.
parse_debian_sources() {
  [[ -r "$DEBIAN_SOURCES" ]] || die "$DEBIAN_SOURCES not found; cannot determine the Debian mirror"
  awk '
    function flush() {
      if (uri != "") {
        if (first == "") first = uri "\t" key
        if (main == "" && uri !~ /security/ && suites !~ /-security/) main = uri "\t" key
      }
      uri = ""; key = ""; suites = ""
    }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "uris:"      { uri = $2 }
    tolower($1) == "suites:"    { $1 = ""; suites = $0 }
    tolower($1) == "signed-by:" { key = $2 }
    END { flush(); if (main != "") print main; else if (first != "") print first }
  ' "$DEBIAN_SOURCES"
}

step "pgvector ${PGVECTOR_VERSION} for PostgreSQL ${PG_MAJOR}"
[[ $EUID -eq 0 ]] || die "must run as root (apt-get / make install)"

if is_installed; then
  step "vector.control already present for PostgreSQL ${PG_MAJOR}; skipping build/install"
  verify
  exit 0
fi

step "vector extension not installed; building it from Debian trixie source"

# --- 1. deb-src entry for trixie ---------------------------------------------
IFS=$'\t' read -r MIRROR_URI KEYRING < <(parse_debian_sources) || true
[[ -n "${MIRROR_URI:-}" ]] || die "no URIs: line found in $DEBIAN_SOURCES"
[[ -n "${KEYRING:-}" && -r "$KEYRING" ]] || KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
step "mirror from $DEBIAN_SOURCES: $MIRROR_URI (keyring $KEYRING)"
step "writing $TRIXIE_SRC_LIST (Types: deb-src only; binary packages unaffected)"
cat >"$TRIXIE_SRC_LIST" <<EOF
# Added by FlowSpark scripts/setup-pgvector.sh: source packages only (pgvector).
# Types is deb-src ONLY, so no trixie binary packages become installable.
Types: deb-src
URIs: ${MIRROR_URI}
Suites: trixie
Components: main
Signed-By: ${KEYRING}
EOF
sed 's/^/[setup-pgvector]   /' "$TRIXIE_SRC_LIST"

# --- 2. apt-get update + server dev headers -----------------------------------
step "apt-get update"
apt-get update
step "apt-get install -y postgresql-server-dev-${PG_MAJOR}"
before="$(dpkg-query -W -f='${Version}' "postgresql-${PG_MAJOR}" 2>/dev/null || true)"
apt-get install -y --no-install-recommends "postgresql-server-dev-${PG_MAJOR}"
after="$(dpkg-query -W -f='${Version}' "postgresql-${PG_MAJOR}" 2>/dev/null || true)"
if [[ "$before" != "$after" ]]; then
  step "postgresql-${PG_MAJOR} changed version: ${before:-none} -> ${after:-none}"
fi
# The package upgrade (if any) may have stopped the server without restarting
# it (policy-rc.d in containers); bring it back if it is not answering.
ensure_pg_running

PG_CONFIG="$(find_pg_config)"
[[ -n "$PG_CONFIG" ]] || die "no PostgreSQL ${PG_MAJOR} pg_config found after installing postgresql-server-dev-${PG_MAJOR}"
[[ -f "$("$PG_CONFIG" --pgxs)" ]] || die "PGXS makefile missing: $("$PG_CONFIG" --pgxs)"
step "using PG_CONFIG=$PG_CONFIG ($("$PG_CONFIG" --version))"

# --- 3. fetch, build, install pgvector ---------------------------------------
workdir="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
trap 'rm -rf "$workdir"' EXIT
# Let apt's unprivileged _apt user write the download (avoids the
# "unsandboxed as root" fallback).
if id _apt >/dev/null 2>&1; then chown _apt "$workdir"; fi

src_version="$(apt-cache showsrc pgvector 2>/dev/null |
  awk '/^Version:/ {print $2}' | grep -E "^${PGVECTOR_VERSION//./\\.}-" | sort -V | tail -n1 || true)"
if [[ -z "$src_version" ]]; then
  apt-cache showsrc pgvector 2>/dev/null | grep -E '^(Package|Version):' >&2 || true
  die "pgvector ${PGVECTOR_VERSION} source package not available from trixie deb-src"
fi
step "apt-get source --download-only pgvector=${src_version} (in $workdir)"
(cd "$workdir" && apt-get source --download-only "pgvector=${src_version}")

shopt -s nullglob
origs=("$workdir"/pgvector_"${PGVECTOR_VERSION}".orig.tar.*)
shopt -u nullglob
[[ ${#origs[@]} -ge 1 ]] || { ls -l "$workdir" >&2; die "no pgvector_${PGVECTOR_VERSION}.orig.tar.* downloaded"; }
srcdir="$workdir/pgvector-${PGVECTOR_VERSION}"
mkdir -p "$srcdir"
step "unpacking $(basename "${origs[0]}")"
tar -xf "${origs[0]}" -C "$srcdir" --strip-components=1
[[ -f "$srcdir/Makefile" && -f "$srcdir/vector.control" ]] || die "unexpected tarball layout"
grep -q "default_version = '${PGVECTOR_VERSION}'" "$srcdir/vector.control" ||
  die "tarball is not pgvector ${PGVECTOR_VERSION}: $(grep default_version "$srcdir/vector.control")"

step "make OPTFLAGS=\"\" PG_CONFIG=$PG_CONFIG"
make -C "$srcdir" -j"$(nproc)" OPTFLAGS="" PG_CONFIG="$PG_CONFIG"
step "make install"
make -C "$srcdir" install OPTFLAGS="" PG_CONFIG="$PG_CONFIG"

is_installed || die "make install finished but vector.control/vector.so not found for PostgreSQL ${PG_MAJOR}"
step "installed: $("$PG_CONFIG" --sharedir)/extension/vector.control, $("$PG_CONFIG" --pkglibdir)/vector.so"

verify
