"""Early fusion: FeatureFusion (block scaling, weights, missing modalities,
nested parameters) and InteractionFusion (products, tensor fusion, sketches)."""

import re
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import skfusion.early._block_scaling as block_scaling
from _nan_reference import mean_imputed

from skfusion import FeatureFusion, InteractionFusion
from skfusion._utils.modality_protocol import restrict_to_modalities
from skfusion.datasets import make_multimodal_classification

MODALITIES = {"tab": [0, 1], "img": [2, 3, 4, 5, 6, 7], "txt": [8, 9, 10]}


def _blocks_data(rng, n_samples=60):
    """Three modalities of very different widths and scales, correlated inside."""
    tab = rng.standard_normal((n_samples, 2)) * [1.0, 50.0] + 7.0
    img = rng.standard_normal((n_samples, 6)) @ rng.standard_normal((6, 6)) * 10.0
    txt = rng.standard_normal((n_samples, 3)) * 0.01 - 3.0
    return np.hstack([tab, img, txt])


def _block(Xt, fusion, name):
    return Xt[:, fusion.output_slices_[name]]


# -- block scaling -------------------------------------------------------------


def test_variance_scaling_gives_every_block_unit_total_variance(rng):
    X = _blocks_data(rng)
    fusion = FeatureFusion(MODALITIES, block_scaling="variance")
    Xt = fusion.fit_transform(X)
    for name in MODALITIES:
        block = _block(Xt, fusion, name)
        assert block.var(axis=0, ddof=1).sum() == pytest.approx(1.0)
        np.testing.assert_allclose(block.mean(axis=0), 0.0, atol=1e-12)


def test_variance_scaling_is_centring_then_division_by_root_total_variance(rng):
    X = _blocks_data(rng)
    Xt = FeatureFusion(MODALITIES, standardize=False).fit_transform(X)
    img = X[:, MODALITIES["img"]]
    expected = (img - img.mean(axis=0)) / np.sqrt(np.var(img, axis=0, ddof=1).sum())
    np.testing.assert_allclose(Xt[:, 2:8], expected, rtol=1e-12)


def test_standardize_divides_each_column_by_its_deviation_before_block_scaling(rng):
    X = _blocks_data(rng)
    fusion = FeatureFusion(MODALITIES)
    Xt = fusion.fit_transform(X)
    img = X[:, MODALITIES["img"]]
    standardised = (img - img.mean(axis=0)) / img.std(axis=0)  # StandardScaler's ddof=0
    expected = standardised / np.sqrt(np.var(standardised, axis=0, ddof=1).sum())
    np.testing.assert_allclose(Xt[:, 2:8], expected, rtol=1e-12)
    np.testing.assert_allclose(fusion.column_scales_["img"], img.std(axis=0), rtol=1e-12)


@pytest.mark.parametrize("block_scaling", ["variance", "mfa", None])
@pytest.mark.parametrize("missing", ["error", "zero"])
def test_standardize_equals_a_standard_scaler_per_modality(rng, block_scaling, missing):
    X = _blocks_data(rng)
    X[:, 4] = 2.5  # a constant column: StandardScaler leaves it unscaled, and so does fusion
    X[3, 1] = np.nan  # a NaN cell: filled before both
    if missing == "zero":
        X[[5, 9], 2:8] = np.nan  # a missing modality: both fit on the present rows
    settings = dict(block_scaling=block_scaling, missing=missing, weights=[1.0, 2.0, 0.5])
    ours = FeatureFusion(MODALITIES, **settings).fit(X[:40])
    scaler = FeatureFusion(
        MODALITIES, transformers=StandardScaler(), standardize=False, **settings
    ).fit(X[:40])
    np.testing.assert_allclose(ours.transform(X[40:]), scaler.transform(X[40:]), atol=1e-12)
    np.testing.assert_allclose(ours.transform(X[:40]), scaler.transform(X[:40]), atol=1e-12)


@pytest.mark.parametrize("block_scaling", ["variance", "mfa", None])
def test_standardize_on_sparse_input_equals_scaling_without_centring(rng, block_scaling):
    dense = _blocks_data(rng) * (rng.random((60, 11)) < 0.3)
    X = sp.csr_matrix(dense)
    ours = FeatureFusion(MODALITIES, block_scaling=block_scaling).fit(X)
    scaler = FeatureFusion(
        MODALITIES,
        transformers=StandardScaler(with_mean=False),
        standardize=False,
        block_scaling=block_scaling,
    ).fit(sp.csr_matrix(dense))
    Xt = ours.transform(X)
    assert sp.issparse(Xt)
    np.testing.assert_allclose(Xt.toarray(), scaler.transform(X).toarray(), atol=1e-12)


def test_standardize_does_not_depend_on_the_input_format(rng):
    dense = _blocks_data(rng) * (rng.random((60, 11)) < 0.3)
    expected = FeatureFusion(MODALITIES).fit(dense)
    for X in (sp.csr_matrix(dense), sp.csc_matrix(dense)):
        fitted = FeatureFusion(MODALITIES).fit(X)
        for name in MODALITIES:
            np.testing.assert_allclose(
                fitted.column_scales_[name], expected.column_scales_[name], rtol=1e-12
            )
        assert fitted.block_norms_ == pytest.approx(expected.block_norms_, rel=1e-12)


def test_standardize_leaves_a_transformers_output_as_it_is(rng):
    X = _blocks_data(rng)
    transformers = {"img": PCA(n_components=2)}
    on = FeatureFusion(MODALITIES, transformers=transformers).fit(X)
    off = FeatureFusion(MODALITIES, transformers=transformers, standardize=False).fit(X)
    np.testing.assert_array_equal(on.column_scales_["img"], [1.0, 1.0])
    np.testing.assert_allclose(on.transform(X)[:, 2:4], off.transform(X)[:, 2:4], rtol=1e-12)


