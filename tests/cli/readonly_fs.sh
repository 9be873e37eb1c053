#!/usr/bin/env bash
# readonly_fs.sh KKTFLOW CONFIG OUTDIR: on a read-only filesystem, each command that must write
# ends with exit 3 and the system's "Read-only file system", without a crash, and each that only
# reads works: `run` of a new file, `run --force` and `run --resume` of a file there, `verify`
# (it writes /verify) exit 3; `info` exits 0. The filesystem is a tmpfs remounted read-only in a
# private mount namespace (unshare as root, or as an unprivileged user where user namespaces are
# allowed); without either the test is skipped (exit 77).
set -u
kktflow="$1"; config="$2"; outdir="$3"
mkdir -p "$outdir"
if [ "${KKTFLOW_IN_NAMESPACE:-}" != 1 ]; then
  for flags in "-m" "-rm"; do
    if unshare $flags true 2>/dev/null; then
      KKTFLOW_IN_NAMESPACE=1 exec unshare $flags bash "$0" "$@"
    fi
  done
  echo "readonly_fs.sh: cannot make a mount namespace (unshare -m, unshare -rm): skipped"; exit 77
fi
disk="$outdir/disk"; mkdir -p "$disk"
mount -t tmpfs -o size=8m tmpfs "$disk" || { echo "readonly_fs.sh: cannot mount a tmpfs: skipped"; exit 77; }
"$kktflow" run "$config" -o "$disk/done.h5" --quiet --set stop.max_steps=50 || { echo "readonly_fs.sh: setup run failed"; exit 1; }
mount -o remount,ro "$disk" || { echo "readonly_fs.sh: cannot remount read-only: skipped"; exit 77; }
failures=0
check() {  # NAME EXPECTED_CODE REGEX COMMAND...
  local name="$1" code="$2" regex="$3"; shift 3
  local output status
  output="$("$@" 2>&1)"; status=$?
  printf '%s: exit %s: %s\n' "$name" "$status" "$(printf '%s' "$output" | tail -1 | cut -c1-300)"
  if [ "$status" -ne "$code" ] || ! printf '%s' "$output" | grep -Eq -- "$regex"; then
    echo "readonly_fs.sh: $name: expected exit $code and /$regex/"; failures=$((failures + 1))
  fi
}
check "run of a new file" 3 "Read-only file system" "$kktflow" run "$config" -o "$disk/new.h5" --quiet
check "run --force" 3 "Read-only file system" "$kktflow" run "$config" -o "$disk/done.h5" --force --quiet
check "run --resume" 3 "Read-only file system" "$kktflow" run "$config" -o "$disk/done.h5" --resume --quiet \
  --set stop.max_steps=100
check "verify" 3 "Read-only file system" "$kktflow" verify "$disk/done.h5"
check "info" 0 "trajectory rows" "$kktflow" info "$disk/done.h5"
[ "$failures" -eq 0 ] || exit 1
echo "readonly_fs.sh: ok (writers exit 3 naming the read-only filesystem, info reads)"
