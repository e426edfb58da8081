"""How early fusion reads a modality's presence: which rows hold it, and
whether a missing one is allowed (``missing="error"`` or ``"zero"``)."""

import numpy as np

from .._modalities import check_no_missing, presence_mask

#: The dtypes early fusion computes in; float32 input stays float32.
FLOAT_DTYPES = (np.float64, np.float32)


def present_rows(mask_column):
    """Indices of rows where a modality is present, or None when it is present everywhere."""
    return None if mask_column.all() else np.flatnonzero(mask_column)


def modality_presence(fusion, X, names):
    """Presence mask of the modalities ``names``; with ``missing="error"``, none may be missing."""
    mask = presence_mask(X, {name: fusion.modalities_[name] for name in names})
    if fusion.missing == "error":
        check_no_missing(mask, names, hint="missing='zero'")
    return mask
