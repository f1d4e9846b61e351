#!/usr/bin/env bash
# Starts the servers the tests and examples use, on loopback only, and prints their settings as
# `export NAME=value` lines (scripts/test.sh evals them). Idempotent: a running server is reused.
#   PostgreSQL: Debian's cluster 15/main on 127.0.0.1:5432, with a `ksml` role and database whose
#   password is generated on first start and kept in ~/.ksml/postgres-password (never in the repo).
set -euo pipefail

as_postgres() { if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi; }

start_postgres() {
  if ! command -v pg_lsclusters >/dev/null; then
    echo "services: PostgreSQL is not installed (apt-get install postgresql)" >&2
    return 1
  fi
  local version
  version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
  if [[ -z "$version" ]]; then
    echo "services: no PostgreSQL cluster exists (pg_createcluster)" >&2
    return 1
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start -o "-c listen_addresses=127.0.0.1" >&2
  fi
  mkdir -p "$HOME/.ksml" && chmod 700 "$HOME/.ksml"
  local password_file="$HOME/.ksml/postgres-password"
  [[ -s "$password_file" ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
  local password
  password=$(cat "$password_file")
  as_postgres "psql -q -v ON_ERROR_STOP=1 -d postgres" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ksml') THEN CREATE ROLE ksml LOGIN; END IF;
END \$\$;
ALTER ROLE ksml PASSWORD '$password';
SELECT 'CREATE DATABASE ksml OWNER ksml' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ksml') \gexec
SQL
  echo "export KSML_POSTGRES_DSN='host=127.0.0.1 port=5432 dbname=ksml user=ksml password=$password'"
}

start_postgres
