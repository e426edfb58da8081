"""Modality ablation: the estimator refitted on subsets of modalities."""

import warnings

import numpy as np
from sklearn.metrics import check_scoring

from .._modalities import resolve_modalities
from .._utils.text_table import format_table, json_number, mean_std
from ._common import ablation_subsets, as_2d, check_scoring_suits_estimator, cv_splits
from ._refit_subsets import cross_val_subsets, score_table

__all__ = ["modality_ablation", "ModalityAblation"]


def modality_ablation(
    estimator, X, y, modalities, cv=5, scoring=None, n_jobs=None, *, error_score="raise",
    groups=None,
):
    """Cross-validated score of the estimator refitted on subsets of modalities.

    With up to six modalities every non-empty subset is scored; above that,
    each modality alone, each leave-one-out subset and all of them. Compare a
    subset with its members alone to see synergy (the subset beats its best
    member) and redundancy (adding a modality changes nothing).

    Parameters
    ----------
    estimator : estimator object
        An unfitted estimator; each subset refits a clone on the subset's
        columns. skfusion's fusion estimators (also inside a
        :class:`~sklearn.pipeline.Pipeline`) restrict themselves to the
        subset: their per-modality settings (weights, transformers) keep the
        subset's modalities, late-fusion branches over left-out modalities are
        removed and hybrid branches keep the modalities in the subset. A
        subset an estimator cannot use alone (an alignment given one modality)
        is scored with the uninformed model (class prior or mean), with a
        warning; see ``ModalityAblation.uninformed``.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The data.
    y : array-like of shape (n_samples,)
        The target.
    modalities : dict of str to columns
        The modality specification, resolved once against ``X``.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; the same folds are used for every subset.
    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`~sklearn.model_selection.cross_validate`; None uses the
        estimator's ``score``.
    n_jobs : int, default=None
        Number of fits in parallel (one flat joblib call over subsets and folds).
    error_score : "raise" or float, default="raise"
        As in :func:`~sklearn.model_selection.cross_validate`: a fit that fails
        on a subset (say, a pipeline whose steps drop every modality of it), or
        a test fold that cannot be scored, raises, or scores this value (e.g.
        ``np.nan``) with a :class:`~sklearn.exceptions.FitFailedWarning`
        (failed fit) or a UserWarning (failed scoring).
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group splitter in ``cv``
        (:class:`~sklearn.model_selection.GroupKFold`: all rows of a patient
        in one fold), as in :func:`~sklearn.model_selection.cross_validate`.

    Returns
    -------
    ModalityAblation
        Scores per subset and fold; print it or call :meth:`~ModalityAblation.to_frame`.

    See Also
    --------
    modality_shapley : Share of the full model's gain per modality.
    modality_importance : Permutation importance of whole modalities.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skfusion.inspection import modality_ablation
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 3))
    >>> y = 2 * X[:, 0] + X[:, 1]
    >>> ablation = modality_ablation(
    ...     LinearRegression(), X, y, {"a": [0], "b": [1], "noise": [2]}, cv=4)
    >>> ablation.subsets[:3]
    [('a',), ('b',), ('noise',)]
    >>> round(ablation.score(("a", "b")), 3)
    1.0
    """
    X = as_2d(X)
    spec = resolve_modalities(modalities, X)
    subsets = ablation_subsets(list(spec))
    splits = cv_splits(cv, X, y, estimator, groups)
    scorer = check_scoring(estimator, scoring=scoring)
    check_scoring_suits_estimator(estimator, scorer, scoring, y, splits)
    scores, uninformed = cross_val_subsets(
        estimator, X, y, spec, subsets, splits, scorer, n_jobs, error_score=error_score
    )
    if uninformed:
        warnings.warn(
            f"{type(estimator).__name__} cannot be restricted to the subsets "
            f"{list(uninformed)} ({next(iter(uninformed.values()))}); they are scored with "
            "the uninformed model (class prior or mean).",
            UserWarning,
            stacklevel=2,
        )
    return ModalityAblation(
        subsets,
        score_table(scores, scoring, error_score),
        modalities=list(spec),
        uninformed=uninformed,
    )


def _synergy(mean, single, uninformed, subset):
    """``mean`` minus the best score of the subset's members alone, ignoring failed
    ones (NaN); NaN when that best member was scored with the uninformed model: the
    subset's gain over the prior is no synergy (an alignment, uninformed on each
    modality alone, would show the whole signal of one modality as synergy)."""
    if len(subset) == 1:
        return mean - single[subset[0]]
    members = [
        (single[name], (name,) not in uninformed)
        for name in subset
        if not np.isnan(single[name])
    ]
    if not members:
        return np.nan
    best, informed = max(members)  # a tie goes to the member that was informed
    return mean - best if informed else np.nan


