"""The documentation's copy buttons, links into scikit-learn's and skorch's docs, and figures.

Fast checks on the sources; ``tests/test_docs.py::test_docs_build`` checks the
built pages (a copy button, links to scikit-learn.org and skorch's site, a
figure on every user-guide page on a strategy) in its one build.

- ``docs/conf.py`` loads sphinx-copybutton and intersphinx with the local
  inventories (``docs/_inventories``: the build cannot download them), and the
  ``docs`` extra installs sphinx-copybutton.
- The inventories list the scikit-learn and skorch objects at the addresses of
  their sites, and every such object the docs, the examples or the docstrings
  reference (``:class:`~sklearn.pipeline.Pipeline```) is in them: a reference
  missing from them would silently render as plain code.
- Every image a user-guide page shows comes from a gallery example that exists.
"""

import ast
import importlib
import re
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INVENTORIES = DOCS / "_inventories"

# user-guide pages on a strategy, and the raw-table page: each shows a figure
STRATEGY_PAGES = [
    "early_fusion", "late_fusion", "intermediate_fusion", "alignment",
    "missing_modalities", "choosing", "tables",
]


def _conf_assignments():
    """``{name: value}`` of the literal top-level assignments of docs/conf.py.

    Parsed, not executed: executing conf.py deletes the generated API stubs.
    """
    values = {}
    for node in ast.parse((DOCS / "conf.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return values


def _load_inventory(path):
    """``{(role, name): absolute uri}`` of a Sphinx version-2 inventory."""
    data = path.read_bytes()
    lines = data.split(b"\n", 4)
    assert lines[0] == b"# Sphinx inventory version 2"
    assert b"zlib" in lines[3]
    entries = {}
    for line in zlib.decompress(lines[4]).decode().splitlines():
        match = re.match(r"(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S*)\s+(.*)", line)
        assert match, line
        name, role, _, uri, _ = match.groups()
        if uri.endswith("$"):
            uri = uri[:-1] + name
        entries[(role, name)] = uri
    return entries


@pytest.fixture(scope="module")
def inventories():
    conf = _conf_assignments()
    loaded = {}
    for key, (base, location) in conf["intersphinx_mapping"].items():
        assert not location.startswith("http"), "the build cannot download inventories"
        loaded[key] = (base, _load_inventory(DOCS / location))
    return loaded


def test_conf_loads_copybutton_and_local_inventories():
    conf = _conf_assignments()
    assert "sphinx_copybutton" in conf["extensions"]
    assert "sphinx.ext.intersphinx" in conf["extensions"]
    mapping = conf["intersphinx_mapping"]
    assert mapping["sklearn"] == ("https://scikit-learn.org/stable/", "_inventories/sklearn-objects.inv")
    assert mapping["skorch"][0] == "https://skorch.readthedocs.io/en/stable/"
    for _, location in mapping.values():
        assert (DOCS / location).is_file(), location
    # prompts and output are left out of what the button copies
    assert conf["copybutton_prompt_is_regexp"] is True
    assert re.match(conf["copybutton_prompt_text"], ">>> ")
    assert re.match(conf["copybutton_prompt_text"], "... ")


def test_numpydoc_aliases_to_skfusion_name_public_objects():
    for alias, target in _conf_assignments()["numpydoc_xref_aliases"].items():
        if target.startswith("skfusion."):
            module, _, name = target.rpartition(".")
            assert hasattr(importlib.import_module(module), name), f"{alias}: no {target}"


def test_docs_extra_installs_copybutton():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert any(req.startswith("sphinx-copybutton") for req in extras["docs"])
    assert any("docs" in req for req in extras["all"])


@pytest.mark.parametrize(
    "key, role, name, uri",
    [
        ("sklearn", "py:class", "sklearn.pipeline.Pipeline",
         ("https://scikit-learn.org/stable/modules/generated/sklearn.pipeline.Pipeline.html"
          "#sklearn.pipeline.Pipeline")),
        ("sklearn", "py:class", "sklearn.model_selection.GridSearchCV",
         ("https://scikit-learn.org/stable/modules/generated/sklearn.model_selection.GridSearchCV.html"
          "#sklearn.model_selection.GridSearchCV")),
        ("sklearn", "py:function", "sklearn.model_selection.cross_validate",
         ("https://scikit-learn.org/stable/modules/generated/sklearn.model_selection.cross_validate.html"
          "#sklearn.model_selection.cross_validate")),
        ("sklearn", "py:class", "sklearn.base.BaseEstimator", None),
        ("sklearn", "py:class", "sklearn.ensemble.StackingClassifier", None),
        ("sklearn", "py:class", "sklearn.ensemble.VotingClassifier", None),
        ("sklearn", "py:class", "sklearn.linear_model.LogisticRegression", None),
        ("sklearn", "py:class", "sklearn.preprocessing.StandardScaler", None),
        ("sklearn", "py:class", "sklearn.compose.ColumnTransformer", None),
        ("sklearn", "py:function", "sklearn.utils.estimator_checks.check_estimator", None),
        ("sklearn", "py:function", "sklearn.utils.estimator_checks.parametrize_with_checks", None),
        ("sklearn", "py:method", "sklearn.pipeline.Pipeline.set_output",
         ("https://scikit-learn.org/stable/modules/generated/sklearn.pipeline.Pipeline.html"
          "#sklearn.pipeline.Pipeline.set_output")),
        ("sklearn", "py:module", "sklearn.pipeline",
         "https://scikit-learn.org/stable/api/sklearn.pipeline.html#module-sklearn.pipeline"),
        ("sklearn", "std:term", "estimator", "https://scikit-learn.org/stable/glossary.html#term-estimator"),
        ("skorch", "py:class", "skorch.NeuralNetClassifier",
         "https://skorch.readthedocs.io/en/stable/classifier.html#skorch.classifier.NeuralNetClassifier"),
        ("skorch", "py:class", "skorch.net.NeuralNet",
         "https://skorch.readthedocs.io/en/stable/net.html#skorch.net.NeuralNet"),
        ("skorch", "py:class", "skorch.callbacks.EarlyStopping",
         "https://skorch.readthedocs.io/en/stable/callbacks.html#skorch.callbacks.EarlyStopping"),
        ("skorch", "std:doc", "user/neuralnet", "https://skorch.readthedocs.io/en/stable/user/neuralnet.html"),
    ],
)
def test_inventory_lists_object_at_its_address(inventories, key, role, name, uri):
    base, entries = inventories[key]
    assert (role, name) in entries, f"{name} ({role}) missing from the {key} inventory"
    expected = uri or (
        f"{base}modules/generated/{name}.html#{name}" if key == "sklearn" else None
    )
    assert base + entries[(role, name)] == expected


ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|obj|exc|attr):`~?((?:sklearn|skorch)\.[\w.]+)`")
ROLES = {
    "class": {"py:class", "py:exception"},
    "exc": {"py:exception", "py:class"},
    "func": {"py:function", "py:method"},
    "meth": {"py:method", "py:function"},
    "mod": {"py:module"},
    "attr": {"py:attribute", "py:method"},
    "doc": {"std:doc"},
    "ref": {"std:label"},
    "term": {"std:term"},
}


def _sources():
    for path in sorted(DOCS.rglob("*.rst")):
        parts = path.relative_to(DOCS).parts
        if parts[0] not in {"_build", "generated", "auto_examples"}:
            yield path
    yield DOCS / "conf.py"  # numpydoc's type aliases
    yield from sorted((ROOT / "examples").glob("*.py"))
    yield from sorted((ROOT / "skfusion").rglob("*.py"))


def test_every_sklearn_and_skorch_reference_is_in_the_inventories(inventories):
    known = {}
    for _, entries in inventories.values():
        for role, name in entries:
            known.setdefault(name, set()).add(role)
    targets = {
        target: path for path in _sources()
        for target in ROLE.findall(path.read_text(encoding="utf-8"))
    }
    # :doc:`skorch:user/neuralnet` and :ref:`sklearn:grid_search` name a page or a label
    targets.update({
        (kind, name): path for path in _sources()
        for kind, name in re.findall(
            r":(doc|ref|term):`(?:[^`<]*<)?(?:sklearn|skorch):([^`>]+)>?`",
            path.read_text(encoding="utf-8"),
        )
    })
    targets.update(
        {("obj", name): DOCS / "conf.py"
         for name in _conf_assignments()["numpydoc_xref_aliases"].values()
         if name.startswith(("sklearn.", "skorch."))}
    )
    assert targets, "the docs reference no scikit-learn or skorch object"
    missing = [
        f"{path.relative_to(ROOT)}: :{kind}:`{name}`"
        for (kind, name), path in sorted(targets.items())
        if name not in known or (kind in ROLES and not ROLES[kind] & known[name])
    ]
    assert not missing, (
        "references not in docs/_inventories (a wrong name, or rerun "
        f"docs/_inventories/make_inventories.py): {missing}"
    )


FIGURE = re.compile(r"^\.\. (?:figure|image):: (\S+)", re.MULTILINE)


def test_every_strategy_page_shows_a_figure_of_an_existing_example():
    examples = {path.stem for path in (ROOT / "examples").glob("plot_*.py")}
    for page in STRATEGY_PAGES:
        images = FIGURE.findall((DOCS / "user_guide" / f"{page}.rst").read_text(encoding="utf-8"))
        assert images, f"docs/user_guide/{page}.rst shows no figure"
        for image in images:
            match = re.fullmatch(r"\.\./auto_examples/images/sphx_glr_(\w+?)_\d{3}\.png", image)
            assert match, f"{page}: {image} is not a gallery example's image"
            assert match.group(1) in examples, f"{page}: no example examples/{match.group(1)}.py"
