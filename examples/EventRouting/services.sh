# Sourced by scripts/run-example.sh: starts RabbitMQ (and PostgreSQL) on loopback.
eval "$(bash scripts/services.sh)"
