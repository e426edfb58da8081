"""Alignment losses between two batches of paired embeddings (torch).

Both take ``(n, d)`` tensors whose row ``i`` of ``za`` is paired with row ``i``
of ``zb`` and return a scalar tensor, so any network can add them as an
alignment term (``loss = task_loss + weight * info_nce_loss(za, zb)``).
"""

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["info_nce_loss", "mmd_loss"]

# As skfusion.metrics: the median heuristic reads at most this many pooled rows,
# evenly spaced, so that both give the same bandwidth on the same sample.
_MEDIAN_MAX_ROWS = 1000


def info_nce_loss(za, zb, temperature=0.07):
    """Symmetric InfoNCE (CLIP) loss between paired embeddings.

    Rows are L2-normalised, the ``(n, n)`` cosine-similarity matrix is divided
    by ``temperature``, and the loss is the mean of the cross-entropies of
    matching each row of ``za`` to its partner in ``zb`` and vice versa.

    Parameters
    ----------
    za, zb : torch.Tensor of shape (n, d)
        Paired embeddings: ``za[i]`` and ``zb[i]`` come from the same sample.
    temperature : float or torch.Tensor, default=0.07
        Softmax temperature (> 0). A tensor (e.g. ``log_scale.exp()``
        inverted) keeps the graph, so a learnable temperature works.

    Returns
    -------
    loss : torch.Tensor of shape ()
        ``log(n)`` for uninformative embeddings, 0 for perfect alignment at a
        low temperature.

    See Also
    --------
    mmd_loss : distribution-level (unpaired) alignment.
    skfusion.nn.ContrastiveAlignment : projection heads trained with this loss.

    Notes
    -----
    van den Oord, Li and Vinyals, "Representation learning with contrastive
    predictive coding", 2018; Radford et al., "Learning transferable visual
    models from natural language supervision" (CLIP), ICML 2021.

    Examples
    --------
    >>> import torch
    >>> from skfusion.nn._losses import info_nce_loss
    >>> z = torch.eye(3)
    >>> round(float(info_nce_loss(z, z, temperature=0.01)), 4)
    0.0
    >>> round(float(info_nce_loss(torch.ones(4, 2), torch.ones(4, 2))), 4)
    1.3863
    """
    za, zb = _check_pair(za, zb)
    za = F.normalize(za, dim=1)
    zb = F.normalize(zb, dim=1)
    logits = za @ zb.T / temperature
    target = torch.arange(za.shape[0], device=za.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def mmd_loss(za, zb, gamma=None):
    """Squared maximum mean discrepancy (unbiased) with a Gaussian kernel.

    The torch counterpart of :func:`skfusion.metrics.mmd`, differentiable in
    both inputs; rows need not be paired and the two batches may differ in size.

    Parameters
    ----------
    za : torch.Tensor of shape (n, d)
    zb : torch.Tensor of shape (m, d)
        Two samples; ``n, m >= 2``.
    gamma : float or None, default=None
        Kernel ``exp(-gamma * ||a - b||^2)``. ``None`` uses the median
        heuristic ``1 / (2 median(squared distances between distinct pooled
        rows))`` exactly as :func:`skfusion.metrics.mmd` does (the median of
        an even count is the mean of the two middle values; at most 1000
        evenly spaced pooled rows are read; a zero median gives ``gamma=1``),
        computed without gradient.

    Returns
    -------
    loss : torch.Tensor of shape ()
        Unbiased MMD² estimate (can be slightly negative).

    See Also
    --------
    skfusion.metrics.mmd : the NumPy estimate, with a permutation test.

    Notes
    -----
    Gretton, Borgwardt, Rasch, Schölkopf and Smola, "A kernel two-sample
    test", JMLR 13, 2012 (equation 3).

    Examples
    --------
    >>> import torch
    >>> from skfusion.nn._losses import mmd_loss
    >>> a = torch.tensor([[0.0], [1.0]])
    >>> b = torch.tensor([[2.0], [3.0]])
    >>> round(float(mmd_loss(a, b, gamma=1.0)), 4)
    0.5335
    >>> round(float(mmd_loss(a, b)), 4)  # median heuristic, as skfusion.metrics.mmd
    0.6961
    """
    if za.ndim != 2 or zb.ndim != 2 or za.shape[1] != zb.shape[1]:
        raise ValueError(
            f"mmd_loss needs two 2-D tensors with the same number of columns; "
            f"got shapes {tuple(za.shape)} and {tuple(zb.shape)}"
        )
    n, m = za.shape[0], zb.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"mmd_loss needs at least 2 rows per sample; got {n} and {m}")
    pooled = torch.cat([za, zb], dim=0)
    sq = torch.cdist(pooled, pooled).pow(2)
    if gamma is None:
        gamma = _median_heuristic_gamma(pooled, sq)
    kernel = torch.exp(-gamma * sq)
    kaa, kbb, kab = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    # Unbiased: leave out the diagonal k(x_i, x_i) terms of the within-sample means.
    within_a = (kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
    within_b = (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
    return within_a + within_b - 2.0 * kab.mean()


@torch.no_grad()
def _median_heuristic_gamma(pooled, sq):
    """``1 / (2 median)`` of the squared distances between distinct pooled rows.

    The same statistic as ``skfusion.metrics._median_heuristic_gamma``:
    ``torch.median`` returns the lower of the two middle values of an even
    count, where ``numpy.median`` averages them, so the middle is taken by
    sorting; each pair is counted once (upper triangle), as there.
    """
    n_pooled = pooled.shape[0]
    if n_pooled > _MEDIAN_MAX_ROWS:
        rows = np.linspace(0, n_pooled - 1, _MEDIAN_MAX_ROWS).astype(np.intp)
        rows = torch.as_tensor(rows, device=sq.device)
        sq = sq[rows][:, rows]
        n_pooled = _MEDIAN_MAX_ROWS
    upper = torch.triu_indices(n_pooled, n_pooled, offset=1, device=sq.device)
    distances = torch.sort(sq[upper[0], upper[1]]).values
    count = distances.numel()
    median = 0.5 * (distances[(count - 1) // 2] + distances[count // 2])
    if median <= 0:
        # More than half the pairs coincide: any bandwidth sees the same ties.
        return 1.0
    return 0.5 / median


def _check_pair(za, zb):
    if za.ndim != 2 or zb.ndim != 2 or za.shape != zb.shape:
        raise ValueError(
            "info_nce_loss needs paired 2-D tensors of the same shape; got shapes "
            f"{tuple(za.shape)} and {tuple(zb.shape)}"
        )
    return za, zb
