"""The documentation builds without warnings, covers the public API, and its code runs.

- ``test_docs_build``: the documented command (``python -m sphinx -W --keep-going
  -b html docs ...``) on a clean copy of ``docs/`` and ``examples/``; warnings are
  errors and every gallery example runs (slow).
- The API reference (``docs/api.rst``) lists every public name and only names
  that exist; every public name has an Examples section.
- The ``>>>`` blocks of the user guide and of the getting-started page print what
  the pages say they print.
"""

import doctest
import importlib
import inspect
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import skfusion

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api.rst"

# Modules whose ``__all__`` is public API; private modules start with "_", and
# the command line's entry point is documented as a command, not a function.
NOT_API_MODULES = {"skfusion.cli", "skfusion.__main__"}


def _public_modules():
    """Every importable public module of skfusion (skfusion.nn only with torch)."""
    names = ["skfusion"]
    for info in pkgutil.walk_packages(skfusion.__path__, prefix="skfusion."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or info.name in NOT_API_MODULES:
            continue
        names.append(info.name)
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            if name.startswith("skfusion.nn"):
                continue  # the torch extra is not installed
            raise
    return modules


def _public_objects():
    """``{qualified name: object}`` for every name in a public module's ``__all__``."""
    objects = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            if name.startswith("__"):
                continue
            objects[f"{module.__name__}.{name}"] = getattr(module, name)
    return objects


def _documented_names():
    """Qualified names listed in the autosummary tables of ``docs/api.rst``."""
    names, module, in_autosummary = [], None, False
    for line in API.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            if line.strip().startswith(":") or not line.strip():
                continue
            if not line.startswith("   "):
                in_autosummary = False
                continue
            names.append(f"{module}.{line.strip()}")
    return names


def _resolve(qualified_name):
    module_name, _, attribute = qualified_name.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return None


def test_api_reference_names_exist():
    documented = _documented_names()
    assert documented, "docs/api.rst lists no names"
    missing = [name for name in documented if _resolve(name) is None]
    if any(name.startswith("skfusion.nn.") for name in documented):
        pytest.importorskip("torch")
    assert not missing, f"docs/api.rst documents names that do not exist: {missing}"


def test_api_reference_lists_every_public_name():
    documented_ids = {id(obj) for obj in map(_resolve, _documented_names()) if obj is not None}
    undocumented = [
        name
        for name, obj in _public_objects().items()
        # module-level constants (strings, tuples) are documented by name
        if id(obj) not in documented_ids and name not in _documented_names()
    ]
    assert not undocumented, f"public names missing from docs/api.rst: {undocumented}"


def test_every_public_class_and_function_has_an_examples_section():
    without = [
        name
        for name, obj in _public_objects().items()
        if (inspect.isclass(obj) or inspect.isfunction(obj))
        and not re.search(r"^Examples\n-{8,}$", inspect.getdoc(obj) or "", re.M)
    ]
    assert not without, f"public names without an Examples section: {without}"


def test_no_public_docstring_keeps_a_fill_doc_placeholder():
    """Every ``%(name)s`` line of a public class, method or function was filled by
    ``skfusion._utils.docstrings.fill_doc`` (a forgotten decorator leaves it as is)."""
    docs = {}
    for name, obj in _public_objects().items():
        docs[name] = getattr(obj, "__doc__", None)
        if inspect.isclass(obj):
            for member_name, member in inspect.getmembers(obj):
                if not member_name.startswith("_") and callable(member):
                    docs[f"{name}.{member_name}"] = member.__doc__
    left = [name for name, doc in docs.items() if doc and re.search(r"%\(\w+\)s", doc)]
    assert not left, f"docstrings with an unfilled placeholder: {left}"


def _pages_with_doctests():
    return sorted(
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.rst")
        if "_build" not in path.parts
        and path.parts[len(DOCS.parts)] not in {"generated", "auto_examples"}
        and ">>> " in path.read_text(encoding="utf-8")
    )


# Pages whose code trains networks or refits many models; they run in CI too.
SLOW_PAGES = {
    "user_guide/alignment.rst",
    "user_guide/choosing.rst",
    "user_guide/intermediate_fusion.rst",
}


@pytest.mark.parametrize(
    "page",
    [pytest.param(page, marks=pytest.mark.slow) if page in SLOW_PAGES else page
     for page in _pages_with_doctests()],
)
def test_documentation_page_code_prints_what_the_page_shows(page):
    if "skfusion.nn" in (DOCS / page).read_text(encoding="utf-8"):
        pytest.importorskip("torch")
        pytest.importorskip("skorch")
    failures, tried = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
        report=True,
    )
    assert tried > 0
    assert failures == 0, f"{failures} of {tried} examples in docs/{page} failed (see output above)"


@pytest.mark.slow
def test_docs_build(tmp_path):
    """The documented build command succeeds on a clean copy, warnings being errors."""
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module)
    generated = shutil.ignore_patterns("_build", "generated", "auto_examples", "sg_execution_times.rst")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=generated)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         str(tmp_path / "docs"), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, (result.stdout[-5000:], result.stderr[-10000:])
    assert (tmp_path / "html" / "index.html").exists()
    _check_built_pages(tmp_path / "html")


# user-guide pages on a strategy, and the raw-table page: each shows a gallery figure
STRATEGY_PAGES = [
    "early_fusion", "late_fusion", "intermediate_fusion", "alignment",
    "missing_modalities", "choosing", "tables",
]


def _check_built_pages(html):
    """Copy buttons, links into scikit-learn's and skorch's docs, and figures."""
    page = (html / "user_guide" / "modalities.html").read_text(encoding="utf-8")
    assert "copybutton" in page, "no sphinx-copybutton script on the page"
    assert (html / "_static" / "copybutton.js").exists()
    # :class:`~sklearn.pipeline.Pipeline` resolves through the local inventory
    assert re.search(
        r'<a class="reference external" href="https://scikit-learn\.org/stable/modules/generated/'
        r'sklearn\.pipeline\.Pipeline\.html#sklearn\.pipeline\.Pipeline"',
        page,
    ), "user_guide/modalities.html does not link Pipeline to scikit-learn.org"
    intermediate = (html / "user_guide" / "intermediate_fusion.html").read_text(encoding="utf-8")
    assert 'href="https://skorch.readthedocs.io/en/stable/' in intermediate
    for name in STRATEGY_PAGES:
        text = (html / "user_guide" / f"{name}.html").read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]* src="([^"]+)"', text)
        assert images, f"user_guide/{name}.html shows no figure"
        for src in images:
            assert (html / "user_guide" / src).resolve().is_file(), f"{name}: {src} was not copied"
