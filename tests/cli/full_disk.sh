#!/usr/bin/env bash
# full_disk.sh KKTFLOW CONFIG OUTDIR PYTHON CHECK: a run whose disk fills up ends with exit 3 and
# "No space left on device", leaves a file that holds every row it flushed, and `run --resume`
# continues it once there is room. The disk is a 1 MiB tmpfs in a private mount namespace
# (unshare as root, or as an unprivileged user where user namespaces are allowed); without
# either the test is skipped (exit 77).
set -u
kktflow="$1"; config="$2"; outdir="$3"; python="$4"; check="$5"
mkdir -p "$outdir"
source "$(dirname "$0")/private_tmpfs.sh"
enter_mount_namespace full_disk.sh "$0" "$@"
disk="$outdir/disk"
mount_tmpfs full_disk.sh "$disk" 1m
out="$disk/run.h5"
run() { "$kktflow" run "$config" -o "$out" --quiet --set store.checkpoint_seconds=0 "$@"; }
output="$(run --force 2>&1)"; status=$?
echo "run on a 1 MiB disk: exit $status: $output"
[ "$status" -eq 3 ] || { echo "full_disk.sh: exit $status, expected 3"; exit 1; }
printf '%s' "$output" | grep -q "No space left on device" || { echo "full_disk.sh: no 'No space left'"; exit 1; }
cp "$out" "$outdir/full.h5" || exit 1
"$kktflow" info "$outdir/full.h5" || { echo "full_disk.sh: info cannot read the file"; exit 1; }
mount -o remount,size=64m "$disk" || exit 1
run --resume || { echo "full_disk.sh: --resume failed once there was room"; exit 1; }
cp "$out" "$outdir/resumed.h5"
"$kktflow" run "$config" -o "$outdir/reference.h5" --quiet --force --set store.checkpoint_seconds=0 || exit 1
"$python" "$check" "$outdir/full.h5" "$outdir/resumed.h5" "$outdir/reference.h5"
