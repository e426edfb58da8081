"""The plain text that result objects and messages print: aligned tables (ablations,
comparisons), "mean ± std" cells and lists of columns cut short; and the numbers of
their JSON (NaN as None)."""

import math

__all__ = ["format_table", "json_number", "mean_std", "shorten"]

#: Items listed on a report line or in a message before "... (n in all)".
SHOWN_ITEMS = 10


def shorten(items, shown=SHOWN_ITEMS):
    """``items`` (str) joined by commas: the first ``shown``, then how many in all, so
    that a message about a wide table stays readable."""
    items = list(items)
    listed = ", ".join(items[:shown])
    return listed if len(items) <= shown else f"{listed}, ... ({len(items)} in all)"


def format_table(header, rows, *, left=1):
    """``header`` and ``rows`` (lists of str) as aligned text, a rule under the header.

    The first ``left`` columns are left-aligned (labels), the others
    right-aligned (numbers); trailing spaces are stripped.
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(
            str(cell).ljust(width) if i < left else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths))
        ).rstrip()
        for line in lines
    )


def mean_std(mean, std, digits, undefined):
    """``"mean ± std"``, or ``undefined`` when every fold failed."""
    if math.isnan(mean):
        return undefined
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def json_number(value):
    """``value`` as a float for JSON, None for NaN (a failed fold's score)."""
    value = float(value)
    return None if math.isnan(value) else value
