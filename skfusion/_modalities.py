"""The modality specification: the one place where a user's description of
modalities becomes column indices and a missing-modality (presence) mask.

Every estimator in skfusion calls :func:`validate_modal_data` in ``fit`` and at
predict/transform time, then :func:`presence_mask` and :func:`take_columns`.
Nothing else in the package interprets a ``modalities`` specification.

Conventions
-----------
- ``modalities`` is a dict ``{name: columns}``; ``columns`` is what
  :class:`~sklearn.compose.ColumnTransformer` accepts: an int or a list of
  ints (negative ones count from the end), a slice, a boolean mask, a column
  name or a list of names (DataFrame input), or a callable applied to the raw
  input that returns one of those (e.g. ``make_column_selector``).
- ``modalities=None`` is a single modality, :data:`ALL_COLUMNS`, holding every column.
- A modality is *missing* in a row when all of its columns are NaN there.
- A NaN *cell* (NaN in a row where its modality is present) takes its column's
  training mean over the rows where the modality is present
  (:func:`nan_cell_means`, :func:`fill_nan_cells`): every estimator that
  accepts NaN fills cells this way before a modality's preprocessing.
"""

from contextlib import contextmanager
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from ._fit_context import check_params_unchanged_since_fit

__all__ = [
    "ALL_COLUMNS",
    "check_modality_names",
    "resolve_modalities",
    "validate_modal_data",
    "presence_mask",
    "take_columns",
    "take_block",
    "present_block",
    "nan_cell_means",
    "fill_nan_cells",
    "modality_nan_cell_means",
    "fill_modality_nan_cells",
    "check_finite_allowing_nan",
    "non_numeric_column",
    "branch_columns",
    "branch_modalities",
    "check_no_missing",
    "check_present_somewhere",
    "validate_alignment_data",
    "check_finite_target",
    "first_non_number",
    "concat_modalities",
]

#: Name of the single modality used when ``modalities=None``.
ALL_COLUMNS = "all"


def check_modality_names(modalities, *, param="modalities"):
    """Validate the type of a specification and its modality names.

    Returns the specification as a dict, ``{ALL_COLUMNS: slice(None)}`` for None.
    """
    if modalities is None:
        return {ALL_COLUMNS: slice(None)}
    if not isinstance(modalities, dict):
        raise TypeError(
            f"`{param}` must be a dict {{name: columns}} or None; "
            f"got {type(modalities).__name__}."
        )
    if not modalities:
        raise ValueError(f"`{param}` must name at least one modality; got an empty dict.")
    for name in modalities:
        if not isinstance(name, str):
            raise TypeError(
                f"Modality names must be strings; got {name!r} "
                f"of type {type(name).__name__} in `{param}`."
            )
        if not name:
            raise ValueError(f"Modality names must be non-empty strings in `{param}`.")
        if "__" in name:
            # `<name>__<param>` is how nested parameters are addressed.
            raise ValueError(
                f"Modality name {name!r} contains '__', which would clash with "
                "nested parameter names (<name>__<param>); rename it."
            )
    return modalities


