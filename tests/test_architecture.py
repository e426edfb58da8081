"""The package's layout, as docs/contributing/architecture.rst describes it.

Every module of skfusion sits on a floor; a module may import only modules on
its own floor or below (arrows point down), and the packages never import each
other in a circle. A new module must be given a floor here (and on the
architecture page), which is the moment to decide where it belongs.
"""

import ast
import inspect
from pathlib import Path

import pytest

import skfusion

PACKAGE = Path(skfusion.__file__).parent

#: Floor of each top-level module or subpackage of skfusion.
FLOORS = {
    # floor 1: what every floor shares
    "_modalities": 1,
    "_fit_context": 1,
    "_warnings": 1,
    "exceptions": 1,
    "metrics": 1,
    "_utils": 1,
    # floor 2: one package per strategy, and the data sets
    "early": 2,
    "late": 2,
    "align": 2,
    "cooperative": 2,
    "nn": 2,
    "datasets": 2,
    "__init__": 2,  # the facade re-exports the strategies' estimators
    # floor 3: from a raw table to modalities
    "tables": 3,
    # floor 4: the tools
    "inspection": 4,
    "model_selection": 4,
    "persistence": 4,
    # floor 5: the command line
    "cli": 5,
    "__main__": 5,
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts


def _unit(parts):
    """The top-level module or subpackage a module belongs to."""
    return parts[0]


def _resolve(parts, node):
    """Absolute dotted skfusion names imported by an ``import``/``from`` node, or []."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "skfusion"]
    if node.level == 0:
        base = node.module or ""
        return [base] if base.split(".")[0] == "skfusion" else []
    package = ["skfusion", *parts[:-1]]
    anchor = package[: len(package) - (node.level - 1)]
    base = ".".join(anchor + ([node.module] if node.module else []))
    if node.module is not None:
        return [base]
    # `from . import x`: x is a module (or subpackage), or a name of the package itself
    folder = PACKAGE.joinpath(*base.split(".")[1:])
    return [
        f"{base}.{alias.name}"
        if (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()
        else base
        for alias in node.names
    ]


def _imports():
    """(importing unit, imported unit, file, line) for every import inside skfusion."""
    edges = []
    for path, parts in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _resolve(parts, node):
                    target = name.split(".")[1:] or ["__init__"]
                    edges.append((_unit(parts), target[0], path.relative_to(PACKAGE), node.lineno))
    return edges


def test_every_module_has_a_floor():
    units = {_unit(parts) for _, parts in _modules()}
    assert units <= set(FLOORS), f"give these a floor: {sorted(units - set(FLOORS))}"


@pytest.mark.parametrize("edge", _imports(), ids=lambda e: f"{e[2]}:{e[3]}->{e[1]}")
def test_imports_point_down(edge):
    source, target, path, line = edge
    assert FLOORS[target] <= FLOORS[source], (
        f"{path}:{line} ({source}, floor {FLOORS[source]}) imports {target} "
        f"(floor {FLOORS[target]})"
    )


def test_no_import_circle_between_packages():
    graph = {}
    for source, target, _, _ in _imports():
        if source != target:
            graph.setdefault(source, set()).add(target)

    def visit(unit, path):
        if unit in path:
            cycle = path[path.index(unit) :] + [unit]
            pytest.fail(f"import circle: {' -> '.join(cycle)}")
        for nxt in sorted(graph.get(unit, ())):
            visit(nxt, path + [unit])

    for unit in sorted(graph):
        visit(unit, [])


def test_the_package_root_holds_at_most_eight_modules():
    root = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root) <= 8, root


ESTIMATORS_FIRST_POSITIONAL = {"modalities", "estimators"}


def _public_estimators():
    import skfusion.nn as nn

    names = [getattr(skfusion, name) for name in skfusion.__all__]
    names += [getattr(nn, name) for name in nn.__all__]
    return [obj for obj in names if inspect.isclass(obj) and hasattr(obj, "fit")]


@pytest.mark.parametrize("estimator", _public_estimators(), ids=lambda cls: cls.__name__)
def test_parameters_after_modalities_are_keyword_only(estimator):
    parameters = list(inspect.signature(estimator.__init__).parameters.values())[1:]
    positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert set(positional) <= ESTIMATORS_FIRST_POSITIONAL, positional
    assert positional[-1] == "modalities"


@pytest.mark.parametrize("estimator", _public_estimators(), ids=lambda cls: cls.__name__)
def test_fusion_estimators_answer_the_modality_protocol(estimator):
    # The tools (inspection, model selection) ask these, never the class.
    for method in ("_restricted_to_modalities", "_predicts_with_masked_modalities"):
        assert callable(getattr(estimator, method, None)), method