@pytest.mark.parametrize("block_scaling", ["variance", "mfa", None])
def test_default_output_does_not_depend_on_a_columns_unit(rng, block_scaling):
    X = _blocks_data(rng)
    in_cents = X.copy()
    in_cents[:, [1, 5]] *= 1000.0
    fusion = FeatureFusion(MODALITIES, block_scaling=block_scaling)
    np.testing.assert_allclose(
        fusion.fit_transform(in_cents), fusion.fit_transform(X), rtol=1e-9, atol=1e-12
    )
    raw = FeatureFusion(MODALITIES, block_scaling=block_scaling, standardize=False)
    assert not np.allclose(raw.fit_transform(in_cents), raw.fit_transform(X), atol=1e-3)


def test_mfa_scaling_gives_every_block_unit_first_principal_component(rng):
    X = _blocks_data(rng)
    fusion = FeatureFusion(MODALITIES, block_scaling="mfa")
    Xt = fusion.fit_transform(X)
    for name in MODALITIES:
        first = PCA(n_components=1).fit(_block(Xt, fusion, name)).explained_variance_[0]
        assert first == pytest.approx(1.0)


def test_no_block_scaling_only_centres(rng):
    X = _blocks_data(rng)
    Xt = FeatureFusion(MODALITIES, block_scaling=None, standardize=False).fit_transform(X)
    np.testing.assert_allclose(Xt, X - X.mean(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(300, 8), (8, 300)], ids=["covariance", "gram"])
@pytest.mark.parametrize("path", ["explicit", "svds"])
def test_top_covariance_eigenvalue_matches_numpy_on_every_path(rng, monkeypatch, shape, path):
    X = rng.standard_normal(shape) @ np.diag(np.linspace(1, 3, shape[1])) + 5.0
    if path == "svds":  # force the truncated SVD of the implicitly centred block
        monkeypatch.setattr(block_scaling, "GRAM_MAX_SIDE", 4)
    expected = np.linalg.eigvalsh(np.cov(X, rowvar=False))[-1]
    mean = X.mean(axis=0)
    for block in (X, sp.csr_matrix(X)):
        top = block_scaling.top_covariance_eigenvalue(block, mean)
        assert top == pytest.approx(expected, rel=1e-8)


def test_constant_block_is_centred_but_not_scaled(rng):
    X = np.hstack([np.full((20, 2), 3.0), rng.standard_normal((20, 2))])
    for scaling in ("variance", "mfa"):
        fusion = FeatureFusion({"flat": [0, 1], "other": [2, 3]}, block_scaling=scaling).fit(X)
        assert fusion.block_norms_["flat"] == 1.0
        np.testing.assert_array_equal(fusion.transform(X)[:, :2], 0.0)


def test_inner_transformer_output_is_what_gets_scaled(rng):
    X = _blocks_data(rng)
    fusion = FeatureFusion(
        MODALITIES, transformers={"img": PCA(n_components=2)}, block_scaling="mfa"
    )
    Xt = fusion.fit_transform(X)
    assert Xt.shape == (60, 2 + 2 + 3)
    pcs = PCA(n_components=2).fit_transform(X[:, MODALITIES["img"]])
    expected = pcs / np.sqrt(pcs[:, 0].var(ddof=1))  # first PC of PCA output is column 0
    np.testing.assert_allclose(np.abs(_block(Xt, fusion, "img")), np.abs(expected), rtol=1e-8)


# -- weights -------------------------------------------------------------------


@pytest.mark.parametrize("weights", [{"img": 3.0, "txt": 0.5}, [1.0, 3.0, 0.5]])
def test_weights_multiply_blocks_exactly(rng, weights):
    X = _blocks_data(rng)
    plain = FeatureFusion(MODALITIES).fit_transform(X)
    weighted = FeatureFusion(MODALITIES, weights=weights).fit_transform(X)
    np.testing.assert_array_equal(weighted[:, :2], plain[:, :2])
    np.testing.assert_allclose(weighted[:, 2:8], 3.0 * plain[:, 2:8], rtol=1e-15)
    np.testing.assert_allclose(weighted[:, 8:], 0.5 * plain[:, 8:], rtol=1e-15)


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"sound": 1.0}, "unknown modality 'sound'"),
        ({"img": -1.0}, "Weight of modality 'img' must be a finite number >= 0"),
        ([1.0, 2.0], r"one value per modality \(3"),
        ({"txt": np.nan}, "Weight of modality 'txt'"),
    ],
)
def test_bad_weights_are_refused_naming_the_modality(rng, weights, message):
    with pytest.raises(ValueError, match=message):
        FeatureFusion(MODALITIES, weights=weights).fit(_blocks_data(rng))


# -- names, pandas, dtypes, sparse ----------------------------------------------


def test_feature_names_are_modality_prefixed(rng):
    X = pd.DataFrame(_blocks_data(rng), columns=[f"c{i}" for i in range(11)])
    modalities = {"tab": ["c0", "c1"], "img": [f"c{i}" for i in range(2, 8)], "txt": [8, 9, 10]}
    fusion = FeatureFusion(
        modalities, transformers={"img": PCA(n_components=2)}, add_indicator=True
    )
    fusion.fit(X)
    assert fusion.get_feature_names_out().tolist() == [
        "tab__c0", "tab__c1", "img__pca0", "img__pca1", "txt__c8", "txt__c9", "txt__c10",
        "presence__tab", "presence__img", "presence__txt",
    ]  # fmt: skip


