"""Exact Shapley values of the modalities for a model's score."""

import math
import numbers
import warnings

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _is_fitted, check_is_fitted

from .._fit_context import first_line, same_type_with_message
from .._utils.modality_protocol import predicts_with_masked_modalities
from ..exceptions import NoModalityPresentWarning
from ._common import (
    MAX_EXHAUSTIVE_MODALITIES,
    MAX_MASKED_MODALITIES,
    as_2d,
    check_scoring_suits_estimator,
    cv_splits,
    modality_spec,
)
from ._refit_subsets import cross_val_subsets, dummy_for

__all__ = ["modality_shapley"]


class _OneNumber:
    """The scorer, refusing what is not one number (a callable returning a dict of
    metrics failed with "float() argument must be ... not 'dict'")."""

    def __init__(self, scorer):
        self.scorer = scorer

    def __call__(self, estimator, X, y):
        value = self.scorer(estimator, X, y)
        if not isinstance(value, numbers.Real):
            # (no metric names in the message: _score_blanked reads "nan" in it as NaN input)
            raise TypeError(
                "`scoring` must give one number: modality_shapley takes one metric; got a "
                f"{type(value).__name__}."
            )
        return value


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
        # Subsets whose only modalities have vote weight 0 (or whose hybrid
        # branches are all broken) fall back to the prior: that is v(S).
        warnings.simplefilter("ignore", NoModalityPresentWarning)
        try:
            return scorer(estimator, _blanked(X, columns), y)
        except (ValueError, TypeError) as exc:
            if "nan" not in str(exc).lower():
                raise
            message = (
                f"method='mask' blanks modalities with NaN, which {type(estimator).__name__} "
                f"refuses ({first_line(exc)}). Use method='refit', or an estimator that treats an "
                "all-NaN modality as missing (late fusion, FeatureFusion(missing='zero'), a "
                "network)."
            )
            raise (same_type_with_message(exc, message) or exc) from exc


def _check_mask_spec(estimator, spec):
    """``method="mask"`` blanks whole modalities of the fitted estimator: each of them
    must lie inside one modality of ``spec`` (which may group several). Otherwise a
    modality left out is never blanked, so others take its credit, and one split
    between two is half blanked, which the estimator reads as NaN cells."""
    fitted = getattr(estimator, "modalities_", None)
    if fitted is None:  # a wrapper (Pipeline, search): nothing to compare with
        return
    owner = {}
    for name, columns in spec.items():
        owner.update((int(column), name) for column in columns)
    for name, columns in fitted.items():
        owners = {owner.get(int(column)) for column in columns}
        if owners == {None}:
            problem = "is in no modality of `modalities`"
        elif len(owners) > 1:
            parts = sorted(repr(part) for part in owners if part is not None)
            problem = "is split between " + " and ".join(parts)
            problem += " and columns of no modality" if None in owners else ""
        else:
            continue
        raise ValueError(
            f"method='mask' blanks whole modalities of the fitted {type(estimator).__name__}, "
            f"but its modality {name!r} (columns {[int(c) for c in columns]}) {problem}. "
            "Pass its fitted modalities (modalities=None) or groups of them, or use "
            "method='refit'."
        )


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


def _refitted_values(estimator, X, y, spec, scorer, splits, n_jobs):
    """v(S) for every coalition, as the mean cross-validated score of a refit on S."""
    names = list(spec)
    n = len(names)
    masks = list(range(1, 1 << n))
    subsets = [tuple(name for i, name in enumerate(names) if mask >> i & 1) for mask in masks]
    # A coalition the estimator cannot be restricted to is worth the uninformed
    # model's score: the estimator predicts nothing from those modalities alone.
    scores, _ = cross_val_subsets(
        estimator, X, y, spec, subsets, splits, scorer, n_jobs, empty=True,
        tool="modality_shapley", stacklevel=3,
    )
    value = np.empty(1 << n)
    value[masks] = [np.mean(folds) for folds in scores[:-1]]
    value[0] = np.mean(scores[-1])
    return value


def modality_shapley(
    estimator, X, y, modalities=None, *, scoring=None, method="auto", cv=5, n_jobs=None,
    groups=None,
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
        A fitted fusion estimator that predicts with modalities masked
        (evaluated without refitting: the late-fusion estimators, and the
        networks trained with modality dropout), or any estimator (refitted
        on every subset).
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Data to score on (held out, for a fitted model) or to cross-validate on.
    y : array-like of shape (n_samples,)
        The target.
    modalities : dict of str to columns, default=None
        The modality specification; None reads the fitted ``modalities_``.
        With ``method="mask"``, every fitted modality must lie inside one of
        these (a modality may group several fitted ones): a ValueError says
        which does not.
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
        six modalities; a coalition the estimator cannot use alone (an
        alignment given one modality) is worth the uninformed model's score.
        ``"auto"`` masks when the fitted estimator says it predicts with
        modalities masked (late fusion; a network trained with
        ``modality_dropout > 0``) and refits otherwise, with a UserWarning when
        the estimator it refits is fitted (its fitted state is not used).
    cv : int, cross-validation generator or iterable, default=5
        Folds for ``method="refit"``.
    n_jobs : int, default=None
        Subsets (and folds) evaluated in parallel.
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group splitter in ``cv`` (``method="refit"``)
        (:class:`~sklearn.model_selection.GroupKFold`: all rows of a patient
        in one fold), as in :func:`~sklearn.model_selection.cross_validate`.

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
    X = as_2d(X)
    if method == "mask":
        check_is_fitted(estimator)
    # before the warning below: a Pipeline has no `modalities_` to read them from
    spec = modality_spec(estimator, X, modalities)
    if method == "auto":
        fitted = hasattr(estimator, "modalities_")
        method = "mask" if fitted and predicts_with_masked_modalities(estimator) else "refit"
        if method == "refit" and _is_fitted(estimator):
            warnings.warn(
                f"modality_shapley(method='auto') refits clones of the fitted "
                f"{type(estimator).__name__} by cross-validation on the X and y given: "
                "it does not predict with modalities masked. Pass method='refit' (with "
                "training data) to say so, or method='mask' to score the fitted model "
                "with modalities blanked (NaN).",
                UserWarning,
                stacklevel=2,
            )
    if method == "mask":
        _check_mask_spec(estimator, spec)
    n = len(spec)
    limit = MAX_MASKED_MODALITIES if method == "mask" else MAX_EXHAUSTIVE_MODALITIES
    if n > limit:
        raise ValueError(
            f"Exact Shapley values with method={method!r} handle at most {limit} "
            f"modalities; got {n}. Use modality_importance, or group modalities."
        )
    scorer = _OneNumber(check_scoring(estimator, scoring=scoring))
    if method == "mask":
        check_scoring_suits_estimator(estimator, scorer, scoring, y)
        value = _masked_values(estimator, X, y, spec, scorer, n_jobs)
    else:
        splits = cv_splits(cv, X, y, estimator, groups)
        check_scoring_suits_estimator(estimator, scorer, scoring, y, splits)
        value = _refitted_values(estimator, X, y, spec, scorer, splits, n_jobs)
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
