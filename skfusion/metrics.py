"""Alignment metrics: two-sample MMD with a permutation test, and retrieval recall@k.

These compare *representations*: two samples of embeddings (MMD: are they
drawn from one distribution?) or two paired embeddings of the same rows
(recall@k: can a row of modality A find its own partner among modality B's?).
"""

from numbers import Integral, Real
from typing import NamedTuple, Optional

import numpy as np
from sklearn.metrics.pairwise import pairwise_distances, pairwise_kernels
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["MMDTestResult", "mmd", "mmd_permutation_test", "recall_at_k"]

class MMDTestResult(NamedTuple):
    """Result of :func:`mmd_permutation_test`, a named tuple.

    Attributes
    ----------
    statistic : float
        The observed unbiased MMD² estimate.
    pvalue : float
        ``(1 + #{null_distribution >= statistic}) / (1 + n_permutations)``.
    null_distribution : ndarray of shape (n_permutations,)
        MMD² of the random reassignments of the pooled rows.
    gamma : float or None
        The kernel bandwidth used (None for the linear kernel).

    See Also
    --------
    mmd_permutation_test : returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.metrics import mmd_permutation_test
    >>> rng = np.random.default_rng(0)
    >>> statistic, pvalue, null, gamma = mmd_permutation_test(
    ...     rng.normal(size=(20, 2)), rng.normal(size=(20, 2)), n_permutations=9, random_state=0)
    >>> null.shape
    (9,)
    """

    statistic: float
    pvalue: float
    null_distribution: np.ndarray
    gamma: Optional[float]


_KERNELS = ("rbf", "laplacian", "linear")
# Median-heuristic distances are computed on at most this many pooled rows, so the
# bandwidth costs O(1) in the sample size; evenly spaced rows keep it deterministic.
_MEDIAN_MAX_ROWS = 1000
# Rows of queries scored at once in recall_at_k: bounds the similarity block in memory.
_QUERY_CHUNK = 1024


def _check_two_samples(A, B, *, paired=False):
    A = check_array(A, dtype=[np.float64, np.float32], input_name="A")
    B = check_array(B, dtype=[np.float64, np.float32], input_name="B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A and B must have the same number of columns; got {A.shape[1]} and {B.shape[1]}."
        )
    if paired and A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must be paired row by row (row i of A matches row i of B); got "
            f"{A.shape[0]} and {B.shape[0]} rows."
        )
    return A, B


def _median_heuristic_gamma(pooled, kernel):
    """Bandwidth from the median pairwise distance (Gretton et al. 2012, section 8)."""
    if pooled.shape[0] > _MEDIAN_MAX_ROWS:
        rows = np.linspace(0, pooled.shape[0] - 1, _MEDIAN_MAX_ROWS).astype(np.intp)
        pooled = pooled[rows]
    metric = "manhattan" if kernel == "laplacian" else "sqeuclidean"
    distances = pairwise_distances(pooled, metric=metric)
    median = np.median(distances[np.triu_indices_from(distances, k=1)])
    if median <= 0:
        # More than half the pairs coincide: any bandwidth sees the same ties.
        return 1.0
    # rbf: exp(-d^2 / (2 sigma^2)) with sigma^2 = median(d^2); laplacian: exp(-|d|_1 / median).
    return 1.0 / (2.0 * median) if kernel == "rbf" else 1.0 / median


def _pooled_kernel(A, B, kernel, gamma):
    if kernel == "linear" and gamma is not None:
        raise ValueError(
            f"gamma={gamma!r} is a bandwidth of the 'rbf' and 'laplacian' kernels; "
            "kernel='linear' has none (leave gamma=None)."
        )
    pooled = np.concatenate([A, B], axis=0)
    # Squared distances or products of values near 1e200 overflow to inf, and the
    # kernel to NaN: said once here instead of a NaN statistic after RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"):
        if gamma is None and kernel != "linear":
            gamma = _median_heuristic_gamma(pooled, kernel)
        params = {} if kernel == "linear" else {"gamma": gamma}
        K = pairwise_kernels(pooled, metric=kernel, **params)
    if not (np.isfinite(K).all() and (gamma is None or np.isfinite(gamma))):
        raise ValueError(
            f"The {kernel} kernel of A and B overflows float{8 * pooled.itemsize} (values "
            f"up to {np.abs(pooled).max():.3g}); rescale both samples alike first."
        )
    return K, gamma