def test_pandas_output_keeps_index_and_names(rng):
    X = pd.DataFrame(_blocks_data(rng), index=np.arange(100, 160))
    fusion = FeatureFusion(MODALITIES).set_output(transform="pandas")
    Xt = fusion.fit_transform(X)
    assert isinstance(Xt, pd.DataFrame)
    assert Xt.index.tolist() == list(range(100, 160))
    assert Xt.columns.tolist() == fusion.get_feature_names_out().tolist()
    np.testing.assert_allclose(Xt.to_numpy(), FeatureFusion(MODALITIES).fit_transform(X.to_numpy()))


def test_float32_stays_float32(rng):
    X = _blocks_data(rng).astype(np.float32)
    Xt = FeatureFusion(MODALITIES, block_scaling="mfa").fit(X).transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(
        Xt,
        FeatureFusion(MODALITIES, block_scaling="mfa").fit_transform(X.astype(float)),
        rtol=1e-4,
        atol=1e-5,
    )


def test_transform_uses_training_statistics(rng):
    X_train, X_test = _blocks_data(rng), _blocks_data(rng, 10) + 1.0
    fusion = FeatureFusion(MODALITIES).fit(X_train)
    tab = X_train[:, :2]
    scale = tab.std(axis=0) * np.sqrt(len(tab) / (len(tab) - 1) * 2)  # 2 unit-variance columns
    expected = (X_test[:, :2] - tab.mean(axis=0)) / scale
    np.testing.assert_allclose(fusion.transform(X_test)[:, :2], expected)
    np.testing.assert_allclose(fusion.transform(X_train), fusion.fit_transform(X_train))


def test_non_contiguous_and_reordered_modalities(rng):
    X = _blocks_data(rng)
    modalities = {"odd": [9, 1, 5], "even": [0, 4, 2]}
    Xt = FeatureFusion(modalities, block_scaling=None).fit_transform(X)
    reordered = X[:, [9, 1, 5, 0, 4, 2]]
    expected = (reordered - reordered.mean(axis=0)) / reordered.std(axis=0)
    np.testing.assert_allclose(Xt, expected)


def test_sparse_input_is_scaled_but_not_centred(rng):
    dense = _blocks_data(rng) * (rng.random((60, 11)) < 0.3)
    fusion = FeatureFusion(MODALITIES, block_scaling="variance", standardize=False)
    Xt = fusion.fit_transform(sp.csr_matrix(dense))
    assert sp.issparse(Xt) and Xt.format == "csr"
    assert fusion.block_means_["img"] is None
    img = dense[:, MODALITIES["img"]]
    np.testing.assert_allclose(Xt.toarray()[:, 2:8], img / np.sqrt(img.var(axis=0, ddof=1).sum()))
    # Block norms do not depend on the format (given the same standardize).
    for scaling in ("variance", "mfa"):
        for standardize in (True, False):
            params = dict(block_scaling=scaling, standardize=standardize)
            norms_sparse = FeatureFusion(MODALITIES, **params).fit(sp.csc_matrix(dense)).block_norms_
            norms_dense = FeatureFusion(MODALITIES, **params).fit(dense).block_norms_
            assert norms_sparse == pytest.approx(norms_dense, rel=1e-10)


def test_sparse_input_with_missing_modality_gives_zero_rows(rng):
    dense = _blocks_data(rng)
    dense[[3, 7], 2:8] = np.nan
    Xt = FeatureFusion(MODALITIES, missing="zero", add_indicator=True).fit_transform(
        sp.csr_matrix(dense)
    )
    Xt = Xt.toarray()
    np.testing.assert_array_equal(Xt[[3, 7], 2:8], 0.0)
    assert not np.isnan(Xt).any()
    np.testing.assert_array_equal(Xt[:, -3:].sum(axis=0), [60, 58, 60])


# -- missing modalities --------------------------------------------------------


def _with_missing(X, rows, name):
    X = X.copy()
    X[np.ix_(rows, MODALITIES[name])] = np.nan
    return X


def test_missing_modality_error_names_it_and_counts_rows(rng):
    X = _with_missing(_blocks_data(rng), [1, 4, 9], "img")
    with pytest.raises(ValueError, match=r"Modality 'img' is missing \(all NaN\) in 3 of 60 rows"):
        FeatureFusion(MODALITIES).fit(X)
    fusion = FeatureFusion(MODALITIES).fit(_blocks_data(rng))
    with pytest.raises(ValueError, match="missing='zero'"):
        fusion.transform(X)


def test_missing_zero_sets_block_to_zero_and_fits_on_present_rows(rng):
    X = _blocks_data(rng)
    missing_rows = [1, 4, 9]
    X_missing = _with_missing(X, missing_rows, "img")
    present = np.setdiff1d(np.arange(60), missing_rows)
    fusion = FeatureFusion(MODALITIES, block_scaling="mfa", missing="zero")
    Xt = fusion.fit_transform(X_missing)
    np.testing.assert_array_equal(Xt[missing_rows, 2:8], 0.0)
    # The block's statistics come from the rows where it is present only; the
    # other blocks' from every row.
    on_present = FeatureFusion(MODALITIES, block_scaling="mfa").fit(X[present])
    np.testing.assert_allclose(Xt[present, 2:8], on_present.transform(X[present])[:, 2:8])
    np.testing.assert_allclose(
        Xt[:, 8:], FeatureFusion(MODALITIES, block_scaling="mfa").fit_transform(X)[:, 8:]
    )
    np.testing.assert_allclose(fusion.block_means_["img"], on_present.block_means_["img"])


def test_add_indicator_marks_present_modalities(rng):
    X = _with_missing(_blocks_data(rng), [0, 2], "txt")
    fusion = FeatureFusion(MODALITIES, missing="zero", add_indicator=True)
    Xt = fusion.fit_transform(X)
    indicator = Xt[:, -3:]
    expected = np.ones((60, 3))
    expected[[0, 2], 2] = 0
    np.testing.assert_array_equal(indicator, expected)


