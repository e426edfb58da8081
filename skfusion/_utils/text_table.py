"""The plain-text tables that result objects print (ablations, comparisons)."""

__all__ = ["format_table"]


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
