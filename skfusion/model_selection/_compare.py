"""Choosing a fusion strategy by evidence: cross-validated scores and costs.

:func:`compare_fusion` cross-validates a set of fusion strategies on the same
folds and returns a :class:`FusionComparison`: a printable table of scores,
fit time, predict latency and the gain over the best single modality.
"""

import shutil
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed

from .._modalities import check_finite_target, first_non_number, resolve_modalities
from .._utils.splits import make_splits
from ._evaluation import evaluate_fold
from .._utils.fold_warnings import failures, warn_once
from .._utils.scoring_checks import check_scoring_suits_task, scoring_estimator
from ._result import FusionComparison
from ._strategies import INNER_CV, resolve_strategies
from ._tables import raw_table

__all__ = ["compare_fusion"]


#: A numeric target with more distinct values than this is a quantity (regression),
#: even when its values are whole numbers (ages, counts, prices in cents).
MAX_AUTO_CLASSES = 20


def whole_number_quantity(y):
    """The number of distinct values of ``y`` when ``task="auto"`` reads them as a
    quantity but they look like class labels coded as integers, else None: more than
    :data:`MAX_AUTO_CLASSES` of them, every code from 0 (or 1) to the largest present,
    as a label encoder writes them (counts, ages or prices are not so)."""
    values = np.asarray(y)
    if values.dtype.kind not in "iuf" or not np.all(np.mod(values, 1) == 0):
        return None
    distinct = np.unique(values)
    consecutive = distinct[0] in (0, 1) and distinct[-1] - distinct[0] == distinct.size - 1
    return int(distinct.size) if distinct.size > MAX_AUTO_CLASSES and consecutive else None


def _infer_task(y, task):
    """The task: as given, or read from ``y`` (``"auto"``)."""
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"`task` must be 'auto', 'classification' or 'regression'; got {task!r}.")
    check_finite_target(y)
    target_type = type_of_target(y, input_name="y")
    values = np.asarray(y)
    if task == "auto":
        numeric = values.dtype.kind in "iuf"
        if target_type == "continuous" or (
            numeric and np.unique(values).size > MAX_AUTO_CLASSES
        ):
            task = "regression"
        elif target_type in ("binary", "multiclass"):
            task = "classification"
        else:
            raise ValueError(
                "compare_fusion handles binary, multiclass and continuous targets; "
                f"got a {target_type!r} target."
            )
    if task == "regression" and values.dtype.kind not in "iufb":
        try:
            values.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"task='regression' needs a numeric target; y holds {first_non_number(values)!r}."
            ) from None
    if task == "regression" and np.unique(values).size < 2:
        # r2_score on a constant truth is 1.0 for a model predicting the constant
        # (every linear model here) and 0.0 otherwise: every strategy looked perfect
        first = values.ravel()[0]
        first = first.item() if isinstance(first, np.generic) else first
        raise ValueError(
            f"The target is constant (every value is {first!r}): a regression "
            "comparison cannot tell strategies apart (r2 is 1.0 for any model that "
            "predicts the constant)."
        )
    if task == "classification":
        n_classes = np.unique(values).size
        if n_classes < 2:
            raise ValueError(
                f"The target has {n_classes} class; classification needs at least 2 "
                "(if it is a quantity, use task='regression')."
            )
    return task


def _fit_inner_folds(entries, skipped, y, task, splits):
    """The built-in late and hybrid strategies with as many inner folds as the
    smallest training fold allows (5 at most), or skipped when it allows fewer than 2.

    Their out-of-fold predictions need every class in every inner fold: on a small
    table, 5 inner folds failed with "n_splits=5 cannot be greater than the number of
    members in each class", a setting the user never made.
    """
    y = np.asarray(y)
    if task == "classification":
        room = min(np.unique(y[train], return_counts=True)[1].min() for train, _ in splits)
    else:
        room = min(len(train) for train, _ in splits)
    inner = min(INNER_CV, int(room))
    if inner == INNER_CV:
        return entries, skipped
    kept, skipped = [], dict(skipped)
    for label, kind, estimator in entries:
        if kind not in ("late", "hybrid"):
            kept.append((label, kind, estimator))
        elif inner < 2:
            skipped[label] = (
                f"its inner cross-validation needs 2 rows of each class in a training "
                f"fold; the smallest has {room}"
            )
        else:
            key = "cv" if "cv" in estimator.get_params(deep=False) else "estimator__cv"
            kept.append((label, kind, estimator.set_params(**{key: inner})))
    lowered = [label for label, kind, _ in kept if kind in ("late", "hybrid")]
    if lowered:
        warnings.warn(
            f"{', '.join(lowered)}: {inner} inner folds instead of {INNER_CV}, as the "
            f"smallest training fold holds {room} rows"
            + (" of a class" if task == "classification" else "")
            + ".",
            UserWarning,
            stacklevel=3,
        )
    return kept, skipped


