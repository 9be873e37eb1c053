"""Panels one model kind needs, computed from the θ snapshots: what each paper's claim is about.

- Frei et al. (fixed outer layer): how far W is from rank 2 and from two families of rows;
  under gradient descent, srank(W(t) − W(0)) against the one-step oracle;
- Lyu et al. (two-layer leaky ReLU): the drift of the conserved a_j² − ‖w_j‖²;
- Le & Jegelka (deep): srank − 1 of every layer and the alignment of adjacent layers, and the
  drift of W_{l+1}ᵀW_{l+1} − W_l W_lᵀ;
- Timor et al. (relu2): the drift of the balancedness ‖w_j‖² − ‖v_j‖², and the stable rank
  against its limit 2/(1 + |cos∡(x1, x2)|);
- Soudry et al. (linear): each sample's margin minus the least one (the support vectors' gap
  closes).

Snapshots at t = 0 (log t = −inf) are left off the log-t axis.
"""
import numpy as np

from .panels import line_style
from .style import PASS_COLOUR, legend, log_axis, log_t_axis, note, positive, short, tolerance_line


def snapshot_series(view):
    """(log t, indices) of the snapshots that lie on the log-t axis (finite log t)."""
    log_t = view.run["snapshot_log_t"].values if "snapshot_log_t" in view.run else np.array([])
    keep = np.flatnonzero(np.isfinite(log_t))
    return log_t[keep], keep


def layer_at(view, name, index):
    return np.asarray(view.run[name].isel(snapshot=int(index)).values, dtype=float)


def stable_rank(matrix):
    sigma = np.linalg.svd(np.atleast_2d(matrix), compute_uv=False)
    return float(np.sum(sigma ** 2) / sigma[0] ** 2) if sigma[0] > 0 else np.nan


def plot_series(ax, x, y, label, colour, style="-", width=1.5):
    ax.plot(x, positive(y), color=colour, linestyle=style, linewidth=width, label=label, **line_style(len(x)))


def finish(ax, view, x, values, title, ylabel, extra=()):
    log_axis(ax, np.concatenate([np.ravel(v) for v in values]) if values else [], extra=[list(extra)])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    log_t_axis(ax, x if len(x) else view.log_t, reference=view.log_t)
    legend(ax, loc="best", fontsize="x-small")


def families_residuals(W, a):
    """(1 − share of ‖W‖_F² in the plane of the two families' mean rows, 1 − share in W's top
    two singular directions): both → 0 at a rank-2, two-family limit."""
    total = np.sum(W ** 2)
    basis, _ = np.linalg.qr(np.stack([W[a > 0].mean(axis=0), W[a < 0].mean(axis=0)], axis=1))
    outside = W - (W @ basis) @ basis.T  # the residual itself: 1 − share in the plane loses it to rounding
    sigma = np.linalg.svd(W, compute_uv=False)
    return float(np.sum(outside ** 2) / total), float(np.sum(sigma[2:] ** 2) / total)


def panel_families(ax, view):
    """Frei et al.: the share of ‖W‖_F² outside the two families' plane and outside rank 2."""
    x, keep = snapshot_series(view)
    a = view.run["a"].values
    residuals = np.array([families_residuals(layer_at(view, "W", i), a) for i in keep]).reshape(-1, 2)
    if residuals.size == 0:
        note(ax, "no snapshots after t = 0")
        return
    plot_series(ax, x, residuals[:, 0], f"outside the families' plane (last {short(residuals[-1, 0])})", "C0")
    plot_series(ax, x, residuals[:, 1], f"(σ3² + σ4² + …)/‖W‖² (last {short(residuals[-1, 1])})", "C3", "--")
    finish(ax, view, x, [residuals], "two families, rank 2 (snapshots)", "share of ‖W‖_F²")


def panel_gd_srank(ax, view):
    """Frei et al.'s gradient-descent figures: srank(W(t)) and srank(W(t) − W(0)) per snapshot,
    against srank(W⁰) ≈ md/(√m + √d)² and the one-step oracle 1 + ((1 − γ)/(1 + γ))²."""
    steps = view.run["step"].values
    points = view.run["snapshot_point"].values
    W0 = layer_at(view, "W", 0)
    at = [i for i in range(1, points.size) if 0 <= points[i] < steps.size]
    x = steps[points[at]]
    ax.plot(np.concatenate([[0], x]), [stable_rank(W0)] + [stable_rank(layer_at(view, "W", i)) for i in at], "o-",
            color="C0", label="srank W(t), W(0) at step 0")
    ax.plot(x, [stable_rank(layer_at(view, "W", i) - W0) for i in at], "s--", color="C3", label="srank (W(t) − W(0))")
    m, d = W0.shape
    gamma = float(view.run.attrs.get("model_gamma", np.nan))
    initial, oracle = m * d / (np.sqrt(m) + np.sqrt(d)) ** 2, 1 + ((1 - gamma) / (1 + gamma)) ** 2
    tolerance_line(ax, initial, "srank W(0) predicted, md/(√m+√d)²", "C0", ":")
    tolerance_line(ax, oracle, "one-step oracle 1 + ((1−γ)/(1+γ))²", "C3", ":")
    log_axis(ax, np.concatenate([line.get_ydata() for line in ax.get_lines()[:2]]), extra=[[initial, oracle]])
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("stable rank")
    ax.set_title("gradient descent: stable rank")
    legend(ax, loc="best", fontsize="x-small")


