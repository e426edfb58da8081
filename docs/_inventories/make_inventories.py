"""Write the intersphinx inventories of scikit-learn and skorch that the docs use.

The documentation links into scikit-learn's and skorch's documentation with
intersphinx, but the machines that build it reach package registries only, so
they cannot download ``objects.inv`` from either site. The two inventories in
this folder stand in for them: this script writes them from the installed
packages, in Sphinx's inventory format (version 2), with the addresses the two
sites give each object:

- ``sklearn-objects.inv``: every public module of scikit-learn, every name in
  their ``__all__`` (``modules/generated/<module>.<name>.html``) and the public
  methods of each class (anchors on the class's page, inherited methods
  included, as scikit-learn's class pages list them), plus a few user-guide
  sections and glossary terms;
- ``skorch-objects.inv``: the modules of skorch's API reference
  (``<module>.html``), the names each exports and their methods, the
  top-level aliases (``skorch.NeuralNetClassifier`` and so on) and the
  pages of skorch's user guide.

Run it from the repository root after upgrading scikit-learn or skorch, and
commit the two files::

    python docs/_inventories/make_inventories.py

The inventories are not complete copies of the official ones (no attributes,
no private names, a handful of labels); a reference they miss renders as plain
code, as before. ``tests/test_docs_links.py`` checks that every scikit-learn
and skorch object the docs reference is listed.
"""

import importlib
import inspect
import pkgutil
import warnings
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

SKLEARN_URL = "https://scikit-learn.org/stable/"
SKORCH_URL = "https://skorch.readthedocs.io/en/stable/"

# (name, role, path) of the scikit-learn user-guide sections and glossary terms
# the docs may point to; their labels are those of scikit-learn's sources.
SKLEARN_LABELS = [
    ("glossary", "std:label", "glossary.html#glossary", "Glossary of Common Terms and API Elements"),
    ("user_guide", "std:label", "user_guide.html#user-guide", "User Guide"),
    ("combining_estimators", "std:label", "modules/compose.html#combining-estimators",
     "Pipelines and composite estimators"),
    ("pipeline", "std:label", "modules/compose.html#pipeline", "Pipeline: chaining estimators"),
    ("column_transformer", "std:label", "modules/compose.html#column-transformer",
     "ColumnTransformer for heterogeneous data"),
    ("cross_validation", "std:label", "modules/cross_validation.html#cross-validation",
     "Cross-validation: evaluating estimator performance"),
    ("grid_search", "std:label", "modules/grid_search.html#grid-search",
     "Tuning the hyper-parameters of an estimator"),
    ("stacking", "std:label", "modules/ensemble.html#stacking", "Stacked generalization"),
    ("voting_classifier", "std:label", "modules/ensemble.html#voting-classifier", "Voting Classifier"),
    ("model_persistence", "std:label", "model_persistence.html#model-persistence", "Model persistence"),
    ("develop", "std:label", "developers/develop.html#develop", "Developing scikit-learn estimators"),
    ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing", "Metadata Routing"),
    ("array-like", "std:term", "glossary.html#term-array-like", "array-like"),
    ("estimator", "std:term", "glossary.html#term-estimator", "estimator"),
    ("estimators", "std:term", "glossary.html#term-estimators", "estimators"),
    ("transformer", "std:term", "glossary.html#term-transformer", "transformer"),
    ("meta-estimator", "std:term", "glossary.html#term-meta-estimator", "meta-estimator"),
    ("random_state", "std:term", "glossary.html#term-random_state", "random_state"),
    ("n_jobs", "std:term", "glossary.html#term-n_jobs", "n_jobs"),
    ("cv", "std:term", "glossary.html#term-cv", "cv"),
]

# skorch's API reference: one page per module (docs/<module>.rst, automodule).
SKORCH_MODULES = [
    "callbacks", "classifier", "dataset", "exceptions", "helper", "history", "net",
    "probabilistic", "regressor", "scoring", "toy", "utils",
]
SKORCH_ALIASES = {
    "skorch.NeuralNet": "skorch.net.NeuralNet",
    "skorch.NeuralNetClassifier": "skorch.classifier.NeuralNetClassifier",
    "skorch.NeuralNetBinaryClassifier": "skorch.classifier.NeuralNetBinaryClassifier",
    "skorch.NeuralNetRegressor": "skorch.regressor.NeuralNetRegressor",
}
SKORCH_PAGES = [
    ("user/installation", "Installation"),
    ("user/quickstart", "Quickstart"),
    ("user/neuralnet", "NeuralNet"),
    ("user/callbacks", "Callbacks"),
    ("user/dataset", "Dataset"),
    ("user/save_load", "Saving and Loading"),
    ("user/history", "History"),
    ("user/helper", "Helper"),
    ("user/parallelism", "Parallelism"),
    ("user/performance", "Performance"),
    ("user/customization", "Customization"),
    ("user/FAQ", "FAQ"),
]