class _RefusesNaN(TransformerMixin, BaseEstimator):
    """Records the rows it is given and refuses NaN (as many transformers do)."""

    def fit(self, X, y=None):
        assert not np.isnan(X).any(), "an inner transformer was given NaN rows"
        self.n_fit_rows_ = X.shape[0]
        self.y_seen_ = None if y is None else np.asarray(y).copy()
        return self

    def transform(self, X):
        assert not np.isnan(X).any(), "an inner transformer was given NaN rows"
        return 2.0 * X


def test_inner_transformers_never_see_missing_rows(rng):
    X = _with_missing(_blocks_data(rng), [5, 6, 7, 8], "txt")
    y = np.arange(60)
    fusion = FeatureFusion(MODALITIES, transformers=_RefusesNaN(), missing="zero").fit(X, y)
    assert fusion.transformers_["txt"].n_fit_rows_ == 56
    assert fusion.transformers_["tab"].n_fit_rows_ == 60
    np.testing.assert_array_equal(fusion.transformers_["txt"].y_seen_, np.delete(y, [5, 6, 7, 8]))
    Xt = fusion.transform(X)
    np.testing.assert_array_equal(Xt[5:9, 8:], 0.0)
    # PCA refuses NaN outright, and works here.
    FeatureFusion(MODALITIES, transformers={"txt": PCA(1)}, missing="zero").fit_transform(X)


def _with_nan_cells(X):
    """'img' missing in rows 0-4; NaN cells in 'img' (row 5: two of them) and 'tab'."""
    X = _with_missing(X, np.arange(5), "img")
    X[5, [2, 4]] = np.nan
    X[[9, 30], 3] = np.nan
    X[[2, 40], 1] = np.nan  # row 2: 'img' missing, 'tab' present with a cell
    return X


def test_missing_error_fills_nan_cells_and_refuses_only_missing_modalities(rng):
    X = _blocks_data(rng)
    X[[3, 7], 4] = np.nan  # cells of 'img': not a missing modality
    strict = FeatureFusion(MODALITIES).fit(X)
    lenient = FeatureFusion(MODALITIES, missing="zero").fit(X)
    # no missing modality: both modes give the fit on mean-imputed data
    np.testing.assert_array_equal(strict.transform(X), lenient.transform(X))
    np.testing.assert_allclose(
        strict.transform(X), FeatureFusion(MODALITIES).fit_transform(mean_imputed(X, MODALITIES))
    )
    X[0, MODALITIES["img"]] = np.nan  # a missing modality: refused in "error" mode only
    with pytest.raises(ValueError, match=r"'img'.*missing"):
        FeatureFusion(MODALITIES).fit(X)
    assert FeatureFusion().__sklearn_tags__().input_tags.allow_nan
    assert FeatureFusion(missing="zero").__sklearn_tags__().input_tags.allow_nan


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"block_scaling": "mfa", "add_indicator": True},
        {"transformers": {"img": PCA(2), "txt": StandardScaler()}},  # PCA refuses NaN
    ],
    ids=["passthrough", "mfa-indicator", "transformers"],
)
def test_nan_cells_give_the_fit_on_mean_imputed_data(rng, params):
    X = _with_nan_cells(_blocks_data(rng))
    X_ref = mean_imputed(X, MODALITIES)
    fusion = FeatureFusion(MODALITIES, missing="zero", **params).fit(X)
    reference = FeatureFusion(MODALITIES, missing="zero", **params).fit(X_ref)
    Xt = fusion.transform(X)
    assert not np.isnan(Xt).any()
    np.testing.assert_allclose(Xt, reference.transform(X_ref), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fusion.fit_transform(X), Xt, rtol=1e-12, atol=1e-14)
    for name, columns in MODALITIES.items():
        present = ~np.isnan(X[:, columns]).all(axis=1)
        np.testing.assert_allclose(
            fusion.fill_values_[name], np.nanmean(X[np.ix_(present, columns)], axis=0), rtol=1e-12
        )
    # a missing modality is still missing: a zero block, and a 0 indicator
    np.testing.assert_array_equal(Xt[:5, fusion.output_slices_["img"]], 0.0)
    if params.get("add_indicator"):
        np.testing.assert_array_equal(Xt[:, -2][:6], [0, 0, 0, 0, 0, 1])


class _RecordingTransformer(TransformerMixin, BaseEstimator):
    """Keeps a copy of the block it was fitted on."""

    def fit(self, X, y=None):
        self.seen_ = np.array(X, copy=True)
        return self

    def transform(self, X):
        return X


def test_transformers_never_see_nan_cells(rng):
    X = _with_nan_cells(_blocks_data(rng))
    fusion = FeatureFusion(MODALITIES, transformers=_RecordingTransformer(), missing="zero").fit(X)
    for name in MODALITIES:
        assert not np.isnan(fusion.transformers_[name].seen_).any()
    np.testing.assert_allclose(
        fusion.transformers_["tab"].seen_[40, 1], np.nanmean(X[:, 1]), rtol=1e-12
    )
    assert fusion.transformers_["img"].seen_.shape == (55, 6)  # the missing rows are left out


def test_nan_cells_at_transform_take_the_training_means(rng):
    X = _blocks_data(rng)
    fusion = FeatureFusion(MODALITIES, missing="zero").fit(X)
    X_new = _with_nan_cells(_blocks_data(rng, n_samples=45))
    expected = X_new.copy()
    cells = np.isnan(X_new) & ~np.isnan(X_new[:, MODALITIES["img"]]).all(axis=1)[:, None]
    cells[:5, MODALITIES["img"]] = False
    expected[cells] = np.broadcast_to(X.mean(axis=0), X_new.shape)[cells]
    np.testing.assert_allclose(fusion.transform(X_new), fusion.transform(expected), atol=1e-12)
    assert not np.isnan(fusion.transform(X_new)).any()


