"""`python -m kktflow.plot FILE -o FIG.png [--snapshots]`: what `kktflow plot` runs.

FILE is a run file (the figure of its model kind; with --snapshots the first layer's rows in the
model's plane) or a sweep's index.h5 (or its directory). Exit codes are kktflow's: 0 ok, 2 usage,
3 the file cannot be read or the PNG cannot be written, 4 a Python module is missing.
"""
import argparse
import importlib.util
import os
import sys

EXIT_OK, EXIT_USAGE, EXIT_IO, EXIT_MISSING = 0, 2, 3, 4
NEEDED = ("numpy", "h5py", "matplotlib", "xarray", "pandas")
INSTALL = "apt-get install python3-matplotlib python3-h5py python3-xarray python3-pandas"


class UsageError(ValueError):
    """Arguments that do not fit the file (exit 2, as argparse's own errors)."""


def missing_module():
    """The first module the plots need that this Python lacks, or None."""
    return next((name for name in NEEDED if importlib.util.find_spec(name) is None), None)


def parse(argv):
    parser = argparse.ArgumentParser(prog="kktflow plot", description=__doc__.split("\n")[0])
    parser.add_argument("file", help="run file written by kktflow run, or a sweep's index.h5 or directory")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--snapshots", action="store_true", help="the first layer's rows in the model's plane")
    return parser.parse_args(argv)


def is_sweep(path):
    """Whether `path` is a sweep index (or a directory holding one), by its format attribute."""
    import h5py

    from .._hdf5 import text
    from ..sweep import index_path

    with h5py.File(index_path(path), "r", swmr=True) as f:
        return text(f.attrs.get("format", "")) == "kktflow-sweep"


def figure_of(args):
    """The matplotlib Figure the arguments ask for."""
    from . import plot_run, plot_snapshots, plot_sweep

    if is_sweep(args.file):
        if args.snapshots:
            raise UsageError("--snapshots applies to a run file, not to a sweep index")
        return plot_sweep(args.file)
    from ..runfile import open_run

    with open_run(args.file) as run:
        return (plot_snapshots if args.snapshots else plot_run)(run, args.file)


def main(argv=None):
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    missing = missing_module()
    if missing is not None:
        print(f"kktflow plot: {sys.executable} lacks the module '{missing}'; install it: {INSTALL}", file=sys.stderr)
        return EXIT_MISSING
    import matplotlib

    matplotlib.use("Agg")
    if not os.path.exists(args.file):
        print(f"kktflow plot: {args.file}: no such file or directory", file=sys.stderr)
        return EXIT_IO
    try:
        fig = figure_of(args)
    except UsageError as error:
        print(f"kktflow plot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, KeyError, ValueError) as error:
        print(f"kktflow plot: {args.file}: {error}", file=sys.stderr)
        return EXIT_IO
    try:
        fig.savefig(args.output)
    except (OSError, ValueError) as error:
        print(f"kktflow plot: cannot write {args.output}: {error}", file=sys.stderr)
        return EXIT_IO
    width, height = (round(v) for v in fig.get_size_inches() * fig.dpi)
    print(f"{args.output}: {width} × {height} px")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
