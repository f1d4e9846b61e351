# Sourced by scripts/run-example.sh: PostgreSQL with the catalogue, and the notification REST endpoint.
eval "$(bash scripts/services.sh)"
here="$(dirname "${BASH_SOURCE[0]}")"
psql "$KSML_POSTGRES_DSN" -q -v ON_ERROR_STOP=1 -f "$here/catalogue.sql"
export NOTIFICATION_API_TOKEN="${NOTIFICATION_API_TOKEN:-demo-$RANDOM$RANDOM}"
export NOTIFICATION_API_URL="http://127.0.0.1:${NOTIFICATION_API_PORT:-8090}"
/usr/bin/python3 "$here/notification_api.py" "${NOTIFICATION_API_PORT:-8090}" &
services_pids+=($!)
