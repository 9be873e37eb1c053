#!/usr/bin/env bash
# sigint.sh KKTFLOW CONFIG OUT PYTHON CHECK: a run stopped by SIGINT must exit 130 and leave a file
# that `kktflow info` and h5py read, holding every row flushed before the signal.
# The stop rules are lifted (log_t_max 1e100, kkt_eps 1e-12) so the run outlasts the 5 s wait.
set -u
kktflow="$1"; config="$2"; out="$3"; python="$4"; check="$5"
rm -f "$out"
"$kktflow" run "$config" -o "$out" --set stop.wall_s=600 --set stop.kkt_eps=1e-12 --set stop.log_t_max=1e100 --quiet &
pid=$!
sleep 5
kill -INT "$pid"
wait "$pid"; status=$?
[ "$status" -eq 130 ] || { echo "sigint.sh: run exited $status, expected 130"; exit 1; }
info="$("$kktflow" info "$out")" || { echo "sigint.sh: info failed"; exit 1; }
printf '%s\n' "$info"
printf '%s' "$info" | grep -q "status      interrupted" || { echo "sigint.sh: status is not interrupted"; exit 1; }
rows=$(printf '%s' "$info" | sed -n 's/^recorded *\([0-9]*\) trajectory rows.*/\1/p')
[ "${rows:-0}" -ge 3 ] || { echo "sigint.sh: only ${rows:-0} rows recorded"; exit 1; }
"$python" "$check" "$out"
