"""Permutation importance of whole modalities."""

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._common import as_2d, modality_spec

__all__ = ["modality_importance"]


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
    estimator, X, y, modalities=None, n_repeats=5, scoring=None, random_state=0, n_jobs=None
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
    random_state : int, RandomState instance or None, default=0
        Seeds the permutations; every modality draws the same ones. The
        default is a fixed seed, so that two calls give the same importances
        (None: numpy's global random state).
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
    X = as_2d(X)
    spec = modality_spec(estimator, X, modalities)
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


