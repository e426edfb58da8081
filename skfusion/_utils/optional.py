"""Imports of optional dependencies, with one error message naming the extra."""

import importlib

__all__ = ["import_optional"]


def import_optional(name, *, needed_by, extra):
    """Import module ``name``, or raise an ImportError saying which extra installs it.

    Parameters
    ----------
    name : str
        The module to import, e.g. ``"skops.io"``.
    needed_by : str
        What needs it, as the error should name it, e.g. ``"skfusion.persistence"``.
    extra : str
        The skfusion extra that installs it, e.g. ``"skops"``.

    Returns
    -------
    module : module
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{needed_by} needs {name.split('.')[0]}, which is not installed: "
            f'pip install "skfusion[{extra}]"'
        ) from exc