def test_nan_cells_in_float32_and_sparse_input(rng):
    X = _with_nan_cells(_blocks_data(rng))
    X_ref = mean_imputed(X, MODALITIES)
    fusion = FeatureFusion(MODALITIES, missing="zero")
    got = clone(fusion).fit(X.astype(np.float32)).transform(X.astype(np.float32))
    assert got.dtype == np.float32
    expected = clone(fusion).fit(X_ref.astype(np.float32)).transform(X_ref.astype(np.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    sparse = clone(fusion).fit(sp.csr_matrix(X)).transform(sp.csr_matrix(X))
    assert sp.issparse(sparse) and not np.isnan(sparse.data).any()
    expected = clone(fusion).fit(sp.csr_matrix(X_ref)).transform(sp.csr_matrix(X_ref))
    np.testing.assert_allclose(sparse.toarray(), expected.toarray(), rtol=1e-10, atol=1e-12)


def test_missing_in_every_training_row_is_refused(rng):
    X = _with_missing(_blocks_data(rng), np.arange(60), "tab")
    with pytest.raises(ValueError, match="'tab' is missing in every training row"):
        FeatureFusion(MODALITIES, missing="zero").fit(X)


# -- transformers and nested parameters ----------------------------------------


def test_one_transformer_is_cloned_for_every_modality(rng):
    scaler = StandardScaler()
    fusion = FeatureFusion(MODALITIES, transformers=scaler, block_scaling=None).fit(
        _blocks_data(rng)
    )
    fitted = [fusion.transformers_[name] for name in MODALITIES]
    assert len({id(t) for t in fitted}) == 3 and scaler not in fitted
    assert not hasattr(scaler, "mean_")
    assert [t.n_features_in_ for t in fitted] == [2, 6, 3]
    assert "transformers__with_mean" in fusion.get_params()


def test_named_transformers_are_nested_parameters():
    pca = PCA(n_components=2)
    user_dict = {"img": pca, "txt": "drop"}
    fusion = FeatureFusion(MODALITIES, transformers=user_dict)
    params = fusion.get_params(deep=True)
    assert params["img"] is pca and params["img__n_components"] == 2 and params["txt"] == "drop"
    fusion.set_params(img__n_components=4, block_scaling="mfa")
    assert pca.n_components == 4 and fusion.block_scaling == "mfa"
    fusion.set_params(img=PCA(n_components=1))
    assert fusion.transformers["img"].n_components == 1
    assert user_dict["img"] is pca  # replacing a transformer does not edit the user's dict
    cloned = clone(fusion)
    assert cloned.transformers["img"] is not fusion.transformers["img"]
    assert cloned.get_params()["img__n_components"] == 1
    # The list form behaves the same.
    listed = FeatureFusion(MODALITIES, transformers=[("img", PCA(3))]).set_params(
        img__n_components=5
    )
    assert listed.transformers[0][1].n_components == 5


def test_drop_leaves_a_modality_out(rng):
    X = _with_missing(_blocks_data(rng), [0], "txt")  # missing in a dropped modality: no error
    fusion = FeatureFusion(MODALITIES, transformers={"txt": "drop", "img": "passthrough"}).fit(X)
    assert list(fusion.output_slices_) == ["tab", "img"]
    assert fusion.transform(X).shape == (60, 8)
    assert fusion.get_feature_names_out()[-1] == "img__x7"


@pytest.mark.parametrize(
    "transformers, error, message",
    [
        ({"sound": PCA()}, ValueError, "unknown modality 'sound'"),
        ({"img": "scale"}, ValueError, "'passthrough' or 'drop'"),
        ({"img": 3}, TypeError, "must implement fit and transform"),
        ([("img", PCA()), ("img", PCA())], ValueError, "more than once"),
        ([PCA()], TypeError, r"\(modality, transformer\) pairs"),
        ({"tab": "drop", "img": "drop", "txt": "drop"}, ValueError, "nothing to fuse"),
    ],
)
def test_bad_transformers_are_refused(rng, transformers, error, message):
    with pytest.raises(error, match=message):
        FeatureFusion(MODALITIES, transformers=transformers).fit(_blocks_data(rng))


def test_modality_named_like_a_parameter_clashes():
    X = np.zeros((4, 2))
    fusion = FeatureFusion({"weights": [0], "b": [1]}, transformers={"weights": PCA(1)})
    with pytest.raises(ValueError, match=re.escape("['weights']")):
        fusion.fit(X)


def test_grid_search_over_weights_scaling_and_inner_parameter():
    # 'txt': the label lives in its smallest-variance direction, so PCA with one
    # component throws it away and with three keeps it; 'tab' is pure noise.
    rng = np.random.default_rng(0)
    n = 240
    y = rng.integers(0, 2, n)
    txt = np.column_stack(
        [rng.normal(0, 10, n), rng.normal(0, 8, n), (2 * y - 1) + rng.normal(0, 0.3, n)]
    )
    X = np.hstack([rng.normal(0, 1, (n, 4)), txt])
    pipe = Pipeline(
        [
            (
                "fusion",
                FeatureFusion(
                    {"tab": [0, 1, 2, 3], "txt": [4, 5, 6]}, transformers={"txt": PCA(whiten=True)}
                ),
            ),
            ("clf", LogisticRegression()),
        ]
    )
    grid = {
        "fusion__txt__n_components": [1, 3],
        "fusion__block_scaling": ["variance", "mfa"],
        "fusion__weights": [None, {"tab": 0.0}],
    }
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(X, y)
    assert search.best_params_["fusion__txt__n_components"] == 3
    scores = pd.DataFrame(search.cv_results_["params"]).assign(
        score=search.cv_results_["mean_test_score"]
    )
    by_components = scores.groupby("fusion__txt__n_components")["score"].max()
    assert by_components[1] < 0.65 < 0.9 < by_components[3]
    assert len(set(np.round(search.cv_results_["mean_test_score"], 6))) > 2
    assert search.best_estimator_.named_steps["fusion"].transformers_["txt"].n_components_ == 3
    # With 3 components every point of the grid fuses the data differently (with
    # 1 whitened component, "variance" and "mfa" coincide: one column's variance
    # is its covariance's only eigenvalue).
    fused = [
        clone(pipe).set_params(**params)[:-1].fit_transform(X, y)
        for params in ParameterGrid({**grid, "fusion__txt__n_components": [3]})
    ]
    for first, second in combinations(fused, 2):
        assert not np.allclose(first, second)


# -- InteractionFusion ---------------------------------------------------------

PAIR = {"a": [0, 1, 2], "b": [3, 4]}


@pytest.mark.parametrize(
    "params, width",
    [
        ({"method": "tensor", "n_components": 2}, 3 * 3),
        ({"method": "tensor", "n_components": 5}, 4 * 3),  # k_m = min(n_components, p_m)
        ({"method": "tensor", "projection": None}, 4 * 3),
        ({"method": "product", "n_components": 4}, 2),
        ({"method": "compact_bilinear", "sketch_size": 32}, 32),
    ],
)
def test_interaction_width_follows_the_documented_formula(rng, params, width):
    X = rng.standard_normal((40, 5))
    fusion = InteractionFusion(PAIR, random_state=0, **params)
    assert fusion.fit_transform(X).shape == (40, width)
    assert len(fusion.get_feature_names_out()) == width


def test_interaction_widths_add_over_pairs(rng):
    X = rng.standard_normal((40, 9))
    modalities = {"a": [0, 1, 2], "b": [3, 4, 5], "c": [6, 7, 8]}
    fusion = InteractionFusion(modalities, n_components=2).fit(X)
    assert fusion.pairs_ == [("a", "b"), ("a", "c"), ("b", "c")]
    assert fusion.transform(X).shape == (40, 3 * 9)
    single = InteractionFusion(modalities, pairs=[("c", "a")], n_components=2).fit(X)
    assert single.get_feature_names_out()[0] == "c*a__0_0"


def test_tensor_fusion_by_hand():
    # projection=None: z is the centred block; the features are vec([1, z_a] ⊗ [1, z_b]).
    X = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 4.0], [2.0, 1.0, 2.0]])  # means 2, 1, 2
    fusion = InteractionFusion({"a": [0], "b": [1, 2]}, projection=None, standardize=False)
    Xt = fusion.fit_transform(X)
    za, zb1, zb2 = -1.0, 1.0, -2.0  # row 0, centred
    np.testing.assert_allclose(Xt[0], [1, zb1, zb2, za, za * zb1, za * zb2])
    np.testing.assert_allclose(Xt[1], [1, -1, 2, 1, -1, 2])
    assert fusion.get_feature_names_out().tolist() == [
        "a*b__0_0",
        "a*b__0_1",
        "a*b__0_2",
        "a*b__1_0",
        "a*b__1_1",
        "a*b__1_2",
    ]


