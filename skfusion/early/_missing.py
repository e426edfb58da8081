"""How early fusion reads a modality's presence and NaN cells: which rows hold
it, whether a missing one is allowed (``missing="error"`` or ``"zero"``), and
NaN cells of a present modality refused (``"error"``) or set to their column's
training mean (``"zero"``)."""

import numpy as np
import scipy.sparse as sp

from .._modalities import (
    check_no_missing,
    fill_modality_nan_cells,
    modality_nan_cell_means,
    presence_mask,
    take_columns,
)

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


def handle_nan_cells(fusion, X, names, mask, *, reset):
    """``X`` with the NaN cells of the modalities ``names`` filled, or refused.

    With ``missing="zero"``, each cell takes its column's mean over the
    training rows where its modality is present (``fusion.fill_values_``, set
    when ``reset``); ``X`` itself comes back when there is none. With
    ``missing="error"``, a NaN cell is refused, naming its modality.
    """
    modalities = {name: fusion.modalities_[name] for name in names}
    if fusion.missing == "error":
        for name, columns in modalities.items():
            _refuse_nan_cells(fusion, take_columns(X, columns), name)
        return X
    if reset:
        fusion.fill_values_ = modality_nan_cell_means(X, modalities, mask)
    return fill_modality_nan_cells(X, modalities, mask, fusion.fill_values_)


def _refuse_nan_cells(fusion, block, name):
    """Raise a ValueError naming ``name`` when its block (every row present) holds NaN."""
    values = block.data if sp.issparse(block) else block
    if not np.isnan(np.add.reduce(values, axis=None)):
        return
    if sp.issparse(block):
        coo = block.tocoo()
        rows = np.unique(coo.row[np.isnan(coo.data)]).size
    else:
        rows = int(np.isnan(block).any(axis=1).sum())
    if rows == 0:  # the sum overflowed: no NaN after all
        return
    raise ValueError(
        f"Modality {name!r} has NaN cells in {rows} of {block.shape[0]} rows where it is "
        f"present; {type(fusion).__name__}(missing='error') needs complete data. Use "
        "missing='zero' to set each NaN cell to its column's training mean (and accept "
        "missing modalities)."
    )
