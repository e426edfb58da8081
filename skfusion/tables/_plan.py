"""ModalityPlan: which columns of a table form which modality, and which are left out."""

from dataclasses import dataclass

from .._modalities import check_modality_names
from .._utils.text_table import format_table, shorten
from ._columns import check_number_format

__all__ = ["ModalityPlan", "MODALITY_KINDS"]

#: The kinds of modality, and how :class:`~skfusion.tables.TableEncoder` encodes each.
MODALITY_KINDS = {
    "tabular": "skrub TableVectorizer, empty cells imputed, scaled",
    "text": "TF-IDF word n-grams and/or sentence embedding",
    "embedding": "empty cells imputed, columns standardised",
}

_SHOWN_COLUMNS = 3  # columns listed by name in a report cell before "... (n columns)"
def _as_pairs(mapping, what):
    if isinstance(mapping, dict):
        return tuple(mapping.items())
    raise TypeError(f"`{what}` must be a dict; got {type(mapping).__name__}.")


@dataclass(frozen=True, init=False)
class ModalityPlan:
    """Which columns of a table form which modality, what kind each is, and what is left out.

    What :func:`infer_modalities` proposes, and what
    :class:`TableEncoder` and :class:`TableFusion` follow. A plan is
    immutable and compares equal to a plan with the same content;
    ``str(plan)`` is a readable table, :attr:`modalities` the plain
    ``{name: [columns]}`` specification every skfusion estimator takes.

    Parameters
    ----------
    modalities : dict of str to list of str
        Column names of each modality, in order.
    kinds : dict of str to str
        Kind of each modality: ``"tabular"`` (numbers, booleans, categories,
        short strings, datetimes), ``"text"`` (one free-text column) or
        ``"embedding"`` (numeric columns of one vector).
    excluded : dict of str to str, default=None
        Columns in no modality, and why (e.g. ``"identifier"``); they are never read.
    number_formats : dict of str to str, default=None
        Columns of strings read as numbers, and how they write them: 1234.5
        written their way, with a thousands separator (``","``, ``"."``,
        ``" "``, ``"'"``), a decimal separator and a currency sign or
        ``"%"`` (``{"price": "$1,234.5", "share": "1234.5%", "weight":
        "1.234,5"}``). The encoder reads them as these numbers (the sign
        dropped); a cell that does not fit is empty, with a warning.

    Attributes
    ----------
    modalities : dict of str to list of str
        A new ``{name: [column names]}`` dict at each access.
    kinds : dict of str to str
        Kind of each modality.
    excluded : dict of str to str
        Columns left out, with the reason.
    number_formats : dict of str to str
        Columns of strings read as numbers, and their format.
    columns : list of str
        Every column some modality reads, modality by modality.

    See Also
    --------
    infer_modalities : Propose a plan from a DataFrame.
    TableEncoder : Encode a table following a plan.

    Examples
    --------
    >>> from skfusion.tables import ModalityPlan
    >>> plan = ModalityPlan(
    ...     modalities={"review": ["review"], "tabular": ["price", "stars"]},
    ...     kinds={"review": "text", "tabular": "tabular"},
    ...     excluded={"id": "identifier"},
    ... )
    >>> plan.modalities
    {'review': ['review'], 'tabular': ['price', 'stars']}
    >>> print(plan)
    modality  kind     columns       encoding
    --------  -------  ------------  --------------------------------------------------
    review    text     review        TF-IDF word n-grams and/or sentence embedding
    tabular   tabular  price, stars  skrub TableVectorizer, empty cells imputed, scaled
    excluded: id (identifier)
    >>> ModalityPlan(**plan.to_dict()) == plan
    True
    """

    _modalities: tuple
    _kinds: tuple
    _excluded: tuple
    _number_formats: tuple = ()

    def __init__(self, modalities, kinds, excluded=None, number_formats=None):
        modalities = check_modality_names(modalities, param="modalities") if modalities is not None else None
        if modalities is None:
            raise TypeError("`modalities` must be a dict {name: [columns]}; got None.")
        entries = []
        for name, columns in _as_pairs(modalities, "modalities"):
            columns = [columns] if isinstance(columns, str) else list(columns)
            if not columns:
                raise ValueError(f"Modality {name!r} has no column.")
            for column in columns:
                if not isinstance(column, str):
                    raise TypeError(
                        f"Modality {name!r}: columns are named by strings; got {column!r}."
                    )
            entries.append((name, tuple(columns)))
        seen = {}
        for name, columns in entries:
            for column in columns:
                if column in seen:
                    raise ValueError(
                        f"Column {column!r} is in modalities {seen[column]!r} and {name!r}; "
                        "a column belongs to one modality."
                    )
                seen[column] = name
        kinds = dict(_as_pairs(kinds, "kinds"))
        if set(kinds) != {name for name, _ in entries}:
            raise ValueError(
                f"`kinds` must give the kind of each modality {[n for n, _ in entries]}; "
                f"got {list(kinds)}."
            )
        for name, kind in kinds.items():
            if kind not in MODALITY_KINDS:
                raise ValueError(
                    f"Modality {name!r} has kind {kind!r}; kinds are {list(MODALITY_KINDS)}."
                )
            if kind == "text" and len(dict(entries)[name]) != 1:
                raise ValueError(
                    f"Text modality {name!r} has {len(dict(entries)[name])} columns; a text "
                    "modality is one column (give each text column its own modality)."
                )
        excluded = _as_pairs(excluded if excluded is not None else {}, "excluded")
        overlap = [column for column, _ in excluded if column in seen]
        if overlap:
            raise ValueError(f"Column {overlap[0]!r} is both in a modality and excluded.")
        number_formats = _as_pairs(number_formats if number_formats is not None else {}, "number_formats")
        for column, pattern in number_formats:
            if column not in seen or kinds[seen[column]] == "text":
                raise ValueError(
                    f"`number_formats` names column {column!r}, which is in no tabular or "
                    "embedding modality."
                )
            check_number_format(pattern, column)
        object.__setattr__(self, "_modalities", tuple(entries))
        object.__setattr__(self, "_number_formats", tuple(number_formats))
        object.__setattr__(self, "_kinds", tuple((name, kinds[name]) for name, _ in entries))
        object.__setattr__(self, "_excluded", tuple((str(c), str(r)) for c, r in excluded))

    @property
    def modalities(self):
        return {name: list(columns) for name, columns in self._modalities}

    @property
    def kinds(self):
        return dict(self._kinds)

    @property
    def excluded(self):
        return dict(self._excluded)

    @property
    def number_formats(self):
        return dict(self._number_formats)

    @property
    def columns(self):
        return [column for _, columns in self._modalities for column in columns]

    def to_dict(self):
        """The plan as plain dicts: ``ModalityPlan(**plan.to_dict()) == plan``.

        Returns
        -------
        dict
            ``{"modalities": ..., "kinds": ..., "excluded": ..., "number_formats": ...}``.
        """
        return {
            "modalities": self.modalities,
            "kinds": self.kinds,
            "excluded": self.excluded,
            "number_formats": self.number_formats,
        }

    def __str__(self):
        return self.to_string()

    def to_string(self, encodings=None):
        """The plan as a readable table (``str(plan)``).

        Parameters
        ----------
        encodings : dict of str to str, default=None
            How each kind of modality is encoded, where it is not the default
            of :class:`TableEncoder` (e.g. when its text representation is set).

        Returns
        -------
        str
            One row per modality (name, kind, columns, encoding), then the
            columns read as numbers and those excluded.
        """
        encodings = {**MODALITY_KINDS, **(encodings or {})}
        rows = [
            [name, kind, _abbreviate(columns), encodings[kind]]
            for (name, columns), (_, kind) in zip(self._modalities, self._kinds)
        ]
        table = format_table(["modality", "kind", "columns", "encoding"], rows, left=4)
        if self._number_formats:
            formats = shorten(f"{column} (like {pattern})" for column, pattern in self._number_formats)
            table += f"\nread as numbers: {formats}"
        if self._excluded:
            table += f"\nexcluded: {shorten(f'{c} ({reason})' for c, reason in self._excluded)}"
        return table

    def __repr__(self):
        parts = ", ".join(
            f"{name}: {kind}, {len(columns)} column{'s' if len(columns) > 1 else ''}"
            for (name, columns), (_, kind) in zip(self._modalities, self._kinds)
        )
        return f"ModalityPlan({parts}; {len(self._excluded)} excluded)"


def _abbreviate(columns):
    if len(columns) <= _SHOWN_COLUMNS:
        return ", ".join(columns)
    return f"{', '.join(columns[:2])}, ... ({len(columns)} columns)"
