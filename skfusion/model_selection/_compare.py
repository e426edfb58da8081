"""Choosing a fusion strategy by evidence: cross-validated scores and costs.

:func:`compare_fusion` cross-validates a set of fusion strategies on the same
folds and returns a :class:`FusionComparison`: a printable table of scores,
fit time, predict latency and the gain over the best single modality.
"""

import sys
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import cross_validate
from sklearn.utils.multiclass import type_of_target

from .._modalities import check_finite_target, resolve_modalities
from .._utils.splits import make_splits
from ._result import FusionComparison
from ._strategies import resolve_strategies

__all__ = ["compare_fusion"]


def _infer_task(y, task):
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"`task` must be 'auto', 'classification' or 'regression'; got {task!r}.")
    check_finite_target(y)
    target_type = type_of_target(y, input_name="y")
    if task == "auto":
        if target_type in ("binary", "multiclass"):
            task = "classification"
        elif target_type == "continuous":
            task = "regression"
        else:
            raise ValueError(
                "compare_fusion handles binary, multiclass and continuous targets; "
                f"got a {target_type!r} target."
            )
    if task == "classification":
        n_classes = np.unique(np.asarray(y)).size
        if n_classes < 2:
            raise ValueError(f"The target has {n_classes} class; classification needs at least 2.")
    return task


def _make_splits(cv, X, y, task, random_state):
    """The folds, made once so that every strategy sees the same ones."""
    if isinstance(cv, Integral) and not isinstance(cv, bool) and cv < 2:
        raise ValueError(f"`cv` must be at least 2 folds; got {cv}.")
    return make_splits(
        cv, X, y, classifier=task == "classification", shuffle_seed=random_state
    )


def _metric_names(scoring, task):
    """Scoring as passed to cross_validate, with None made explicit."""
    if scoring is None:
        return "accuracy" if task == "classification" else "r2"
    return scoring


# --------------------------------------------------------------------------- #
# The comparison                                                              #
# --------------------------------------------------------------------------- #
def _stderr_progress(done, total, name):
    """The ``verbose`` reporter: one plain line per strategy on stderr."""
    if name is None:
        print(f"[compare_fusion] done: {total} strategies", file=sys.stderr, flush=True)
    else:
        print(f"[compare_fusion] {done + 1}/{total} {name}", file=sys.stderr, flush=True)


