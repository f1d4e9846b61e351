#!/usr/bin/env bash
# Builds the solution (examples included) and runs every test, ending with
# `Tests: N passed, N failed, N skipped` (dotnet test prints only per-assembly lines).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }
# Servers the end-to-end tests use (PostgreSQL), on loopback; their settings come back as exports.
services=$(bash scripts/services.sh) || { echo "services failed to start" >&2; exit 1; }
eval "$services"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test Ksml.sln --nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[[ -n "${KSML_MONGODB_URL:-}" ]] || echo "Note: 2 tests skipped on purpose (the MongoEnrichment integration test and its suite): they need a MongoDB server, and none can be installed from Debian, NuGet or npm; set KSML_MONGODB_URL to run them."
awk '/^(Passed|Failed|Skipped)! +- Failed: /{ gsub(/,/,""); f+=$4; p+=$6; s+=$8; n++ }
     END { if (n) printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$rc"
