"""Warnings and errors of skfusion."""

__all__ = ["NoModalityPresentWarning", "SmallDataWarning"]


class NoModalityPresentWarning(UserWarning):
    """Some rows have no branch present, so they get the training prior or mean.

    Issued at predict time by :class:`~skfusion.StackingLateFusion` and
    :class:`~skfusion.WeightedVoteFusion` for rows where every branch misses
    one of its modalities (for the vote, also rows whose present branches all
    have weight 0), and by the networks of :mod:`skfusion.nn` for rows with
    every modality missing. The message says how many rows.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion import NoModalityPresentWarning, WeightedVoteFusion
    >>> X, y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [2.0, 0.0]]), [0, 1, 0, 1]
    >>> vote = WeightedVoteFusion(
    ...     LogisticRegression(), modalities={"a": [0], "b": [1]}, weights=None
    ... ).fit(X, y)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     proba = vote.predict_proba(np.full((1, 2), np.nan))
    >>> caught[0].category is NoModalityPresentWarning, proba
    (True, array([[0.5, 0.5]]))
    """


class SmallDataWarning(UserWarning):
    """A network is fitted on fewer rows than it usually needs to beat a linear model.

    Issued at fit time by :class:`~skfusion.nn.IntermediateFusionClassifier`
    and :class:`~skfusion.nn.IntermediateFusionRegressor` when the training
    set has fewer rows than the measured threshold given in the message. On so
    few rows a logistic (or ridge) regression on the best modality, or late
    fusion of linear models (:class:`~skfusion.StackingLateFusion`,
    :class:`~skfusion.WeightedVoteFusion`), usually predicts better;
    :func:`skfusion.model_selection.compare_fusion` measures it on your data.

    Examples
    --------
    >>> import warnings
    >>> from skfusion import SmallDataWarning
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.nn import IntermediateFusionClassifier
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=40, widths={"a": 3, "b": 2}, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     net = IntermediateFusionClassifier(modalities, max_epochs=2, device="cpu").fit(X, y)
    >>> any(w.category is SmallDataWarning for w in caught)
    True
    """
