#!/usr/bin/env bash
# expect.sh CODE REGEX [FORBIDDEN] -- COMMAND...: runs COMMAND, passes iff it exits with CODE and
# its combined output matches the extended regex REGEX (CLI11's habit of checking both) and,
# when FORBIDDEN is given, does not match it (e.g. a message must not quote a file's contents).
set -u
code="$1"; regex="$2"; forbidden=""
if [ "$3" != "--" ]; then forbidden="$3"; shift; fi
shift 3
output="$("$@" 2>&1)"
status=$?
printf '%s\n' "$output"
if [ "$status" -ne "$code" ]; then echo "expect.sh: exit code $status, expected $code"; exit 1; fi
if ! printf '%s' "$output" | grep -Eq -- "$regex"; then echo "expect.sh: output does not match /$regex/"; exit 1; fi
if [ -n "$forbidden" ] && printf '%s' "$output" | grep -Eq -- "$forbidden"; then
  echo "expect.sh: output matches the forbidden /$forbidden/"; exit 1
fi
echo "expect.sh: ok (exit $status, output matches)"
