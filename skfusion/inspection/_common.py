"""What the inspection tools share: the modality specification they read, their CV
splits, and the subsets of modalities they score."""

from itertools import combinations

import numpy as np
from sklearn.base import is_classifier, is_regressor

from .._modalities import check_finite_target, resolve_modalities
from .._utils.splits import make_splits
from .._utils.scoring_checks import check_scoring_suits_task

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


def check_scoring_suits_estimator(estimator, scorer, scoring, y, splits=None):
    """compare_fusion's check that the scoring suits the task (the estimator's type),
    before any fit: not every fold failing with "continuous is not supported", or
    r2 of one-row test folds NaN everywhere. Neither a classifier nor a regressor
    (a clusterer, say): nothing to check."""
    if is_classifier(estimator):
        check_scoring_suits_task(scorer, scoring, "classification", y, splits)
    elif is_regressor(estimator):
        check_scoring_suits_task(scorer, scoring, "regression", y, splits)


def ablation_subsets(names):
    n = len(names)
    if n <= MAX_EXHAUSTIVE_MODALITIES:
        return [subset for size in range(1, n + 1) for subset in combinations(names, size)]
    singles = [(name,) for name in names]
    leave_one_out = [tuple(other for other in names if other != name) for name in names]
    return singles + leave_one_out + [tuple(names)]


