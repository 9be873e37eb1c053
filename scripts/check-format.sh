#!/usr/bin/env bash
# Checks that every C++ source the repository tracks is as .clang-format lays it out; prints
# each file that is not, with the first lines clang-format would change, and exits 1.
# `scripts/check-format.sh --fix` rewrites them in place instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
    echo "check-format: $f differs from .clang-format's layout:"
    clang-format --dry-run "$f" 2>&1 | head -6
    bad=1
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "check-format: run scripts/check-format.sh --fix and commit the result"
  exit 1
fi
echo "check-format: ${#files[@]} files as .clang-format lays them out"
