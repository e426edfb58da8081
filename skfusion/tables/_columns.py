"""What a table's cells and columns are: empty cells, and the kind of each column.

One place decides when a cell is empty (so that inference, presence of a
modality in a row and the encoders agree) and which kind a column is, from
its dtype and, for object columns, from its values.
"""

import datetime
import numbers
import re
import warnings

import numpy as np
import pandas as pd

__all__ = [
    "NULL_STRINGS",
    "KINDS",
    "as_frame",
    "check_number_format",
    "column_kind",
    "empty_cells",
    "date_reading",
    "number_format",
    "read_dates",
    "read_numbers",
    "skrub_reads_dates",
]

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
    if not _is_object_like(dtype) and "list" not in str(dtype):  # pyarrow lists: below
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
            if _is_vector(value):
                raise TypeError(_vector_message(name, value, written=False))
            raise TypeError(
                f"Column {name!r} holds a value of type {type(value).__name__} "
                f"({_preview(value)}); each cell must hold a string, a number, a "
                "boolean or a datetime. Exclude the column or convert it."
            )
        kinds.add(kind)
    if not kinds:
        return "string"
    if kinds == {"string"}:
        kind = _string_kind(values)
        if kind == "string" and all(_VECTOR.match(value) for value in values):
            raise TypeError(_vector_message(name, values[0], written=True))
        return kind
    if "string" in kinds:
        return "string"
    if len(kinds) == 1:
        return kinds.pop()
    return "numeric" if kinds <= {"numeric", "boolean"} else "string"


# One way only to match a number (not \d+\.?\d*, which splits "11111" five ways: their
# product over the numbers of a long non-vector made matching exponential)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# A vector written as text: "[0.21, -0.47, 0.05]" (JSON, a list), "[ 0.21 -0.47 0.05]"
# (numpy), "(0.21, -0.47, 0.05)". Three numbers at least, so that intervals ("(0, 10]",
# pandas.cut's labels) and pairs stay strings.
# Numbers are separated by a comma or by white space, never by nothing: with an optional
# separator "(212)" read as the three numbers 2, 1, 2, and a long run of digits could
# be split every possible way (exponential backtracking: 24 s on 20 digits).
_VECTOR_BODY = rf"\s*{_NUMBER}(?:(?:\s*,\s*|\s+){_NUMBER}){{2,}}\s*,?\s*"
_VECTOR = re.compile(rf"^\s*(?:\[{_VECTOR_BODY}\]|\({_VECTOR_BODY}\))\s*$")


def _is_vector(value):
    """A list, tuple or array of numbers (a cell of a Parquet list column)."""
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) == 0:
        return False
    return all(isinstance(item, numbers.Real) and not isinstance(item, bool) for item in value)


def _preview(value, width=40):
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _vector_message(name, value, *, written):
    """Why a column of vectors is refused, and how to expand it into an embedding."""
    items = re.findall(_NUMBER, value) if written else list(value)
    shown = ", ".join(f"{float(item):g}" for item in items[:3])
    example = f"[{shown}{', ...' if len(items) > 3 else ''}] ({len(items)} numbers)"
    column = f"X[{name!r}]"
    read = f"{column}.str.strip('[]() ').str.replace(',', ' ').str.split()" if written else column
    return (
        f"Column {name!r} holds a vector in each cell{' written as text' if written else ''}, "
        f"e.g. {example}; a column holds one value per cell. Expand it into one column "
        "per dimension, which infer_modalities reads as an embedding modality: "
        f"vectors = np.stack({read}).astype(float); X = X.drop(columns={name!r}).join("
        f"pd.DataFrame(vectors, index=X.index).add_prefix('{name}_'))."
    )


def _string_kind(values):
    """Strings that all read as numbers are numbers, as dates datetimes (ISO 8601, or
    one format pandas guesses, "01/31/2021", "31.01.2021 14:05", "01 May 2021");
    other strings are strings."""
    values = pd.Series(values, dtype=object)
    try:
        pd.to_numeric(values)
        return "numeric"
    except (ValueError, TypeError):
        pass
    return "datetime" if date_reading(values) is not None else "string"


def date_reading(values):
    """``(format, utc)`` with which ``pd.to_datetime`` reads every one of ``values``
    (strings) as a date, or None.

    ``utc`` is True for offsets that differ between values (``"+01:00"`` and
    ``"+02:00"`` across a daylight-saving change), which pandas reads only as UTC.
    """
    values = pd.Series(values, dtype=object)
    candidates = []
    if values.str.contains(r"^\s*\d{4}-\d{2}", regex=True).all():
        candidates.append("ISO8601")
    candidates += _datetime_formats(values)
    for datetime_format in candidates:
        for utc in (False, True):
            if _parses(values, datetime_format, utc):
                return datetime_format, utc
    return None