def _column_names(X):
    """Column names of a DataFrame-like input, or None for arrays."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "shape"):
        return None
    return list(columns)


def _resolve_columns(name, columns, X, n_features, column_names):
    """Turn one modality's selector into a 1-D int array of column positions."""
    if callable(columns):
        selector = columns
        columns = selector(X)
        if callable(columns):
            raise TypeError(f"Modality {name!r}: the selector returned a callable.")
        return _resolve_columns(name, columns, X, n_features, column_names)

    if isinstance(columns, slice):
        if columns.step not in (None, 1):
            raise ValueError(f"Modality {name!r}: slices must have step 1 or None.")
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            start = _name_positions(name, [columns.start], column_names)[0] if columns.start is not None else 0
            stop = _name_positions(name, [columns.stop], column_names)[0] + 1 if columns.stop is not None else n_features
            return np.arange(start, stop, dtype=np.intp)
        return np.arange(n_features, dtype=np.intp)[columns]

    if isinstance(columns, (str, Integral, np.integer)) or np.isscalar(columns):
        columns = [columns]
    if not isinstance(columns, np.ndarray):
        columns = list(columns)
        # numpy would turn [0, "a1"] into the names ["0", "a1"]
        kinds = {isinstance(key, str) for key in columns}
        if len(kinds) == 2:
            raise TypeError(
                f"Modality {name!r} mixes column positions and column names "
                f"({columns[:5]!r}); give all positions or all names."
            )
    keys = np.asarray(columns)
    if keys.ndim != 1:
        raise ValueError(f"Modality {name!r}: columns must be 1-D; got shape {keys.shape}.")
    if keys.size == 0:
        return np.empty(0, dtype=np.intp)
    if keys.dtype.kind == "b":
        if keys.shape[0] != n_features:
            raise ValueError(
                f"Modality {name!r}: boolean mask has {keys.shape[0]} entries "
                f"but X has {n_features} columns."
            )
        return np.flatnonzero(keys).astype(np.intp)
    if keys.dtype.kind in "iu":
        out_of_range = (keys >= n_features) | (keys < -n_features)
        if out_of_range.any():
            raise ValueError(
                f"Modality {name!r}: column index {keys[out_of_range][0]} is out of "
                f"range for X with {n_features} columns."
            )
        return np.where(keys < 0, keys + n_features, keys).astype(np.intp)
    if keys.dtype.kind in "UOS":
        return _name_positions(name, keys.tolist(), column_names)
    raise TypeError(
        f"Modality {name!r}: columns must be ints, a slice, a boolean mask, column "
        f"names or a callable; got an array of dtype {keys.dtype}."
    )


def _name_positions(name, keys, column_names):
    if column_names is None:
        raise ValueError(
            f"Modality {name!r} selects columns by name (e.g. {keys[0]!r}), which "
            "needs a DataFrame with string column names; X has none."
        )
    position = {column: i for i, column in enumerate(column_names)}
    unknown = [key for key in keys if key not in position]
    if unknown:
        raise ValueError(
            f"Modality {name!r}: unknown column name(s) {unknown[:5]!r}; "
            f"X has {len(column_names)} columns."
        )
    return np.array([position[key] for key in keys], dtype=np.intp)


def resolve_modalities(modalities, X, *, param="modalities"):
    """Resolve a specification against ``X`` into ``{name: column positions}``.

    Parameters
    ----------
    modalities : dict or None
        The user's specification (see the module docstring).
    X : array-like, sparse matrix or DataFrame
        The raw input *before* validation, so that callables and column
        names see the DataFrame.

    Returns
    -------
    dict of str to ndarray of int
        Column positions per modality, in the order the user gave them.
    """
    spec = check_modality_names(modalities, param=param)
    n_features = X.shape[1]
    column_names = _column_names(X)
    resolved = {}
    for name, columns in spec.items():
        indices = _resolve_columns(name, columns, X, n_features, column_names)
        if indices.size == 0:
            raise ValueError(
                f"Modality {name!r} selects no columns; got {columns!r} on "
                f"{n_features} columns."
            )
        if np.unique(indices).size != indices.size:
            raise ValueError(f"Modality {name!r} selects some columns more than once.")
        resolved[name] = indices
    return resolved


def validate_modal_data(estimator, X, y="no_validation", *, reset=True, **check_params):
    """``validate_data`` plus modality resolution, for ``fit`` and predict time.

    With ``reset=True`` (in ``fit``) it sets ``n_features_in_``,
    ``feature_names_in_`` and ``modalities_`` (name -> column positions) on
    ``estimator``, resolving ``estimator.modalities``. With ``reset=False`` it
    checks that ``X`` has the fitted number of columns (and, for DataFrames, the
    same names in the same order) and leaves the resolution untouched.

    Columns in no modality are never read: only the modalities' columns are
    converted and checked (an ID or text column beside them is fine), and the
    returned array holds zeros in the others, so that column positions keep
    their meaning. NaN is allowed (it encodes missing modalities); inf is refused.
    """
    check_params.setdefault("ensure_all_finite", "allow-nan")
    if check_params.get("y_numeric") and not (isinstance(y, str) and y == "no_validation"):
        y = _numbers_from_strings(y)
    if not reset:
        check_is_fitted(estimator, "modalities_")
        check_params_unchanged_since_fit(estimator)
    raw = X if hasattr(X, "shape") or X is None else np.asarray(X, dtype=object)
    if reset and _is_nonempty_table(raw):
        estimator.modalities_ = resolve_modalities(estimator.modalities, raw)
    used = _used_columns(estimator, raw)
    if used is None:
        if _is_nonempty_table(raw):  # first, so that a conversion error has one cause
            _check_feature_names(estimator, raw, reset=reset)
            _check_n_features(estimator, raw, reset=reset)
        with _naming_unreadable_columns(estimator, raw):
            out = validate_data(estimator, _missing_as_nan(X), y, reset=reset, **check_params)
        if reset and not hasattr(estimator, "modalities_"):
            validated = out[0] if isinstance(out, tuple) else out
            estimator.modalities_ = resolve_modalities(estimator.modalities, validated)
        return out
    _check_feature_names(estimator, raw, reset=reset)
    _check_n_features(estimator, raw, reset=reset)
    subset = _missing_as_nan(raw.iloc[:, used]) if hasattr(raw, "iloc") else raw[:, used]
    with _naming_unreadable_columns(estimator, raw):
        if isinstance(y, str) and y == "no_validation":
            block = check_array(subset, estimator=estimator, **check_params)
            return _with_unread_columns(block, used, raw)
        block, y = check_X_y(subset, y, estimator=estimator, **check_params)
    return _with_unread_columns(block, used, raw), y


