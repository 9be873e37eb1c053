#!/usr/bin/env bash
# run_and_verify.sh KKTFLOW CONFIG OUT CODE [--set key=value]... -- REGEX...
# Runs the flow of CONFIG into OUT, then `kktflow verify OUT`; passes iff verify exits with CODE
# and its output matches every extended REGEX (one claim verdict each, typically).
set -u
kktflow="$1"; config="$2"; out="$3"; code="$4"; shift 4
sets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sets+=("$1"); shift; done
shift
"$kktflow" run "$config" -o "$out" --force --quiet "${sets[@]}" || { echo "run_and_verify.sh: kktflow run failed"; exit 1; }
output="$("$kktflow" verify "$out" 2>&1)"
status=$?
printf '%s\n' "$output"
if [ "$status" -ne "$code" ]; then echo "run_and_verify.sh: verify exited $status, expected $code"; exit 1; fi
for regex in "$@"; do
  if ! printf '%s' "$output" | grep -Eq -- "$regex"; then echo "run_and_verify.sh: no match for /$regex/"; exit 1; fi
done
echo "run_and_verify.sh: ok"
