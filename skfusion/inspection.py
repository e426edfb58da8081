"""Which modality carries the prediction: ablation, permutation importance,
Shapley values, and the displays that plot them.

- :func:`modality_ablation` refits the estimator on subsets of modalities
  (synergy and redundancy);
- :func:`modality_importance` shuffles one modality's columns together
  (scikit-learn's permutation importance, one block per modality);
- :func:`modality_shapley` splits the gain of the full model over an
  uninformed prediction among the modalities (exact Shapley values).
"""

import math
import warnings
from itertools import combinations

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._displays import FusionComparisonDisplay, ModalityImportanceDisplay
from ._modalities import check_finite_target, resolve_modalities
from ._refit_subsets import cross_val_subsets, dummy_for, score_table

__all__ = [
    "modality_ablation",
    "modality_importance",
    "modality_shapley",
    "ModalityAblation",
    "FusionComparisonDisplay",
    "ModalityImportanceDisplay",
]

#: Above this many modalities, refitting on every subset (2**n - 1 of them)
#: is too costly: ablation falls back to singles, leave-one-out and all, and
#: Shapley values by refitting are refused.
MAX_EXHAUSTIVE_MODALITIES = 6
#: Shapley values without refitting cost one prediction per subset.
MAX_MASKED_MODALITIES = 12


# --------------------------------------------------------------------------- #
# Shared helpers                                                              #
# --------------------------------------------------------------------------- #
def _as_2d(X):
    """Leave arrays and DataFrames alone; turn lists into arrays."""
    return X if hasattr(X, "shape") else np.asarray(X)


def _modality_spec(estimator, X, modalities):
    """``{name: positions}`` from ``modalities``, else from the fitted estimator."""
    if modalities is not None:
        return resolve_modalities(modalities, X)
    fitted = getattr(estimator, "modalities_", None)
    if fitted is None:
        raise ValueError(
            "Pass `modalities`: the estimator has no fitted `modalities_` to read them from."
        )
    return {name: np.asarray(columns, dtype=np.intp) for name, columns in fitted.items()}


def _splits(cv, X, y, estimator):
    check_finite_target(y)
    return list(check_cv(cv, y, classifier=is_classifier(estimator)).split(X, y))


def _ablation_subsets(names):
    n = len(names)
    if n <= MAX_EXHAUSTIVE_MODALITIES:
        return [subset for size in range(1, n + 1) for subset in combinations(names, size)]
    singles = [(name,) for name in names]
    leave_one_out = [tuple(other for other in names if other != name) for name in names]
    return singles + leave_one_out + [tuple(names)]