def _unbiased_mmd2(K, in_a):
    """MMD²_u for the split of the pooled kernel ``K`` given by columns of ``in_a``.

    ``in_a`` is a (n_pooled, n_splits) 0/1 matrix, one column per split, so that
    all permutations of a test are scored with one matrix product.
    """
    in_b = 1.0 - in_a
    m = in_a[:, 0].sum()
    n = in_b[:, 0].sum()
    diagonal = np.diag(K)
    K_in_a = K @ in_a
    sum_aa = np.einsum("ij,ij->j", in_a, K_in_a) - diagonal @ in_a
    sum_ab = np.einsum("ij,ij->j", in_b, K_in_a)
    sum_bb = K.sum() - 2.0 * sum_ab - (sum_aa + diagonal @ in_a) - diagonal @ in_b
    return sum_aa / (m * (m - 1)) + sum_bb / (n * (n - 1)) - 2.0 * sum_ab / (m * n)


_MMD_PARAMS = {
    "A": ["array-like"],
    "B": ["array-like"],
    "kernel": [StrOptions(set(_KERNELS))],
    "gamma": [Interval(Real, 0, None, closed="neither"), None],
}


@validate_params(_MMD_PARAMS, prefer_skip_nested_validation=True)
def mmd(A, B, kernel="rbf", gamma=None):
    """Unbiased estimate of the squared maximum mean discrepancy between two samples.

    MMD² is the squared distance between the kernel mean embeddings of the two
    distributions; it is zero exactly when they are equal (for a
    characteristic kernel such as ``"rbf"``). The unbiased estimate can be
    slightly negative when they are.

    Parameters
    ----------
    A : array-like of shape (n_a, n_features)
        First sample, ``n_a >= 2``.
    B : array-like of shape (n_b, n_features)
        Second sample, ``n_b >= 2``; need not be paired with ``A``.
    kernel : {"rbf", "laplacian", "linear"}, default="rbf"
        ``"rbf"``: ``exp(-gamma ||a - b||²)``; ``"laplacian"``:
        ``exp(-gamma ||a - b||_1)``; ``"linear"``: ``a·b`` (then MMD² estimates,
        without bias, the squared distance between the two means).
    gamma : float > 0 or None, default=None
        Kernel bandwidth. ``None`` uses the median heuristic on the pooled
        sample: ``1 / (2 median ||a - b||²)`` for ``"rbf"``,
        ``1 / median ||a - b||_1`` for ``"laplacian"``. The ``"linear"``
        kernel has none: a gamma given with it is refused.

    Returns
    -------
    float
        The unbiased MMD² estimate (Gretton et al. 2012, equation 3).

    See Also
    --------
    mmd_permutation_test : p-value for "A and B come from one distribution".
    skfusion.nn.mmd_loss : the differentiable torch version.

    Notes
    -----
    Gretton, Borgwardt, Rasch, Schölkopf and Smola, "A kernel two-sample
    test", Journal of Machine Learning Research 13:723-773, 2012.

    Examples
    --------
    >>> from skfusion.metrics import mmd
    >>> round(mmd([[0.0], [1.0]], [[2.0], [3.0]], gamma=1.0), 4)
    0.5335
    """
    A, B = _check_two_samples(A, B)
    _check_sample_sizes(A, B)
    K, _ = _pooled_kernel(A, B, kernel, gamma)
    in_a = np.zeros((K.shape[0], 1))
    in_a[: A.shape[0]] = 1.0
    return float(_unbiased_mmd2(K, in_a)[0])


def _check_sample_sizes(A, B):
    if A.shape[0] < 2 or B.shape[0] < 2:
        raise ValueError(
            f"The unbiased MMD needs at least 2 rows in each sample; got {A.shape[0]} "
            f"rows in A and {B.shape[0]} in B."
        )


