"""Choosing a fusion strategy by evidence: cross-validated scores and costs.

:func:`compare_fusion` cross-validates a set of fusion strategies on the same
folds and returns a :class:`FusionComparison`: a printable table of scores,
fit time, predict latency and the gain over the best single modality.
"""

import math
import sys
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, check_cv, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._modalities import branch_modalities, check_finite_target, resolve_modalities
from .early import FeatureFusion
from .late import StackingLateFusion, WeightedVoteFusion

__all__ = ["compare_fusion", "FusionComparison", "STRATEGY_NAMES"]

#: Names of the built-in strategies, in the order ``"default"`` runs them.
#: ``"single"`` expands to one ``"single:<modality>"`` strategy per modality.
STRATEGY_NAMES = ("single", "early", "stacking", "vote", "intermediate", "hybrid")

# Settings of the built-in strategies, measured so that `python -m skfusion`
# (load_mfeat, 2,000 rows x 649 columns, 5 folds) takes about 40 s of CPU on
# one core: lbfgs fits take tens of milliseconds, so the late-fusion estimators
# keep their 5 inner folds, and 15 epochs of the network reach the accuracy of
# the linear models.
_INNER_CV = 5
_MAX_ITER = 300
_NET_EPOCHS = 15
_NET_LR = 1e-3


# --------------------------------------------------------------------------- #
# Built-in strategies                                                         #
# --------------------------------------------------------------------------- #
def _linear_model(task):
    """The linear model every built-in strategy ends with."""
    if task == "classification":
        # lbfgs on standardised features converges in a few dozen iterations.
        return LogisticRegression(max_iter=_MAX_ITER)

    return Ridge()


def _scaled_linear_model(task):
    """StandardScaler + the linear model: one modality's branch."""
    return make_pipeline(StandardScaler(), _linear_model(task))


def _early_fusion(spec, task, block_scaling="variance"):
    """FeatureFusion (columns standardised, blocks scaled to unit variance) + a linear model."""
    # missing="zero": a modality missing in a row contributes nothing there, so
    # early fusion and the single-modality baselines run on incomplete data too.
    fusion = FeatureFusion(
        modalities=spec, transformers=StandardScaler(), block_scaling=block_scaling, missing="zero"
    )
    return Pipeline([("fusion", fusion), ("model", _linear_model(task))])


def _intermediate(spec, task, random_state):
    """The fusion network: one encoder per modality, concatenated, then a head."""
    from .nn import IntermediateFusionClassifier, IntermediateFusionRegressor

    net = IntermediateFusionClassifier if task == "classification" else IntermediateFusionRegressor
    # The network standardises its input itself (standardize=True).
    return net(
        modalities=spec,
        fusion="concat",
        max_epochs=_NET_EPOCHS,
        lr=_NET_LR,
        random_state=random_state,
    )


def _torch_available():
    """Whether the intermediate network can run: torch and skorch import (not only exist)."""
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _builtin_strategy(name, spec, task, random_state):
    """``[(label, kind, estimator)]`` for one built-in strategy name."""
    if name == "single":
        return [
            entry
            for modality in spec
            for entry in _builtin_strategy(f"single:{modality}", spec, task, random_state)
        ]
    if name.startswith("single:"):
        modality = name[len("single:") :]
        if modality not in spec:
            raise ValueError(
                f"Strategy {name!r} names an unknown modality {modality!r}; "
                f"the modalities are {list(spec)}."
            )
        # FeatureFusion over one modality selects and standardises its columns;
        # no block scaling, so this is exactly StandardScaler + the linear model.
        single = _early_fusion({modality: spec[modality]}, task, block_scaling=None)
        return [(name, "single", single)]
    if name == "early":
        return [(name, "early", _early_fusion(spec, task))]
    if name == "stacking":
        est = StackingLateFusion(
            _scaled_linear_model(task), modalities=spec, cv=_INNER_CV, random_state=random_state
        )
        return [(name, "late", est)]
    if name == "vote":
        est = WeightedVoteFusion(
            _scaled_linear_model(task), modalities=spec, weights="learn", cv=_INNER_CV
        )
        return [(name, "late", est)]
    if name == "intermediate":
        return [(name, "intermediate", _intermediate(spec, task, random_state))]
    if name == "hybrid":
        fused = "fused"
        while fused in spec:  # the early-fused branch must not shadow a modality
            fused = "_" + fused
        branches = [(modality, _scaled_linear_model(task)) for modality in spec]
        names = list(spec)
        branches.append((fused, _early_fusion(branch_modalities(spec, names), task), names))
        hybrid = StackingLateFusion(
            branches, modalities=spec, cv=_INNER_CV, random_state=random_state
        )
        return [(name, "hybrid", hybrid)]
    raise ValueError(
        f"Unknown strategy {name!r}; the built-in strategies are "
        f"{', '.join(STRATEGY_NAMES)} and single:<modality>."
    )


