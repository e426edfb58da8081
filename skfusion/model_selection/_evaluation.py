"""One strategy on one fold: fit, score, and what it cost.

:func:`evaluate_fold` is what :func:`~skfusion.model_selection.compare_fusion`
runs for every (strategy, fold): a clone fitted on the training rows and
scored on the test rows, with

- the fit's wall time, and the CPU seconds of the branch fits it loaded from a
  shared cache instead of running (``_reused_fit_seconds`` of the late-fusion
  estimators inside it), so that the cost of a strategy *as if fitted alone*
  can be reported beside what the comparison spent;
- the prediction latency, measured on at least 1,000 rows: timing a small
  test fold measures call overhead, not prediction.
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from .._utils.modality_protocol import estimators_in
from ..exceptions import NoModalityPresentWarning
from .._utils.fold_warnings import distinct_warnings, recorded_warnings

__all__ = ["LATENCY_ROWS", "evaluate_fold", "reused_fit_seconds"]

#: Rows the prediction latency is measured on (test rows repeated as needed).
LATENCY_ROWS = 1000


def reused_fit_seconds(model):
    """CPU seconds of fits that the fitted ``model`` (or a model inside it) loaded from a
    cache instead of running (the late-fusion estimators record theirs)."""
    total = float(getattr(model, "_reused_fit_seconds", 0.0))
    for inner in _inner_models(model):
        total += reused_fit_seconds(inner)
    return total


def _inner_models(model):
    """Estimators inside a fitted ``model``: those its parameters hold (a Pipeline fits its
    steps in place) and the fitted copies a meta-estimator keeps (``estimator_``)."""
    for value in model.get_params(deep=False).values():
        yield from estimators_in(value)
    for name in ("estimator_", "best_estimator_"):
        if name in vars(model):
            yield vars(model)[name]


def evaluate_fold(estimator, X, y, train, test, scorer, error_score):
    """Fit a clone of ``estimator`` on ``train`` and score it on ``test``.

    Returns a dict: ``scores`` (a float or a dict by metric; None when the fit,
    or the scoring of the test rows, failed and ``error_score`` is a number),
    ``fit_seconds`` (wall), ``reused_seconds``, ``predict_ms_per_1k``, ``error``
    (the failure's message, or None), ``phase`` (``"fit"`` or ``"score"``, where
    it failed, or None) and ``warnings`` (``(category, message)`` of each distinct
    warning the fit and scoring raised).
    """
    model = clone(estimator)
    X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
    # Warnings are recorded, not shown: the caller shows each distinct one once per
    # strategy (five folds would say the same thing five times, from a worker process).
    # (rows without a modality get the prior: part of what is being compared)
    with recorded_warnings(NoModalityPresentWarning) as caught:
        start = time.perf_counter()
        try:
            model.fit(X_train, y_train)
        except Exception as exc:
            if isinstance(error_score, str) and error_score == "raise":
                raise
            # the caller warns once per strategy, saying on how many folds it failed
            return {"scores": None, "fit_seconds": np.nan, "reused_seconds": 0.0,
                    "predict_ms_per_1k": np.nan, "error": f"{type(exc).__name__}: {exc}",
                    "phase": "fit", "warnings": distinct_warnings(caught)}
        fit_seconds = time.perf_counter() - start
        X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
        try:
            scores = scorer(model, X_test, y_test)
            latency = _predict_ms_per_1k(model, X, test)
        except Exception as exc:
            if isinstance(error_score, str) and error_score == "raise":
                raise
            # as cross_validate: a fold whose test rows cannot be scored (a NaN
            # only there, say) scores error_score, like a failed fit
            return {"scores": None, "fit_seconds": fit_seconds,
                    "reused_seconds": reused_fit_seconds(model), "predict_ms_per_1k": np.nan,
                    "error": f"{type(exc).__name__}: {exc}", "phase": "score",
                    "warnings": distinct_warnings(caught)}
    return {
        "scores": scores,
        "fit_seconds": fit_seconds,
        "reused_seconds": reused_fit_seconds(model),
        "predict_ms_per_1k": latency,
        "error": None,
        "phase": None,
        "warnings": distinct_warnings(caught),
    }


def _predict_ms_per_1k(model, X, test):
    """Milliseconds per 1,000 rows of one ``predict`` call on at least LATENCY_ROWS rows."""
    rows = np.resize(np.asarray(test), max(LATENCY_ROWS, len(test)))
    batch = _safe_indexing(X, rows)
    start = time.perf_counter()
    model.predict(batch)
    return (time.perf_counter() - start) / rows.size * 1e6