def panel_conservation(ax, view, claim="lyu2021.conservation"):
    """Lyu et al.: max_j |Δ(a_j² − ‖w_j‖²)| / ‖θ‖² per snapshot (conserved by the flow)."""
    x, keep = snapshot_series(view)
    balance = lambda i: layer_at(view, "a", i) ** 2 - np.sum(layer_at(view, "W", i) ** 2, axis=1)  # noqa: E731
    start = balance(0)
    drift = [np.max(np.abs(balance(i) - start)) / (np.sum(layer_at(view, "a", i) ** 2) +
                                                   np.sum(layer_at(view, "W", i) ** 2)) for i in keep]
    plot_series(ax, x, np.array(drift), f"max_j |Δ(a_j² − ‖w_j‖²)| / ‖θ‖² (last {short(drift[-1]) if drift else '—'})", "C0")
    tolerance = view.claim_tolerance(claim)
    tolerance_line(ax, tolerance, f"{claim} tolerance", "k", ":")
    finish(ax, view, x, [np.array(drift)], "conserved a_j² − ‖w_j‖² (snapshots)", "relative drift", [tolerance or np.nan])


def top_vectors(matrix):
    """(u₁, v₁) of a matrix, or (None, v/‖v‖) of a vector (a 1 × m layer)."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim == 1:
        return None, matrix / np.linalg.norm(matrix)
    u, _, vt = np.linalg.svd(matrix, full_matrices=False)
    return u[:, 0], vt[0]


def panel_layers(ax, view, claims=("le2022.trailing_rank1", "le2022.alignment")):
    """Le & Jegelka: srank − 1 of each matrix layer and 1 − |v_{l+1}ᵀ u_l| of adjacent layers."""
    x, keep = snapshot_series(view)
    names = [str(n) for n in view.run["layer"].values]
    activations = str(view.run.attrs.get("model_activation", "")).split(",")
    series = []
    for l, name in enumerate(names):
        if view.run[name].ndim == 3:
            values = np.array([stable_rank(layer_at(view, name, i)) - 1 for i in keep])
            kind = f", {activations[l]}" if l < len(activations) else ""
            plot_series(ax, x, values, f"srank {name} − 1{kind} (last {short(values[-1]) if values.size else '—'})", f"C{l}")
            series.append(values)
    for l in range(len(names) - 1):
        values = np.array([1 - abs(top_vectors(layer_at(view, names[l + 1], i))[1] @ top_vectors(layer_at(view, names[l], i))[0])
                           for i in keep])
        plot_series(ax, x, values, f"1 − |v({names[l + 1]})ᵀu({names[l]})| (last {short(values[-1]) if values.size else '—'})",
                    f"C{l}", "--")
        series.append(values)
    tolerance = view.claim_tolerance(claims[0]) or view.claim_tolerance(claims[1])
    tolerance_line(ax, tolerance, "le2022 tolerance", "k", ":")
    finish(ax, view, x, series, "layers: rank 1 and alignment (snapshots)", "srank − 1, 1 − |vᵀu|", [tolerance or np.nan])


def panel_invariant(ax, view, claim="le2022.invariant"):
    """Le & Jegelka: ‖Δ(W_{l+1}ᵀW_{l+1} − W_l W_lᵀ)‖_F / ‖θ‖² per adjacent pair (its diagonal
    for a ReLU layer), per snapshot."""
    x, keep = snapshot_series(view)
    names = [str(n) for n in view.run["layer"].values]
    activations = str(view.run.attrs.get("model_activation", "")).split(",")

    def invariant(l, i):
        low, high = np.atleast_2d(layer_at(view, names[l], i)), np.atleast_2d(layer_at(view, names[l + 1], i))
        gap = high.T @ high - low @ low.T
        return np.diag(gap) if l < len(activations) and activations[l] == "relu" else gap

    def total(i):
        return sum(np.sum(layer_at(view, n, i) ** 2) for n in names)

    series = []
    for l in range(len(names) - 1):
        start = invariant(l, 0)
        values = np.array([np.linalg.norm(invariant(l, i) - start) / total(i) for i in keep])
        plot_series(ax, x, values, f"{names[l]}→{names[l + 1]} (last {short(values[-1]) if values.size else '—'})", f"C{l}")
        series.append(values)
    tolerance = view.claim_tolerance(claim)
    tolerance_line(ax, tolerance, f"{claim} tolerance", "k", ":")
    finish(ax, view, x, series, "invariants Wₗ₊₁ᵀWₗ₊₁ − WₗWₗᵀ (snapshots)", "drift of the invariant / ‖θ‖²",
           [tolerance or np.nan])


def panel_balancedness(ax, view, claim="timor2023.balancedness"):
    """Timor et al.: max_j |Δ(‖w_j‖² − ‖v_j‖²)| / ‖θ‖² per snapshot (V's column j is v_j)."""
    x, keep = snapshot_series(view)

    def balance(i):
        return np.sum(layer_at(view, "W", i) ** 2, axis=1) - np.sum(layer_at(view, "V", i) ** 2, axis=0)

    start = balance(0)
    values = np.array([np.max(np.abs(balance(i) - start)) /
                       (np.sum(layer_at(view, "W", i) ** 2) + np.sum(layer_at(view, "V", i) ** 2)) for i in keep])
    plot_series(ax, x, values, f"max_j |Δ(‖w_j‖² − ‖v_j‖²)| / ‖θ‖² (last {short(values[-1]) if values.size else '—'})", "C0")
    tolerance = view.claim_tolerance(claim)
    tolerance_line(ax, tolerance, f"{claim} tolerance", "k", ":")
    finish(ax, view, x, [values], "balancedness ‖w_j‖² − ‖v_j‖² (snapshots)", "relative drift", [tolerance or np.nan])


def panel_relu2_rank(ax, view):
    """Timor et al.: the stable rank of W against the rank-2 limit 2/(1 + |cos∡(x1, x2)|) and the
    rank-1 value 1 that a zero-loss net also attains."""
    srank = view.run["stable_rank"].values
    ax.plot(view.log_t, srank, color="C0", label=f"stable rank of W (last {short(srank[-1])})", **line_style(len(srank)))
    X = view.run["X"].values
    if X.shape[0] >= 2:
        cosine = abs(X[0] @ X[1]) / (np.linalg.norm(X[0]) * np.linalg.norm(X[1]))
        ax.axhline(2 / (1 + cosine), color=PASS_COLOUR, linestyle="--",
                   label=f"rank-2 limit 2/(1+|cos∡(x1,x2)|) = {short(2 / (1 + cosine))}")
    ax.axhline(1.0, color="0.5", linestyle=":", label="rank 1 (a zero-loss net exists there)")
    ax.set_ylabel("stable rank ‖W‖_F² / ‖W‖₂²")
    ax.set_title("rank of W")
    legend(ax, loc="center left")
    log_t_axis(ax, view.log_t)


def panel_support_gaps(ax, view):
    """Soudry et al.: each sample's normalized margin minus the least one, per snapshot; the
    support vectors' gaps close (like 1/log t), the others stay open."""
    x, keep = snapshot_series(view)
    X, y = view.run["X"].values, view.run["y"].values
    name = str(view.run["layer"].values[0])
    margins = np.array([(X @ layer_at(view, name, i)) * y / np.linalg.norm(layer_at(view, name, i)) for i in keep])
    if margins.size == 0:
        note(ax, "no snapshots after t = 0")
        return
    gaps = margins - margins.min(axis=1, keepdims=True)
    support = gaps[-1] <= 1e-2 * max(gaps[-1].max(), 1e-300)
    for i in range(gaps.shape[1]):
        ax.plot(x, positive(gaps[:, i]), color="C3" if support[i] else "0.6", linewidth=1.4 if support[i] else 0.8,
                **line_style(len(x)))
    exact = int(np.sum(support & np.all(gaps == 0, axis=0)))  # tied with the least margin throughout: off a log axis
    tied = f"; {exact} at 0, off the axis" if exact else ""
    ax.plot([], [], color="C3", label=f"support vectors: the gap closes ({int(support.sum())}{tied})")
    ax.plot([], [], color="0.6", label=f"other samples ({int((~support).sum())})")
    finish(ax, view, x, [gaps], "margin gaps (snapshots)", "y_i⟨w, x_i⟩/‖w‖ − min_k y_k⟨w, x_k⟩/‖w‖")