def _make_splits(cv, X, y, task, random_state, groups):
    """The folds, made once so that every strategy sees the same ones."""
    if isinstance(cv, Integral) and not isinstance(cv, bool) and cv < 2:
        raise ValueError(f"`cv` must be at least 2 folds; got {cv}.")
    return make_splits(
        cv, X, y, classifier=task == "classification", groups=groups, shuffle_seed=random_state
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
    """The ``verbose`` reporter: one plain line per fold on stderr."""
    if name is None:
        print(f"[compare_fusion] done: {total} fits", file=sys.stderr, flush=True)
    else:
        print(f"[compare_fusion] {done}/{total} {name}", file=sys.stderr, flush=True)


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
    share_work=True,
    groups=None,
):
    """Cross-validate fusion strategies on the same folds and compare them.

    Every strategy is fitted and scored on the same folds; the result holds
    each score's mean and spread, the fit time, the predict latency per 1,000
    rows and the gain over the best single modality, and prints as a table
    that marks the best strategy and the cheapest one within one standard
    error of it.

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
          columns standardised + a linear model (a one-branch
          :class:`~skfusion.WeightedVoteFusion`, so that it is the very branch
          the late-fusion strategies fit);
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
        On a raw table (text columns, ``modalities="auto"``) the strategies
        run behind :class:`~skfusion.tables.TableEncoder` and take its output
        as it is (TF-IDF weights, squashed numbers), not standardised again.
        Every built-in strategy accepts rows where whole modalities are missing
        (all their columns NaN); a missing modality contributes nothing to
        early fusion and a single-modality model predicts the prior there.
        Without torch and skorch the network is left out of ``"default"``, and
        the result says so (``skipped_``). Stacking, the vote and the hybrid
        use 5 inner folds, fewer (with a UserWarning) when a class has fewer
        rows in a training fold, and are skipped when it has fewer than 2.
        A list may mix built-in names and ``(label, estimator)`` pairs; a dict
        maps labels to estimators.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; an int is (stratified for classification)
        K-fold, shuffled when ``random_state`` is given. The splits are
        drawn once and reused for every strategy.
    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`~sklearn.model_selection.cross_validate`. None means
        ``"accuracy"`` for classification and ``"r2"`` for regression. With
        several metrics the first one ranks the strategies. A scoring that
        cannot score the target (or r2 on one-row test folds) is refused
        before any fit.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib) within each strategy.
    verbose : int, default=0
        ``>= 1`` prints one line per fold on stderr (when ``progress`` is None).
    task : {"auto", "classification", "regression"}, default="auto"
        Which built-in models to use; ``"auto"`` reads it from ``y``
        (binary/multiclass or continuous; whole numbers with more than 20
        distinct values are a quantity, with a UserWarning saying so).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int (None: unshuffled folds) and
        seeds the network (None: a fixed seed), so that a comparison with the
        defaults gives the same result every time.
    progress : callable, default=None
        Called as ``progress(done, total, name)`` when a strategy starts and
        after each of its folds (``done`` of the ``total`` (strategy, fold)
        fits finished, ``name`` like ``"stacking (2/5 folds)"``) and as
        ``progress(total, total, None)`` at the end. The command line uses it
        for its progress bar.
    error_score : "raise" or float, default="raise"
        As in ``cross_validate``: a failing fit, or a test fold that cannot be
        scored (predicted), raises, or scores this value with a
        :class:`~sklearn.exceptions.FitFailedWarning` (failed fit) or a
        UserWarning (failed scoring). A strategy that
        fails on every fold keeps its row with no score (NaN, shown as
        "failed"), whatever this value: it cannot be ``best_``,
        ``cheapest_`` or the reference of ``gain_``.
    share_work : bool, default=True
        Give the late-fusion estimators of the strategies (stacking, the vote,
        the hybrid, the single-modality strategies, and those of your own
        strategies with no ``memory`` of their own) one temporary cache, so
        that a branch fitted on the same rows by several strategies is fitted
        once per fold. The results are the same as without sharing; only the
        time spent changes. ``False`` fits every strategy on its own.
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group splitter in ``cv`` (e.g.
        :class:`~sklearn.model_selection.GroupKFold`: all rows of a patient
        in one fold), as in :func:`~sklearn.model_selection.cross_validate`.
        They split the comparison's folds only; the inner folds of stacking,
        the vote and the hybrid ignore them.

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
    from BLAS threads competing with joblib workers for the cores. Each
    strategy is fitted once on a few rows before the timed folds, so that no
    fit time includes a library's one-off start-up.

    The fit time of a strategy is its cost as if fitted alone: the wall time
    of its fit, plus the CPU time of the branch fits it took from the shared
    cache instead of running (``share_work``). What the comparison itself
    spent is ``spent_seconds_``. The predict latency is one ``predict`` call
    on at least 1,000 rows (a test fold's rows repeated), per 1,000 rows:
    timing a small fold would measure call overhead, not prediction.

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

    start = time.perf_counter()
    X = X if hasattr(X, "shape") else np.asarray(X)
    inferred = _infer_task(y, task)
    codes = whole_number_quantity(y) if task == "auto" and inferred == "regression" else None
    if codes:
        warnings.warn(
            f"y holds {codes} distinct whole numbers: compared as a "
            f"quantity (task='regression', as for more than {MAX_AUTO_CLASSES} of them). "
            "If they are class labels, pass task='classification'.",
            UserWarning,
            stacklevel=2,
        )
    task = inferred
    table = raw_table(X, modalities)
    if table is None:
        spec = resolve_modalities(modalities, X)
        spec = {name: [int(c) for c in columns] for name, columns in spec.items()}
        entries, skipped = resolve_strategies(strategies, spec, task, random_state)
    else:
        entries, skipped = table.strategies(strategies, task, random_state)
    splits = _make_splits(cv, X, y, task, random_state, groups)
    entries, skipped = _fit_inner_folds(entries, skipped, y, task, splits)
    scoring = _metric_names(scoring, task)
    scorer = check_scoring(scoring_estimator(task), scoring=scoring)
    check_scoring_suits_task(scorer, scoring, task, y, splits)
    if progress is None and verbose:
        progress = _stderr_progress
    total = len(entries) * len(splits)

    with threadpool_limits(limits=1), _shared_branch_cache(entries, share_work) as plan:
        _warm_up(plan, X, y, splits[0][0])
        results = {}
        for label, _, estimator in _execution_order(plan):

            def report(folds_done, label=label):
                if progress is not None:
                    progress(
                        len(results) * len(splits) + folds_done,
                        total,
                        f"{label} ({folds_done}/{len(splits)} folds)",
                    )

            results[label] = _cross_validate(
                estimator, X, y, splits, scorer, error_score, n_jobs, label, report
            )
    if progress is not None:
        progress(total, total, None)
    records = [
        _record(label, kind, results[label], scoring, error_score) for label, kind, _ in entries
    ]
    _fill_failed(records, scoring)
    return FusionComparison(
        records,
        task=task,
        n_samples=len(y),
        n_splits=len(splits),
        skipped=skipped,
        spent_seconds=time.perf_counter() - start,
        estimators={label: estimator for label, _, estimator in entries},
    )


@contextmanager
def _shared_branch_cache(entries, share_work):
    """The strategies, each late-fusion estimator in them given one temporary cache.

    Stacking, the vote, the hybrid and the single-modality strategies fit the same
    branches (a modality's standardised linear model) on the same inner folds: with
    one cache they fit each branch once per outer fold. Results are the same as
    without it (the cache hands back the very fits); only the work is shared.
    """
    if not share_work:
        yield entries
        return
    folder = tempfile.mkdtemp(prefix="skfusion-compare-")
    try:
        memory = Memory(folder, verbose=0)
        yield [(label, kind, _with_memory(estimator, memory)) for label, kind, estimator in entries]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_memory(estimator, memory):
    """A clone whose ensembles over branches (a ``memory`` and an ``estimators``
    parameter) without a cache of their own use ``memory``."""
    estimator = clone(estimator)
    params = estimator.get_params(deep=True)
    updates = {
        key: memory
        for key, value in params.items()
        if key.rsplit("__", 1)[-1] == "memory"
        and value is None
        and _prefixed(key, "estimators") in params
    }
    return estimator.set_params(**updates) if updates else estimator


def _prefixed(key, name):
    """The parameter ``name`` of the object that owns parameter ``key``."""
    owner = key.rsplit("__", 1)[0] if "__" in key else None
    return name if owner is None else f"{owner}__{name}"


def _execution_order(entries):
    """Late fusion first (stacking before the others), then the single-modality
    strategies, then the rest: the order in which branch fits get reused most."""
    rank = {"late": 0, "hybrid": 1, "single": 2}
    return sorted(entries, key=lambda entry: rank.get(entry[1], 3))


def _warm_up(entries, X, y, train, n_rows=200):
    """Fit every strategy once on a few training rows, untimed and unrecorded.

    A library's first call pays one-off start-up (torch's made the network's first
    fold cost four times the others); no fit time should include it.
    """
    rows = np.random.default_rng(0).permutation(train)[:n_rows]
    X_small, y_small = _safe_indexing(X, rows), _safe_indexing(y, rows)
    for _, _, estimator in entries:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                clone(estimator).fit(X_small, y_small)
            except Exception:  # too few rows for it: the timed folds will say what is wrong
                pass


def _cross_validate(estimator, X, y, splits, scorer, error_score, n_jobs, label, report):
    """One strategy over the folds (in parallel), reporting each fold as it ends."""
    results = []
    report(0)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    folds = parallel(
        delayed(evaluate_fold)(estimator, X, y, train, test, scorer, error_score)
        for train, test in splits
    )
    for result in folds:
        results.append(result)
        report(len(results))
    _warn_once(results, label)
    for phase, category, failed in failures(results):
        where = "every fold" if len(failed) == len(results) else (
            f"{len(failed)} of {len(results)} folds"
        )
        doing = "" if phase == "fit" else " scoring"
        warnings.warn(
            f"Strategy {label!r} failed{doing} on {where}; its scores there are set to "
            f"error_score={error_score!r}. {results[failed[0]]['error']}",
            category,
        )
    return results


def _warn_once(results, label):
    """Each distinct warning of a strategy's folds, once, naming the strategy and its folds."""
    n = len(results)

    def where(folds):
        return f"Strategy {label!r} (" + (
            "every fold)" if len(folds) == n else f"{len(folds)} of {n} folds)"
        )

    # shown at the user's call of compare_fusion
    warn_once([result["warnings"] for result in results], where, stacklevel=4)


