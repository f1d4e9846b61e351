#!/usr/bin/env bash
# Runs the benchmark suite and prints one `name: value` line per figure; draws docs/benchmarks.png and docs/benchmarks-calls.png.
# `--quick` runs fewer records and rounds (under 5 minutes on 2 cores). Results are recorded, with
# this command, the date and the machine, in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash scripts/setup.sh >/dev/null
dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null | grep -q "install ok installed" \
  || { [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null; }
dotnet build tests/Ksml.Benchmarks -c Release --nologo -v quiet >/dev/null

bench() { dotnet run --no-build -c Release --project tests/Ksml.Benchmarks -- "$@" 2>/dev/null | grep -E '^[a-z].*: '; }
quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)

bench bridge "${quick[@]}"
bench pipeline "${quick[@]}"
bench driver "${quick[@]}"
bench broker "${quick[@]}"
bench tracing "${quick[@]}"
bench startup "${quick[@]}"
bench rss "${quick[@]}"
bench generator "${quick[@]}"
calls_csv=$(mktemp --suffix=.csv)
bench calls "${quick[@]}" --csv "$calls_csv"
/usr/bin/python3 tests/Ksml.Benchmarks/plot_calls.py "$calls_csv" docs/benchmarks-calls.png && echo "plot: docs/benchmarks-calls.png"
rm -f "$calls_csv"
eval "$(bash scripts/services.sh)"   # PostgreSQL, for the batched writes
bench writes "${quick[@]}"
csv=$(mktemp --suffix=.csv)
trap 'rm -f "$csv"' EXIT
dotnet run --no-build -c Release --project tests/Ksml.Benchmarks -- sweep "${quick[@]}" --csv "$csv" 2>/dev/null | grep '^sweep'
/usr/bin/python3 tests/Ksml.Benchmarks/plot.py "$csv" docs/benchmarks.png && echo "plot: docs/benchmarks.png"
