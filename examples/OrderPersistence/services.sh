# Sourced by scripts/run-example.sh: starts PostgreSQL on loopback and creates the tables.
eval "$(bash scripts/services.sh)"
psql "$KSML_POSTGRES_DSN" -q -v ON_ERROR_STOP=1 -f "$(dirname "${BASH_SOURCE[0]}")/schema.sql"