def _numbers_from_strings(y):
    """A numeric target written as strings ("1.5") as float64, as scikit-learn's
    regressors read it; a string that is no number is named. (``y_numeric``
    converts an object array only: a '<U' array reached the target's mean.)"""
    values = np.asarray(y) if y is not None else y
    if values is None or values.dtype.kind not in "US":
        return y
    try:
        return values.astype(np.float64)
    except ValueError:
        raise ValueError(
            f"y must hold numbers for a regression target; got {first_non_number(values)!r}."
        ) from None


def first_non_number(values):
    """The first of ``values`` that ``float()`` refuses (a numpy scalar as a Python
    value, for a message), or None when every one is a number."""
    for value in np.asarray(values, dtype=object).ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            return value.item() if isinstance(value, np.generic) else value
    return None


def _missing_as_nan(X):
    """A DataFrame's object columns with their missing markers (pd.NA, None, NaT) as NaN.

    numpy turns None into NaN but refuses pd.NA ("float() argument must be ...
    not 'NAType'"): a modality missing in a row of an object column was
    refused as "not numbers". Anything else comes back as it is.
    """
    if not hasattr(X, "iloc") or not hasattr(X, "dtypes"):
        return X
    objects = [i for i, dtype in enumerate(X.dtypes) if dtype == object]
    if not objects:
        return X
    block = X.iloc[:, objects]
    missing = block.isna()
    if not missing.to_numpy().any():
        return X
    X = X.copy()
    for i in objects:
        X.isetitem(i, X.iloc[:, i].mask(missing.iloc[:, objects.index(i)].to_numpy(), np.nan))
    return X


@contextmanager
def _naming_unreadable_columns(estimator, X):
    """Turn the conversion error of a DataFrame column that holds no numbers (text,
    categories, dates) into one that names the column and its modality.

    numpy's own message ("could not convert string to float: 'lo'") names neither,
    and on a wide table the user cannot tell which column to encode.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        column = non_numeric_column(X, getattr(estimator, "modalities_", None))
        if column is None:
            raise
        name, modality, value = column
        where = "" if modality is None else f"Modality {modality!r}: "
        raise ValueError(
            f"{where}column {name!r} holds values that are not numbers (e.g. {value!r}); "
            f"{type(estimator).__name__} reads numbers only. Encode text, category and "
            "date columns first (skfusion.tables.TableFusion or TableEncoder do it), or "
            "leave the column out of the modalities."
        ) from exc


def non_numeric_column(X, modalities_=None):
    """``(column name, its modality or None, a value)`` of the first modality column of
    a DataFrame that holds dates or does not convert to float, or None (not a
    DataFrame, or no such column)."""
    if not hasattr(X, "iloc") or not hasattr(X, "dtypes"):
        return None
    modality_of = {}
    for modality, columns in (modalities_ or {}).items():
        for position in columns:
            modality_of.setdefault(int(position), modality)
    positions = sorted(p for p in modality_of if p < X.shape[1]) or range(X.shape[1])
    for position in positions:
        column = X.iloc[:, position]
        if column.dtype.kind in "biufc":
            continue
        if column.dtype.kind in "mM":  # numpy would turn dates into nanoseconds: no unit
            return X.columns[position], modality_of.get(position), column.iloc[0]
        try:
            np.asarray(column, dtype=np.float64)
        except (ValueError, TypeError):
            for value in column[column.notna().to_numpy()]:  # a missing marker reads as NaN
                try:
                    float(value)
                except (ValueError, TypeError):
                    return X.columns[position], modality_of.get(position), value
    return None


def _used_columns(estimator, X):
    """Sorted positions of the modalities' columns when some column is in no modality
    (None otherwise, and for sparse or not 2-D input, which are validated whole)."""
    modalities_ = getattr(estimator, "modalities_", None)
    if modalities_ is None or sp.issparse(X) or not _is_nonempty_table(X):
        return None
    used = np.unique(np.concatenate([np.asarray(c, dtype=np.intp) for c in modalities_.values()]))
    return None if used.size == X.shape[1] else used


def _is_nonempty_table(X):
    """2-D with rows and columns: anything else gets scikit-learn's own error messages."""
    shape = getattr(X, "shape", ())
    return len(shape) == 2 and shape[0] > 0 and shape[1] > 0


