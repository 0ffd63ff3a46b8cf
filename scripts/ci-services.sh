#!/usr/bin/env bash
# Start PostgreSQL and Redis for CI (if not already up), wait until both are
# ready (bounded, ~30 s each), then create a FRESH database with pgvector:
#
#   bash scripts/ci-services.sh [dbname]     # default: flowspark_ci
#
# The database is dropped (WITH (FORCE)) if it exists, re-created, and
# `CREATE EXTENSION vector` is run in it. Requires pgvector to be installed
# (scripts/setup-pgvector.sh).
#
# Environment overrides: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres),
# REDIS_HOST (127.0.0.1), REDIS_PORT (6379), WAIT_SECONDS (30).
set -euo pipefail

DB_NAME="${1:-flowspark_ci}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_SECONDS="${WAIT_SECONDS:-30}"

step() { printf '[ci-services] %s\n' "$*"; }
die()  { printf '[ci-services] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$DB_NAME" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] ||
  die "invalid database name '$DB_NAME' (use letters, digits, underscore)"

pg_up()    { pg_isready -q -h "$PGHOST" -p "$PGPORT"; }
redis_up() { [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

# wait_for <name> <check-fn>
wait_for() {
  local name="$1" check="$2" i
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    if "$check"; then
      step "$name is ready (after ${i}s)"
      return 0
    fi
    sleep 1
  done
  "$check" && { step "$name is ready"; return 0; }
  return 1
}

# --- PostgreSQL --------------------------------------------------------------
if pg_up; then
  step "PostgreSQL already accepting connections on $PGHOST:$PGPORT"
else
  command -v pg_ctlcluster >/dev/null || die "pg_ctlcluster not found (is postgresql-common installed?)"
  PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$PG_VERSION" ]] || die "no PostgreSQL cluster configured under /etc/postgresql"
  step "PostgreSQL not up; starting cluster $PG_VERSION/main"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start ||
    step "pg_ctlcluster start returned non-zero (may already be starting); waiting"
  if ! wait_for PostgreSQL pg_up; then
    pg_lsclusters >&2 || true
    tail -n 30 "/var/log/postgresql/postgresql-$PG_VERSION-main.log" >&2 2>/dev/null || true
    die "PostgreSQL did not become ready on $PGHOST:$PGPORT within ${WAIT_SECONDS}s"
  fi
fi

# --- Redis -------------------------------------------------------------------
if redis_up; then
  step "Redis already answering PING on $REDIS_HOST:$REDIS_PORT"
else
  command -v redis-server >/dev/null || die "redis-server not found"
  step "Redis not up; starting redis-server on port $REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  if ! wait_for Redis redis_up; then
    tail -n 30 /var/log/redis/ci.log >&2 2>/dev/null || true
    die "Redis did not answer PING on $REDIS_HOST:$REDIS_PORT within ${WAIT_SECONDS}s"
  fi
fi

# --- fresh database ----------------------------------------------------------
psql_admin=(env PGOPTIONS="-c client_min_messages=warning"
            psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER")
step "dropping database \"$DB_NAME\" if it exists (WITH (FORCE))"
"${psql_admin[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)"
step "creating database \"$DB_NAME\""
"${psql_admin[@]}" -d postgres -c "CREATE DATABASE \"$DB_NAME\""
step "CREATE EXTENSION vector in \"$DB_NAME\""
"${psql_admin[@]}" -d "$DB_NAME" -c "CREATE EXTENSION vector" ||
  die "CREATE EXTENSION vector failed in \"$DB_NAME\" (run scripts/setup-pgvector.sh first)"
ext_version="$("${psql_admin[@]}" -d "$DB_NAME" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
step "ready: postgres://$PGUSER@$PGHOST:$PGPORT/$DB_NAME (vector $ext_version), redis://$REDIS_HOST:$REDIS_PORT"
