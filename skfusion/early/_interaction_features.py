"""Cross-modal multiplicative features for :class:`skfusion.InteractionFusion`.

Projection of each modality to ``z_m`` (centred, unit variance per component),
then one pair's features from ``z_a`` and ``z_b``: element-wise products, the
Tensor Fusion outer product, or its Tensor Sketch.
"""

from itertools import combinations

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._block_scaling import GRAM_MAX_SIDE, block_statistics, divide_columns

__all__ = [
    "WIDTH_FORMULAS",
    "count_sketch_matrix",
    "draw_count_sketch",
    "fit_projection",
    "interaction_width",
    "pair_feature_names",
    "pair_features",
    "project",
    "resolve_pairs",
    "with_constant",
]

#: Width of one pair's features, as documented in InteractionFusion.
WIDTH_FORMULAS = {
    "product": "min(k_a, k_b)",
    "tensor": "(k_a + 1) * (k_b + 1)",
    "compact_bilinear": "sketch_size",
}


def interaction_width(method, k_a, k_b, sketch_size):
    """Number of features one pair of modalities yields (see :data:`WIDTH_FORMULAS`)."""
    if method == "product":
        return min(k_a, k_b)
    if method == "tensor":
        return (k_a + 1) * (k_b + 1)
    return sketch_size


def resolve_pairs(pairs, names):
    """The list of distinct ``(a, b)`` modality pairs; ``None`` means every pair."""
    if pairs is None:
        if len(names) < 2:
            raise ValueError(f"InteractionFusion needs at least two modalities; got {names}.")
        return list(combinations(names, 2))
    resolved = []
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"Each of `pairs` must be two modality names; got {pair!r}.")
        a, b = pair
        for name in (a, b):
            if name not in names:
                raise ValueError(
                    f"`pairs` names an unknown modality {name!r}; the modalities are {names}."
                )
        if a == b:
            raise ValueError(f"`pairs` must pair two different modalities; got {pair!r}.")
        if (a, b) in resolved or (b, a) in resolved:
            raise ValueError(f"`pairs` lists the pair {pair!r} more than once.")
        resolved.append((a, b))
    if not resolved:
        raise ValueError("`pairs` must list at least one pair of modalities.")
    return resolved


def fit_projection(block, name, *, projection, k, rng, standardize):
    """Mean, column scale and projection ``W`` (p_m, k) from a modality's present rows.

    ``z = ((x - mean) / scale) @ W`` has unit-variance components: whitened
    principal components (``"pca"``), or a standard Gaussian map of the block
    divided by the square root of its total variance (``"random"``: unit
    variance in expectation). ``scale`` holds the columns' standard deviations
    when ``standardize`` (ones otherwise); ``W`` is None for
    ``projection=None`` (``z = (x - mean) / scale``). NaN cells are filled
    before this is called.
    """
    n_rows, width = block.shape
    mean, norm, scale = block_statistics(block, "variance", standardize=standardize)
    if mean is None:  # sparse: no centring in the statistics, but z is centred
        mean = mean_variance_axis(block.tocsr(), axis=0)[0].astype(np.float64)
    if projection is None:
        return mean, scale, None
    if projection == "random":
        return mean, scale, rng.standard_normal((width, k)) / norm
    # One row has no variance to whiten by (PCA's is 0 / 0, which came out as NaN)
    needed = max(k, 2)
    if n_rows < needed:
        raise ValueError(
            f"projection='pca' with n_components={k} needs at least {needed} rows where "
            f"modality {name!r} is present; got {n_rows} sample(s)."
        )
    # Sparse input: covariance_eigh takes narrow blocks whatever k; arpack wide ones.
    solver = "auto"
    if sp.issparse(block):
        solver = "covariance_eigh" if width <= GRAM_MAX_SIDE else "arpack"
    if standardize:
        block = divide_columns(block, scale)
    # A constant modality has zero total variance: PCA's explained-variance ratio
    # divides by it (a RuntimeWarning the user can do nothing about); its
    # components are unused here and the zero variances are handled below.
    with np.errstate(divide="ignore", invalid="ignore"):
        pca = PCA(n_components=k, whiten=True, svd_solver=solver, random_state=rng).fit(block)
    deviation = np.sqrt(pca.explained_variance_)
    deviation[~(deviation >= np.finfo(np.float64).eps)] = 1.0  # NaN included
    return mean, scale, pca.components_.T / deviation


