"""Sphinx configuration for the skfusion documentation.

Build (warnings are errors, as in CI's ``tests/test_docs.py``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

References to scikit-learn and skorch objects link into their documentation
(intersphinx). The build machines reach package registries only, so the
inventories are local files, ``docs/_inventories/*-objects.inv``, written by
``docs/_inventories/make_inventories.py`` from the installed packages (rerun it
after upgrading either); the build never downloads. References to NumPy, pandas
or torch objects render as plain code.
"""

import os
import shutil
import sys
import warnings
from datetime import date
from pathlib import Path

# Gallery examples run at build time in this process. OpenBLAS reads its thread
# count when it is loaded, so pin it before anything imports NumPy or SciPy: on
# small problems more BLAS threads only compete for the cores (lbfgs slows ~20x).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
# Build against the source tree even when skfusion is not installed in editable mode.
sys.path.insert(0, str(HERE.parent))

import skfusion  # noqa: E402

# -- Project -------------------------------------------------------------------
project = "skfusion"
author = "The skfusion developers"
copyright = f"{date.today().year}, {author}"
release = skfusion.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # included by which_fusion.rst, not a page of its own
    "_generated_benchmarks.rst",
    # sphinx-gallery writes these, the gallery index links the examples itself
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "sg_execution_times.rst",
]
root_doc = "index"
default_role = "literal"
# numpydoc's type words (``array-like of shape``, ``ndarray``) have no inventory
# to resolve against (NumPy's is not stored here); nitpicky would flag each one.
nitpicky = False

# -- intersphinx (local inventories, no network) ---------------------------------
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_inventories/sklearn-objects.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", "_inventories/skorch-objects.inv"),
}

# -- sphinx-copybutton -----------------------------------------------------------
# Copy the code without its prompts and output: ``>>>``/``...`` doctest prompts
# and ``$`` shell prompts; lines without a prompt are output and stay behind.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_exclude = ".linenos, .gp, .go"

# Stale stubs of renamed or removed public names would be documents outside every
# toctree (a warning, so a failed -W build): regenerate the stubs on each build.
_generated = HERE / "generated"
if _generated.exists():
    shutil.rmtree(_generated)

# sphinx-gallery keeps the output of an example that was deleted or renamed,
# which would again be a document outside every toctree: drop such leftovers.
_examples = {path.stem for path in (HERE.parent / "examples").glob("*.py")}
for _leftover in (HERE / "auto_examples").glob("*.rst"):
    if _leftover.stem not in _examples and _leftover.stem != "index":
        for _path in (HERE / "auto_examples").glob(f"{_leftover.stem}.*"):
            _path.unlink()

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Type words of the Parameters sections link when they name a scikit-learn or
# skfusion class, or scikit-learn's glossary entry; every other word ("of",
# "default") stays text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    # numpydoc's defaults point these into Python's and NumPy's docs, whose
    # inventories are not stored here (an unresolved :term: or :ref: warns)
    "array-like": ":term:`array-like <sklearn:array-like>`",
    "array_like": ":term:`array-like <sklearn:array-like>`",
    "bool": "bool",
    "boolean": "boolean",
    "iterable": "iterable",
    "sequence": "sequence",
    "generator": "generator",
    "scalar": "scalar",
    "estimator": "sklearn.base.BaseEstimator",
    "transformer": "sklearn.base.TransformerMixin",
    "BaseEstimator": "sklearn.base.BaseEstimator",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "Bunch": "sklearn.utils.Bunch",
    "MetadataRouter": "sklearn.utils.metadata_routing.MetadataRouter",
    "MultiviewCCA": "skfusion.MultiviewCCA",
    "ModalityPlan": "skfusion.tables.ModalityPlan",
    "TableEncoder": "skfusion.tables.TableEncoder",
    "FusionComparison": "skfusion.model_selection.FusionComparison",
    "FusionComparisonDisplay": "skfusion.inspection.FusionComparisonDisplay",
    "ModalityImportanceDisplay": "skfusion.inspection.ModalityImportanceDisplay",
}

# -- sphinx-gallery -------------------------------------------------------------
# (Each example also pins BLAS itself, so that it is fast when run on its own.)
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skfusion",),
    "backreferences_dir": "generated",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    # an object without examples simply gets no mini-gallery
    "log_level": {"backreference_missing": "debug"},
    "min_reported_time": 1,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skfusion {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"changelog": [], "credits": [], "contributing": []}
html_show_sourcelink = False


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_<method>_request`` methods.

    Every estimator gets them from scikit-learn's metadata routing; their
    docstrings point into scikit-learn's own user guide and glossary, which
    cannot be resolved here. scikit-learn's documentation describes them.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
