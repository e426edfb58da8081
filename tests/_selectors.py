"""Modality selectors for scikit-learn's estimator checks, whose data width varies.

A class rather than functions: ``parametrize_with_checks`` names each test
after the estimator's repr, and a function's repr holds its memory address,
which differs between pytest-xdist workers (they must collect the same ids).
"""


class ColumnHalf:
    """Select the first or second half of the columns of ``X``.

    The first half is rounded up and the second half shares the middle column
    when the width is odd, so that one-column data still has two modalities.
    """

    def __init__(self, side):
        self.side = side

    def __call__(self, X):
        n_features = X.shape[1]
        if self.side == "first":
            return list(range((n_features + 1) // 2))
        return list(range(n_features // 2, n_features))

    def __repr__(self):
        return f"ColumnHalf({self.side!r})"


HALVES = {"first": ColumnHalf("first"), "second": ColumnHalf("second")}