def _with_unread_columns(block, used, X):
    """``block`` (the modalities' columns) back in place among ``X``'s columns, zeros elsewhere."""
    full = np.zeros((block.shape[0], X.shape[1]), dtype=block.dtype)
    full[:, used] = block
    return full


def _as_slice(indices):
    """A contiguous run of indices as a slice, so that selecting it is a view."""
    if indices.size and indices[-1] - indices[0] + 1 == indices.size and (
        indices.size == 1 or np.all(np.diff(indices) == 1)
    ):
        return slice(int(indices[0]), int(indices[-1]) + 1)
    return indices


def take_columns(X, indices):
    """Columns ``indices`` of a validated ``X`` (a view when they are contiguous)."""
    key = _as_slice(np.asarray(indices))
    if hasattr(X, "iloc"):
        return X.iloc[:, key]
    return X[:, key]  # ndarray or sparse matrix


def take_block(X, columns, rows=None):
    """Rows ``rows`` of columns ``columns`` (None: all of them; a view where possible),
    copied once (an array's non-contiguous columns are not gathered for all rows first)."""
    if columns is None:
        return X if rows is None else _safe_indexing(X, rows)
    if rows is None:
        return take_columns(X, columns)
    key = _as_slice(np.asarray(columns))
    if isinstance(X, np.ndarray) and not isinstance(key, slice):
        return X[np.ix_(rows, key)]
    return _safe_indexing(take_columns(X, columns), rows)


def present_block(X, columns, present):
    """Columns ``columns`` of a dense ``X`` on the rows where ``present``.

    Callers fill NaN cells first (:func:`fill_modality_nan_cells`), so the
    block holds no NaN.
    """
    return take_block(X, columns, None if present.all() else np.flatnonzero(present))


# ------------------------------------------------------------------ NaN cells

#: Cells per chunk when NaN cells are located: bounds the temporaries (a chunk of
#: the columns holding NaN and its mask) whatever the size of the block.
_CHUNK_CELLS = 1 << 20


def _present_rows(present):
    """None when every row is present (no row mask needed), else the mask."""
    return None if present is None or present.all() else np.asarray(present, dtype=bool)


def _column_sums(block, rows, dtype=None):
    """Column sums over ``rows`` (None: all) in one pass without a temporary; a column
    holding NaN in those rows sums to NaN (the cheap test of :func:`fill_nan_cells`)."""
    return np.add.reduce(block, axis=0, dtype=dtype, where=True if rows is None else rows[:, None])


