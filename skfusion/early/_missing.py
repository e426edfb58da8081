"""How early fusion reads a modality's presence and NaN cells: which rows hold
it, whether a missing one is allowed (``missing="error"`` or ``"zero"``), and,
in both modes, NaN cells of a present modality set to their column's training
mean (infinities refused in the same pass)."""

import numpy as np

from .._modalities import (
    check_finite_allowing_nan,
    check_no_missing,
    fill_modality_nan_cells,
    modality_nan_cell_means,
    presence_mask,
    take_columns,
)

#: The dtypes early fusion computes in; float32 input stays float32.
FLOAT_DTYPES = (np.float64, np.float32)

#: How early fusion validates X: float, CSR/CSC kept sparse, the finite check
#: left to :func:`handle_nan_cells` (one pass finds NaN cells and refuses inf).
CHECK_PARAMS = dict(accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES, ensure_all_finite=False)


def present_rows(mask_column):
    """Indices of rows where a modality is present, or None when it is present everywhere."""
    return None if mask_column.all() else np.flatnonzero(mask_column)


def training_block(fusion, X, name, mask_column):
    """The rows where modality ``name`` is present (None: every row) and its columns
    there; an error when it is missing in every training row."""
    rows = present_rows(mask_column)
    if rows is not None and rows.size == 0:
        raise ValueError(f"Modality {name!r} is missing in every training row.")
    block = take_columns(X, fusion.modalities_[name])
    return rows, (block if rows is None else block[rows])


def modality_presence(fusion, X, names):
    """Presence mask of the modalities ``names``; with ``missing="error"``, none may be missing."""
    mask = presence_mask(X, {name: fusion.modalities_[name] for name in names})
    if fusion.missing == "error":
        check_no_missing(mask, names, hint="missing='zero'")
    return mask


def handle_nan_cells(fusion, X, names, mask, *, reset):
    """``X`` with the NaN cells of the modalities ``names`` filled.

    Each cell takes its column's mean over the training rows where its
    modality is present (``fusion.fill_values_``, set when ``reset``); ``X``
    itself comes back when there is none. Whatever ``missing`` says: it
    decides what a *missing modality* (a row of NaN) gets, and a NaN cell of a
    present modality is not one.

    ``X`` comes from ``validate_modal_data`` with ``ensure_all_finite=False``
    (:data:`CHECK_PARAMS`): infinities are refused here, in the pass that
    looks for NaN cells.
    """
    holds_no_nan = check_finite_allowing_nan(X, estimator=fusion)
    modalities = {name: fusion.modalities_[name] for name in names}
    if reset:
        fusion.fill_values_ = modality_nan_cell_means(X, modalities, mask)
    if holds_no_nan:
        return X
    return fill_modality_nan_cells(X, modalities, mask, fusion.fill_values_)
