#!/usr/bin/env bash
# Runs the benchmark suite; prints one `name: value` line per figure. `--quick` for a short run.
# Results are recorded, with this command, in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash scripts/setup.sh >/dev/null
dotnet build tests/Ksml.Benchmarks -c Release --nologo -v quiet >/dev/null
dotnet run --no-build -c Release --project tests/Ksml.Benchmarks -- bridge "$@"