def _row_chunks(n_rows, width):
    step = max(1, _CHUNK_CELLS // max(width, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _sparse_entries(block):
    """Row and column of every stored entry of a CSR or CSC matrix."""
    counts = np.diff(block.indptr)
    outer = np.repeat(np.arange(counts.size), counts)
    return (outer, block.indices) if block.format == "csr" else (block.indices, outer)


def _as_csr_or_csc(block):
    return block if block.format in ("csr", "csc") else block.tocsr()


def nan_cell_means(block, present=None):
    """Training column means of a modality over the rows where it is present, NaN cells left out.

    The value a NaN cell of a present modality takes (:func:`fill_nan_cells`).
    Since a missing modality's rows are all NaN, these are also the means of
    each column's observed cells. A column with no observed cell in those rows
    gets 0. Sparse blocks count their implicit zeros.

    Parameters
    ----------
    block : ndarray or sparse matrix of shape (n_samples, n_columns)
        The modality's columns.
    present : ndarray of bool of shape (n_samples,) or None, default=None
        Rows where the modality is present; None: every row.

    Returns
    -------
    ndarray of float64 of shape (n_columns,)
    """
    rows = _present_rows(present)
    if sp.issparse(block):
        return _sparse_nan_cell_means(_as_csr_or_csc(block), rows)
    n_rows = block.shape[0] if rows is None else int(np.count_nonzero(rows))
    sums = _column_sums(block, rows, dtype=np.float64)
    counts = np.full(block.shape[1], n_rows, dtype=np.float64)
    with_nan = np.flatnonzero(np.isnan(sums))
    if with_nan.size:  # only those columns are summed again, cell by cell, in chunks
        sums[with_nan], counts[with_nan] = 0.0, 0.0
        for chunk in _row_chunks(block.shape[0], with_nan.size):
            part = block[chunk][:, with_nan]
            observed = ~np.isnan(part)
            if rows is not None:
                observed &= rows[chunk, None]
            sums[with_nan] += np.add.reduce(part, axis=0, dtype=np.float64, where=observed)
            counts[with_nan] += np.count_nonzero(observed, axis=0)
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)


def _sparse_nan_cell_means(block, rows):
    n_rows = block.shape[0] if rows is None else int(np.count_nonzero(rows))
    entry_rows, entry_cols = _sparse_entries(block)
    nan = np.isnan(block.data)
    in_rows = np.ones(nan.shape, dtype=bool) if rows is None else rows[entry_rows]
    kept = ~nan & in_rows
    width = block.shape[1]
    sums = np.bincount(entry_cols[kept], weights=block.data[kept], minlength=width)
    counts = n_rows - np.bincount(entry_cols[nan & in_rows], minlength=width)
    return np.divide(sums, counts, out=np.zeros(width), where=counts > 0)


def fill_nan_cells(block, means, present=None):
    """``block`` with the NaN cells of its present rows set to their column's mean.

    Rows where the modality is missing (not ``present``) are left as they are.
    ``block`` itself is returned, not a copy, when its present rows hold no NaN,
    found with one pass of column sums (no temporary of the block's size); a
    filled block keeps the dtype (float32 stays float32), the layout and, for a
    sparse matrix, the format.

    Parameters
    ----------
    block : ndarray or sparse matrix of shape (n_samples, n_columns)
        The modality's columns; arrays of integers (which hold no NaN) are
        returned as they are.
    means : ndarray of shape (n_columns,)
        The value of each column's NaN cells (:func:`nan_cell_means` of the
        training rows); NaN leaves a column's cells as they are.
    present : ndarray of bool of shape (n_samples,) or None, default=None
        Rows where the modality is present; None: every row.

    Returns
    -------
    ndarray or sparse matrix of shape (n_samples, n_columns)
    """
    rows = _present_rows(present)
    if sp.issparse(block):
        return _fill_sparse_nan_cells(block, means, rows)
    if block.dtype.kind != "f":
        return block
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow only costs the exact look
        with_nan = np.flatnonzero(np.isnan(_column_sums(block, rows)))
    if not with_nan.size:
        return block
    values = np.asarray(means, dtype=block.dtype)[with_nan]
    out, filled = None, False
    for chunk in _row_chunks(block.shape[0], with_nan.size):
        part = block[chunk][:, with_nan]
        cells = np.isnan(part)
        if rows is not None:
            cells &= rows[chunk, None]
        if cells.any():
            out = np.array(block, order="K") if out is None else out
            np.copyto(part, values, where=cells)
            out[chunk, with_nan] = part
            filled = True
    return out if filled else block


def _fill_sparse_nan_cells(block, means, rows):
    data = block.data
    if data.dtype.kind != "f" or not np.isnan(np.add.reduce(data)):
        return block
    block = _as_csr_or_csc(block)
    nan = np.isnan(block.data)
    entry_rows, entry_cols = _sparse_entries(block)
    cells = nan if rows is None else nan & rows[entry_rows]
    if not cells.any():
        return block
    out = block.copy()
    out.data[cells] = np.asarray(means, dtype=out.dtype)[entry_cols[cells]]
    return out