def skrub_reads_dates(values):
    """Whether skrub's ToDatetime reads these date strings itself: pandas' guesses on a
    sample agree on one format (month first, else day first) that reads every value
    without converting to UTC. Otherwise :func:`read_dates` reads them first."""
    formats = _datetime_formats(values, agreed=True)
    return bool(formats) and _parses(pd.Series(values, dtype=object), formats[0], False)


def read_dates(column, reading):
    """The dates of a column of strings read as ``reading`` (:func:`date_reading`):
    NaT in empty cells and in values that do not fit."""
    datetime_format, utc = reading
    values = column.where(~empty_cells(column))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, format=datetime_format, utc=utc, errors="coerce")


def _parses(values, datetime_format, utc=False):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.to_datetime(values, format=datetime_format, utc=utc)
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def _datetime_formats(values, agreed=False):
    """pandas' guesses of the format on a sample of 30 values, month first then day
    first, the most frequent first. ``agreed``: only a guess the whole sample agrees on
    (skrub's rule); otherwise each is a candidate, since a guess may differ with the
    value ("%B" for "01 May 2020" beside "%b" for "01 Mar 2020")."""
    from pandas.tseries.api import guess_datetime_format

    sample = values.sample(n=min(30, len(values)), random_state=0)
    formats = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for dayfirst in (False, True):
            guesses = pd.Series([guess_datetime_format(value, dayfirst=dayfirst) for value in sample])
            if agreed:
                if guesses.nunique(dropna=False) == 1 and guesses.notna().all():
                    return [guesses.iloc[0]]
                continue
            formats += [f for f in guesses.dropna().value_counts().index if f not in formats]
    return formats


# ---------------------------------------------------------------- numbers written as text

#: Currency signs a number written as text may carry, before or after it ("%" only after).
CURRENCIES = "$€£¥₹"
# One value: a sign, a currency, the digits with their separators, a currency or "%".
_AFFIXED = re.compile(
    rf"^(?P<sign>[-+]?)(?P<prefix>[{CURRENCIES}]?) ?(?P<sign2>[-+]?)"
    rf"(?P<body>\d(?:[\d,.' ]*\d)?) ?(?P<suffix>[%{CURRENCIES}]?)$"
)
# (thousands, decimal) separators, in the order a reading is preferred when several
# fit every value: a "." is a decimal point and a "," a thousands separator unless
# some value says otherwise (as in plain numbers, pandas' thousands="," and English).
_SEPARATORS = (("", "."), (",", "."), (".", ","), ("", ","), (" ", ","), (" ", "."), ("'", "."))
# A format as text: 1234.5 written the column's way, e.g. "$1,234.5", "1.234,5", "1234.5%".
_PATTERN = re.compile(
    rf"^(?P<prefix>[{CURRENCIES}]?)1(?P<thousand>[,.' ]?)234(?P<decimal>[.,])5"
    rf"(?P<suffix>[%{CURRENCIES}]?)$"
)


def _affixed_parts(values):
    """Sign, prefix, body and suffix of each of ``values`` (a Series of str), NaN where a
    value is not a number; no-break spaces (French thousands) read as spaces."""
    values = values.str.replace("[\u00a0\u202f]", " ", regex=True).str.strip()
    return values.str.extract(_AFFIXED)


def _split(values):
    """:func:`_affixed_parts` of ``values``, or None when a value is not a number, or the
    values do not share one prefix and one suffix."""
    parts = _affixed_parts(values)
    if parts["body"].isna().any() or parts["prefix"].nunique() > 1 or parts["suffix"].nunique() > 1:
        return None
    if parts["prefix"].iloc[0] and parts["suffix"].iloc[0]:
        return None
    return parts


def _read_bodies(parts, thousand, decimal):
    """The numbers of ``parts`` read with these separators: NaN where a value does not fit."""
    t, d = re.escape(thousand), re.escape(decimal)
    # grouped digits start with 1 to 3 digits, not 0 ("0.125" is no thousand)
    integer = rf"(?:[1-9]\d{{0,2}}(?:{t}\d{{3}})+|\d+)" if thousand else r"\d+"
    bodies = parts["body"]
    text = bodies.where(bodies.str.fullmatch(rf"{integer}(?:{d}\d+)?"))
    if thousand:
        text = text.str.replace(thousand, "", regex=False)
    numbers = text.str.replace(decimal, ".", regex=False).astype(np.float64).to_numpy()
    negative = ((parts["sign"] == "-") | (parts["sign2"] == "-")).to_numpy()
    return np.where(negative, -numbers, numbers)


