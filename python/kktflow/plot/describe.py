"""The words on a run figure: what was run (kind, paper, sizes, loss) and how it ended."""
import os

PAPERS = {
    "leaky2_fixed_outer": "Frei et al. 2023",
    "two_layer_leaky": "Lyu et al. 2021",
    "deep": "Le & Jegelka 2022",
    "relu2": "Timor et al. 2023",
    "linear": "Soudry et al. 2018",
}


def number(attrs, key):
    value = attrs.get(key)
    return None if value is None else float(value)


def model_words(run):
    """The model's defining sizes and constants, as its kind states them."""
    attrs = run.attrs
    kind = attrs.get("model_kind", "?")
    n, d = run.sizes.get("sample", 0), run.sizes.get("input", 0)
    words = [f"{kind} ({PAPERS[kind]})" if kind in PAPERS else kind, f"n × d = {n} × {d}"]
    if kind == "leaky2_fixed_outer":
        words += [f"m = {int(number(attrs, 'model_width'))}", f"γ = {number(attrs, 'model_gamma'):g}"]
    elif kind == "two_layer_leaky":
        words += [f"m = {int(number(attrs, 'model_width'))}", f"α = {number(attrs, 'model_alpha'):g}"]
    elif kind == "deep":
        words += [f"layers {attrs.get('model_activation', '?').replace(',', ', ')}",
                  f"width {int(number(attrs, 'model_width'))}"]
    elif kind == "relu2":
        words += [f"m = {int(number(attrs, 'model_width'))}", f"{int(number(attrs, 'model_outputs'))} outputs"]
    words.append(f"{attrs.get('model_loss', '?')} loss")
    if attrs.get("model_stepper", "").startswith("gd"):
        words.append("gradient descent")
    return ", ".join(words)


def ending_words(run):
    """How the run ended: its status and the last log t."""
    status = run.attrs.get("status", "?")
    log_t = run["log_t"].values
    where = f" at log t = {log_t[-1]:.3g}" if log_t.size else ""
    return f"{status}{where} after {int(run['step'].values[-1]) if log_t.size else 0} steps"


def title(run, path):
    """Two lines: the file's name (not its directory) and the model, then how the run ended."""
    name = os.path.basename(str(path)) if path else "run"
    return f"{name}: {model_words(run)}\n{ending_words(run)}"