# --------------------------------------------------------------------------- #
# Ablation                                                                    #
# --------------------------------------------------------------------------- #
def modality_ablation(
    estimator, X, y, modalities, cv=5, scoring=None, n_jobs=None, *, error_score="raise"
):
    """Cross-validated score of the estimator refitted on subsets of modalities.

    With up to six modalities every non-empty subset is scored; above that,
    each modality alone, each leave-one-out subset and all of them. Compare a
    subset with its members alone to see synergy (the subset beats its best
    member) and redundancy (adding a modality changes nothing).

    Parameters
    ----------
    estimator : estimator object
        An unfitted estimator; each subset refits a clone. skfusion's fusion
        estimators (anything with a ``modalities`` parameter, also inside a
        :class:`~sklearn.pipeline.Pipeline`) get their ``modalities`` set to
        the subset, late-fusion branches over left-out modalities are dropped
        and hybrid branches keep the modalities in the subset; any other
        estimator is fitted on the subset's columns.
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
        on a subset (say, a pipeline whose steps drop every modality of it)
        raises, or scores this value (e.g. ``np.nan``) with a
        :class:`~sklearn.exceptions.FitFailedWarning`.

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
    X = _as_2d(X)
    spec = resolve_modalities(modalities, X)
    subsets = _ablation_subsets(list(spec))
    splits = _splits(cv, X, y, estimator)
    scorer = check_scoring(estimator, scoring=scoring)
    scores = cross_val_subsets(
        estimator, X, y, spec, subsets, splits, scorer, n_jobs, error_score=error_score
    )
    return ModalityAblation(
        subsets, score_table(scores, scoring, error_score), modalities=list(spec)
    )


def _best_member(single, subset):
    """Best score of the subset's members alone, ignoring failed ones (NaN)."""
    scores = [single[name] for name in subset if not np.isnan(single[name])]
    return max(scores) if scores else np.nan


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

    Attributes
    ----------
    metrics : list of str
        Metric names; the first is the one :meth:`score` and ``synergy`` use.
    synergy : ndarray of shape (n_subsets,)
        Mean score of each subset minus that of its best member alone: above
        zero the modalities complement each other, near zero one of them
        makes the others redundant (zero for single modalities).

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

    def __init__(self, subsets, scores, *, modalities):
        self.subsets = [tuple(subset) for subset in subsets]
        self.scores = scores
        self.modalities = list(modalities)
        self.metrics = list(scores)
        means = scores[self.metrics[0]].mean(axis=1)
        single = {subset[0]: mean for subset, mean in zip(self.subsets, means) if len(subset) == 1}
        self.synergy = np.array(
            [mean - _best_member(single, subset) for subset, mean in zip(self.subsets, means)]
        )

    def _index(self, subset):
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
        """Mean cross-validated score of ``subset`` (any order)."""
        metric = self.metrics[0] if metric is None else metric
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
        """A JSON-serialisable dict."""
        return {
            "modalities": self.modalities,
            "metrics": self.metrics,
            "subsets": [
                {
                    "modalities": list(subset),
                    "scores": {
                        metric: [float(v) for v in values[i]]
                        for metric, values in self.scores.items()
                    },
                    "synergy": float(self.synergy[i]),
                }
                for i, subset in enumerate(self.subsets)
            ],
        }

    def to_string(self, digits=3):
        """The table as text."""
        header = ["modalities", *self.metrics, "synergy"]
        rows = []
        for i, subset in enumerate(self.subsets):
            row = [" + ".join(subset)]
            for values in self.scores.values():
                row.append(f"{values[i].mean():.{digits}f} ± {values[i].std():.{digits}f}")
            row.append("-" if len(subset) == 1 else f"{self.synergy[i]:+.{digits}f}")
            rows.append(row)
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
        return "\n".join(
            "  ".join(
                cell.ljust(w) if j == 0 else cell.rjust(w)
                for j, (cell, w) in enumerate(zip(line, widths))
            )
            for line in [header, ["-" * w for w in widths], *rows]
        )

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"<ModalityAblation of {len(self.subsets)} subsets of {self.modalities}>"


# --------------------------------------------------------------------------- #
# Permutation importance                                                      #
# --------------------------------------------------------------------------- #
def _permuted_scores(estimator, X, y, columns, seed, n_repeats, scorer):
    """Scores with the block ``columns`` shuffled across rows, ``n_repeats`` times."""
    rng = check_random_state(seed)
    # A private copy: joblib may hand a read-only memmap, and threads share X.
    X_permuted = X.copy()
    order = np.arange(X.shape[0])
    scores = []
    for _ in range(n_repeats):
        rng.shuffle(order)
        # One permutation for the whole block keeps each row's modality intact;
        # shuffling the already shuffled block, as scikit-learn does, gives
        # its exact numbers for one-column modalities.
        if hasattr(X_permuted, "iloc"):
            # Column by column, so that every column keeps its own dtype.
            for position in columns:
                X_permuted.isetitem(int(position), X_permuted.iloc[order, int(position)].to_numpy())
        else:
            X_permuted[:, columns] = X_permuted[np.ix_(order, columns)]
        scores.append(scorer(estimator, X_permuted, y))
    return scores


