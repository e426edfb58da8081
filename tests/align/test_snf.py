"""Similarity network fusion: snfpy's fused matrix, a textbook reimplementation,
the embedding and its out-of-sample extension, missing modalities, clustering,
label propagation and bad input."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats
from scipy.spatial.distance import cdist
from sklearn.cluster import SpectralClustering
from sklearn.metrics import adjusted_rand_score

from skfusion import (
    SimilarityNetworkClustering,
    SimilarityNetworkFusion,
    propagate_labels,
)

DATA = Path(__file__).parent / "data"


def _textbook_snf(views, K, mu, t):
    """SNF written out from snfpy 0.2.2's formulas, dense and loop by loop (no skfusion code)."""
    affinities = []
    for view in views:
        z = np.nan_to_num(stats.zscore(view, ddof=1))
        dist = cdist(z, z, metric="sqeuclidean")
        np.fill_diagonal(dist, 0)
        mean_knn = np.sort(dist, axis=1)[:, 1 : K + 1].mean(axis=1) + np.spacing(1)
        sigma = (mean_knn[:, None] + mean_knn[None, :] + dist) / 3
        sigma = sigma * (sigma > np.spacing(1)) + np.spacing(1)
        W = stats.norm.pdf(dist, loc=0, scale=mu * sigma)
        affinities.append((W + W.T) / 2)
    n, m = len(views[0]), len(views)
    P, S = [], []
    for W in affinities:
        p = W / W.sum(axis=1, keepdims=True)
        p = (p + p.T) / 2
        P.append(p)
        s = np.zeros_like(p)
        for i in range(n):  # each row's K strongest entries, renormalised
            keep = np.argsort(p[i])[::-1][:K]
            s[i, keep] = p[i, keep] / p[i, keep].sum()
        S.append(s)
    for _ in range(t):
        total = sum(P)
        P = [S[v] @ (total - P[v]) @ S[v].T / (m - 1) + np.eye(n) for v in range(m)]
        P = [(p + p.T) / 2 for p in P]
    W = sum(P) / m
    W = W / W.sum(axis=1, keepdims=True)
    return (W + W.T + np.eye(n)) / 2


def _blobs(rng, n_per_group=30, widths=(4, 3, 5)):
    groups = np.repeat(np.arange(3), n_per_group)
    blocks = [rng.normal(size=(3, w))[groups] * 4.0 + rng.normal(size=(len(groups), w)) for w in widths]
    X = np.hstack(blocks)
    edges = np.cumsum((0,) + widths)
    modalities = {f"m{i}": list(range(edges[i], edges[i + 1])) for i in range(len(widths))}
    return X, groups, modalities


def _reference():
    data = np.load(DATA / "snf_reference.npz")
    edges = np.cumsum([0, *data["widths"]])
    modalities = {f"v{i}": list(range(edges[i], edges[i + 1])) for i in range(len(edges) - 1)}
    return data, modalities


def test_dense_fused_graph_equals_snfpy_reference():
    data, modalities = _reference()
    snf = SimilarityNetworkFusion(
        modalities, n_neighbors=int(data["K"]), mu=float(data["mu"]), n_iterations=int(data["t"]),
        n_components=2, graph="dense",
    ).fit(data["X"])
    np.testing.assert_allclose(snf.fused_graph_, data["fused"], rtol=0, atol=1e-8)


