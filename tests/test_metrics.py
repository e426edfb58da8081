"""skfusion.metrics: MMD (estimate, bandwidth, permutation test) and recall@k."""

import math
from itertools import combinations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from skfusion.metrics import mmd, mmd_permutation_test, recall_at_k


def test_mmd_matches_hand_computation_on_a_tiny_case():
    A = [[0.0], [1.0]]
    B = [[2.0], [3.0]]
    k = lambda a, b: math.exp(-((a - b) ** 2))  # noqa: E731  gamma = 1
    within_a = (k(0, 1) + k(1, 0)) / 2
    within_b = (k(2, 3) + k(3, 2)) / 2
    between = (k(0, 2) + k(0, 3) + k(1, 2) + k(1, 3)) / 4
    assert mmd(A, B, gamma=1.0) == pytest.approx(within_a + within_b - 2 * between, rel=1e-12)


def test_linear_kernel_mmd_is_unbiased_squared_mean_distance(rng):
    A = rng.normal(size=(30, 3))
    B = rng.normal(size=(40, 3)) + 1.0
    m, n = len(A), len(B)
    # Expand the U-statistic of <a, b>: ||sum a||² minus the diagonal, etc.
    within_a = (np.sum(A.sum(0) ** 2) - np.sum(A**2)) / (m * (m - 1))
    within_b = (np.sum(B.sum(0) ** 2) - np.sum(B**2)) / (n * (n - 1))
    between = A.sum(0) @ B.sum(0) / (m * n)
    assert mmd(A, B, kernel="linear") == pytest.approx(within_a + within_b - 2 * between, rel=1e-10)


def test_median_heuristic_bandwidth(rng):
    A = rng.normal(size=(25, 2))
    B = rng.normal(size=(20, 2))
    result = mmd_permutation_test(A, B, n_permutations=10, random_state=0)
    pooled = np.vstack([A, B])
    assert result.gamma == pytest.approx(1.0 / (2.0 * np.median(pdist(pooled, "sqeuclidean"))))
    assert mmd(A, B) == pytest.approx(mmd(A, B, gamma=result.gamma))
    laplacian = mmd_permutation_test(A, B, kernel="laplacian", n_permutations=10, random_state=0)
    assert laplacian.gamma == pytest.approx(1.0 / np.median(pdist(pooled, "cityblock")))


def test_same_distribution_gives_near_zero_and_large_p_value(rng):
    A = rng.normal(size=(150, 3))
    B = rng.normal(size=(150, 3))
    result = mmd_permutation_test(A, B, n_permutations=500, random_state=0)
    assert abs(result.statistic) < 0.01
    assert result.pvalue > 0.1


def test_mean_shift_gives_positive_mmd_and_small_p_value(rng):
    A = rng.normal(size=(150, 3))
    B = rng.normal(size=(150, 3)) + [1.0, 0.0, 0.0]
    result = mmd_permutation_test(A, B, n_permutations=500, random_state=0)
    assert result.statistic > 0.03
    assert result.statistic > 5 * result.null_distribution.std()
    assert result.pvalue < 0.01
    assert result.statistic == pytest.approx(mmd(A, B))


def test_permutation_null_values_are_mmds_of_reassigned_splits(rng):
    pooled = rng.normal(size=(5, 2))
    result = mmd_permutation_test(pooled[:2], pooled[2:], gamma=0.5, n_permutations=200, random_state=0)
    splits = [
        mmd(pooled[list(a)], pooled[[i for i in range(5) if i not in a]], gamma=0.5) for a in combinations(range(5), 2)
    ]
    distances = np.abs(result.null_distribution[:, None] - np.array(splits)[None, :]).min(axis=1)
    assert distances.max() < 1e-12
    assert len(np.unique(np.round(result.null_distribution, 10))) == len(splits)  # all 10 splits drawn
    exceed = np.sum(result.null_distribution >= result.statistic - 1e-12)
    assert result.pvalue == pytest.approx((1 + exceed) / 201)