def _role(obj):
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return None


def _methods(cls):
    """Public methods of ``cls``, inherited ones included, sorted by name."""
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        try:
            attribute = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(attribute, (staticmethod, classmethod)) or inspect.isfunction(attribute):
            names.append(name)
    return sorted(names)


def _write(path, project, version, entries):
    """Write ``entries`` ``(name, role, uri, display)`` as a version-2 inventory."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, role, uri, display in sorted(set(entries)):
        if uri.endswith("#" + name):
            uri = uri[: -len(name)] + "$"
        lines.append(f"{name} {role} 1 {uri} {display if display != name else '-'}\n")
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode(), 9))
    print(f"{path.relative_to(HERE.parents[1])}: {len(lines)} entries ({project} {version})")


def sklearn_entries():
    import sklearn

    entries = []
    modules = ["sklearn"] + [
        info.name
        for info in pkgutil.walk_packages(sklearn.__path__, prefix="sklearn.")
        if not any(part.startswith("_") or part in {"tests", "externals"} for part in info.name.split("."))
    ]
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional dependency of a corner of scikit-learn
            continue
        exported = getattr(module, "__all__", None)
        if exported is None:  # e.g. sklearn.base: its public names from scikit-learn
            exported = [
                name for name, obj in vars(module).items()
                if not name.startswith("_")
                and (getattr(obj, "__module__", None) or "").startswith("sklearn.")
            ]
        if module_name != "sklearn":
            entries.append((module_name, "py:module", f"api/{module_name}.html#module-{module_name}", "-"))
        for name in exported:
            obj = getattr(module, name, None)
            role = _role(obj)
            if role is None or name.startswith("_"):
                continue
            full = f"{module_name}.{name}"
            page = f"modules/generated/{full}.html"
            entries.append((full, role, f"{page}#{full}", "-"))
            if inspect.isclass(obj):
                for method in _methods(obj):
                    entries.append((f"{full}.{method}", "py:method", f"{page}#{full}.{method}", "-"))
    entries += SKLEARN_LABELS
    _write(HERE / "sklearn-objects.inv", "scikit-learn", sklearn.__version__, entries)


def skorch_entries():
    import skorch

    entries = []
    targets = {}
    for short in SKORCH_MODULES:
        module_name = f"skorch.{short}"
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # skorch.probabilistic needs gpytorch
            print(f"skipped {module_name}: it cannot be imported here")
            continue
        page = f"{short}.html"
        entries.append((module_name, "py:module", f"{page}#module-{module_name}", "-"))
        exported = getattr(module, "__all__", None) or [
            name for name, obj in vars(module).items()
            if not name.startswith("_") and getattr(obj, "__module__", None) == module_name
        ]
        for name in exported:
            obj = getattr(module, name, None)
            role = _role(obj)
            if role is None:
                continue
            full = f"{module_name}.{name}"
            targets[full] = (role, page, obj)
            entries.append((full, role, f"{page}#{full}", "-"))
            if inspect.isclass(obj):
                # skorch documents the methods a class defines itself
                for method in sorted(vars(obj)):
                    if not method.startswith("_") and callable(getattr(obj, method, None)):
                        entries.append((f"{full}.{method}", "py:method", f"{page}#{full}.{method}", "-"))
    for alias, full in SKORCH_ALIASES.items():
        role, page, _ = targets[full]
        entries.append((alias, role, f"{page}#{full}", "-"))
    for doc, title in SKORCH_PAGES:
        entries.append((doc, "std:doc", f"{doc}.html", title))
    _write(HERE / "skorch-objects.inv", "skorch", skorch.__version__, entries)


if __name__ == "__main__":
    # importing every module of scikit-learn warns about its deprecated corners
    warnings.simplefilter("ignore")
    sklearn_entries()
    skorch_entries()
