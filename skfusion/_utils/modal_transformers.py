"""What the transformers over several modalities share: their input, and their output's names.

:class:`~skfusion.MultiviewCCA`, :class:`~skfusion.SimilarityNetworkFusion`
and :class:`~skfusion.nn.ContrastiveAlignment` (and, for the input, the
intermediate-fusion networks) take ``X`` with NaN marking a missing modality
and fill a NaN cell inside a present modality with its column's training mean
(``fill_values_``) before anything else sees it.
"""

import numpy as np
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .._fit_context import check_params_unchanged_since_fit
from .._modalities import (
    fill_modality_nan_cells,
    modality_nan_cell_means,
    presence_mask,
    validate_alignment_data,
    validate_modal_data,
)

__all__ = ["fit_alignment_input", "fitted_input", "feature_names_out"]


def fit_alignment_input(estimator, X, *, reason):
    """The start of ``fit`` of an alignment: :func:`~skfusion._modalities.validate_alignment_data`,
    then the NaN cells set to their column's mean over the rows where the modality is present
    (learnt here as ``estimator.fill_values_``).

    Returns
    -------
    X : ndarray
        The validated input, NaN cells filled (a missing modality stays NaN).
    names : list of str
        The modality names, in order.
    mask : ndarray of bool of shape (n_samples, n_modalities)
        The presence mask.
    """
    X, names, mask = validate_alignment_data(estimator, X, reason=reason)
    estimator.fill_values_ = modality_nan_cell_means(X, estimator.modalities_, mask)
    return fill_modality_nan_cells(X, estimator.modalities_, mask, estimator.fill_values_), names, mask


def fitted_input(estimator, X):
    """``X`` for a fitted estimator's ``transform`` or ``predict``, and its presence mask.

    Checks that ``estimator`` is fitted, validates ``X`` against the fit
    (float64 or float32, NaN allowed) and fills its NaN cells with ``fill_values_``.
    """
    check_is_fitted(estimator)
    X = validate_modal_data(estimator, X, reset=False, dtype=[np.float64, np.float32])
    mask = presence_mask(X, estimator.modalities_)
    return fill_modality_nan_cells(X, estimator.modalities_, mask, estimator.fill_values_), mask


def feature_names_out(estimator, input_features, prefix, n_columns, *, per_modality=False):
    """``<prefix><i>`` for ``i < n_columns``; with ``per_modality``, each of them once per
    modality as ``<modality>_<prefix><i>``, modality by modality.

    ``input_features`` is only checked against the fit's ``feature_names_in_``.
    """
    check_is_fitted(estimator)
    check_params_unchanged_since_fit(estimator)
    _check_feature_names_in(estimator, input_features)
    suffixes = [f"{prefix}{i}" for i in range(n_columns)]
    if per_modality:
        return np.asarray([f"{name}_{s}" for name in estimator.modalities_ for s in suffixes], dtype=object)
    return np.asarray(suffixes, dtype=object)