def _default_names():
    return [name for name in STRATEGY_NAMES if name != "intermediate" or _torch_available()]


def _resolve_strategies(strategies, spec, task, random_state):
    """Turn the ``strategies`` argument into ``[(label, kind, estimator)]``."""
    if isinstance(strategies, str):
        strategies = _default_names() if strategies == "default" else [strategies]
    if isinstance(strategies, dict):
        strategies = list(strategies.items())
    if not isinstance(strategies, (list, tuple)) or not strategies:
        raise TypeError(
            "`strategies` must be 'default', a non-empty list of strategy names and "
            f"(label, estimator) pairs, or a dict {{label: estimator}}; got {strategies!r}."
        )
    resolved = []
    for item in strategies:
        if isinstance(item, str):
            resolved.extend(_builtin_strategy(item, spec, task, random_state))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            label, estimator = item
            if not hasattr(estimator, "fit"):
                raise TypeError(
                    f"Strategy {label!r} must be an estimator with `fit`; got {estimator!r}."
                )
            resolved.append((label, "custom", estimator))
        else:
            raise TypeError(
                "Each strategy must be a built-in name or a (label, estimator) pair; "
                f"got {item!r}."
            )
    labels = [label for label, _, _ in resolved]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise ValueError(f"Strategy labels must be unique; {duplicated} appear more than once.")
    return resolved


# --------------------------------------------------------------------------- #
# Checks                                                                      #
# --------------------------------------------------------------------------- #
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
    """The folds, materialised once so that every strategy sees the same ones."""
    classifier = task == "classification"
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"`cv` must be at least 2 folds; got {cv}.")
        if random_state is not None:
            splitter = StratifiedKFold if classifier else KFold
            cv = splitter(n_splits=cv, shuffle=True, random_state=random_state)
    cv = check_cv(cv, y, classifier=classifier)
    return list(cv.split(X, y))


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
    entries = _resolve_strategies(strategies, spec, task, random_state)
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


# --------------------------------------------------------------------------- #
# The result                                                                  #
# --------------------------------------------------------------------------- #
def _mean_std(mean, std, digits, undefined):
    """``"mean ± std"``, or ``undefined`` when every fold failed."""
    if math.isnan(mean):
        return undefined
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _json_number(value):
    value = float(value)
    return None if math.isnan(value) else value