def _importances_bunch(baseline, permuted, names):
    importances = baseline - np.asarray(permuted, dtype=float)
    return Bunch(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
        modality_names=np.asarray(names, dtype=object),
        baseline_score=float(baseline),
    )


def modality_importance(
    estimator, X, y, modalities=None, n_repeats=5, scoring=None, random_state=None, n_jobs=None
):
    """Permutation importance of whole modalities.

    The decrease in score when one modality's columns are shuffled together
    across rows (one permutation for the whole block), which breaks the
    modality's link with the target while keeping it internally coherent.

    Parameters
    ----------
    estimator : estimator object
        A fitted estimator.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Data to score on, preferably held out.
    y : array-like of shape (n_samples,)
        The target.
    modalities : dict of str to columns, default=None
        The modality specification; None reads the fitted ``modalities_`` of
        the estimator.
    n_repeats : int, default=5
        Number of permutations per modality.
    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`sklearn.inspection.permutation_importance`.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations; every modality draws the same ones.
    n_jobs : int, default=None
        Modalities processed in parallel.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch` or dict of such
        As :func:`~sklearn.inspection.permutation_importance`, with one entry
        per modality instead of per feature:

        importances_mean : ndarray of shape (n_modalities,)
        importances_std : ndarray of shape (n_modalities,)
        importances : ndarray of shape (n_modalities, n_repeats)
        modality_names : ndarray of shape (n_modalities,)
        baseline_score : float, the score without permutation.

        With several metrics, a dict of such Bunches keyed by metric name.

    See Also
    --------
    sklearn.inspection.permutation_importance : The same for single features.
    modality_shapley : Exact Shapley values of the modalities.
    ModalityImportanceDisplay : Plot the result.

    Notes
    -----
    Grouped permutation importance follows Breiman, "Random forests",
    Machine Learning 45 (2001), applied to groups of features as in
    Gregorutti et al., "Grouped variable importance with random forests and
    application to multiple functional data analysis", Computational
    Statistics & Data Analysis 90 (2015).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skfusion.inspection import modality_importance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = X[:, 0] + X[:, 1]
    >>> model = LinearRegression().fit(X, y)
    >>> result = modality_importance(
    ...     model, X, y, {"signal": [0, 1], "noise": [2, 3]}, random_state=0)
    >>> result.modality_names.tolist()
    ['signal', 'noise']
    >>> result.importances.shape
    (2, 5)
    >>> bool(result.importances_mean[0] > 1.5), float(result.importances_mean[1])
    (True, 0.0)
    """
    X = _as_2d(X)
    spec = _modality_spec(estimator, X, modalities)
    if not (isinstance(n_repeats, (int, np.integer)) and n_repeats >= 1):
        raise ValueError(f"`n_repeats` must be a positive integer; got {n_repeats!r}.")
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    scorer = check_scoring(estimator, scoring=scoring)
    baseline = scorer(estimator, X, y)
    permuted = Parallel(n_jobs=n_jobs)(
        delayed(_permuted_scores)(estimator, X, y, columns, seed, n_repeats, scorer)
        for columns in spec.values()
    )
    names = list(spec)
    if isinstance(baseline, dict):
        return {
            metric: _importances_bunch(
                baseline[metric], [[s[metric] for s in scores] for scores in permuted], names
            )
            for metric in baseline
        }
    return _importances_bunch(baseline, permuted, names)


# --------------------------------------------------------------------------- #
# Shapley values                                                              #
# --------------------------------------------------------------------------- #
def _late_fusion_types():
    try:
        from .late import StackingLateFusion, WeightedVoteFusion
    except ImportError:  # pragma: no cover - only while late fusion is absent
        return ()
    return (StackingLateFusion, WeightedVoteFusion)


