#!/usr/bin/env bash
# concurrent_writers.sh KKTFLOW CONFIG OUTDIR: one writer per run file. While a run writes OUT,
# a second `run --force`, a `run --resume` and a `verify` on OUT each exit 3 naming the writer's
# pid; then SIGTERM stops the writer (exit 130) and `run --resume` continues the file (exit 0).
set -u
kktflow="$1"; config="$2"; outdir="$3"
mkdir -p "$outdir"; out="$outdir/live.h5"; rm -f "$out" "$out.lock"
fail() { echo "concurrent_writers.sh: $*"; kill "$writer" 2>/dev/null; exit 1; }
"$kktflow" run "$config" -o "$out" --quiet --set stop.kkt_eps=1e-300 --set stop.log_t_max=1e300 --set stop.wall_s=60 &
writer=$!
for _ in $(seq 200); do [ -f "$out" ] && break; sleep 0.05; done
[ -f "$out" ] || fail "the writer made no file"
check() {  # NAME EXPECTED_CODE REGEX COMMAND...
  local name="$1" code="$2" regex="$3"; shift 3
  local output status
  output="$("$@" 2>&1)"; status=$?
  printf '%s: exit %s: %s\n' "$name" "$status" "$output"
  [ "$status" -eq "$code" ] || fail "$name: exit $status, expected $code"
  printf '%s' "$output" | grep -Eq -- "$regex" || fail "$name: output does not match /$regex/"
}
check "second run --force" 3 "pid $writer" "$kktflow" run "$config" -o "$out" --force --quiet
check "run --resume" 3 "pid $writer" "$kktflow" run "$config" -o "$out" --resume --quiet
check "verify" 3 "pid $writer" "$kktflow" verify "$out"
check "run without --force" 3 "pid $writer" "$kktflow" run "$config" -o "$out" --quiet
kill -TERM "$writer"; wait "$writer"; status=$?
[ "$status" -eq 130 ] || fail "the writer exited $status on SIGTERM, expected 130"
[ ! -e "$out.lock" ] || fail "the writer left its lock $out.lock"
check "info after SIGTERM" 0 "status +interrupted" "$kktflow" info "$out"
check "resume after SIGTERM" 0 "wall_budget" "$kktflow" run "$config" -o "$out" --resume --set stop.kkt_eps=1e-300 \
  --set stop.log_t_max=1e300 --set stop.wall_s=1
echo "concurrent_writers.sh: ok (a second writer is refused naming pid $writer; SIGTERM, then --resume continues)"