class FusionComparison:
    """The result of :func:`compare_fusion`: one row per strategy.

    Print it for the table; :meth:`to_frame` gives a pandas DataFrame and
    :meth:`to_dict` a JSON-serialisable dict.

    Parameters
    ----------
    records : list of dict
        One per strategy, with keys ``name``, ``kind``, ``scores`` (metric ->
        per-fold array), ``fit_time`` (seconds per fold) and
        ``predict_ms_per_1k`` (per fold).
    task : {"classification", "regression"}
        The task the strategies were compared on.
    n_samples : int
        Number of rows cross-validated.
    n_splits : int
        Number of folds.

    Attributes
    ----------
    names : list of str
        Strategy labels, in the order they ran.
    metrics : list of str
        Metric names; the first (``primary_metric``) ranks the strategies.
    primary_metric : str
        The metric ``best_`` and ``gain_`` refer to.
    best_ : str
        Strategy with the highest mean ``primary_metric`` (scikit-learn's
        scorers are all greater-is-better).
    best_single_ : str or None
        Best strategy of kind ``"single"``, None when none was compared.
    gain_ : dict of str to float
        Mean ``primary_metric`` minus that of ``best_single_`` (NaN when
        there is no single-modality strategy).

    See Also
    --------
    compare_fusion : Builds this result.
    skfusion.inspection.FusionComparisonDisplay : Plots it.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.model_selection import FusionComparison
    >>> records = [
    ...     {"name": "single:a", "kind": "single", "scores": {"accuracy": np.array([0.7, 0.8])},
    ...      "fit_time": np.array([0.1, 0.1]), "predict_ms_per_1k": np.array([1.0, 1.0])},
    ...     {"name": "early", "kind": "early", "scores": {"accuracy": np.array([0.9, 0.9])},
    ...      "fit_time": np.array([0.2, 0.2]), "predict_ms_per_1k": np.array([2.0, 2.0])},
    ... ]
    >>> result = FusionComparison(records, task="classification", n_samples=100, n_splits=2)
    >>> result.best_, result.best_single_, round(result.gain_["early"], 3)
    ('early', 'single:a', 0.15)
    """

    def __init__(self, records, *, task, n_samples, n_splits):
        if not records:
            raise ValueError("A comparison needs at least one strategy.")
        self.records = records
        self.task = task
        self.n_samples = n_samples
        self.n_splits = n_splits
        self.names = [record["name"] for record in records]
        self.metrics = list(records[0]["scores"])
        self.primary_metric = self.metrics[0]
        means = np.array([np.mean(record["scores"][self.primary_metric]) for record in records])
        # nanargmax: a strategy whose every fold failed (error_score=nan) cannot win.
        self.best_ = self.names[int(np.nanargmax(means))] if not np.all(np.isnan(means)) else None
        singles = [i for i, record in enumerate(records) if record["kind"] == "single"]
        if singles and not np.all(np.isnan(means[singles])):
            self.best_single_ = self.names[singles[int(np.nanargmax(means[singles]))]]
            reference = means[self.names.index(self.best_single_)]
        else:
            self.best_single_, reference = None, np.nan
        self.gain_ = {name: float(mean - reference) for name, mean in zip(self.names, means)}

    def _summary(self, record, key):
        values = record[key] if key in ("fit_time", "predict_ms_per_1k") else record["scores"][key]
        return float(np.mean(values)), float(np.std(values))

    def to_frame(self):
        """The table as a pandas DataFrame indexed by strategy.

        Columns: ``kind``, ``<metric>_mean`` and ``<metric>_std`` for every
        metric, ``fit_time_mean``/``_std`` (seconds),
        ``predict_ms_per_1k_mean``/``_std`` and ``gain``.
        """
        import pandas as pd

        rows = []
        for record in self.records:
            row = {"kind": record["kind"]}
            for key in [*self.metrics, "fit_time", "predict_ms_per_1k"]:
                row[f"{key}_mean"], row[f"{key}_std"] = self._summary(record, key)
            row["gain"] = self.gain_[record["name"]]
            rows.append(row)
        return pd.DataFrame(rows, index=pd.Index(self.names, name="strategy"))

    def to_dict(self):
        """A JSON-serialisable dict (NaN becomes None)."""
        strategies = []
        for record in self.records:
            entry = {"name": record["name"], "kind": record["kind"], "scores": {}}
            for metric in self.metrics:
                folds = record["scores"][metric]
                entry["scores"][metric] = {
                    "mean": _json_number(np.mean(folds)),
                    "std": _json_number(np.std(folds)),
                    "folds": [_json_number(v) for v in folds],
                }
            for key in ("fit_time", "predict_ms_per_1k"):
                entry[key] = {
                    "mean": _json_number(np.mean(record[key])),
                    "std": _json_number(np.std(record[key])),
                    "folds": [_json_number(v) for v in record[key]],
                }
            entry["gain"] = _json_number(self.gain_[record["name"]])
            strategies.append(entry)
        return {
            "task": self.task,
            "n_samples": int(self.n_samples),
            "n_splits": int(self.n_splits),
            "metrics": self.metrics,
            "primary_metric": self.primary_metric,
            "best": self.best_,
            "best_single": self.best_single_,
            "strategies": strategies,
        }

    def to_string(self, digits=3):
        """The table as text, best strategy marked with ``*``."""
        header = [
            "strategy",
            "kind",
            *self.metrics,
            "fit time (s/fold)",
            "predict (ms/1k rows)",
            f"gain ({self.primary_metric})",
        ]
        rows = []
        for record in self.records:
            row = [record["name"] + (" *" if record["name"] == self.best_ else ""), record["kind"]]
            for metric in self.metrics:
                row.append(_mean_std(*self._summary(record, metric), digits, "failed"))
            row.append(_mean_std(*self._summary(record, "fit_time"), 3, "-"))
            latency = self._summary(record, "predict_ms_per_1k")[0]
            row.append("-" if math.isnan(latency) else f"{latency:.1f}")
            gain = self.gain_[record["name"]]
            row.append("-" if math.isnan(gain) else f"{gain:+.{digits}f}")
            rows.append(row)
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
        lines = [
            "  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths))
            ).rstrip()
            for line in [header, ["-" * w for w in widths], *rows]
        ]
        folds = f"{self.n_splits}-fold cross-validation on {self.n_samples} samples ({self.task})"
        lines.append("")
        lines.append(f"{folds}; * best {self.primary_metric}: {self.best_}.")
        if self.best_single_ is not None:
            lines.append(
                f"gain: mean {self.primary_metric} minus that of the best single modality ({self.best_single_})."
            )
        return "\n".join(lines)

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"<FusionComparison of {len(self.names)} strategies, best {self.primary_metric}: {self.best_!r}>"

    def plot(self, ax=None, **kwargs):
        """Plot score against fit time; see :class:`~skfusion.inspection.FusionComparisonDisplay`."""
        from .inspection import FusionComparisonDisplay

        return FusionComparisonDisplay.from_results(self, ax=ax, **kwargs)