def test_permutation_test_is_reproducible(rng):
    A, B = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    first = mmd_permutation_test(A, B, n_permutations=50, random_state=3)
    second = mmd_permutation_test(A, B, n_permutations=50, random_state=3)
    np.testing.assert_array_equal(first.null_distribution, second.null_distribution)


def test_mmd_needs_two_rows_and_matching_columns(rng):
    with pytest.raises(ValueError, match="at least 2 rows"):
        mmd(rng.normal(size=(1, 2)), rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="same number of columns"):
        mmd(rng.normal(size=(4, 2)), rng.normal(size=(5, 3)))


def test_recall_at_k_hand_cases():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.2]])
    assert recall_at_k(A, A, k=1) == 1.0
    shuffled = A[[1, 0, 2, 3]]  # rows 0 and 1 now point at each other's partner
    assert recall_at_k(A, shuffled, k=1) == 0.5
    # Query [1, 0], partner [0, 1] (cosine 0): beaten by [1, 0] and [1, 1] -> rank 3.
    # Query [0, 1], partner [1, 0] (cosine 0): beaten by [0, 1], [1, 1], [-1, 0.2] -> rank 4.
    assert recall_at_k(A, shuffled, k=2) == 0.5
    assert recall_at_k(A, shuffled, k=3) == 0.75
    assert recall_at_k(A, shuffled, k=4) == 1.0
    assert recall_at_k(A, shuffled, k=10) == 1.0


def test_recall_ties_count_against_the_query():
    constant = np.ones((5, 3))
    assert recall_at_k(constant, constant, k=1) == 0.0
    assert recall_at_k(constant, constant, k=5) == 1.0


def test_recall_metrics_differ_where_norms_matter():
    A = np.array([[1.0, 0.0], [1.0, 0.0]])
    B = np.array([[1.0, 0.0], [10.0, 0.0]])
    # Same direction: cosine ties everything (counted against); Euclidean separates.
    assert recall_at_k(A, B, metric="cosine") == 0.0
    assert recall_at_k(A, B, metric="euclidean") == 0.5
    assert recall_at_k(A, B, metric="dot") == 0.5


def test_recall_is_near_chance_for_random_embeddings_and_chunking_is_exact(rng):
    n = 1500  # more than one block of queries
    A, B = rng.normal(size=(n, 8)), rng.normal(size=(n, 8))
    similarity = (A / np.linalg.norm(A, axis=1, keepdims=True)) @ (B / np.linalg.norm(B, axis=1, keepdims=True)).T
    rank = (similarity > np.diag(similarity)[:, None]).sum(axis=1)
    expected = np.mean(rank < 10)
    assert recall_at_k(A, B, k=10) == pytest.approx(expected)
    assert abs(expected - 10 / n) < 0.01


def test_recall_needs_paired_rows(rng):
    with pytest.raises(ValueError, match="paired row by row"):
        recall_at_k(rng.normal(size=(4, 2)), rng.normal(size=(5, 2)))


def test_an_overflowing_kernel_and_a_gamma_for_the_linear_kernel_are_refused(rng):
    # values near 1e200 gave NaN after RuntimeWarnings; gamma with 'linear' was ignored
    A, B = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    for kernel in ("rbf", "linear"):  # the laplacian's L1 distances stay finite there
        with pytest.raises(ValueError, match=f"The {kernel} kernel of A and B overflows float64"):
            mmd(A * 1e200, B * 1e200, kernel=kernel)
    with pytest.raises(ValueError, match="rescale both samples"):
        mmd_permutation_test(A * 1e200, B * 1e200, n_permutations=10)
    with pytest.raises(ValueError, match="kernel='linear' has none"):
        mmd(A, B, kernel="linear", gamma=5.0)
    # large but finite kernels are fine
    assert np.isfinite(mmd(A * 1e100, B * 1e100, gamma=1e-200))