def test_product_by_hand():
    X = np.array([[1.0, 2.0, 5.0, 0.0], [3.0, 0.0, 1.0, 2.0]])  # means 2, 1, 3, 1
    Xt = InteractionFusion(
        {"a": [0, 1], "b": [2, 3]}, method="product", projection=None, standardize=False
    ).fit_transform(X)
    np.testing.assert_allclose(Xt, [[-1 * 2, 1 * -1], [1 * -2, -1 * 1]])


def test_compact_bilinear_is_the_count_sketch_of_the_tensor(rng):
    X = rng.standard_normal((7, 5))
    d = 16
    fusion = InteractionFusion(
        PAIR, method="compact_bilinear", projection=None, sketch_size=d, random_state=3
    )
    Xt = fusion.fit_transform(X)
    tensor = InteractionFusion(PAIR, method="tensor", projection=None).fit_transform(X)
    h_a, s_a, h_b, s_b = fusion.count_sketches_[0]
    # Tensor Sketch: the count sketch of vec(u ⊗ v) with hash (h_a(i) + h_b(j)) mod d
    # and sign s_a(i) s_b(j).
    expected = np.zeros((7, d))
    for i in range(4):
        for j in range(3):
            expected[:, (h_a[i] + h_b[j]) % d] += s_a[i] * s_b[j] * tensor[:, i * 3 + j]
    np.testing.assert_allclose(Xt, expected, atol=1e-12)


def test_compact_bilinear_inner_products_approximate_the_tensor_kernel(rng):
    X = rng.standard_normal((30, 5))
    tensor = InteractionFusion(PAIR, projection=None).fit_transform(X)
    sketch = InteractionFusion(
        PAIR, method="compact_bilinear", projection=None, sketch_size=4096, random_state=0
    ).fit_transform(X)
    exact, approx = tensor @ tensor.T, sketch @ sketch.T
    assert np.corrcoef(exact.ravel(), approx.ravel())[0, 1] > 0.97


def test_pca_projection_is_whitened(rng):
    X = rng.standard_normal((200, 5)) * [5.0, 1.0, 0.1, 3.0, 2.0]
    fusion = InteractionFusion(PAIR, n_components=2, standardize=False).fit(X)
    np.testing.assert_array_equal(fusion.projection_scales_["a"], 1.0)
    z = (X[:, :3] - fusion.projection_means_["a"]) @ fusion.projections_["a"]
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(2), atol=1e-10)
    np.testing.assert_allclose(
        np.abs(z), np.abs(PCA(2, whiten=True).fit_transform(X[:, :3])), atol=1e-10
    )


