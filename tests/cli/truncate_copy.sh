#!/usr/bin/env bash
# truncate_copy.sh SRC DST: DST = the first half of SRC, as a copy cut off by a full disk leaves it.
set -eu
src="$1"; dst="$2"
size=$(stat -c %s "$src")
head -c $((size / 2)) "$src" > "$dst"
echo "truncate_copy.sh: $dst holds $((size / 2)) of the $size bytes of $src"
