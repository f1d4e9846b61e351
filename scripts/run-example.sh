#!/usr/bin/env bash
# Installs what the examples need (once), builds a KSML example and runs it on the embedded
# Kafka broker until Ctrl+C. Usage: scripts/run-example.sh [name] [app arguments, see --help]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash scripts/setup.sh

name="${1:-WordCount}"
shift || true
# order-processing, OrderProcessing and orderprocessing all name examples/OrderProcessing.
project=$(find examples -maxdepth 2 -iname "${name//-/}.csproj" | head -n1)
if [[ -z "$project" ]]; then
  echo "run-example: no example '$name'; available: $(ls examples | grep -v Directory | tr '\n' ' ')" >&2
  exit 2
fi
dotnet build "$project" --nologo -v quiet

# An example may bring companion services (a demo API, a database); they stop with the example.
services_pids=()
services="$(dirname "$project")/services.sh"
if [[ -f "$services" ]]; then
  # shellcheck source=/dev/null
  source "$services"
fi
trap '(( ${#services_pids[@]} )) && kill "${services_pids[@]}" 2>/dev/null; true' EXIT
dotnet run --project "$project" --no-build -- "$@"
