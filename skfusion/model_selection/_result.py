"""FusionComparison: the table :func:`~skfusion.model_selection.compare_fusion` returns."""

import math

import numpy as np

from .._utils.text_table import format_table, json_number, mean_std

__all__ = ["FusionComparison"]


class FusionComparison:
    """The result of :func:`compare_fusion`: one row per strategy.

    Print it for the table; :meth:`to_frame` gives a pandas DataFrame and
    :meth:`to_dict` a JSON-serialisable dict.

    Parameters
    ----------
    records : list of dict
        One per strategy, with keys ``name``, ``kind``, ``scores`` (metric ->
        per-fold array), ``fit_time`` (seconds per fold, the strategy's cost
        as if fitted alone), ``predict_ms_per_1k`` (per fold) and optionally
        ``fit_time_spent`` (seconds per fold this comparison spent on it).
    task : {"classification", "regression"}
        The task the strategies were compared on.
    n_samples : int
        Number of rows cross-validated.
    n_splits : int
        Number of folds.
    skipped : dict of str to str, default=None
        Strategies that could not run here, with the reason.
    spent_seconds : float, default=None
        Wall time the whole comparison took.
    estimators : dict of str to estimator, default=None
        The (unfitted) estimator of each strategy, as compared.

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
    cheapest_ : str
        The strategy with the lowest mean fit time among those whose mean
        ``primary_metric`` is within one standard error (over folds:
        sample standard deviation over the square root of their number) of
        the best's: as good as the best, as far as the folds can tell.
    best_single_ : str or None
        Best strategy of kind ``"single"``, None when none was compared.
    gain_ : dict of str to float
        Mean ``primary_metric`` minus that of ``best_single_`` (NaN when
        there is no single-modality strategy).
    skipped_ : dict of str to str
        Strategies left out, with the reason.
    spent_seconds_ : float or None
        Wall time the comparison took; with work shared between strategies it
        is less than the sum of their fit times.
    estimators_ : dict of str to estimator
        The unfitted estimator of each strategy, as compared: refit
        ``estimators_[best_]`` on all rows to deploy the winner.

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
    >>> result.cheapest_  # single:a is more than one standard error below early
    'early'
    """

    def __init__(
        self,
        records,
        *,
        task,
        n_samples,
        n_splits,
        skipped=None,
        spent_seconds=None,
        estimators=None,
    ):
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
        self.cheapest_ = self._cheapest_within_one_standard_error(means)
        self.skipped_ = dict(skipped or {})
        self.spent_seconds_ = spent_seconds
        self.estimators_ = dict(estimators or {})

    def _cheapest_within_one_standard_error(self, means):
        if self.best_ is None:
            return None
        best = self.records[self.names.index(self.best_)]["scores"][self.primary_metric]
        # the standard error of the best's mean score: sample deviation (ddof=1) over
        # sqrt(folds); ddof=0 understated it with few folds
        spread = np.std(best, ddof=1) if len(best) > 1 else 0.0
        threshold = np.nanmax(means) - spread / np.sqrt(len(best))
        candidates = [i for i, mean in enumerate(means) if mean >= threshold]
        times = [np.mean(self.records[i]["fit_time"]) for i in candidates]
        times = [np.inf if np.isnan(t) else t for t in times]
        return self.names[candidates[int(np.argmin(times))]]

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
                    "mean": json_number(np.mean(folds)),
                    "std": json_number(np.std(folds)),
                    "folds": [json_number(v) for v in folds],
                }
            for key in ("fit_time", "predict_ms_per_1k"):
                entry[key] = {
                    "mean": json_number(np.mean(record[key])),
                    "std": json_number(np.std(record[key])),
                    "folds": [json_number(v) for v in record[key]],
                }
            entry["gain"] = json_number(self.gain_[record["name"]])
            strategies.append(entry)
        return {
            "task": self.task,
            "n_samples": int(self.n_samples),
            "n_splits": int(self.n_splits),
            "metrics": self.metrics,
            "primary_metric": self.primary_metric,
            "best": self.best_,
            "cheapest_within_one_standard_error": self.cheapest_,
            "best_single": self.best_single_,
            "skipped": self.skipped_,
            "spent_seconds": None if self.spent_seconds_ is None else float(self.spent_seconds_),
            "strategies": strategies,
        }

    def _marks(self, name):
        return ("*" if name == self.best_ else "") + ("†" if name == self.cheapest_ else "")

    def to_string(self, digits=3):
        """The table as text: ``*`` marks the best strategy, ``†`` the cheapest within
        one standard error of it; skipped strategies and the time spent follow."""
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
            marks = self._marks(record["name"])
            row = [record["name"] + (f" {marks}" if marks else ""), record["kind"]]
            for metric in self.metrics:
                row.append(mean_std(*self._summary(record, metric), digits, "failed"))
            row.append(mean_std(*self._summary(record, "fit_time"), 3, "-"))
            latency = self._summary(record, "predict_ms_per_1k")[0]
            row.append("-" if math.isnan(latency) else f"{latency:.1f}")
            gain = self.gain_[record["name"]]
            row.append("-" if math.isnan(gain) else f"{gain:+.{digits}f}")
            rows.append(row)
        lines = [format_table(header, rows, left=2)]
        folds = f"{self.n_splits}-fold cross-validation on {self.n_samples} samples ({self.task})"
        lines.append("")
        lines.append(f"{folds}; * best {self.primary_metric}: {self.best_}.")
        if self.cheapest_ is not None and self.cheapest_ != self.best_:
            lines.append(
                f"† cheapest within one standard error of the best: {self.cheapest_}."
            )
        if self.best_single_ is not None:
            lines.append(
                f"gain: mean {self.primary_metric} minus that of the best single modality ({self.best_single_})."
            )
        lines.append("fit time: each strategy's own cost, as if fitted alone.")
        if self.spent_seconds_ is not None:
            alone = sum(np.nansum(record["fit_time"]) for record in self.records)
            lines.append(
                f"The comparison took {self.spent_seconds_:.1f} s (its strategies alone: "
                f"{alone:.1f} s of fitting)."
            )
        for name, reason in self.skipped_.items():
            lines.append(f"skipped: {name} ({reason}).")
        return "\n".join(lines)

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"<FusionComparison of {len(self.names)} strategies, best {self.primary_metric}: {self.best_!r}>"

    def plot(self, ax=None, **kwargs):
        """Plot score against fit time; see :class:`~skfusion.inspection.FusionComparisonDisplay`."""
        from ._plot import FusionComparisonDisplay

        return FusionComparisonDisplay.from_results(self, ax=ax, **kwargs)
