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
source "$(dirname "$0")/private_tmpfs.sh"
enter_mount_namespace readonly_fs.sh "$0" "$@"
disk="$outdir/disk"
mount_tmpfs readonly_fs.sh "$disk" 8m
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
