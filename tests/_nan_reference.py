"""The textbook reference of NaN-cell imputation, written independently of skfusion.

A NaN cell (NaN in a row where its modality is present) takes its column's mean
over the rows where the modality is present, NaN cells left out; a row where all
of a modality's columns are NaN is a missing modality and stays NaN.
"""

import numpy as np


def reference_means(X, modalities):
    """Per column of ``X``, its mean over the rows where its modality is present."""
    means = np.zeros(X.shape[1])
    for columns in modalities.values():
        block = X[:, columns]
        present = ~np.isnan(block).all(axis=1)
        means[columns] = [np.nanmean(block[present, k]) for k in range(block.shape[1])]
    return means


def mean_imputed(X, modalities, means=None):
    """A copy of ``X`` with the NaN cells of present modalities set to ``means``
    (:func:`reference_means` of ``X`` itself when None); missing rows stay NaN."""
    means = reference_means(X, modalities) if means is None else means
    X = X.copy()
    for columns in modalities.values():
        block = X[:, columns]
        present = ~np.isnan(block).all(axis=1)
        cells = np.isnan(block) & present[:, None]
        block[cells] = np.broadcast_to(means[columns], block.shape)[cells]
        X[:, columns] = block
    return X
