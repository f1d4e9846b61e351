#!/usr/bin/env bash
# Builds a KSML example and runs it. Usage: scripts/run-example.sh [name] [app arguments]
# Today the compiled app describes its topology (--describe); running it on the embedded
# broker arrives with the Python bridge and application host (issues 3 and 4).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

name="${1:-WordCount}"
shift || true
project=$(find examples -maxdepth 2 -iname "${name}.csproj" -o -maxdepth 2 -ipath "examples/${name}/*.csproj" | head -n1)
if [[ -z "$project" ]]; then
  echo "run-example: no example '$name'; available: $(ls examples | grep -v Directory | tr '\n' ' ')" >&2
  exit 2
fi
dotnet build "$project" --nologo -v quiet
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(--describe)
exec dotnet run --project "$project" --no-build -- "${args[@]}"