def compare_fusion(
    X,
    y,
    modalities,
    strategies="default",
    cv=5,
    scoring=None,
    n_jobs=None,
    verbose=0,
    *,
    task="auto",
    random_state=None,
    progress=None,
    error_score="raise",
):
    """Cross-validate fusion strategies on the same folds and compare them.

    Every strategy is cross-validated with :func:`~sklearn.model_selection.cross_validate`
    on the same folds; the result holds each score's mean and spread, the fit
    time, the predict latency per 1,000 rows and the gain over the best single
    modality, and prints as a table.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The data, every modality's columns side by side.
    y : array-like of shape (n_samples,)
        The target: class labels (classification) or values (regression).
    modalities : dict of str to columns
        The modality specification (see :mod:`skfusion`), e.g.
        ``{"image": [0, 1, 2], "text": slice(3, None)}``. It is resolved once
        against ``X`` and the built-in strategies receive column positions.
    strategies : "default", list or dict, default="default"
        What to compare. ``"default"`` is every built-in strategy:

        - ``"single"``: each modality alone (``"single:<modality>"``): its
          columns standardised + a linear model;
        - ``"early"``: :class:`~skfusion.FeatureFusion` over all modalities
          (columns standardised, each block scaled to unit total variance) + a
          linear model;
        - ``"stacking"``: :class:`~skfusion.StackingLateFusion` over one
          standardised linear model per modality;
        - ``"vote"``: :class:`~skfusion.WeightedVoteFusion` with learned weights;
        - ``"intermediate"``: the fusion network of :mod:`skfusion.nn`, only
          when torch and skorch are installed;
        - ``"hybrid"``: stacking whose branches are the per-modality models
          plus one early-fused branch over all modalities.

        The linear model is :class:`~sklearn.linear_model.LogisticRegression`
        (classification) or :class:`~sklearn.linear_model.Ridge` (regression).
        Every built-in strategy accepts rows where whole modalities are missing
        (all their columns NaN); a missing modality contributes nothing to
        early fusion and a single-modality model predicts its intercept there.
        A list may mix built-in names and ``(label, estimator)`` pairs; a dict
        maps labels to estimators.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; an int is (stratified for classification)
        K-fold, shuffled when ``random_state`` is given. The splits are
        drawn once and reused for every strategy.
    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`~sklearn.model_selection.cross_validate`. None means
        ``"accuracy"`` for classification and ``"r2"`` for regression. With
        several metrics the first one ranks the strategies.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib) within each strategy.
    verbose : int, default=0
        ``>= 1`` prints one line per strategy on stderr (when ``progress`` is
        None); ``>= 2`` also passes ``verbose - 1`` to ``cross_validate``.
    task : {"auto", "classification", "regression"}, default="auto"
        Which built-in models to use; ``"auto"`` reads it from ``y``
        (binary/multiclass or continuous).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int and seeds the network.
    progress : callable, default=None
        Called as ``progress(done, total, name)`` before each strategy starts
        (``done`` strategies finished, ``name`` the one starting) and as
        ``progress(total, total, None)`` at the end. The command line uses it
        for its progress bar.
    error_score : "raise" or float, default="raise"
        As in ``cross_validate``: a failing fit raises, or scores this value
        with a :class:`~sklearn.exceptions.FitFailedWarning`; a strategy that
        fails on every fold then keeps its row, with this score and no times.

    Returns
    -------
    FusionComparison
        The table of results; ``best_`` names the best strategy.

    See Also
    --------
    skfusion.inspection.modality_ablation : Scores of every subset of modalities.
    skfusion.inspection.FusionComparisonDisplay : Score against fit time, plotted.

    Notes
    -----
    BLAS is limited to one thread while the strategies run (threadpoolctl):
    timings stay comparable across strategies, and lbfgs does not slow down
    from BLAS threads competing with joblib workers for the cores.

    The predict latency is read from ``cross_validate``'s ``score_time``
    divided by the test fold size: it includes the scorers' predictions
    (one ``predict``/``predict_proba`` per kind the scorers need) and the
    metric computation, which is negligible next to predicting.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion.model_selection import compare_fusion
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> result = compare_fusion(
    ...     X, y, {"a": [0, 1], "b": [2, 3]},
    ...     strategies={"logreg": LogisticRegression()}, cv=3)
    >>> result.best_
    'logreg'
    >>> print(f"{result.to_frame().loc['logreg', 'accuracy_mean']:.3f}")
    0.867
    """
    from threadpoolctl import threadpool_limits

    X = X if hasattr(X, "shape") else np.asarray(X)
    spec = resolve_modalities(modalities, X)
    spec = {name: [int(c) for c in columns] for name, columns in spec.items()}
    task = _infer_task(y, task)
    entries = resolve_strategies(strategies, spec, task, random_state)
    splits = _make_splits(cv, X, y, task, random_state)
    scoring = _metric_names(scoring, task)
    if progress is None and verbose:
        progress = _stderr_progress
    test_sizes = np.array([len(test) for _, test in splits])

    records = []
    # Strategies run one after the other (each parallel over folds) so that
    # progress can be reported per strategy and fit times are not inflated by
    # another strategy's workers.
    with threadpool_limits(limits=1):
        for done, (label, kind, estimator) in enumerate(entries):
            if progress is not None:
                progress(done, len(entries), label)
            try:
                results = cross_validate(
                    clone(estimator),
                    X,
                    y,
                    cv=splits,
                    scoring=scoring,
                    n_jobs=n_jobs,
                    verbose=max(int(verbose) - 1, 0),
                    error_score=error_score,
                )
            except Exception as exc:
                # cross_validate raises when every fold failed, whatever error_score.
                if isinstance(error_score, str) and error_score == "raise":
                    raise
                warnings.warn(
                    f"Strategy {label!r} failed on every fold; its scores are set to "
                    f"error_score={error_score!r}. {_first_line(exc)}",
                    FitFailedWarning,
                )
                results = None
            records.append(_record(label, kind, results, scoring, test_sizes))
    if progress is not None:
        progress(len(entries), len(entries), None)
    _fill_failed(records, scoring, error_score)
    return FusionComparison(records, task=task, n_samples=len(y), n_splits=len(splits))


def _first_line(exc):
    """The last error line of an exception (cross_validate's summaries are long)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if "Error:" in line]
    if errors:
        return errors[-1]
    return lines[0] if lines else type(exc).__name__


def _fill_failed(records, scoring, error_score):
    """Give strategies that failed on every fold the metrics the others have."""
    metrics = next((list(r["scores"]) for r in records if r["scores"] is not None), None)
    if metrics is None:
        if callable(scoring) or isinstance(scoring, str):
            metrics = [scoring if isinstance(scoring, str) else "score"]
        else:
            metrics = list(scoring)
    for record in records:
        if record["scores"] is None:
            n_splits = record["fit_time"].size
            record["scores"] = {metric: np.full(n_splits, float(error_score)) for metric in metrics}


def _record(label, kind, results, scoring, test_sizes):
    if results is None:  # every fold failed; _fill_failed sets the scores
        missing = np.full(test_sizes.size, np.nan)
        return {
            "name": label,
            "kind": kind,
            "scores": None,
            "fit_time": missing,
            "predict_ms_per_1k": missing,
        }
    scores = {
        key[len("test_") :]: np.asarray(value, dtype=float)
        for key, value in results.items()
        if key.startswith("test_")
    }
    if list(scores) == ["score"] and isinstance(scoring, str):
        scores = {scoring: scores["score"]}
    return {
        "name": label,
        "kind": kind,
        "scores": scores,
        "fit_time": np.asarray(results["fit_time"], dtype=float),
        # seconds per fold -> milliseconds per 1,000 rows
        "predict_ms_per_1k": np.asarray(results["score_time"], dtype=float) / test_sizes * 1e6,
    }


