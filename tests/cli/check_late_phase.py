"""check_late_phase.py FILE MIN_LOG_T MAX_KKT_EPS MAX_ONE_MINUS_BETA MAX_LOG_LOSS MIN_ROWS MIN_SLIDING

The late phase's figures for a finished run, read back with h5py: the last row reached
log t ≥ MIN_LOG_T, ε_KKT ≤ MAX_KKT_EPS, 1 − β ≤ MAX_ONE_MINUS_BETA and log L ≤ MAX_LOG_LOSS;
/trajectory has ≥ MIN_ROWS rows with no NaN and no −inf anywhere; at least MIN_SLIDING pairs
entered Filippov sliding (events with new_sign 0). Exits 1 naming every figure that misses.
"""
import sys

import h5py
import numpy as np


def main(path, min_log_t, max_eps, max_omb, max_log_loss, min_rows, min_sliding):
    failures = []
    with h5py.File(path, "r") as f:
        traj = f["trajectory"]
        rows = traj["log_t"].shape[0]
        last = {name: traj[name][-1] for name in ("log_t", "kkt_eps", "alignment_beta", "log_loss")}
        for name, ds in traj.items():
            a = np.asarray(ds[...], dtype=float)
            if np.isnan(a).any() and name != "sigma":
                failures.append(f"{name} holds NaN")
            if np.isneginf(a).any():
                failures.append(f"{name} holds -inf")
        sliding = int(np.count_nonzero(f["events/new_sign"][...] == 0))
        status = f.attrs["status"]
    checks = [
        (last["log_t"] >= min_log_t, f"log t = {last['log_t']:.2f} (need ≥ {min_log_t})"),
        (last["kkt_eps"] <= max_eps, f"ε_KKT = {last['kkt_eps']:.3e} (need ≤ {max_eps})"),
        (1 - last["alignment_beta"] <= max_omb, f"1-β = {1 - last['alignment_beta']:.3e} (need ≤ {max_omb})"),
        (last["log_loss"] <= max_log_loss, f"log L = {last['log_loss']:.1f} (need ≤ {max_log_loss})"),
        (rows >= min_rows, f"{rows} trajectory rows (need ≥ {min_rows})"),
        (sliding >= min_sliding, f"{sliding} sliding entries (need ≥ {min_sliding})"),
    ]
    for ok, text in checks:
        print(("ok    " if ok else "FAIL  ") + text)
        if not ok:
            failures.append(text)
    print(f"status {status}")
    for text in failures:
        print("FAIL", text)
    return 1 if failures else 0


if __name__ == "__main__":
    a = sys.argv[1:]
    sys.exit(main(a[0], float(a[1]), float(a[2]), float(a[3]), float(a[4]), int(a[5]), int(a[6])))
