"""What the inspection tools share: the modality specification they read, their CV
splits, and the subsets of modalities they score."""

from itertools import combinations

import numpy as np
from sklearn.base import is_classifier

from .._modalities import check_finite_target, resolve_modalities
from .._utils.splits import make_splits

#: Above this many modalities, refitting on every subset (2**n - 1 of them)
#: is too costly: ablation falls back to singles, leave-one-out and all, and
#: Shapley values by refitting are refused.
MAX_EXHAUSTIVE_MODALITIES = 6
#: Shapley values without refitting cost one prediction per subset.
MAX_MASKED_MODALITIES = 12


def as_2d(X):
    """Leave arrays and DataFrames alone; turn lists into arrays."""
    return X if hasattr(X, "shape") else np.asarray(X)


def modality_spec(estimator, X, modalities):
    """``{name: positions}`` from ``modalities``, else from the fitted estimator."""
    if modalities is not None:
        return resolve_modalities(modalities, X)
    fitted = getattr(estimator, "modalities_", None)
    if fitted is None:
        raise ValueError(
            "Pass `modalities`: the estimator has no fitted `modalities_` to read them from."
        )
    return {name: np.asarray(columns, dtype=np.intp) for name, columns in fitted.items()}


def cv_splits(cv, X, y, estimator, groups=None):
    check_finite_target(y)
    return make_splits(cv, X, y, classifier=is_classifier(estimator), groups=groups)


def ablation_subsets(names):
    n = len(names)
    if n <= MAX_EXHAUSTIVE_MODALITIES:
        return [subset for size in range(1, n + 1) for subset in combinations(names, size)]
    singles = [(name,) for name in names]
    leave_one_out = [tuple(other for other in names if other != name) for name in names]
    return singles + leave_one_out + [tuple(names)]


