"""Docstring sections that several estimators share, written once.

A docstring names a shared section on a line of its own, ``%(name)s`` (the
placeholder style of matplotlib's and pandas' docstring substitution), and
:func:`fill_doc` replaces that line with the section, indented as the
placeholder was. Only whole-line placeholders are filled, so a ``%`` anywhere
else in a docstring needs no escaping. An unknown name fails at import time.

The sections every floor uses (a fit's ``X`` and ``y``, ``Returns self``) live
here; a package keeps the ones only its estimators share in its own
``_docs.py``.
"""

import re
import textwrap

__all__ = [
    "fill_doc",
    "X_MODALITIES",
    "X_MODALITIES_SPARSE",
    "Y_IGNORED",
    "RETURNS_SELF",
    "DISPLAY_AXES",
    "FROM_AX_AND_PLOT_KWARGS",
    "FIT_UNSUPERVISED",
    "GET_FEATURE_NAMES_OUT",
    "FITTED_MODALITIES",
]

_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)%\((?P<name>\w+)\)s[ ]*$", re.MULTILINE)

X_MODALITIES = """
X : array-like or DataFrame of shape (n_samples, n_features)
    All modalities' columns; NaN marks a missing modality (all its columns
    NaN in a row) or, elsewhere, a cell to fill."""

X_MODALITIES_SPARSE = """
X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
    All modalities' columns; a modality is missing in a row when all its
    columns are NaN there."""

Y_IGNORED = """
y : None
    Ignored."""

RETURNS_SELF = """
self : object
    The fitted estimator."""

DISPLAY_AXES = """
ax_ : matplotlib Axes
    The axes drawn on.
figure_ : matplotlib Figure
    The figure holding ``ax_``."""

FROM_AX_AND_PLOT_KWARGS = """
ax : matplotlib Axes, default=None
    Axes to draw on.
**plot_kwargs
    Passed to :meth:`plot`."""


def fill_doc(**sections):
    """Decorator: replace each ``%(name)s`` line of a docstring by ``sections[name]``.

    Parameters
    ----------
    **sections : str
        The sections by placeholder name; each is dedented, stripped of
        leading and trailing blank lines and indented as its placeholder.

    Returns
    -------
    decorate : callable
        Sets the decorated function's or class's ``__doc__`` and returns it.

    Examples
    --------
    >>> from skfusion._utils.docstrings import fill_doc
    >>> @fill_doc(y="y : None\\n    Ignored.")
    ... def fit(X, y=None):
    ...     '''Fit.
    ...
    ...     Parameters
    ...     ----------
    ...     %(y)s
    ...     '''
    >>> print(fit.__doc__.splitlines()[4])
        y : None
    """

    def fill(match):
        section = textwrap.dedent(sections[match["name"]]).strip("\n")
        return textwrap.indent(section, match["indent"])

    def decorate(obj):
        if obj.__doc__ is not None:  # None under python -OO
            obj.__doc__ = _PLACEHOLDER.sub(fill, obj.__doc__)
        return obj

    return decorate

#: The Parameters and Returns of the ``fit`` of an unsupervised estimator over
#: all modalities (X as in :data:`X_MODALITIES`, y ignored, returns self).
FIT_UNSUPERVISED = f"""
Parameters
----------{X_MODALITIES}{Y_IGNORED}

Returns
-------{RETURNS_SELF}"""

#: The Parameters and Returns of a ``get_feature_names_out`` whose names do not
#: depend on the input's (they are checked against ``feature_names_in_``).
GET_FEATURE_NAMES_OUT = """
Parameters
----------
input_features : array-like of str or None, default=None
    Only checked against ``feature_names_in_``.

Returns
-------
ndarray of str"""

#: The Attributes that :func:`skfusion._modalities.validate_modal_data` sets in ``fit``.
FITTED_MODALITIES = """
modalities_ : dict of str to ndarray of int
    Column positions of each modality.
n_features_in_ : int
    Number of columns of ``X`` seen in :meth:`fit`.
feature_names_in_ : ndarray of str
    Column names of ``X``, when it is a DataFrame with string names."""