def _first_line(exc):
    """The last error line of an exception (cross_validate's summaries are long)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if "Error:" in line]
    if errors:
        return errors[-1]
    return lines[0] if lines else type(exc).__name__


def _fill_failed(records, scoring):
    """Give strategies that failed on every fold the metrics the others have, with no
    score (NaN): a numeric ``error_score`` (0, say) must not make them the best."""
    metrics = next((list(r["scores"]) for r in records if r["scores"] is not None), None)
    if metrics is None:
        if callable(scoring) or isinstance(scoring, str):
            metrics = [scoring if isinstance(scoring, str) else "score"]
        else:
            metrics = list(scoring)
    for record in records:
        if record["scores"] is None:
            n_splits = record["fit_time"].size
            record["scores"] = {metric: np.full(n_splits, np.nan) for metric in metrics}


def _record(label, kind, results, scoring, error_score):
    """A strategy's row: per-fold scores, and its cost as if fitted alone and as spent."""
    failed = all(result["scores"] is None for result in results)
    scores = None
    if not failed:
        scores = _fold_scores(results, scoring, error_score)
    spent = np.array([result["fit_seconds"] for result in results], dtype=float)
    reused = np.array([result["reused_seconds"] for result in results], dtype=float)
    return {
        "name": label,
        "kind": kind,
        "scores": scores,
        # the cost a user deploying this strategy would pay: its own fit, plus the
        # branch fits it took from another strategy's work instead of repeating
        "fit_time": spent + reused,
        "fit_time_spent": spent,
        "predict_ms_per_1k": np.array([r["predict_ms_per_1k"] for r in results], dtype=float),
    }


def _fold_scores(results, scoring, error_score):
    """``{metric: per-fold scores}``; a failed fold scores ``error_score``."""
    first = next(result["scores"] for result in results if result["scores"] is not None)
    metrics = list(first) if isinstance(first, dict) else [
        scoring if isinstance(scoring, str) else "score"
    ]
    table = {metric: [] for metric in metrics}
    for result in results:
        for metric in metrics:
            value = result["scores"]
            if isinstance(value, dict):
                value = value[metric]
            table[metric].append(float(error_score) if value is None else float(value))
    return {metric: np.array(values) for metric, values in table.items()}