def test_dense_fused_graph_equals_textbook_reimplementation(rng):
    X, _, modalities = _blobs(rng, n_per_group=15)
    views = [X[:, columns] for columns in modalities.values()]
    expected = _textbook_snf(views, K=7, mu=0.4, t=10)
    snf = SimilarityNetworkFusion(modalities, n_neighbors=7, mu=0.4, n_iterations=10, n_components=2,
                                  graph="dense").fit(X)
    np.testing.assert_allclose(snf.fused_graph_, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(snf.fused_graph_, snf.fused_graph_.T, atol=1e-15)


def test_sparse_path_clusters_like_the_dense_path(rng):
    X, groups, modalities = _blobs(rng)
    dense = SimilarityNetworkClustering(modalities, n_clusters=3, n_neighbors=10, graph="dense", random_state=0)
    sparse = SimilarityNetworkClustering(modalities, n_clusters=3, n_neighbors=10, graph="sparse", random_state=0)
    assert adjusted_rand_score(groups, dense.fit_predict(X)) == 1.0
    assert adjusted_rand_score(groups, sparse.fit_predict(X)) == 1.0
    graph = sparse.fused_graph_
    assert graph.format == "csr" and graph.nnz < 0.5 * X.shape[0] ** 2
    np.testing.assert_allclose((graph - graph.T).toarray(), 0.0, atol=1e-14)


def test_clustering_is_spectral_clustering_of_the_fused_graph(rng):
    X, _, modalities = _blobs(rng)
    clustering = SimilarityNetworkClustering(modalities, n_clusters=3, n_neighbors=10, random_state=0).fit(X)
    expected = SpectralClustering(3, affinity="precomputed", random_state=0).fit(clustering.fused_graph_)
    np.testing.assert_array_equal(clustering.labels_, expected.labels_)
    assert clustering.modalities_.keys() == modalities.keys()


@pytest.mark.parametrize("graph", ["dense", "sparse"])
def test_embedding_is_random_walk_eigenvectors_and_transform_extends_it(rng, graph):
    X, groups, modalities = _blobs(rng)
    snf = SimilarityNetworkFusion(modalities, n_neighbors=10, n_components=2, graph=graph, random_state=0)
    embedding = snf.fit_transform(X)
    W = snf.fused_graph_.toarray() if graph == "sparse" else snf.fused_graph_
    walk = W / W.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(walk @ embedding, embedding * snf.eigenvalues_, atol=1e-8)
    # out of sample: the training rows land close to their own embedding
    again = snf.transform(X)
    for k in range(2):
        assert np.corrcoef(again[:, k], embedding[:, k])[0, 1] > 0.99
    # and new rows from a group land among that group's rows
    new = X[:5] + 0.1 * rng.normal(size=(5, X.shape[1]))
    placed = snf.transform(new)
    centres = np.array([embedding[groups == g].mean(axis=0) for g in range(3)])
    nearest = np.argmin(cdist(placed, centres), axis=1)
    np.testing.assert_array_equal(nearest, groups[:5])


def test_every_nontrivial_eigenvector_on_either_graph(rng):
    # n_components = n_samples - 1 crashed the sparse path (ARPACK finds at most n - 1)
    X, _, modalities = _blobs(rng, n_per_group=10)
    params = dict(n_neighbors=10, n_components=X.shape[0] - 1, random_state=0)
    dense = SimilarityNetworkFusion(modalities, graph="dense", **params).fit(X)
    sparse = SimilarityNetworkFusion(modalities, graph="sparse", **params).fit(X)
    W = sparse.fused_graph_.toarray()
    walk = W / W.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(walk @ sparse.embedding_, sparse.embedding_ * sparse.eigenvalues_, atol=1e-8)
    assert sparse.embedding_.shape == dense.embedding_.shape == (30, 29)


@pytest.mark.parametrize("graph", ["dense", "sparse"])
def test_transform_reuses_the_fit_neighbour_index_and_a_saved_model_rebuilds_it(rng, graph):
    """transform searches the index fit built (not a new one per call); pickling leaves
    the KD-tree out, and loading rebuilds it, with the same transform."""
    import pickle

    X, _, modalities = _blobs(rng)
    snf = SimilarityNetworkFusion(modalities, n_neighbors=10, graph=graph).fit(X)
    index = snf._neighbors["m0"]
    expected = snf.transform(X[:7])
    assert snf._neighbors["m0"] is index
    data = pickle.dumps(snf)
    assert b"KDTree" not in data and b"NearestNeighbors" not in data
    loaded = pickle.loads(data)
    assert set(loaded._neighbors) == set(modalities)
    np.testing.assert_array_equal(loaded.transform(X[:7]), expected)
    assert "_neighbors" in snf.__dict__  # pickling did not drop it from the live model


def test_rows_missing_a_modality_are_placed_from_the_others(rng):
    X, groups, modalities = _blobs(rng)
    holes = X.copy()
    missing_rows = np.arange(0, 90, 9)
    holes[np.ix_(missing_rows, modalities["m0"])] = np.nan
    holes[np.ix_(missing_rows[::2] + 1, modalities["m1"])] = np.nan
    for graph in ("dense", "sparse"):
        clustering = SimilarityNetworkClustering(modalities, n_clusters=3, n_neighbors=10, graph=graph,
                                                 random_state=0).fit(holes)
        fused = clustering.fused_graph_
        fused = fused.toarray() if graph == "sparse" else fused
        assert np.isfinite(fused).all()
        assert adjusted_rand_score(groups, clustering.labels_) == 1.0
        # a row missing m0 has no entry in m0's graph
        affinity = clustering.fusion_.affinities_["m0"]
        affinity = affinity.toarray() if graph == "sparse" else affinity
        assert np.all(affinity[missing_rows] == 0) and np.all(affinity[:, missing_rows] == 0)
    snf = SimilarityNetworkFusion(modalities, n_neighbors=10, n_components=2).fit(holes)
    rows = np.vstack([holes[missing_rows[:2]], np.full(X.shape[1], np.nan)])
    placed = snf.transform(rows)
    assert np.isfinite(placed[:2]).all() and np.isnan(placed[2]).all()


def test_fit_is_deterministic(rng):
    X, _, modalities = _blobs(rng)
    for graph in ("dense", "sparse"):
        first = SimilarityNetworkFusion(modalities, n_neighbors=8, n_components=3, graph=graph,
                                        random_state=0).fit(X)
        second = SimilarityNetworkFusion(modalities, n_neighbors=8, n_components=3, graph=graph,
                                         random_state=0).fit(X.copy())
        np.testing.assert_array_equal(first.embedding_, second.embedding_)
        np.testing.assert_array_equal(first.transform(X[:7]), second.transform(X[:7]))


def test_feature_names_out(rng):
    X, _, modalities = _blobs(rng, n_per_group=10)
    snf = SimilarityNetworkFusion(modalities, n_neighbors=5, n_components=3).fit(X)
    assert list(snf.get_feature_names_out()) == [f"similaritynetworkfusion{i}" for i in range(3)]
    assert snf.graph_ == "dense"  # "auto" is dense up to 1,000 rows


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 30}, "n_neighbors=30 must be smaller than the number of rows where modality 'm0'"),
        ({"mu": 0.0}, "'mu' parameter"),
        ({"mu": -1.0}, "'mu' parameter"),
        ({"n_neighbors": 0}, "'n_neighbors' parameter"),
        ({"n_iterations": -1}, "'n_iterations' parameter"),
        ({"metric": "hamming"}, "'metric' parameter"),
        ({"graph": "lazy"}, "'graph' parameter"),
        ({"n_components": 30}, "n_components=30 must be smaller than the number of samples"),
    ],
)
def test_bad_parameters_name_the_parameter(rng, params, match):
    X, _, modalities = _blobs(rng, n_per_group=10)
    with pytest.raises(ValueError, match=match):
        SimilarityNetworkFusion(modalities, **{"n_neighbors": 5, **params}).fit(X)