def number_format(values):
    """How strings write numbers: ``(pattern, note)``, or ``(None, None)``.

    ``pattern`` is 1234.5 written as every one of ``values`` is (one
    thousands separator, one decimal separator, one currency sign or ``"%"``):
    ``"$1,234.5"``, ``"1.234,5"``, ``"1234.5%"``. When another reading of
    the separators fits every value too and gives other numbers (``"1,565"``
    is 1565 or 1.565), the preferred one is taken and ``note`` says which
    value reads two ways; it is None otherwise. Plain numbers (``"3.5"``,
    which pandas reads) have no pattern.
    """
    values = pd.Series(values, dtype=object)
    if values.empty or not all(isinstance(value, str) for value in values):
        return None, None
    parts = _split(values)
    if parts is None:
        return None, None
    readings = []
    present = set("".join(parts["body"]))
    for thousand, decimal in _SEPARATORS:
        unused = thousand if thousand else (decimal if decimal == "," else "")
        if unused and unused not in present:
            continue  # the same reading as one without that separator
        numbers = _read_bodies(parts, thousand, decimal)
        if not np.isnan(numbers).any():
            readings.append((thousand, decimal, numbers))
    if not readings:
        return None, None
    prefix, suffix = parts["prefix"].iloc[0], parts["suffix"].iloc[0]
    if set(CURRENCIES) & {prefix, suffix}:
        # an amount has 0 or 2 decimals, not 3 in every value: "$2,341" and "€2.341"
        # are thousands, and that settles it
        readings = [r for r in readings if not _three_decimals(parts["body"], r[1])] or readings
    thousand, decimal, numbers = readings[0]
    if not (prefix or suffix or thousand or decimal != "."):
        return None, None
    note = None
    other = next((r for r in readings[1:] if not np.array_equal(r[2], numbers)), None)
    if other is not None:
        i = int(np.flatnonzero(other[2] != numbers)[0])
        value = values.iloc[i]
        note = (
            f"{value!r} reads as {numbers[i]:g} ({_roles(value, thousand, decimal)}) or as "
            f"{other[2][i]:g} ({_roles(value, *other[:2])}); the first is taken"
        )
    return f"{prefix}1{thousand}234{decimal}5{suffix}", note


def _three_decimals(bodies, decimal):
    """Whether every body with the decimal separator has exactly 3 digits after it."""
    marked = bodies[bodies.str.contains(decimal, regex=False)]
    return bool(len(marked)) and bool(marked.str.contains(rf"{re.escape(decimal)}\d{{3}}$").all())


def _roles(value, thousand, decimal):
    """What each separator in ``value`` is under one reading: "',' thousands separator"."""
    roles = [f"{thousand!r} thousands separator"] if thousand and thousand in value else []
    return ", ".join(roles + ([f"{decimal!r} decimal separator"] if decimal in value else []))


def check_number_format(pattern, column):
    """The parts of a number format ``pattern`` (see :func:`number_format`), or a ValueError."""
    match = _PATTERN.match(pattern) if isinstance(pattern, str) else None
    if match is None or match["thousand"] == match["decimal"] or (match["prefix"] and match["suffix"]):
        raise ValueError(
            f"Column {column!r}: number format {pattern!r} is not 1234.5 written with an "
            "optional thousands separator (',', '.', ' ' or \"'\"), a decimal separator ('.' "
            f"or ','), and one currency sign ({CURRENCIES}) or '%', e.g. '$1,234.5' or "
            "'1.234,5'."
        )
    return match.groupdict()


def read_numbers(column, pattern):
    """The numbers of a column of strings written as ``pattern``: a float array, NaN in
    empty cells, and the values that do not fit the pattern (NaN too)."""
    parts = check_number_format(pattern, column.name)
    empty = empty_cells(column)
    values = column.to_numpy(dtype=object, na_value=None)
    numbers = np.full(len(values), np.nan)
    filled = np.flatnonzero(~empty)
    text = pd.Series([str(values[i]) for i in filled], dtype=object)
    split = _affixed_parts(text)
    fits = (
        split["body"].notna()
        & (split["prefix"].fillna("") == parts["prefix"])
        & (split["suffix"].fillna("") == parts["suffix"])
    ).to_numpy()
    read = _read_bodies(split.fillna(""), parts["thousand"], parts["decimal"])
    read[~fits] = np.nan
    numbers[filled] = read
    return numbers, text[np.isnan(read)].tolist()
