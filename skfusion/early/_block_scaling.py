"""Block scaling for early fusion: per-modality statistics and the chunked writer.

A *block* is the part of the fused output that one modality contributes. Its
statistics (training mean and the divisor of ``block_scaling``) are computed
once in ``fit``; :func:`write_centred_scaled` applies them at transform time
into a preallocated output, one small row chunk at a time, so that centring and
scaling touch each output value while it is still in cache.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigvalsh
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils.sparsefuncs import mean_variance_axis

from .._modalities import fill_nan_cells

__all__ = [
    "block_statistics",
    "divide_columns",
    "row_chunks",
    "top_covariance_eigenvalue",
    "write_centred_scaled",
]

#: Largest side of a covariance or Gram matrix formed explicitly for "mfa"
#: (32 MiB in float64); when both sides of a block are larger, the top
#: eigenvalue comes from a truncated SVD of the implicitly centred block.
GRAM_MAX_SIDE = 2048

#: Bytes of output per row chunk: well inside a core's L2 cache, so that the
#: in-place scaling after the centring subtraction reads cached values (the
#: two passes over the whole output cost ~1.7x a copy; chunked ~1.1x).
CHUNK_BYTES = 1 << 18


def row_chunks(n_rows, row_bytes, chunk_bytes=CHUNK_BYTES):
    """Consecutive row slices of about ``chunk_bytes`` each."""
    step = max(1, chunk_bytes // max(int(row_bytes), 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _constant_columns(var, mean, n_samples):
    """Columns whose variance is within rounding error of zero.

    The bound is that of the two-pass variance algorithm (Chan, Golub and
    LeVeque), as in scikit-learn's StandardScaler.
    """
    eps = np.finfo(np.float64).eps
    return var <= n_samples * eps * var + (n_samples * mean * eps) ** 2


def _dense_moments(block):
    """Column means and sample variances (ddof=1) in float64, chunk by chunk.

    Chunking avoids the full-size temporary of ``np.var``; NaN cells (a modality
    present in a row but with some NaN) are ignored column by column.
    """
    n_samples = block.shape[0]
    if np.isnan(block).any():
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nanmean(block, axis=0, dtype=np.float64)
            var = np.nanvar(block, axis=0, dtype=np.float64, ddof=1)
        return np.nan_to_num(mean), np.nan_to_num(var), True
    mean = block.mean(axis=0, dtype=np.float64)
    sum_sq = np.zeros(block.shape[1])
    for rows in row_chunks(n_samples, block.shape[1] * 8):
        centred = block[rows] - mean
        sum_sq += np.einsum("ij,ij->j", centred, centred)
    var = sum_sq / (n_samples - 1) if n_samples > 1 else np.zeros_like(sum_sq)
    return mean, var, False


def _sparse_moments(block):
    n_samples = block.shape[0]
    mean, var = mean_variance_axis(
        block.tocsr() if block.format not in ("csr", "csc") else block, axis=0
    )
    mean, var = mean.astype(np.float64), var.astype(np.float64)
    var = var * n_samples / (n_samples - 1) if n_samples > 1 else np.zeros_like(var)
    has_nan = bool(np.isnan(block.data).any())
    return mean, var, has_nan


def _centred_operator(block, mean):
    """The block minus its column means, as a LinearOperator (no dense copy)."""
    mean = mean[None, :]
    block_t = block.T
    return LinearOperator(
        shape=block.shape,
        dtype=np.float64,
        matvec=lambda v: block @ v - mean @ v,
        matmat=lambda v: block @ v - mean @ v,
        rmatvec=lambda u: block_t @ u - mean.ravel() * u.sum(),
        rmatmat=lambda u: block_t @ u - mean.T @ u.sum(axis=0, keepdims=True),
    )


def _scatter_small_side(block, mean):
    """``Xc.T @ Xc`` or ``Xc @ Xc.T`` (whichever is smaller) of the centred block."""
    n_samples, n_features = block.shape
    if sp.issparse(block):
        if n_features <= n_samples:
            scatter = (block.T @ block).toarray() - n_samples * np.outer(mean, mean)
        else:
            # Xc Xc^T = X X^T - u 1^T - 1 u^T + (m.m) 1 1^T with u = X m.
            u = np.asarray(block @ mean).ravel()
            scatter = (block @ block.T).toarray() - u[:, None] - u[None, :] + mean @ mean
        return scatter
    if n_features <= n_samples:
        scatter = np.zeros((n_features, n_features))
        for rows in row_chunks(n_samples, n_features * 8, chunk_bytes=1 << 24):
            centred = block[rows] - mean
            scatter += centred.T @ centred
        return scatter
    scatter = np.zeros((n_samples, n_samples))
    for cols in row_chunks(n_features, n_samples * 8, chunk_bytes=1 << 24):
        centred = block[:, cols] - mean[cols]
        scatter += centred @ centred.T
    return scatter


def top_covariance_eigenvalue(block, mean):
    """Largest eigenvalue of the sample covariance (ddof=1) of ``block``.

    Forms the smaller of the covariance and the Gram matrix when one side is
    at most :data:`GRAM_MAX_SIDE`; otherwise the squared top singular value of
    the implicitly centred block (ARPACK, deterministic start vector).
    """
    n_samples, n_features = block.shape
    if n_samples < 2:
        return 0.0
    if min(n_samples, n_features) <= GRAM_MAX_SIDE:
        scatter = _scatter_small_side(block, mean)
        side = scatter.shape[0]
        top = eigvalsh(scatter, subset_by_index=[side - 1, side - 1])[0]
    else:
        operator = _centred_operator(block, mean)
        v0 = np.random.default_rng(0).standard_normal(min(n_samples, n_features))
        top = svds(operator, k=1, v0=v0, return_singular_vectors=False)[0] ** 2
    return max(float(top), 0.0) / (n_samples - 1)


def _standard_deviations(var, constant, n_samples):
    """Each column's standard deviation as StandardScaler's ``scale_`` (``ddof=0``; 1.0
    for a column that is constant up to rounding, which is then left as it is)."""
    ddof0 = var * (n_samples - 1) / n_samples if n_samples > 1 else np.zeros_like(var)
    return np.where(constant, 1.0, np.sqrt(ddof0))


def divide_columns(block, scale):
    """``block`` with each column divided by ``scale`` (a sparse block stays sparse)."""
    if sp.issparse(block):
        return (block @ sp.diags(1.0 / scale)).tocsr()
    return block / scale


def block_statistics(block, block_scaling, *, standardize=False):
    """Training mean, divisor and column scales of one modality's block (its present rows).

    Returns ``(mean, norm, column_scale)``: ``mean`` is None for a sparse block
    (it is not centred, which would densify it); ``column_scale`` holds each
    column's standard deviation when ``standardize`` (as
    :class:`~sklearn.preprocessing.StandardScaler`'s ``scale_``), ones
    otherwise; ``norm`` is the square root of the total variance
    (``"variance"``) or of the largest covariance eigenvalue (``"mfa"``) of the
    block divided by ``column_scale``, both with ``ddof=1``, and 1.0 for
    ``None`` or a block that is constant up to rounding. NaN (in a
    transformer's output: fusion fills its inputs' NaN cells first) is left out
    of the means and variances; for ``"mfa"`` its column's mean stands in for
    it in the covariance.
    """
    n_samples = block.shape[0]
    mean, var, has_nan = (_sparse_moments if sp.issparse(block) else _dense_moments)(block)
    constant = _constant_columns(var, mean, n_samples)
    column_scale = np.ones_like(var)
    if standardize:
        column_scale = _standard_deviations(var, constant, n_samples)
    informative = ~constant
    norm = 1.0
    if block_scaling == "variance" and informative.any():
        norm = float(np.sqrt((var / column_scale**2)[informative].sum()))
    elif block_scaling == "mfa" and informative.any():
        filled = fill_nan_cells(block, mean) if has_nan else block
        if standardize:
            filled = divide_columns(filled, column_scale)
        norm = float(np.sqrt(top_covariance_eigenvalue(filled, mean / column_scale)))
    if not np.isfinite(norm) or norm <= 0.0:
        norm = 1.0
    return (None if sp.issparse(block) else mean), norm, column_scale


def write_centred_scaled(out, out_columns, source, mean, scale):
    """``out[:, out_columns] = (source - mean) * scale``, one cached row chunk at a time.

    ``source`` is a dense 2-D array (or view) with as many rows as ``out``;
    ``mean`` and ``scale`` are scalars or vectors that broadcast over its
    columns, already in ``out``'s dtype. Nothing of the size of ``out`` is
    allocated.
    """
    width = out[:1, out_columns].shape[1]
    skip_scale = np.all(np.asarray(scale) == 1)
    for rows in row_chunks(out.shape[0], width * out.itemsize):
        target = out[rows, out_columns]
        np.subtract(source[rows], mean, out=target)
        if not skip_scale:
            target *= scale
