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
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed

from .._modalities import branch_columns, branch_modalities, take_columns
from .._utils.modality_protocol import ModalitySubsetError, restrict_to_modalities
from .._utils.fold_warnings import distinct_warnings, failures, recorded_warnings, warn_once

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


def _fit_and_score(model, columns, X, y, train, test, scorer, error_score):
    """Fit a clone of ``model`` on the ``train`` rows of ``columns``, score ``test``.

    Returns a dict: ``scores`` (None when the fit or the scoring failed and
    ``error_score`` is not "raise"), ``error`` (the failure, or None), ``phase``
    (``"fit"`` or ``"score"``: where it failed) and ``warnings`` (each distinct
    warning raised, recorded here, where the fit runs, to be shown once).
    """
    X = X if columns is None else take_columns(X, columns)
    with recorded_warnings() as caught:
        phase = "fit"
        try:
            fitted = clone(model).fit(_safe_indexing(X, train), _safe_indexing(y, train))
            phase = "score"
            scores = scorer(fitted, _safe_indexing(X, test), _safe_indexing(y, test))
        except Exception as exc:
            if isinstance(error_score, str) and error_score == "raise":
                raise
            return {"scores": None, "error": f"{type(exc).__name__}: {exc}", "phase": phase,
                    "warnings": distinct_warnings(caught)}
    return {"scores": scores, "error": None, "phase": None,
            "warnings": distinct_warnings(caught)}


def _warn_about_failures(results, labels, n_splits, error_score, stacklevel):
    """One warning for the failed fits and one for the failed scorings (see
    :func:`~skfusion._utils.fold_warnings.failures`)."""
    for phase, category, failed in failures(results):
        subsets = list(dict.fromkeys(labels[i // n_splits] for i in failed))
        warnings.warn(
            f"{'Fitting' if phase == 'fit' else 'Scoring'} failed on {len(failed)} of "
            f"{len(results)} fits (subsets: {', '.join(subsets)}); their scores are set to "
            f"error_score={error_score!r}. {results[failed[0]]['error']}",
            category,
            stacklevel=stacklevel + 1,
        )


def _warn_once_per_tool(results, labels, n_splits, tool, stacklevel):
    """Each distinct warning of the fits once, saying in how many fits and subsets."""

    def where(fits):
        subsets = {i // n_splits for i in fits}
        return (
            f"{tool} ({len(fits)} of {len(results)} fits, in {len(subsets)} of "
            f"{len(labels)} subsets)"
        )

    warn_once([result["warnings"] for result in results], where, stacklevel=stacklevel + 1)


def dummy_for(estimator):
    """The uninformed model: class prior or the mean, whatever the features."""
    return DummyClassifier(strategy="prior") if is_classifier(estimator) else DummyRegressor()


def cross_val_subsets(
    estimator, X, y, spec, subsets, splits, scorer, n_jobs, *, empty=False, error_score="raise",
    tool="modality_ablation", stacklevel=2,
):
    """Per-fold scores of the estimator refitted on each subset, one flat parallel call.

    Returns a list (one entry per subset, then the empty set when ``empty``) of
    lists of fold scores (floats, or dicts for several metrics; None for a
    failed fit or scoring), and ``{subset: reason}`` for the subsets scored with
    the uninformed model (see :func:`subset_models`). The fits' warnings are
    shown once each, prefixed by ``tool`` and how many fits raised them;
    ``stacklevel`` is as ``warnings.warn`` would take it in the caller.
    """
    models, uninformed = subset_models(estimator, spec, subsets)
    labels = [" + ".join(subset) for subset in subsets]
    if empty:
        models.append((dummy_for(estimator), None))
        labels.append("no modality")
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_score)(model, columns, X, y, train, test, scorer, error_score)
        for model, columns in models
        for train, test in splits
    )
    n_splits = len(splits)
    _warn_once_per_tool(results, labels, n_splits, tool, stacklevel + 1)
    _warn_about_failures(results, labels, n_splits, error_score, stacklevel + 1)
    scores = [result["scores"] for result in results]
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