@validate_params(
    {
        **_MMD_PARAMS,
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def mmd_permutation_test(A, B, kernel="rbf", gamma=None, *, n_permutations=1000, random_state=0):
    """Permutation test of "A and B are samples of one distribution" with MMD².

    The rows of the pooled sample are reassigned to two groups of the
    original sizes ``n_permutations`` times; the p-value is the share of
    reassignments whose MMD² is at least the observed one, counting the
    observed assignment itself (so it is never 0).

    Parameters
    ----------
    A : array-like of shape (n_a, n_features)
        First sample, ``n_a >= 2``.
    B : array-like of shape (n_b, n_features)
        Second sample, ``n_b >= 2``.
    kernel : {"rbf", "laplacian", "linear"}, default="rbf"
        See :func:`mmd`.
    gamma : float > 0 or None, default=None
        See :func:`mmd`; the median heuristic is computed once on the pooled
        sample, so every permutation uses the same kernel.
    n_permutations : int, default=1000
        Number of random reassignments.
    random_state : int, RandomState instance or None, default=0
        Seeds the reassignments; the default is a fixed seed, so that two
        calls give the same p-value (None: numpy's global random state).

    Returns
    -------
    MMDTestResult
        Named tuple ``(statistic, pvalue, null_distribution, gamma)``: the
        observed MMD², ``(1 + #{null >= statistic}) / (1 + n_permutations)``,
        the ``n_permutations`` MMD² values under reassignment, and the
        bandwidth used (None for ``"linear"``).

    See Also
    --------
    mmd : the statistic alone.
    scipy.stats.permutation_test : the generic version.

    Notes
    -----
    Gretton et al., "A kernel two-sample test", JMLR 2012; the p-value counts
    the observed statistic as in Phipson and Smyth, "Permutation p-values
    should never be zero", Statistical Applications in Genetics and Molecular
    Biology 9(1), 2010. One kernel matrix is computed and every permutation
    is scored from it, in blocks, with one matrix product.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.metrics import mmd_permutation_test
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(50, 2))
    >>> result = mmd_permutation_test(A, A + 3.0, n_permutations=99, random_state=0)
    >>> result.pvalue
    0.01
    """
    A, B = _check_two_samples(A, B)
    _check_sample_sizes(A, B)
    K, gamma = _pooled_kernel(A, B, kernel, gamma)
    n_pooled, n_a = K.shape[0], A.shape[0]
    in_a = np.zeros((n_pooled, 1))
    in_a[:n_a] = 1.0
    statistic = float(_unbiased_mmd2(K, in_a)[0])

    rng = check_random_state(random_state)
    null = np.empty(n_permutations)
    block = max(1, min(n_permutations, 2**22 // n_pooled))
    for start in range(0, n_permutations, block):
        size = min(block, n_permutations - start)
        # Column j marks the rows that permutation j assigns to A.
        chosen = np.argsort(rng.random_sample((size, n_pooled)), axis=1)[:, :n_a]
        split = np.zeros((size, n_pooled))
        np.put_along_axis(split, chosen, 1.0, axis=1)
        null[start : start + size] = _unbiased_mmd2(K, split.T)
    # Tolerance: permutations equal to the observed split up to round-off count as >=.
    exceed = np.count_nonzero(null >= statistic - 1e-12 * max(1.0, abs(statistic)))
    pvalue = float((1 + exceed) / (1 + n_permutations))
    return MMDTestResult(statistic, pvalue, null, None if gamma is None else float(gamma))


@validate_params(
    {
        "A": ["array-like"],
        "B": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"cosine", "euclidean", "dot"})],
    },
    prefer_skip_nested_validation=True,
)
def recall_at_k(A, B, k=1, *, metric="cosine"):
    """Cross-modal retrieval recall@k: share of queries whose partner ranks in the top k.

    Row ``i`` of ``A`` (a query, e.g. an image embedding) is paired with row
    ``i`` of ``B`` (the gallery, e.g. caption embeddings). For each query the
    gallery rows are ranked by similarity; the query is a hit when its own
    partner is among the ``k`` most similar.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        Query embeddings.
    B : array-like of shape (n_samples, n_features)
        Gallery embeddings, paired row by row with ``A``.
    k : int, default=1
        Cut-off rank. ``k >= n_samples`` gives 1.
    metric : {"cosine", "euclidean", "dot"}, default="cosine"
        Similarity: cosine similarity, negative Euclidean distance, or dot
        product.

    Returns
    -------
    float
        Recall@k in [0, 1]. Chance level (random embeddings) is
        ``k / n_samples``.

    See Also
    --------
    skfusion.nn.ContrastiveAlignment : whose ``score`` is this metric.

    Notes
    -----
    Ties count against the query: a partner tied with other gallery rows is
    ranked below all of them, so constant (uninformative) embeddings score
    0, never a spurious 1. Queries are scored in blocks, so memory stays
    O(block x n_samples).

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.metrics import recall_at_k
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> recall_at_k(A, A, k=1)
    1.0
    >>> recall_at_k(A, A[[1, 0, 2]], k=1)
    0.3333333333333333
    """
    A, B = _check_two_samples(A, B, paired=True)
    if metric == "cosine":
        A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), np.finfo(A.dtype).tiny)
        B = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), np.finfo(B.dtype).tiny)
    n_samples = A.shape[0]
    hits = 0
    for start in range(0, n_samples, _QUERY_CHUNK):
        rows = np.arange(start, min(start + _QUERY_CHUNK, n_samples))
        if metric == "euclidean":
            similarity = -pairwise_distances(A[rows], B, metric="sqeuclidean")
        else:
            similarity = A[rows] @ B.T
        own = similarity[np.arange(rows.size), rows]
        # Rank of the partner = number of *other* gallery rows at least as similar.
        at_least = np.count_nonzero(similarity >= own[:, None], axis=1) - 1
        hits += int(np.count_nonzero(at_least < k))
    return hits / n_samples
