#!/usr/bin/env bash
# Measures Ksml.NET against KSML's own material, as a KSML user would meet it, and prints a summary:
#   1. examples/: every definition of KSML's examples directory, generators included, run together for
#      a minute on the embedded broker with KSML's example runner settings (the schema registries left out,
#      since none runs here: schemas come from the example's .avsc/.json/.proto files);
#   2. ksml-test-runner/src/test/resources: KSML's test-runner fixtures through `ksml test`, each
#      compared with the status KSML's own KSMLTestRunnerTest expects of it;
#   3. ksml/src/test/resources: every definition KSML's unit tests load, built into a topology.
# Usage: scripts/ksml-compat.sh KSML_CHECKOUT   (a clone of https://github.com/Axual/ksml)
set -euo pipefail
ksml_repo="${1:?usage: scripts/ksml-compat.sh KSML_CHECKOUT}"
ksml_repo="$(cd "$ksml_repo" && pwd)"
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Ksml.Tool --nologo -v quiet >/dev/null
tool="$PWD/Ksml.Tool/bin/Debug/net10.0/Ksml.Tool"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== 1. KSML's examples, together on the embedded broker for 60 s"
cp -r "$ksml_repo/examples" "$work/examples"
mkdir -p "$work/state"
{
  echo "ksml:"
  echo "  schemaDirectory: ."
  echo "  storageDirectory: $work/state"
  echo "  createStorageDirectory: true"
  echo "  enableProducers: true"
  echo "  enablePipelines: true"
  echo "  errorHandling:"
  for stage in consume process produce; do
    echo "    $stage: {log: true, logPayload: true, handler: $([[ $stage == consume ]] && echo stopOnFail || echo continueOnFail)}"
  done
  echo "  notations:"
  echo "    avro: {type: confluent_avro}"
  echo "    jsonschema: {type: apicurio_jsonschema}"
  echo "    protobuf: {type: apicurio_protobuf}"
  echo "  definitions:"
  # 00-example-dump-messages reads the sensor topic as raw bytes, a second source for one topic that neither
  # of KSML's runner files lists with the others either.
  for file in "$work"/examples/[0-9][0-9]-example-*.yaml; do
    [[ $file == *dump-messages* ]] && continue
    name="$(basename "$file" .yaml)"
    echo "    ${name//-/_}: $(basename "$file")"
  done
  echo "kafka:"
  echo "  application.id: ksml-compat"
  echo "  auto.offset.reset: earliest"
  echo "  acks: all"
} > "$work/examples/compat-runner.yaml"
(cd "$work/examples" && timeout -s INT 60 "$tool" run --config compat-runner.yaml -- --embedded-broker > "$work/examples.log" 2>&1) || true
definitions=$(grep -c '^    [a-z0-9_]*: [0-9][0-9]-example' "$work/examples/compat-runner.yaml")
problems=$(grep -E ' (fail|crit|error):|Unhandled exception' "$work/examples.log" | grep -vc 'UNKNOWN COLOR' || true)
logging=$( (grep -oE '(info|warn): [a-z0-9_]+\.function' "$work/examples.log" || true) | awk '{print $2}' | sort -u | wc -l)
echo "   $definitions definitions; $logging of them logged from their functions; $problems error lines"
grep -E ' (fail|crit|error):|Unhandled exception' "$work/examples.log" | grep -v 'UNKNOWN COLOR' | cut -c1-240 | sort | uniq -c | sort -rn | head -10 || true

echo "== 2. KSML's test-runner fixtures"
fixtures="$ksml_repo/ksml-test-runner/src/test/resources"
expected_java="$ksml_repo/ksml-test-runner/src/test/java/io/axual/ksml/testrunner/KSMLTestRunnerTest.java"
# KSML's expectations: the files its test lists as invalid must not pass; the valid ones must all pass.
# (awk stops at the list's end itself: a reader that quits early would kill it with SIGPIPE, and this script with it.)
value_source() { awk -v k="$1" '/@ValueSource/{n++} n==k{print} n==k && /}\)/{exit}' "$expected_java" | grep -oE '"[a-z0-9-]+\.yaml"' | tr -d '"'; }
invalid=$(value_source 1)
valid=$(value_source 2)
agree=0; disagree=0
for file in $invalid; do
  if (cd "$fixtures" && "$tool" test "$file" > "$work/fixture.log" 2>&1); then disagree=$((disagree + 1)); echo "   passes but KSML refuses it: $file"; else agree=$((agree + 1)); fi
done
for file in $valid; do
  if (cd "$fixtures" && "$tool" test "$file" > "$work/fixture.log" 2>&1); then agree=$((agree + 1)); else disagree=$((disagree + 1)); echo "   KSML passes it, Ksml.NET does not: $file"; sed 's/^/      /' "$work/fixture.log" | tail -3; fi
done
# The three fixtures KSML's test checks one by one.
check_fixture() { # file, what KSML expects, a command over the output that holds when Ksml.NET agrees
  (cd "$fixtures" && "$tool" test "$1" > "$work/fixture.log" 2>&1) || true
  if eval "$3"; then agree=$((agree + 1)); else disagree=$((disagree + 1)); echo "   $1: KSML expects $2"; fi
}
check_fixture partial-fail-test.yaml "4 PASS and 1 FAIL (an AssertionError)" \
  '[[ $(grep -c "^  PASS" "$work/fixture.log") == 4 && $(grep -c "^  FAIL" "$work/fixture.log") == 1 ]] && grep -q AssertionError "$work/fixture.log"'
check_fixture empty-stores-block.yaml "ERROR" 'grep -q "^  ERROR" "$work/fixture.log"'
check_fixture generator-with-python-error.yaml "ERROR from the generator's Python" 'grep -q "^  ERROR" "$work/fixture.log" && grep -q ZeroDivisionError "$work/fixture.log"'
echo "   $agree fixtures give KSML's result, $disagree do not"

echo "== 3. Definitions KSML's unit tests load, built into a topology"
built=0; refused=0
# Each file on its own: a runner file in its folder (KSML's use-case folders have one) would pick other definitions.
echo "{}" > "$work/no-runner.yaml"
while IFS= read -r file; do
  if grep -qE '^(ksml|kafka):' "$file"; then continue; fi # runner files
  if (cd "$(dirname "$file")" && timeout 60 "$tool" run "$(basename "$file")" --config "$work/no-runner.yaml" -- --describe > "$work/describe.log" 2>&1); then
    built=$((built + 1))
  else
    refused=$((refused + 1))
    echo "   ${file#"$ksml_repo"/}: $(grep -m1 -E 'error|ksml:' "$work/describe.log" | sed 's/.*error //' | cut -c1-200)"
  fi
done < <(find "$ksml_repo/ksml/src/test/resources" -name '*.yaml' | sort)
echo "   $built built, $refused refused"
