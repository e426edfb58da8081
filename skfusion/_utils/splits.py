"""Cross-validation splits, made once as a list so that every fit that should
see the same folds does (branches of a late fusion, subsets of an ablation,
strategies of a comparison)."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, check_cv

__all__ = ["make_splits"]


def make_splits(cv, X, y, *, classifier, groups=None, shuffle_seed=None, partition=False):
    """The folds of ``cv`` on ``X, y`` as a list of ``(train, test)`` index arrays.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable
        As in scikit-learn (stratified K-fold for an int and a classifier).
    X, y : array-like
        The data the folds split.
    classifier : bool
        Whether an int ``cv`` stratifies.
    groups : array-like, default=None
        For group splitters.
    shuffle_seed : int, RandomState instance or None, default=None
        With an int ``cv``, shuffle the rows with this seed before splitting;
        None keeps scikit-learn's unshuffled folds.
    partition : bool, default=False
        Check that the test folds partition the rows (every row tested exactly
        once), as out-of-fold predictions need.
    """
    if shuffle_seed is not None and isinstance(cv, Integral) and not isinstance(cv, bool):
        splitter = StratifiedKFold if classifier else KFold
        cv = splitter(n_splits=cv, shuffle=True, random_state=shuffle_seed)
    splitter = check_cv(cv, y, classifier=classifier)
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y, groups)]
    if partition:
        n_samples = np.shape(y)[0]
        tested = np.concatenate([test for _, test in splits]) if splits else np.empty(0, int)
        if tested.size != n_samples or np.unique(tested).size != n_samples:
            raise ValueError(
                "`cv` must partition the rows (every row in exactly one test fold) to give "
                f"out-of-fold predictions; its {len(splits)} test folds cover "
                f"{np.unique(tested).size} of {n_samples} rows."
            )
    return splits