def _shapley_from_values(value, n):
    """Exact Shapley values from ``value[mask]`` over all ``2**n`` coalitions.

    phi_i = sum over S not containing i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)).
    """
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    phi = np.zeros(n)
    for mask in range(1 << n):
        size = bin(mask).count("1")
        for i in range(n):
            if not mask >> i & 1:
                phi[i] += weight[size] * (value[mask | 1 << i] - value[mask])
    return phi


def _blanked(X, columns):
    """``X`` with ``columns`` set to NaN: those modalities become missing."""
    if hasattr(X, "iloc"):
        X_blank = X.copy()
        for position in columns:
            X_blank.isetitem(int(position), np.full(X.shape[0], np.nan))
        return X_blank
    X_blank = np.array(X, dtype=float)
    X_blank[:, columns] = np.nan
    return X_blank


def _score_blanked(scorer, estimator, X, y, columns):
    """Score with ``columns`` blanked; rows left with no present branch are expected here."""

    with warnings.catch_warnings():
        try:
            from .late import NoModalityPresentWarning
        except ImportError:  # pragma: no cover - only while late fusion is absent
            pass
        else:
            # Subsets whose only modalities have vote weight 0 (or whose hybrid
            # branches are all broken) fall back to the prior: that is v(S).
            warnings.simplefilter("ignore", NoModalityPresentWarning)
        return scorer(estimator, _blanked(X, columns), y)


def _masked_values(estimator, X, y, spec, scorer, n_jobs):
    """v(S) for every coalition, scoring the fitted model with the other modalities blanked."""
    names = list(spec)
    n = len(names)

    def blank_columns(mask):
        kept = {int(c) for i, name in enumerate(names) if mask >> i & 1 for c in spec[name]}
        return sorted({int(c) for columns in spec.values() for c in columns} - kept)

    masks = range(1, 1 << n)
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_score_blanked)(scorer, estimator, X, y, blank_columns(mask)) for mask in masks
    )
    value = np.empty(1 << n)
    value[list(masks)] = scores
    value[0] = scorer(dummy_for(estimator).fit(X, y), X, y)
    return value


def _refitted_values(estimator, X, y, spec, scorer, cv, n_jobs):
    """v(S) for every coalition, as the mean cross-validated score of a refit on S."""
    names = list(spec)
    n = len(names)
    masks = list(range(1, 1 << n))
    subsets = [tuple(name for i, name in enumerate(names) if mask >> i & 1) for mask in masks]
    splits = _splits(cv, X, y, estimator)
    scores = cross_val_subsets(estimator, X, y, spec, subsets, splits, scorer, n_jobs, empty=True)
    value = np.empty(1 << n)
    value[masks] = [np.mean(folds) for folds in scores[:-1]]
    value[0] = np.mean(scores[-1])
    return value