def test_standardized_pca_projection_is_the_pca_of_standard_scaled_columns(rng):
    X = rng.standard_normal((200, 5)) @ rng.standard_normal((5, 5)) * [5.0, 1.0, 0.1, 3.0, 2.0]
    fusion = InteractionFusion(PAIR, n_components=2).fit(X)
    a = X[:, :3]
    np.testing.assert_allclose(fusion.projection_scales_["a"], a.std(axis=0), rtol=1e-12)
    z = (a - fusion.projection_means_["a"]) / fusion.projection_scales_["a"]
    z = z @ fusion.projections_["a"]
    scaled = StandardScaler().fit_transform(a)
    np.testing.assert_allclose(
        np.abs(z), np.abs(PCA(2, whiten=True).fit_transform(scaled)), atol=1e-10
    )


@pytest.mark.parametrize("method", ["tensor", "product", "compact_bilinear"])
@pytest.mark.parametrize("projection", ["pca", "random", None])
def test_interaction_default_output_does_not_depend_on_a_columns_unit(rng, method, projection):
    X = rng.standard_normal((60, 6)) @ rng.standard_normal((6, 6))
    in_cents = X.copy()
    in_cents[:, [1, 4]] *= 1000.0
    fusion = InteractionFusion({"a": [0, 1, 2], "b": [3, 4, 5]}, method=method,
                               projection=projection, n_components=2)
    np.testing.assert_allclose(
        fusion.fit_transform(in_cents), fusion.fit_transform(X), rtol=1e-7, atol=1e-9
    )


def test_max_features_guard_states_the_formula(rng):
    X = rng.standard_normal((10, 5))
    with pytest.raises(ValueError, match=re.escape("(k_a + 1) * (k_b + 1)")) as info:
        InteractionFusion(PAIR, projection=None, max_features=11).fit(X)
    assert "would output 12 features" in str(info.value)
    assert "max_features=11" in str(info.value)


