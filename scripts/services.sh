#!/usr/bin/env bash
# Starts the servers the tests and examples use, on loopback only, and prints their settings as
# `export NAME=value` lines (scripts/test.sh evals them). Idempotent: a running server is reused.
#   PostgreSQL: Debian's cluster 15/main on 127.0.0.1:5432, with a `ksml` role and database whose
#   password is generated on first start and kept in ~/.ksml/postgres-password (never in the repo).
#   RabbitMQ: node rabbit@localhost with AMQP, epmd and distribution bound to 127.0.0.1, and a `ksml`
#   user whose password is kept in ~/.ksml/rabbitmq-password.
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

start_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null; then
    echo "services: RabbitMQ is not installed (apt-get install rabbitmq-server)" >&2
    return 1
  fi
  export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    rabbitmq-server -detached >&2
    for _ in $(seq 1 120); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  rabbitmqctl -q await_startup --timeout 60 >&2
  local password_file="$HOME/.ksml/rabbitmq-password"
  [[ -s "$password_file" ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
  local password
  password=$(cat "$password_file")
  rabbitmqctl -q add_user ksml "$password" >/dev/null 2>&1 || rabbitmqctl -q change_password ksml "$password" >&2
  rabbitmqctl -q set_permissions -p / ksml ".*" ".*" ".*" >&2
  echo "export KSML_RABBITMQ_URL='amqp://ksml:$password@127.0.0.1:5672/%2F'"
}

mkdir -p "$HOME/.ksml" && chmod 700 "$HOME/.ksml"
start_postgres
start_rabbitmq