def modality_shapley(
    estimator, X, y, modalities=None, *, scoring=None, method="auto", cv=5, n_jobs=None
):
    """Exact Shapley values of the modalities for a model's score.

    The value of a set ``S`` of modalities is the score of the model using
    only ``S``; the Shapley value of a modality is its marginal contribution
    averaged over every order in which modalities could be added. The values
    sum to ``v(all) - v(empty)``, the full model's gain over an uninformed
    prediction (efficiency).

    Parameters
    ----------
    estimator : estimator object
        A fitted :class:`~skfusion.WeightedVoteFusion` or
        :class:`~skfusion.StackingLateFusion` (evaluated without refitting),
        or any estimator (refitted on every subset).
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Data to score on (held out, for a fitted model) or to cross-validate on.
    y : array-like of shape (n_samples,)
        The target.
    modalities : dict of str to columns, default=None
        The modality specification; None reads the fitted ``modalities_``.
    scoring : str or callable, default=None
        One metric (a scikit-learn scorer name or ``scorer(est, X, y)``);
        None uses the estimator's ``score``.
    method : {"auto", "mask", "refit"}, default="auto"
        ``"mask"`` scores the fitted model with the modalities outside ``S``
        blanked with NaN, which late fusion treats as missing (the vote
        renormalises over the present modalities, stacking masks their
        meta-features); it needs a fitted estimator that accepts NaN.
        ``"refit"`` uses the mean cross-validated score of a clone refitted on
        ``S`` (see :func:`modality_ablation` for how it is restricted), at most
        six modalities. ``"auto"`` masks for fitted late-fusion estimators and
        refits otherwise.
    cv : int, cross-validation generator or iterable, default=5
        Folds for ``method="refit"``.
    n_jobs : int, default=None
        Subsets (and folds) evaluated in parallel.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        shapley_values : ndarray of shape (n_modalities,)
            Shapley value of each modality.
        modality_names : ndarray of shape (n_modalities,)
            The modalities, in the order of ``shapley_values``.
        full_score : float
            v(all modalities).
        empty_score : float
            v(empty): the score of the class prior
            (:class:`~sklearn.dummy.DummyClassifier`) or the mean
            (:class:`~sklearn.dummy.DummyRegressor`), fitted on ``X, y``
            (``"mask"``) or on each training fold (``"refit"``).
        subset_scores : dict of tuple of str to float
            v(S) for every subset.
        method : str
            The method used.

    See Also
    --------
    modality_importance : Permutation importance of whole modalities.
    modality_ablation : Scores of every subset, with their spread.

    Notes
    -----
    With ``"mask"``, a late-fusion branch over several modalities (a hybrid
    branch) is absent as soon as one of its modalities is blanked, so every
    modality of that branch shares the credit for what the branch adds.

    Shapley, "A value for n-person games", Contributions to the Theory of
    Games II (1953). Evaluating coalitions by dropping features and
    refitting, or by marginalising them, is discussed by Covert, Lundberg and
    Lee, "Explaining by removing: a unified framework for model explanation",
    JMLR 22 (2021). Exact values need ``2**n`` coalition scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skfusion.inspection import modality_shapley
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = X[:, 0] + X[:, 1]
    >>> result = modality_shapley(
    ...     LinearRegression(), X, y, {"a": [0], "b": [1], "noise": [2]}, cv=3)
    >>> result.method
    'refit'
    >>> bool(np.isclose(result.shapley_values.sum(), result.full_score - result.empty_score))
    True
    >>> result.shapley_values.round(1).tolist()
    [0.5, 0.5, 0.0]
    """
    if method not in ("auto", "mask", "refit"):
        raise ValueError(f"`method` must be 'auto', 'mask' or 'refit'; got {method!r}.")
    if isinstance(scoring, (list, tuple, set, dict)):
        raise ValueError("modality_shapley takes one metric in `scoring`; got several.")
    X = _as_2d(X)
    if method == "auto":
        late = _late_fusion_types()
        method = (
            "mask" if isinstance(estimator, late) and hasattr(estimator, "modalities_") else "refit"
        )
    if method == "mask":
        check_is_fitted(estimator)
    spec = _modality_spec(estimator, X, modalities)
    n = len(spec)
    limit = MAX_MASKED_MODALITIES if method == "mask" else MAX_EXHAUSTIVE_MODALITIES
    if n > limit:
        raise ValueError(
            f"Exact Shapley values with method={method!r} handle at most {limit} "
            f"modalities; got {n}. Use modality_importance, or group modalities."
        )
    scorer = check_scoring(estimator, scoring=scoring)
    if method == "mask":
        value = _masked_values(estimator, X, y, spec, scorer, n_jobs)
    else:
        value = _refitted_values(estimator, X, y, spec, scorer, cv, n_jobs)
    names = list(spec)
    return Bunch(
        shapley_values=_shapley_from_values(value, n),
        modality_names=np.asarray(names, dtype=object),
        full_score=float(value[-1]),
        empty_score=float(value[0]),
        subset_scores={
            tuple(name for i, name in enumerate(names) if mask >> i & 1): float(value[mask])
            for mask in range(1 << n)
        },
        method=method,
    )