def test_bad_input_is_refused(rng):
    X, _, modalities = _blobs(rng, n_per_group=10)
    with pytest.raises(ValueError, match="two or more modalities"):
        SimilarityNetworkFusion({"m0": modalities["m0"]}, n_neighbors=5).fit(X)
    empty = X.copy()
    empty[3] = np.nan
    with pytest.raises(ValueError, match="every modality missing"):
        SimilarityNetworkFusion(modalities, n_neighbors=5).fit(empty)
    with pytest.raises(ValueError, match="n_clusters=31 exceeds"):
        SimilarityNetworkClustering(modalities, n_clusters=31, n_neighbors=5).fit(X)


def _iterated_label_propagation(W, y, n_iterations=5000):
    """snfpy's ``_label_prop``: average neighbours' indicators, clamp the labelled rows."""
    classes = np.unique(y[y != -1])
    Y = (y[:, None] == classes[None, :]).astype(float)
    labelled = y != -1
    walk = W / (W.sum(axis=1, keepdims=True) + np.spacing(1))
    F = Y.copy()
    for _ in range(n_iterations):
        F = walk @ F
        F[labelled] = Y[labelled]
    return classes[np.argmax(F, axis=1)], F


def test_propagate_labels_is_the_limit_of_snfpy_iterations(rng):
    X, groups, modalities = _blobs(rng)
    fused = SimilarityNetworkFusion(modalities, n_neighbors=10, n_components=2).fit(X).fused_graph_
    y = np.where(rng.random(len(groups)) < 0.2, groups, -1)
    y[[0, 30, 60]] = [0, 1, 2]
    expected, _ = _iterated_label_propagation(fused, y)
    predicted = propagate_labels(fused, y, n_neighbors=None)
    np.testing.assert_array_equal(predicted, expected)
    np.testing.assert_array_equal(predicted[y != -1], y[y != -1])
    np.testing.assert_array_equal(propagate_labels(sp.csr_matrix(fused), y, n_neighbors=None), predicted)


def test_propagate_labels_over_each_rows_strongest_neighbours(rng):
    X, groups, modalities = _blobs(rng)
    fused = SimilarityNetworkFusion(modalities, n_neighbors=10, n_components=2).fit(X).fused_graph_
    y = np.full(len(groups), -1)
    y[[0, 1, 30, 31, 60, 61]] = groups[[0, 1, 30, 31, 60, 61]]
    off_diagonal = fused - np.diag(np.diag(fused))
    strongest = np.zeros_like(fused)
    for i, row in enumerate(off_diagonal):
        keep = np.argsort(row)[::-1][:8]
        strongest[i, keep] = row[keep]
    strongest = np.maximum(strongest, strongest.T)
    expected, _ = _iterated_label_propagation(strongest, y)
    predicted = propagate_labels(fused, y, n_neighbors=8)
    np.testing.assert_array_equal(predicted, expected)
    np.testing.assert_array_equal(predicted, groups)


def test_propagate_labels_refuses_inconsistent_input():
    with pytest.raises(ValueError, match="one row per label"):
        propagate_labels(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="no labelled row"):
        propagate_labels(np.eye(2), [-1, -1])
    with pytest.raises(ValueError, match="`n_neighbors` must be a positive int"):
        propagate_labels(np.eye(2), [0, -1], n_neighbors=0)
    # text labels: "-1" was a class, and nothing was propagated, unsaid
    with pytest.raises(TypeError, match="integer labels with -1.*LabelEncoder"):
        propagate_labels(np.eye(3), ["cat", "-1", "dog"])