def _numeric_columns(X, columns):
    """Positions (within ``columns``) of a DataFrame's numeric columns (float, and the
    nullable Int64 or boolean that hold pd.NA): the only ones whose NaN cells are
    filled (a text or category column is its branch's to read)."""
    from pandas.api.types import is_numeric_dtype

    dtypes = X.dtypes
    return np.flatnonzero([is_numeric_dtype(dtypes.iloc[int(c)]) for c in columns])


def modality_nan_cell_means(X, modalities_, mask):
    """:func:`nan_cell_means` of every modality of ``X``, by name.

    ``X`` is an array, a sparse matrix or a DataFrame; a DataFrame's columns
    that are not numeric get NaN (their cells are never filled).
    """
    means = {}
    for j, (name, columns) in enumerate(modalities_.items()):
        if hasattr(X, "iloc"):
            means[name] = np.full(len(columns), np.nan)
            floats = _numeric_columns(X, columns)
            if floats.size:
                block = X.iloc[:, columns[floats]].to_numpy(dtype=np.float64, na_value=np.nan)
                means[name][floats] = nan_cell_means(block, mask[:, j])
        else:
            means[name] = nan_cell_means(take_columns(X, columns), mask[:, j])
    return means


def fill_modality_nan_cells(X, modalities_, mask, means):
    """``X`` with the NaN cells of every present modality filled, or ``X`` itself.

    :func:`fill_nan_cells` for each modality's columns (``mask`` says where
    each is present, ``means`` is :func:`modality_nan_cell_means` of the
    training data), writing into one copy of ``X`` made only when some cell is
    filled. A column in two modalities is filled wherever one of them is
    present (its observed cells, hence its mean, are the same for both).
    """
    if sp.issparse(X):
        return _fill_sparse_modalities(X, modalities_, mask, means)
    if _holds_no_nan(X):
        return X
    out = X
    for j, (name, columns) in enumerate(modalities_.items()):
        if hasattr(X, "iloc"):
            out = _fill_frame_modality(X, out, columns, mask[:, j], means[name])
            continue
        block = take_columns(out, columns)
        filled = fill_nan_cells(block, means[name], mask[:, j])
        if filled is not block:
            out = np.array(X, order="K") if out is X else out
            out[:, _as_slice(np.asarray(columns))] = filled
    return out


def _holds_no_nan(X):
    """True when a float array provably holds no NaN: its sum, one pass over the whole
    array (cheaper than per-column sums of each block), is not NaN. False may also mean
    that infinities cancelled (inf - inf) or that X is not a float array: look closer."""
    if hasattr(X, "iloc") or X.dtype.kind != "f":
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return not np.isnan(np.add.reduce(X, axis=None))


def check_finite_allowing_nan(X, *, estimator=None):
    """Refuse infinity in a float array or sparse matrix (NaN allowed); True when
    ``X`` provably holds no NaN either.

    For input validated with ``ensure_all_finite=False`` and then searched for
    NaN cells: one sum over the data answers both questions when it is finite,
    where scikit-learn's finite check and the NaN search would each read the
    whole array (a third of early fusion's transform time on a wide X). A sum
    that is not finite (a NaN, an inf, or an overflow) falls back to
    scikit-learn's check, with its error message, and answers False.
    """
    data = X.data if sp.issparse(X) else X
    with np.errstate(over="ignore", invalid="ignore"):
        if data.dtype.kind == "f" and np.isfinite(np.add.reduce(data, axis=None)):
            return True
    name = None if estimator is None else type(estimator).__name__
    _assert_all_finite(data, allow_nan=True, estimator_name=name, input_name="X")
    return False


def _fill_frame_modality(X, out, columns, present, means):
    floats = _numeric_columns(X, columns)
    for k in floats[~np.isnan(means[floats])]:
        column = out.iloc[:, int(columns[k])]
        cells = column.isna().to_numpy() & present
        if cells.any():
            out = X.copy() if out is X else out
            # an integer or boolean column takes a mean as a float column
            filled_dtype = column.dtype if column.dtype.kind == "f" else np.float64
            filled = column.astype(filled_dtype).mask(cells, means[k])
            out.isetitem(int(columns[k]), filled.astype(filled_dtype))  # float32 stays
    return out