def test_interactions_learn_a_signal_concatenation_cannot():
    # The label is the sign agreement of one latent of each modality: each
    # modality alone, and their concatenation, are at chance for a linear model.
    X, y, modalities = make_multimodal_classification(
        n_samples=600,
        widths={"a": 3, "b": 3},
        signal=0.0,
        interaction=3.0,
        noise=0.1,
        random_state=0,
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    linear = LogisticRegression()
    concatenated = cross_val_score(
        make_pipeline(FeatureFusion(modalities), linear), X, y, cv=cv
    ).mean()
    fused = {}
    for method in ("tensor", "compact_bilinear"):
        interactions = InteractionFusion(modalities, method=method, projection=None, random_state=0)
        pipeline = make_pipeline(interactions, StandardScaler(), linear)
        fused[method] = cross_val_score(pipeline, X, y, cv=cv).mean()
    assert concatenated < 0.6
    assert fused["tensor"] > 0.9 and fused["compact_bilinear"] > 0.85


def test_interaction_missing_zero_keeps_unimodal_terms(rng):
    X = rng.standard_normal((30, 5))
    X[[2, 5], :3] = np.nan
    with pytest.raises(ValueError, match=r"Modality 'a' is missing \(all NaN\) in 2 of 30 rows"):
        InteractionFusion(PAIR).fit(X)
    fusion = InteractionFusion(PAIR, projection=None, missing="zero", standardize=False).fit(X)
    Xt = fusion.transform(X)
    zb = X[2, 3:] - np.nanmean(X[:, 3:], axis=0)
    np.testing.assert_allclose(Xt[2], [1, *zb, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(
        fusion.projection_means_["a"], X[~np.isnan(X[:, 0]), :3].mean(axis=0)
    )


@pytest.mark.parametrize("projection", ["random", "pca", None])
def test_interaction_nan_cells_give_the_fit_on_mean_imputed_data(rng, projection):
    X = rng.standard_normal((40, 5))
    X[:4, 3:] = np.nan  # 'b' missing in rows 0-3
    X[[5, 9], 1] = np.nan
    X[2, 0] = np.nan  # 'b' missing, 'a' present with a cell
    X[12, 4] = np.nan
    modalities = {"a": [0, 1, 2], "b": [3, 4]}
    X_ref = mean_imputed(X, modalities)
    params = {"modalities": modalities, "projection": projection, "n_components": 2, "missing": "zero"}
    fusion = InteractionFusion(**params).fit(X)
    reference = InteractionFusion(**params).fit(X_ref)
    np.testing.assert_allclose(fusion.transform(X), reference.transform(X_ref), atol=1e-12)
    np.testing.assert_allclose(fusion.fill_values_["a"], np.nanmean(X[:, :3], axis=0), rtol=1e-12)
    assert InteractionFusion(missing="zero").__sklearn_tags__().input_tags.allow_nan
    assert InteractionFusion().__sklearn_tags__().input_tags.allow_nan


def test_interaction_nan_cells_set_to_the_mean_in_either_mode(rng):
    X = rng.standard_normal((30, 5))
    X[4, 1] = np.nan  # 'a' present in row 4, one cell NaN
    strict = InteractionFusion(PAIR, random_state=0).fit(X)
    lenient = InteractionFusion(PAIR, missing="zero", random_state=0).fit(X)
    np.testing.assert_array_equal(strict.transform(X), lenient.transform(X))
    modalities = {"a": [0, 1], "b": [3, 4]}  # equal widths for products without projection
    fusion = InteractionFusion(
        modalities, projection=None, method="product", missing="zero", standardize=False
    )
    Xt = fusion.fit_transform(X)
    assert fusion.projection_means_["a"][1] == pytest.approx(np.nanmean(X[:, 1]))
    assert Xt[4, 1] == 0.0  # the NaN cell sits at its training mean: zero after centring
    expected = (X[4, 0] - X[:, 0].mean()) * (X[4, 3] - X[:, 3].mean())
    assert Xt[4, 0] == pytest.approx(expected)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("projection", ["random", "pca"])
def test_interaction_sparse_input_matches_dense(rng, projection, standardize):
    dense = rng.standard_normal((40, 5)) * (rng.random((40, 5)) < 0.5) * [1, 10, 100, 1, 1000]
    params = {"modalities": PAIR, "projection": projection, "n_components": 2,
              "random_state": 0, "standardize": standardize}
    expected = InteractionFusion(**params).fit_transform(dense)
    np.testing.assert_allclose(
        np.abs(InteractionFusion(**params).fit_transform(sp.csr_matrix(dense))),
        np.abs(expected),
        atol=1e-10,
    )
    with pytest.raises(TypeError, match="projection=None needs dense input"):
        InteractionFusion(PAIR, projection=None).fit(sp.csr_matrix(dense))


@pytest.mark.parametrize(
    "pairs, message",
    [
        ([("a", "c")], "unknown modality 'c'"),
        ([("a", "a")], "two different modalities"),
        ([("a", "b"), ("b", "a")], "more than once"),
        ([("a",)], "two modality names"),
        ([], "at least one pair"),
    ],
)
def test_bad_pairs_are_refused(rng, pairs, message):
    with pytest.raises(ValueError, match=message):
        InteractionFusion(PAIR, pairs=pairs).fit(rng.standard_normal((10, 5)))


def test_interaction_needs_two_modalities(rng):
    with pytest.raises(ValueError, match="at least two modalities"):
        InteractionFusion().fit(rng.standard_normal((10, 3)))


def test_interaction_is_reproducible_with_random_state(rng):
    X = rng.standard_normal((20, 5))
    params = {"modalities": PAIR, "method": "compact_bilinear", "projection": "random", "sketch_size": 8}
    first = InteractionFusion(random_state=1, **params).fit_transform(X)
    np.testing.assert_array_equal(
        first, InteractionFusion(random_state=1, **params).fit_transform(X)
    )
    assert not np.allclose(first, InteractionFusion(random_state=2, **params).fit_transform(X))


def test_feature_and_interaction_fusion_in_one_grid_search_pipeline():
    X, y, modalities = make_multimodal_classification(
        n_samples=200, widths={"a": 4, "b": 4}, interaction=2.0, signal=0.5, random_state=1
    )
    pipe = Pipeline(
        [("fusion", InteractionFusion(modalities, random_state=0)), ("clf", LogisticRegression())]
    )
    search = GridSearchCV(
        pipe, {"fusion__n_components": [1, 4], "fusion__method": ["tensor", "product"]}, cv=3
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"fusion__n_components", "fusion__method"}


def test_a_modalitys_transformer_sees_its_columns_by_name_when_x_is_a_dataframe(rng):
    # It got a bare array: its own feature names were x0.., and get_feature_names_out
    # (or any pandas output) failed with "input_features is not equal to feature_names_in_".
    from sklearn import config_context
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import PolynomialFeatures

    X = pd.DataFrame(rng.standard_normal((40, 5)), columns=["p", "q", "r", "s", "t"])
    y = (X["p"] > 0).astype(int)
    modalities = {"a": ["p", "q", "r"], "b": ["s", "t"]}
    by_name = ColumnTransformer([("scaled", StandardScaler(), ["q"])])
    fusion = FeatureFusion(modalities, transformers={"a": by_name}).fit(X, y)
    assert fusion.get_feature_names_out().tolist() == ["a__scaled__q", "b__s", "b__t"]
    chained = make_pipeline(StandardScaler(), PolynomialFeatures(2))
    fusion = FeatureFusion(modalities, transformers={"a": chained})
    with config_context(transform_output="pandas"):
        model = make_pipeline(fusion, LogisticRegression()).fit(X, y)
        Xt = model[0].transform(X)
    assert list(Xt.columns) == list(model[0].get_feature_names_out())
    assert "a__p q" in Xt.columns
    np.testing.assert_allclose(
        Xt.to_numpy(), FeatureFusion(modalities, transformers={"a": chained}).fit(X, y)
        .transform(X), rtol=1e-12,
    )


def test_pca_projection_refuses_a_modality_present_in_one_training_row(rng):
    # one row has no variance: PCA's explained variance is 0 / 0, and the whitened
    # projection was NaN for every row (a rare modality in one CV fold)
    X = rng.standard_normal((50, 4))
    X[1:, 3] = np.nan
    fusion = InteractionFusion({"a": [0, 1], "b": [2], "c": [3]}, missing="zero")
    with pytest.raises(ValueError, match="needs at least 2 rows where modality 'c' is present; got 1"):
        fusion.fit(X)
    X[2, 3] = 0.5  # two rows: a finite projection
    assert np.isfinite(fusion.fit(X).transform(rng.standard_normal((5, 4)))).all()


def test_weights_as_a_series_are_read_by_modality_name(rng):
    # read as an array, a Series keyed by name was applied by position: 'c' got 'a''s weight
    X = rng.standard_normal((30, 3))
    modalities = {"a": [0], "b": [1], "c": [2]}
    series = pd.Series({"c": 3.0, "a": 1.0, "b": 2.0})
    fusion = FeatureFusion(modalities, weights=series).fit(X)
    assert fusion.weights_ == {"a": 1.0, "b": 2.0, "c": 3.0}
    np.testing.assert_array_equal(
        fusion.transform(X), FeatureFusion(modalities, weights=series.to_dict()).fit(X).transform(X)
    )
    # positional values stay positional
    assert FeatureFusion(modalities, weights=pd.Series([3.0, 1.0, 2.0])).fit(X).weights_["a"] == 3.0
    # restricted to some modalities (ablation, Shapley), each keeps its own weight
    restricted = restrict_to_modalities(fusion, {"c": [0], "b": [1]})
    assert restricted.fit(X[:, [2, 1]]).weights_ == {"c": 3.0, "b": 2.0}