class ModalityAblation:
    """Scores of an estimator refitted on subsets of modalities.

    Built by :func:`modality_ablation`.

    Parameters
    ----------
    subsets : list of tuple of str
        The subsets scored.
    scores : dict of str to ndarray of shape (n_subsets, n_splits)
        Per-fold scores for each metric.
    modalities : list of str
        All modality names, in specification order.
    uninformed : dict of tuple of str to str, default=None
        Subsets the estimator cannot be restricted to (say, an alignment
        given one modality), scored with the uninformed model, and why.

    Attributes
    ----------
    metrics : list of str
        Metric names; the first is the one :meth:`score` and ``synergy`` use.
    synergy : ndarray of shape (n_subsets,)
        Mean score of each subset minus that of its best member alone: above
        zero the modalities complement each other, near zero one of them
        makes the others redundant (zero for single modalities). NaN when
        that best member was scored with the uninformed model (marked † in
        the table, see ``uninformed``), shown as "-".

    See Also
    --------
    modality_ablation : Builds this result.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.inspection import ModalityAblation
    >>> ablation = ModalityAblation(
    ...     [("a",), ("b",), ("a", "b")],
    ...     {"accuracy": np.array([[0.6, 0.7], [0.7, 0.7], [0.9, 0.8]])},
    ...     modalities=["a", "b"])
    >>> ablation.score(("b", "a"))
    0.85
    >>> ablation.synergy.round(2).tolist()
    [0.0, 0.0, 0.15]
    """

    def __init__(self, subsets, scores, *, modalities, uninformed=None):
        self.subsets = [tuple(subset) for subset in subsets]
        self.uninformed = {tuple(subset): why for subset, why in (uninformed or {}).items()}
        self.scores = scores
        self.modalities = list(modalities)
        self.metrics = list(scores)
        means = scores[self.metrics[0]].mean(axis=1)
        single = {subset[0]: mean for subset, mean in zip(self.subsets, means) if len(subset) == 1}
        self.synergy = np.array(
            [
                _synergy(mean, single, self.uninformed, subset)
                for subset, mean in zip(self.subsets, means)
            ]
        )

    def _index(self, subset):
        if isinstance(subset, str):
            subset = (subset,)  # one modality by its name, not its characters
        order = {name: i for i, name in enumerate(self.modalities)}
        unknown = [name for name in subset if name not in order]
        if unknown:
            raise ValueError(
                f"Unknown modality {unknown[0]!r}; the modalities are {self.modalities}."
            )
        key = tuple(sorted(set(subset), key=order.get))
        if key not in self.subsets:
            raise ValueError(f"The subset {key} was not scored.")
        return self.subsets.index(key)

    def score(self, subset, metric=None):
        """Mean cross-validated score of ``subset`` (names in any order, or one name)."""
        metric = self.metrics[0] if metric is None else metric
        if metric not in self.scores:
            raise ValueError(f"Unknown metric {metric!r}; the ablation has {self.metrics}.")
        return float(self.scores[metric][self._index(subset)].mean())

    def to_frame(self):
        """One row per subset: ``n_modalities``, ``<metric>_mean``/``_std``, ``synergy``."""
        import pandas as pd

        data = {"n_modalities": [len(subset) for subset in self.subsets]}
        for metric, values in self.scores.items():
            data[f"{metric}_mean"] = values.mean(axis=1)
            data[f"{metric}_std"] = values.std(axis=1)
        data["synergy"] = self.synergy
        index = pd.Index([" + ".join(subset) for subset in self.subsets], name="modalities")
        return pd.DataFrame(data, index=index)

    def to_dict(self):
        """A JSON-serialisable dict (NaN, a failed fold's score, becomes None)."""
        return {
            "modalities": self.modalities,
            "metrics": self.metrics,
            "subsets": [
                {
                    "modalities": list(subset),
                    "scores": {
                        metric: [json_number(v) for v in values[i]]
                        for metric, values in self.scores.items()
                    },
                    "synergy": json_number(self.synergy[i]),
                }
                for i, subset in enumerate(self.subsets)
            ],
        }

    def to_string(self, digits=3):
        """The table as text."""
        header = ["modalities", *self.metrics, "synergy"]
        rows = []
        for i, subset in enumerate(self.subsets):
            row = [" + ".join(subset) + (" †" if subset in self.uninformed else "")]
            for values in self.scores.values():
                row.append(mean_std(values[i].mean(), values[i].std(), digits, "failed"))
            undefined = len(subset) == 1 or np.isnan(self.synergy[i])
            row.append("-" if undefined else f"{self.synergy[i]:+.{digits}f}")
            rows.append(row)
        table = format_table(header, rows)
        notes = [f"† {' + '.join(subset)}: {why}" for subset, why in self.uninformed.items()]
        return "\n".join([table, *notes]) if notes else table

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"<ModalityAblation of {len(self.subsets)} subsets of {self.modalities}>"