def _fill_sparse_modalities(X, modalities_, mask, means):
    if X.dtype.kind != "f" or not np.isnan(np.add.reduce(X.data)):
        return X
    X = _as_csr_or_csc(X)
    nan_entries = np.flatnonzero(np.isnan(X.data))
    entry_rows, entry_cols = _sparse_entries(X)
    rows, cols = entry_rows[nan_entries], entry_cols[nan_entries]
    values = np.full(nan_entries.size, np.nan)
    position = np.full(X.shape[1], -1, dtype=np.intp)
    for j, (name, columns) in enumerate(modalities_.items()):
        position[:] = -1
        position[columns] = np.arange(len(columns))
        hit = (position[cols] >= 0) & mask[rows, j] & np.isnan(values)
        values[hit] = np.asarray(means[name])[position[cols[hit]]]
    filled = ~np.isnan(values)
    if not filled.any():
        return X
    out = X.copy()
    out.data[nan_entries[filled]] = values[filled]
    return out


def branch_columns(modalities_, names):
    """Column positions of a branch over several modalities, in modality order."""
    unknown = [name for name in names if name not in modalities_]
    if unknown:
        raise ValueError(
            f"Unknown modality {unknown[0]!r}; known modalities are {list(modalities_)}."
        )
    seen = dict.fromkeys(int(i) for name in names for i in modalities_[name])
    return np.fromiter(seen, dtype=np.intp, count=len(seen))


def branch_modalities(modalities_, names):
    """``modalities_`` restricted to ``names``, re-indexed to the branch's own columns.

    A branch over ``names`` receives ``X[:, branch_columns(modalities_, names)]``;
    a fusion estimator inside it (e.g. an early-fused hybrid branch) needs the
    modalities in the positions of that block.
    """
    position = {int(c): i for i, c in enumerate(branch_columns(modalities_, names))}
    return {name: [position[int(c)] for c in modalities_[name]] for name in names}


def _missing_rows(block):
    """Rows whose columns are all NaN; checks column 0 first to stay cheap."""
    if sp.issparse(block):
        block = block.tocsr()
        nan_count = np.asarray(
            sp.csr_matrix(
                (np.isnan(block.data).astype(np.int32), block.indices, block.indptr),
                shape=block.shape,
            ).sum(axis=1)
        ).ravel()
        return nan_count == block.shape[1]
    first = block[:, 0]
    candidates = np.isnan(first) if first.dtype.kind == "f" else _isnan_any(first)
    missing = np.zeros(block.shape[0], dtype=bool)
    if candidates.any():
        rows = np.flatnonzero(candidates)
        sub = block[rows]
        missing[rows] = (np.isnan(sub) if sub.dtype.kind == "f" else _isnan_any(sub)).all(axis=1)
    return missing


