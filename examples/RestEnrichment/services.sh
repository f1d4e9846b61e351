# Sourced by scripts/run-example.sh: starts the demo customer API on loopback for this run.
export CUSTOMER_API_TOKEN="${CUSTOMER_API_TOKEN:-demo-$RANDOM$RANDOM}"
export CUSTOMER_API_URL="http://127.0.0.1:${CUSTOMER_API_PORT:-8089}"
/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/customer_api.py" "${CUSTOMER_API_PORT:-8089}" &
services_pids+=($!)
