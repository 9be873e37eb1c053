# Sourced by the tests that need a filesystem of their own (full_disk.sh, readonly_fs.sh).
# enter_mount_namespace NAME SCRIPT ARGS...: re-executes SCRIPT in a private mount namespace
# (unshare as root, or as an unprivileged user where user namespaces are allowed), or skips the
# test (exit 77) where neither works.
enter_mount_namespace() {
  local name="$1" script="$2"
  shift 2
  [ "${KKTFLOW_IN_NAMESPACE:-}" = 1 ] && return 0
  for flags in "-m" "-rm"; do
    if unshare $flags true 2>/dev/null; then
      KKTFLOW_IN_NAMESPACE=1 exec unshare $flags bash "$script" "$@"
    fi
  done
  echo "$name: cannot make a mount namespace (unshare -m, unshare -rm): skipped"
  exit 77
}

# mount_tmpfs NAME DIR SIZE: a tmpfs of SIZE at DIR, or the test is skipped (exit 77).
mount_tmpfs() {
  mkdir -p "$2"
  mount -t tmpfs -o size="$3" tmpfs "$2" || { echo "$1: cannot mount a tmpfs: skipped"; exit 77; }
}