def _isnan_any(values):
    """NaN test that also works for object arrays (None and float('nan'))."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return np.zeros(values.shape, dtype=bool)
    import pandas as pd  # only reached for object data, which comes from pandas

    return np.asarray(pd.isna(values))


def presence_mask(X, modalities_):
    """Boolean ``(n_samples, n_modalities)`` array: True where a modality is present.

    A modality is missing in a row when all of its columns are NaN there.
    """
    n_samples = X.shape[0]
    mask = np.empty((n_samples, len(modalities_)), dtype=bool)
    values = X.to_numpy() if hasattr(X, "to_numpy") else X
    for j, indices in enumerate(modalities_.values()):
        mask[:, j] = ~_missing_rows(take_columns(values, indices))
    return mask


def check_no_missing(mask, names, *, hint="missing='zero'"):
    """Raise a ValueError naming the first missing modality and its row count."""
    missing_counts = (~mask).sum(axis=0)
    for name, count in zip(names, missing_counts):
        if count:
            raise ValueError(
                f"Modality {name!r} is missing (all NaN) in {count} of "
                f"{mask.shape[0]} rows; use {hint} to accept missing modalities."
            )


def check_present_somewhere(mask, names, *, reason="every modality must be present in some row"):
    """Raise a ValueError naming the first modality missing in every row of ``mask``.

    A modality never seen in training cannot be fitted (an encoder left at its
    random initialisation, a projection of nothing), so fitting must stop.
    ``reason`` ends the message and says what the caller needed, e.g.
    ``"MultiviewCCA needs at least 2 rows where every modality is present"``.
    """
    never_present = ~mask.any(axis=0)
    for name, absent in zip(names, never_present):
        if absent:
            raise ValueError(
                f"Modality {name!r} is missing (all NaN) in all {mask.shape[0]} rows; {reason}."
            )


def validate_alignment_data(estimator, X, *, reason):
    """The start of ``fit`` of an estimator that aligns two or more modalities.

    Validates ``X`` (float64 or float32, NaN allowed; sets ``modalities_``,
    ``n_features_in_`` and ``feature_names_in_``), refuses a specification of
    fewer than two modalities, and a modality missing in every row
    (``reason`` ends that message, as in :func:`check_present_somewhere`).

    Returns
    -------
    X : ndarray
        The validated input.
    names : list of str
        The modality names, in order.
    mask : ndarray of bool of shape (n_samples, n_modalities)
        The presence mask (:func:`presence_mask`).
    """
    X = validate_modal_data(estimator, X, dtype=[np.float64, np.float32])
    names = list(estimator.modalities_)
    if len(names) < 2:
        raise ValueError(
            f"{type(estimator).__name__} aligns two or more modalities; `modalities` gives "
            f"{len(names)} ({names[0]!r}). Pass e.g. {{'a': [...], 'b': [...]}}."
        )
    mask = presence_mask(X, estimator.modalities_)
    check_present_somewhere(mask, names, reason=reason)
    return X, names, mask


def check_finite_target(y):
    """Refuse a numeric ``y`` holding NaN or infinity, naming y.

    For functions that hand ``y`` to scikit-learn's ``type_of_target`` (CV
    splitters, task inference), which warns about casting NaN before refusing it.
    """
    values = np.asarray(y)
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise ValueError("Input y contains NaN or infinity; drop or fill those rows.")


def concat_modalities(blocks, *, as_frame="auto"):
    """Build one ``X`` and its ``modalities`` from separate per-modality blocks.

    Parameters
    ----------
    blocks : dict of str to array-like or DataFrame
        One 2-D block per modality, all with the same number of rows. A 1-D
        block is treated as one column.
    as_frame : bool or "auto", default="auto"
        Return a pandas DataFrame. ``"auto"`` does so when any block is a
        DataFrame. DataFrame blocks keep their column names; array blocks get
        ``<name>_0 .. <name>_k``.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, total width)
    modalities : dict of str to list
        Column names (DataFrame output) or column positions (array output).

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import concat_modalities
    >>> X, modalities = concat_modalities({"tab": np.ones((3, 2)), "text": np.zeros((3, 4))})
    >>> X.shape
    (3, 6)
    >>> modalities
    {'tab': [0, 1], 'text': [2, 3, 4, 5]}
    """
    check_modality_names(blocks, param="blocks")
    frames = {name: hasattr(block, "columns") for name, block in blocks.items()}
    if as_frame == "auto":
        as_frame = any(frames.values())
    arrays, names = {}, {}
    for name, block in blocks.items():
        if frames[name]:
            names[name] = [str(c) for c in block.columns]
            arrays[name] = block
            continue
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[:, None]
        if block.ndim != 2:
            raise ValueError(f"Block {name!r} must be 1-D or 2-D; got {block.ndim}-D.")
        arrays[name] = block
        names[name] = [f"{name}_{i}" for i in range(block.shape[1])]
    n_rows = {name: block.shape[0] for name, block in arrays.items()}
    if len(set(n_rows.values())) > 1:
        raise ValueError(f"All blocks must have the same number of rows; got {n_rows}.")
    if as_frame:
        import pandas as pd

        parts = []
        for name, block in arrays.items():
            if frames[name]:
                part = block.reset_index(drop=True)
                part.columns = names[name]
            else:
                part = pd.DataFrame(block, columns=names[name])
            parts.append(part)
        X = pd.concat(parts, axis=1)
        if X.columns.duplicated().any():
            dup = X.columns[X.columns.duplicated()][0]
            raise ValueError(f"Column name {dup!r} appears in more than one block.")
        return X, names
    dense = [np.asarray(block) for block in arrays.values()]
    X = np.concatenate(dense, axis=1)
    modalities, start = {}, 0
    for name, block in zip(arrays, dense):
        modalities[name] = list(range(start, start + block.shape[1]))
        start += block.shape[1]
    return X, modalities
