"""What a table's cells and columns are: empty cells, and the kind of each column.

One place decides when a cell is empty (so that inference, presence of a
modality in a row and the encoders agree) and which kind a column is, from
its dtype and, for object columns, from its values.
"""

import datetime
import numbers
import warnings

import numpy as np
import pandas as pd

__all__ = ["NULL_STRINGS", "KINDS", "as_frame", "column_kind", "empty_cells"]

#: Strings read as an empty cell, besides empty and whitespace-only strings:
#: the list of skrub's ``CleanNullStrings`` (itself pandas' ``read_csv`` list
#: with ``"?"``, ``"..."``, ``"none"`` and ``"None"``), so that the cells a
#: :class:`~skrub.TableVectorizer` reads as null are the cells counted empty here.
NULL_STRINGS = frozenset(
    [
        "null", "", "1.#QNAN", "#NA", "nan", "#N/A N/A", "-1.#QNAN", "<NA>", "-1.#IND",
        "-nan", "n/a", "-NaN", "1.#IND", "NULL", "NA", "N/A", "#N/A", "NaN", "?", "...",
        "none", "None",
    ]
)  # fmt: skip

#: The column kinds :func:`column_kind` returns.
KINDS = ("numeric", "boolean", "category", "string", "datetime", "duration")


def as_frame(X, *, param="X"):
    """``X`` as a pandas DataFrame (polars through its ``to_pandas``), or None for other input."""
    if isinstance(X, pd.DataFrame):
        return X
    module = type(X).__module__.split(".")[0]
    if module == "polars" and hasattr(X, "to_pandas"):
        return X.to_pandas()
    return None


def _is_object_like(dtype):
    return dtype == object or isinstance(dtype, pd.StringDtype)


def empty_cells(column):
    """Boolean mask of the empty cells of a Series: missing values, and strings that
    are empty, whitespace only or one of :data:`NULL_STRINGS`."""
    empty = np.array(column.isna(), dtype=bool)  # a writable copy (pandas 3 returns views)
    if _is_object_like(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
        values = column.to_numpy(dtype=object, na_value=None)
        for i in np.flatnonzero(~empty):
            value = values[i]
            if isinstance(value, str) and (value in NULL_STRINGS or not value.strip()):
                empty[i] = True
    return empty


def _value_kind(value):
    """Kind of one non-empty cell of an object column, or None when skfusion cannot encode it."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, numbers.Real):
        return "numeric"
    if isinstance(value, (datetime.date, np.datetime64)):
        return "datetime"
    if isinstance(value, (datetime.timedelta, np.timedelta64)):
        return "duration"
    return None


def column_kind(name, column, empty):
    """The kind of a column (one of :data:`KINDS`), or a TypeError naming it.

    ``empty`` is :func:`empty_cells` of the column; an object column's kind
    comes from its non-empty values (strings mixed with numbers are strings,
    strings that all read as numbers are numeric and ISO 8601 date strings
    are datetimes, as skrub reads them).
    """
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(
            f"Column {name!r} holds complex numbers; a table's columns must hold numbers, "
            "booleans, strings, categories or datetimes. Exclude it or convert it."
        )
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if not _is_object_like(dtype):
        raise TypeError(
            f"Column {name!r} has dtype {dtype}, which skfusion.tables cannot encode; "
            "a table's columns must hold numbers, booleans, strings, categories or "
            "datetimes. Exclude it or convert it."
        )
    values = column.to_numpy(dtype=object, na_value=None)[~empty]
    kinds = set()
    for value in values:
        kind = _value_kind(value)
        if kind is None:
            raise TypeError(
                f"Column {name!r} holds a value of type {type(value).__name__} "
                f"({value!r:.40}); each cell's argument must be a string, a number, a "
                "boolean or a datetime. Exclude the column or convert it."
            )
        kinds.add(kind)
    if not kinds:
        return "string"
    if kinds == {"string"}:
        return _string_kind(values)
    if "string" in kinds:
        return "string"
    if len(kinds) == 1:
        return kinds.pop()
    return "numeric" if kinds <= {"numeric", "boolean"} else "string"


def _string_kind(values):
    """Strings that all read as numbers are numbers, as ISO 8601 dates datetimes (as
    skrub's TableVectorizer parses them); other strings are strings."""
    values = pd.Series(values, dtype=object)
    try:
        pd.to_numeric(values)
        return "numeric"
    except (ValueError, TypeError):
        pass
    if not values.str.contains(r"^\s*\d{4}-\d{2}", regex=True).all():
        return "string"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.to_datetime(values, format="ISO8601")
        return "datetime"
    except (ValueError, TypeError, OverflowError):
        return "string"
