#!/usr/bin/env bash
# Installs what running and testing Ksml.NET needs on a fresh Debian machine, and nothing twice:
# the system CPython the bridge embeds and the python3 modules the examples import.
# Servers (PostgreSQL, RabbitMQ) are started by scripts/services.sh, which scripts/test.sh and the examples that need them call.
set -euo pipefail

packages=(libpython3.11 python3 python3-requests python3-psycopg2 python3-pika python3-cachetools python3-pymongo postgresql rabbitmq-server)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  as_root=()
  [[ $(id -u) -ne 0 ]] && as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
