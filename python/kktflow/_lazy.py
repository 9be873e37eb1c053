"""Names a package imports on first use, so that importing it needs none of the heavy modules
(matplotlib, xarray) and a missing one is reported where it is needed."""
import importlib
import sys


def lazy_names(package, where, names):
    """The package's module-level `__getattr__` and `__dir__`: `where` maps each name of
    `names` to the submodule that defines it."""
    module = sys.modules[package]

    def __getattr__(name):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{where[name]}", package), name)
        setattr(module, name, value)
        return value

    def __dir__():
        return sorted(set(vars(module)) | set(names))

    return __getattr__, __dir__
