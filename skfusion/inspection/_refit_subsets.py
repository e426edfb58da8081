"""Refitting an estimator on a subset of its modalities, cross-validated.

What modality ablation and Shapley values by refitting share: a clone of the
estimator restricted to the subset (it answers how, through the modality
protocol), fitted and scored on each fold in one flat parallel call. A subset
the estimator cannot be restricted to (an alignment given one modality, a
late fusion with no branch over it) is scored with the uninformed model: the
estimator predicts nothing from those modalities alone.
"""

import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import FitFailedWarning
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed

from .._modalities import branch_columns, branch_modalities, take_columns
from .._utils.modality_protocol import ModalitySubsetError, restrict_to_modalities

__all__ = ["restricted", "subset_models", "cross_val_subsets", "score_table", "dummy_for"]


def restricted(estimator, spec, subset):
    """An unfitted clone of ``estimator`` for ``subset``, and the columns it reads.

    The clone receives only the subset's columns, so the modality
    specification it is restricted to is re-indexed to them; the estimator
    answers how it is restricted (see :mod:`skfusion._utils.modality_protocol`).
    Raises :class:`ModalitySubsetError` when it cannot use only ``subset``.
    """
    names = list(subset)
    return (
        restrict_to_modalities(estimator, branch_modalities(spec, names)),
        branch_columns(spec, names),
    )


def subset_models(estimator, spec, subsets):
    """Per subset: the model to refit (restricted, or the uninformed model) and its columns.

    Returns a list of ``(model, columns)`` and a dict ``{subset: reason}`` of
    the subsets scored with the uninformed model because the estimator cannot
    be restricted to them.
    """
    models, uninformed = [], {}
    for subset in subsets:
        try:
            models.append(restricted(estimator, spec, subset))
        except ModalitySubsetError as exc:
            uninformed[tuple(subset)] = str(exc)
            models.append((dummy_for(estimator), branch_columns(spec, list(subset))))
    return models, uninformed


def _fit_and_score(model, columns, label, X, y, train, test, scorer, error_score):
    """Fit a clone of ``model`` on the ``train`` rows of ``columns``, score ``test``.

    Returns None when the fit or the scoring fails and ``error_score`` is not
    "raise", with the warning :func:`~sklearn.model_selection.cross_validate`
    gives: a :class:`~sklearn.exceptions.FitFailedWarning` for a failed fit, a
    UserWarning for a failed scoring (a NaN in the test rows only, say).
    """
    X = X if columns is None else take_columns(X, columns)
    try:
        fitted = clone(model).fit(_safe_indexing(X, train), _safe_indexing(y, train))
    except Exception as exc:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        warnings.warn(
            f"Fitting on {label} failed; its score is set to error_score={error_score!r}. "
            f"{type(exc).__name__}: {exc}",
            FitFailedWarning,
        )
        return None
    try:
        return scorer(fitted, _safe_indexing(X, test), _safe_indexing(y, test))
    except Exception as exc:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        warnings.warn(
            f"Scoring on {label} failed; its score is set to error_score={error_score!r}. "
            f"{type(exc).__name__}: {exc}",
            UserWarning,
        )
        return None


def dummy_for(estimator):
    """The uninformed model: class prior or the mean, whatever the features."""
    return DummyClassifier(strategy="prior") if is_classifier(estimator) else DummyRegressor()


def cross_val_subsets(
    estimator, X, y, spec, subsets, splits, scorer, n_jobs, *, empty=False, error_score="raise"
):
    """Per-fold scores of the estimator refitted on each subset, one flat parallel call.

    Returns a list (one entry per subset, then the empty set when ``empty``) of
    lists of fold scores (floats, or dicts for several metrics; None for a
    failed fit), and ``{subset: reason}`` for the subsets scored with the
    uninformed model (see :func:`subset_models`).
    """
    models, uninformed = subset_models(estimator, spec, subsets)
    labels = [" + ".join(subset) for subset in subsets]
    if empty:
        models.append((dummy_for(estimator), None))
        labels.append("no modality")
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_score)(model, columns, label, X, y, train, test, scorer, error_score)
        for (model, columns), label in zip(models, labels)
        for train, test in splits
    )
    n_splits = len(splits)
    return [scores[i : i + n_splits] for i in range(0, len(scores), n_splits)], uninformed


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