def project(block, *, mean, scale, projection, present, dtype):
    """``z`` of one modality for every row: zero where it is missing (not ``present``)."""
    mean = mean.astype(dtype)
    rows = None if present.all() else np.flatnonzero(present)
    if rows is not None:
        block = block[rows]
    if projection is None:
        z = (np.asarray(block, dtype=dtype) - mean) / scale.astype(dtype)
    else:
        # (x - mean) / scale @ W, with the column scales folded into W (p_m x k_m)
        projection = (projection / scale[:, None]).astype(dtype)
        z = np.asarray(block @ projection, dtype=dtype) - mean @ projection
    if rows is None:
        return z
    full = np.zeros((present.shape[0], z.shape[1]), dtype=dtype)
    full[rows] = z
    return full


def with_constant(z):
    """``[1, z]``: the constant lets the outer product keep unimodal terms (TFN)."""
    return np.hstack([np.ones((z.shape[0], 1), dtype=z.dtype), z])


def draw_count_sketch(rng, size, sketch_size):
    """Hash (bucket) and sign of each of ``size`` entries, for a count sketch."""
    return rng.randint(0, sketch_size, size), rng.choice([-1.0, 1.0], size)


def count_sketch_matrix(buckets, signs, sketch_size, dtype=np.float64):
    """Dense ``(len(buckets), sketch_size)`` count-sketch matrix: ``C[i, h(i)] = s(i)``.

    ``x @ C`` is the count sketch of ``x`` (Charikar, Chen and Farach-Colton, 2002).
    """
    matrix = np.zeros((buckets.size, sketch_size), dtype=dtype)
    matrix[np.arange(buckets.size), buckets] = signs
    return matrix


def pair_features(method, z_a, z_b, out, sketches=None):
    """Write one pair's interaction features into ``out`` (n_samples, width).

    - ``"product"``: ``z_a[:, :k] * z_b[:, :k]`` with ``k = min(k_a, k_b)``;
    - ``"tensor"``: ``vec([1, z_a] ⊗ [1, z_b])``, row-major (Zadeh et al., 2017);
    - ``"compact_bilinear"``: the Tensor Sketch of that outer product
      (Pham and Pagh, 2013; Gao et al., 2016): the circular convolution of the
      count sketches of ``[1, z_a]`` and ``[1, z_b]``, computed with FFTs.
    """
    n_samples = z_a.shape[0]
    if method == "product":
        k = min(z_a.shape[1], z_b.shape[1])
        np.multiply(z_a[:, :k], z_b[:, :k], out=out)
    elif method == "tensor":
        outer = with_constant(z_a)[:, :, None] * with_constant(z_b)[:, None, :]
        out[...] = outer.reshape(n_samples, -1)
    else:
        sketch_a, sketch_b = sketches
        size = sketch_a.shape[1]
        spectrum = np.fft.rfft(with_constant(z_a) @ sketch_a, axis=1) * np.fft.rfft(
            with_constant(z_b) @ sketch_b, axis=1
        )
        out[...] = np.fft.irfft(spectrum, n=size, axis=1)


def pair_feature_names(method, a, b, k_a, k_b, sketch_size):
    """Names of one pair's features (see InteractionFusion's Notes)."""
    prefix = f"{a}*{b}"
    if method == "product":
        return [f"{prefix}__{i}" for i in range(min(k_a, k_b))]
    if method == "tensor":
        return [f"{prefix}__{i}_{j}" for i in range(k_a + 1) for j in range(k_b + 1)]
    return [f"{prefix}__sketch{j}" for j in range(sketch_size)]
