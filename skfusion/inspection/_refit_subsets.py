"""Refitting an estimator on a subset of its modalities, cross-validated.

What modality ablation and Shapley values by refitting share: a clone of the
estimator whose every ``modalities`` parameter (its own, its branches', those
of estimators nested in it) is pointed at the subset's columns, fitted and
scored on each fold in one flat parallel call.
"""

import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import FitFailedWarning
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed

from .._modalities import branch_columns, branch_modalities, take_columns

__all__ = ["restricted", "cross_val_subsets", "score_table", "dummy_for"]


def _branch_names(branch):
    """Modalities a late-fusion branch ``(name, est)`` or ``(name, est, names)`` reads."""
    return [branch[0]] if len(branch) == 2 else list(branch[2])


def _restrict_fusion(estimator, params, spec):
    """Restrict a fusion estimator (one with a ``modalities`` parameter) to ``spec``'s modalities."""
    updates = {"modalities": {name: list(columns) for name, columns in spec.items()}}
    branches = params.get("estimators")
    if isinstance(branches, (list, tuple)):
        kept, restricted = [], []
        for i, branch in enumerate(branches):
            names = [name for name in _branch_names(branch) if name in spec]
            if not names:
                continue
            kept.append(i)
            restricted.append(branch if len(branch) == 2 else (branch[0], branch[1], names))
            if hasattr(branch[1], "get_params"):
                # The branch sees only its modalities' columns.
                _restrict(branch[1], branch_modalities(spec, names))
        if not restricted:
            raise ValueError(
                f"No branch of {type(estimator).__name__} reads the modalities "
                f"{list(spec)}; cannot restrict it to them."
            )
        updates["estimators"] = restricted
        weights = params.get("weights")
        if isinstance(weights, (list, tuple, np.ndarray)) and len(weights) == len(branches):
            updates["weights"] = [weights[i] for i in kept]
    for key in ("transformers", "weights"):
        value = params.get(key)
        # Per-modality settings keyed by name lose the modalities left out.
        if isinstance(value, dict):
            updates[key] = {name: setting for name, setting in value.items() if name in spec}
    estimator.set_params(**updates)


def _sub_estimators(value):
    """Estimators held in a parameter value (directly or in (name, est) lists)."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _sub_estimators(item)


def _restrict(estimator, spec):
    """Point every ``modalities`` parameter inside ``estimator`` at ``spec`` (in place).

    ``estimator`` is a clone this module owns. ``spec`` holds column positions
    in the input the estimator will receive.
    """
    params = estimator.get_params(deep=False)
    if params.get("modalities") is not None:
        _restrict_fusion(estimator, params, spec)
        return
    for value in params.values():
        for sub in _sub_estimators(value):
            _restrict(sub, spec)


def restricted(estimator, spec, subset):
    """An unfitted clone of ``estimator`` for ``subset``, and the columns it reads."""
    estimator = clone(estimator)
    _restrict(estimator, branch_modalities(spec, list(subset)))
    return estimator, branch_columns(spec, list(subset))


def _fit_and_score(estimator, spec, subset, X, y, train, test, scorer, error_score):
    """Fit the estimator restricted to ``subset`` (None: as is) on ``train``, score ``test``.

    Returns None when the fit fails and ``error_score`` is not "raise".
    """
    try:
        columns = None
        if subset is not None:
            estimator, columns = restricted(estimator, spec, subset)
            X = take_columns(X, columns)
        fitted = estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    except Exception as exc:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        label = "no modality" if subset is None else " + ".join(subset)
        warnings.warn(
            f"Fitting on {label} failed; its score is set to error_score={error_score!r}. "
            f"{type(exc).__name__}: {exc}",
            FitFailedWarning,
        )
        return None
    return scorer(fitted, _safe_indexing(X, test), _safe_indexing(y, test))


def dummy_for(estimator):
    """The uninformed model: class prior or the mean, whatever the features."""
    return DummyClassifier(strategy="prior") if is_classifier(estimator) else DummyRegressor()


def cross_val_subsets(
    estimator, X, y, spec, subsets, splits, scorer, n_jobs, *, empty=False, error_score="raise"
):
    """Per-fold scores of the estimator refitted on each subset, one flat parallel call.

    Returns a list (one entry per subset, then the empty set when ``empty``) of
    lists of fold scores (floats, or dicts for several metrics; None for a
    failed fit).
    """
    jobs = [
        delayed(_fit_and_score)(estimator, spec, subset, X, y, train, test, scorer, error_score)
        for subset in subsets
        for train, test in splits
    ]
    if empty:
        dummy = dummy_for(estimator)
        jobs.extend(
            delayed(_fit_and_score)(clone(dummy), spec, None, X, y, train, test, scorer, "raise")
            for train, test in splits
        )
    scores = Parallel(n_jobs=n_jobs)(jobs)
    n_splits = len(splits)
    return [scores[i : i + n_splits] for i in range(0, len(scores), n_splits)]


def score_table(scores, scoring, error_score):
    """``{metric: (n_subsets, n_splits) array}``, failed fits set to ``error_score``."""
    succeeded = [fold for row in scores for fold in row if fold is not None]
    if not succeeded:
        raise ValueError("Every fit failed; see the warnings for the errors.")
    if isinstance(succeeded[0], dict):
        return {
            metric: np.array(
                [[error_score if fold is None else fold[metric] for fold in row] for row in scores],
                dtype=float,
            )
            for metric in succeeded[0]
        }
    metric = scoring if isinstance(scoring, str) else "score"
    rows = [[error_score if fold is None else fold for fold in row] for row in scores]
    return {metric: np.array(rows, dtype=float)}
