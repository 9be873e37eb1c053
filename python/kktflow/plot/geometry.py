"""The first layer's rows (or the linear model's w) in a plane, at one snapshot.

The plane is the one the model's theory singles out: for the Frei net the plane of the two
families' mean rows (a_j > 0 and a_j < 0), where a rank-2 limit lies entirely; for data in R²
the input plane itself, with the data drawn; otherwise the plane of W's top two right singular
vectors (for a single vector w, w's direction and the data's main direction across it). Rows are
drawn as arrows from the origin, coloured by the sign of their outer weight where the model has
one.
"""
import numpy as np

from .style import legend, note, short


def orthonormal(columns):
    q, _ = np.linalg.qr(np.stack(columns, axis=1))
    return q


def outer_signs(run, index):
    """The sign of each row's outer weight (fixed a, or the trained a at this snapshot), or None."""
    if "a" not in run:
        return None
    a = run["a"].isel(snapshot=index).values if "snapshot" in run["a"].dims else run["a"].values
    return np.sign(a)


def plane_of(run, rows, signs):
    """(basis d × 2, name of the plane)."""
    d = rows.shape[1]
    if d == 2:
        return np.eye(2), "the input plane"
    if run.attrs.get("model_kind") == "leaky2_fixed_outer" and signs is not None:
        return orthonormal([rows[signs > 0].mean(axis=0), rows[signs < 0].mean(axis=0)]), \
            "the two families' plane"
    if rows.shape[0] == 1:
        w = rows[0] / np.linalg.norm(rows[0])
        X = run["X"].values
        across = X - np.outer(X @ w, w)
        _, _, vt = np.linalg.svd(across, full_matrices=False)
        return orthonormal([w, vt[0]]), "the plane of w and the data's\nmain direction ⊥ w"
    _, _, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[:2].T, "its top two singular directions"


def draw_rows(ax, flat, signs):
    """Arrows from the origin to each projected row; colour by outer sign."""
    colours = np.where(signs > 0, "C0", "C3") if signs is not None else np.array(["C2"] * len(flat))
    for (x, y), colour in zip(flat, colours):
        ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.2, "alpha": 0.8})
    if signs is not None:
        ax.plot([], [], color="C0", label=f"rows with a_j > 0 ({int(np.sum(signs > 0))})")
        ax.plot([], [], color="C3", label=f"rows with a_j < 0 ({int(np.sum(signs < 0))})")
    else:
        ax.plot([], [], color="C2", label="w" if len(flat) == 1 else f"rows ({len(flat)})")


NUMBERED_SAMPLES = 10  # at most this many samples: each is labelled x1, x2, …


def draw_data(ax, run, basis):
    """The data projected onto the plane, scaled so that the longest has length 1, marked + and −
    by label (the sign of y's first entry for vector labels); small sets numbered by sample."""
    X, y = run["X"].values, run["y"].values
    y = y if y.ndim == 1 else y[:, 0] - y[:, 1:].max(axis=1)
    flat = X @ basis
    flat = flat / max(np.linalg.norm(flat, axis=1).max(), 1e-300)
    if len(flat) <= NUMBERED_SAMPLES:
        for i, (a, b) in enumerate(flat):
            ax.annotate(f"x{i + 1}", (a, b), textcoords="offset points", xytext=(6, 4), fontsize="small")
    for label, marker in ((1, "+"), (-1, "_")):
        chosen = flat[y * label > 0]
        ax.scatter(chosen[:, 0], chosen[:, 1], marker=marker, s=80, color="k", linewidths=1.5,
                   label=f"data, y = {label:+d} (the longest scaled to 1)")


def panel_geometry(ax, run, index=-1):
    """Rows of the first layer at snapshot `index`, projected onto the model's plane and scaled
    by the longest projection; returns the share of ‖W‖_F² outside the plane."""
    name = str(run["layer"].values[0])
    if run.sizes.get("snapshot", 0) == 0:
        note(ax, "the run file holds no snapshot of θ")
        return np.nan
    rows = np.atleast_2d(np.asarray(run[name].isel(snapshot=index).values, dtype=float))
    signs = outer_signs(run, index)
    basis, plane = plane_of(run, rows, signs)
    flat = rows @ basis
    outside = float(np.sum((rows - flat @ basis.T) ** 2) / np.sum(rows ** 2))
    reach = max(np.linalg.norm(flat, axis=1).max(), 1e-300)
    flat = flat / reach
    draw_rows(ax, flat, signs if signs is not None and signs.size == len(flat) else None)
    reach = 1.0
    if rows.shape[1] == 2 or rows.shape[0] == 1:
        draw_data(ax, run, basis)
    if rows.shape[0] == 1:
        w = flat[0] / np.linalg.norm(flat[0])
        ax.plot([-w[1] * reach, w[1] * reach], [w[0] * reach, -w[0] * reach], color="0.4", linestyle="--",
                label="decision boundary ⟨w, x⟩ = 0")
    ax.set_xlim(-1.15 * reach, 1.15 * reach)
    ax.set_ylim(-1.15 * reach, 1.15 * reach)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", linewidth=0.8)
    ax.axvline(0, color="0.85", linewidth=0.8)
    log_t = run["snapshot_log_t"].values[index]
    ax.set_title(f"{name} at log t = {short(float(log_t))}, in {plane}\nshare of ‖{name}‖² outside the plane: {short(outside)}",
                 fontsize="small")
    ax.set_xlabel("first basis direction (unit: the longest row)")
    ax.set_ylabel("second basis direction")
    legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="x-small")
    return outside
