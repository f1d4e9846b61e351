# Sourced by scripts/run-example.sh: short timeouts so the demo shows every path within a minute.
export PAYMENT_TIMEOUT_MS="${PAYMENT_TIMEOUT_MS:-10000}"
