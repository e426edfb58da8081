"""Python source that rebuilds an estimator: its imports and its constructor call.

The command line's ``--code`` prints it for the winning strategy, so that the
model a comparison chose can be rebuilt, read and changed as ordinary code.
Only parameters that differ from their defaults are written; every class is
imported from the shortest public module that exports it (``from skfusion
import StackingLateFusion``, not ``skfusion.late._stacking``).
"""

import importlib
import inspect

import numpy as np

__all__ = ["estimator_code"]

_WIDTH = 88


def estimator_code(estimator, name="model"):
    """``"from ... import ...\\n\\n<name> = <constructor call>"`` for ``estimator``."""
    imports = {}
    expression = _expression(estimator, imports, indent=0)
    lines = [
        f"from {module} import {', '.join(sorted(names))}"
        if module != "numpy"
        else "import numpy as np"
        for module, names in sorted(imports.items())
    ]
    return "\n".join([*lines, "", f"{name} = {expression}"])


def _expression(value, imports, indent):
    if isinstance(value, type):
        return _import(value, imports)
    if hasattr(value, "get_params"):
        return _call(value, value.get_params(deep=False), imports, indent)
    if isinstance(value, dict):
        items = [f"{_expression(k, imports, indent + 4)}: {_expression(v, imports, indent + 4)}"
                 for k, v in value.items()]
        return _wrap("{", items, "}", indent)
    if _is_int_run(value):  # a modality's columns: list(range(76, 292))
        return f"list(range({value[0]}, {value[-1] + 1}))"
    if isinstance(value, (list, tuple)) and all(_is_scalar(item) for item in value):
        return _fill("[" if isinstance(value, list) else "(", [repr(_plain(v)) for v in value],
                     "]" if isinstance(value, list) else ("," if len(value) == 1 else "") + ")",
                     indent)
    if isinstance(value, (list, tuple)):
        items = [_expression(item, imports, indent + 4) for item in value]
        if isinstance(value, tuple):
            return _wrap("(", items + ([""] if len(items) == 1 else []), ")", indent)
        return _wrap("[", items, "]", indent)
    if isinstance(value, np.ndarray):
        imports.setdefault("numpy", set())
        return f"np.array({value.tolist()!r})"
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, (str, int, float, bool, type(None), slice)):
        return repr(value)
    attributes = _constructor_attributes(value)
    if attributes is not None:  # a small value object, e.g. a ModalityPlan
        return _call(value, attributes, imports, indent)
    return repr(value)


def _is_scalar(value):
    return isinstance(value, (str, int, float, bool, type(None), np.generic))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _is_int_run(value):
    """A list of at least three consecutive ints (and no bool)."""
    if not isinstance(value, list) or len(value) < 3:
        return False
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return False
    return all(int(b) - int(a) == 1 for a, b in zip(value, value[1:]))


def _fill(opening, items, closing, indent):
    """Scalars several to a line, wrapped at the width."""
    line = opening + ", ".join(items) + closing
    if len(line) + indent <= _WIDTH:
        return line
    pad = " " * (indent + 4)
    lines, current = [], pad
    for item in items:
        if len(current) + len(item) + 2 > _WIDTH and current.strip():
            lines.append(current.rstrip())
            current = pad
        current += item + ", "
    lines.append(current.rstrip())
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing


def _call(value, params, imports, indent):
    """``Class(param=..., ...)`` with the parameters that differ from the defaults."""
    cls = type(value)
    signature = inspect.signature(cls.__init__)
    arguments = []
    for key, param in params.items():
        default = signature.parameters[key].default if key in signature.parameters else None
        if default is not inspect.Parameter.empty and _same(param, default):
            continue
        arguments.append(f"{key}={_expression(param, imports, indent + 4)}")
    return _wrap(f"{_import(cls, imports)}(", arguments, ")", indent)


def _constructor_attributes(value):
    """The constructor's arguments of ``value`` when each one is an attribute of it."""
    try:
        names = [n for n in inspect.signature(type(value).__init__).parameters if n != "self"]
    except (TypeError, ValueError):
        return None
    if not names or not all(hasattr(value, n) for n in names):
        return None
    return {name: getattr(value, name) for name in names}


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays, estimators: compare by what they print
        return repr(a) == repr(b)


def _wrap(opening, items, closing, indent):
    """The items on one line if they fit, else one per line."""
    line = opening + ", ".join(items) + closing
    if len(line) + indent <= _WIDTH and "\n" not in line:
        return line.replace(", )", ",)")
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{item},\n" for item in items if item)
    return f"{opening}\n{body}{' ' * indent}{closing}"


def _import(cls, imports):
    module = _public_module(cls)
    imports.setdefault(module, set()).add(cls.__name__)
    return cls.__name__


def _public_module(cls):
    """The shortest module without a private part that exports ``cls``."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        candidate = parts[:end]
        if any(part.startswith("_") for part in candidate):
            break
        try:
            module = importlib.import_module(".".join(candidate))
        except ImportError:
            continue
        if getattr(module, cls.__name__, None) is cls:
            return module.__name__
    return cls.__module__
