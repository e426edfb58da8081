"""What the three skfusion.nn estimators share (skfusion/nn/_base.py): the float32
network input, the global output configuration, all-or-nothing fit, shared docs."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import sklearn  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skfusion.datasets import make_multimodal_classification  # noqa: E402
from skfusion.nn import (  # noqa: E402
    ContrastiveAlignment,
    IntermediateFusionClassifier,
    IntermediateFusionRegressor,
)

pd = pytest.importorskip("pandas")

ESTIMATORS = [IntermediateFusionClassifier, IntermediateFusionRegressor, ContrastiveAlignment]
CPU = dict(device="cpu", random_state=0, max_epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def data():
    X, y, modalities = make_multimodal_classification(90, {"a": 3, "b": 4}, random_state=0)
    return X, y, modalities


def _make(estimator_class, modalities, **params):
    return estimator_class(modalities, **{**CPU, **params})


def _fit(estimator, X, y):
    return estimator.fit(X) if isinstance(estimator, ContrastiveAlignment) else estimator.fit(X, y)


def _output(estimator, X):
    """What the user reads: probabilities, predictions or the embedding."""
    if isinstance(estimator, IntermediateFusionClassifier):
        return estimator.predict_proba(X)
    if isinstance(estimator, IntermediateFusionRegressor):
        return estimator.predict(X)
    return estimator.transform(X)


# ---------------------------------------------------------------- float32 range


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_value_beyond_float32_is_refused_at_predict_naming_its_column(data, estimator_class):
    X, y, modalities = data
    estimator = _fit(_make(estimator_class, modalities), X, y)
    X_big = X.copy()
    X_big[4, 2] = 1e39  # finite in float64; inf in float32, then NaN in the network
    with pytest.raises(ValueError, match=r"Column 2 of X holds 1e\+39 \(standardised: "
                                         r"[0-9.e+]+\) in row 4, beyond the float32 range"):
        _output(estimator, X_big)
    frame = pd.DataFrame(X_big, columns=[f"x{i}" for i in range(X.shape[1])])
    by_name = {name: [f"x{i}" for i in columns] for name, columns in modalities.items()}
    named = _fit(_make(estimator_class, by_name), frame.iloc[5:], y[5:])
    with pytest.raises(ValueError, match=r"Column 'x2' of X holds 1e\+39"):
        _output(named, frame)
    assert np.isfinite(_output(estimator, X)).all()  # and the estimator still works


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_value_whose_standardised_value_overflows_float32_is_refused(data, estimator_class):
    X, y, modalities = data
    X = X.copy()
    X[:, 0] = np.random.default_rng(0).normal(scale=1e-30, size=X.shape[0])
    estimator = _fit(_make(estimator_class, modalities), X, y)
    assert estimator.scaler_.scale_[0] < 1e-29  # the premise: a tiny spread
    X_new = X[:3].copy()
    X_new[1, 0] = 1e10  # well inside float32, but 1e40 once standardised
    standardised = (1e10 - estimator.scaler_.mean_[0]) / estimator.scaler_.scale_[0]
    assert 1e39 < standardised < 1e41
    message = f"Column 0 of X holds 1e+10 (standardised: {standardised:.3g}) in row 1"
    with pytest.raises(ValueError, match=re.escape(message)):
        _output(estimator, X_new)


def test_without_standardisation_a_value_beyond_float32_is_refused_at_fit(data):
    X, y, modalities = data
    X_big = X.copy()
    X_big[7, 5] = -3e38 * 10
    net = IntermediateFusionClassifier(modalities, standardize=False, **CPU)
    with pytest.raises(ValueError, match=r"Column 5 of X holds -3e\+39 in row 7, beyond the "
                                         r"float32 range the network computes in"):
        net.fit(X_big, y)
    with pytest.raises(NotFittedError):
        net.predict(X)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_training_value_beyond_float32_is_standardised_into_range(data, estimator_class):
    X, y, modalities = data
    X_big = X.copy()
    X_big[4, 2] = 1e39
    estimator = _fit(_make(estimator_class, modalities), X_big, y)
    # (1e39 - mean) / std is about sqrt(n): what the network sees is finite
    assert np.isfinite(_output(estimator, X_big)).all()


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_column_whose_spread_overflows_float64_is_refused_at_fit(data, estimator_class):
    X, y, modalities = data
    X_huge = X.copy()
    X_huge[:, 3] = np.where(np.arange(X.shape[0]) % 2, 1e300, -1e300)
    with pytest.raises(ValueError, match="Column 3 of X: its mean or standard deviation "
                                         "overflows float64"):
        _fit(_make(estimator_class, modalities), X_huge, y)
    # one huge value: its square overflows and the variance came out NaN, not inf; the
    # column was then all zeros for the network, at fit and at predict, unsaid
    X_one = X.copy()
    X_one[0, 0] = 1e200
    with pytest.raises(ValueError, match="Column 0 of X: .*overflows float64"):
        _fit(_make(estimator_class, modalities), X_one, y)


# ---------------------------------------------------------------- set_config(transform_output)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_global_pandas_output_when_fitting_changes_nothing_but_transform_output(
    data, estimator_class
):
    X, y, modalities = data
    reference = _fit(_make(estimator_class, modalities), X, y)
    with sklearn.config_context(transform_output="pandas"):
        estimator = _fit(_make(estimator_class, modalities), X, y)
        transformed = estimator.transform(X)
        if not isinstance(estimator, ContrastiveAlignment):
            np.testing.assert_array_equal(_output(estimator, X), _output(reference, X))
    assert isinstance(transformed, pd.DataFrame)
    assert list(transformed.columns) == list(estimator.get_feature_names_out())
    np.testing.assert_array_equal(transformed.to_numpy(), reference.transform(X))
    np.testing.assert_array_equal(_output(estimator, X), _output(reference, X))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_global_pandas_output_set_after_fit_changes_nothing_but_transform_output(
    data, estimator_class
):
    X, y, modalities = data
    estimator = _fit(_make(estimator_class, modalities), X, y)
    expected_output, expected_transform = _output(estimator, X), estimator.transform(X)
    with sklearn.config_context(transform_output="pandas"):
        output = _output(estimator, X)
        transformed = estimator.transform(X)
        if isinstance(estimator, IntermediateFusionClassifier):
            np.testing.assert_array_equal(estimator.predict(X), estimator.classes_[
                expected_output.argmax(axis=1)])
    if isinstance(estimator, ContrastiveAlignment):
        output = output.to_numpy()
    np.testing.assert_array_equal(output, expected_output)
    assert isinstance(transformed, pd.DataFrame)
    np.testing.assert_array_equal(transformed.to_numpy(), expected_transform)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_set_output_on_the_estimator_applies_to_its_transform_only(data, estimator_class):
    X, y, modalities = data
    estimator = _fit(_make(estimator_class, modalities), X, y)
    expected = estimator.transform(X)
    estimator.set_output(transform="pandas")
    transformed = estimator.transform(X)
    assert isinstance(transformed, pd.DataFrame)
    assert list(transformed.columns) == list(estimator.get_feature_names_out())
    np.testing.assert_array_equal(transformed.to_numpy(), expected)
    assert isinstance(estimator.scaler_.transform(X), np.ndarray)  # pinned to NumPy
    if not isinstance(estimator, ContrastiveAlignment):
        assert isinstance(estimator.predict(X), np.ndarray)


# ---------------------------------------------------------------- all-or-nothing fit


def _diverging(estimator_class, monkeypatch):
    """Parameters (and a patch) that make the training loss non-finite at the first batch."""
    if estimator_class is not ContrastiveAlignment:
        return {"lr": 1e30}
    import skfusion.nn._training as training

    def nan_info_nce(za, zb, temperature):
        return (za * torch.nan).sum() + (zb * 0).sum()

    monkeypatch.setattr(training, "info_nce_loss", nan_info_nce)
    return {}


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_refit_that_fails_keeps_the_previous_model_entirely(data, estimator_class, monkeypatch):
    X, y, modalities = data
    estimator = _fit(_make(estimator_class, modalities), X, y)
    before = dict(vars(estimator))
    expected_output, expected_transform = _output(estimator, X), estimator.transform(X)
    params = _diverging(estimator_class, monkeypatch)
    estimator.set_params(max_epochs=3, **params)
    with pytest.raises(FloatingPointError, match="training loss became nan"):
        _fit(estimator, X[::-1], y[::-1])
    monkeypatch.undo()
    assert estimator.net_ is before["net_"] and estimator.scaler_ is before["scaler_"]
    assert set(vars(estimator)) == set(before)
    np.testing.assert_array_equal(_output(estimator, X), expected_output)
    np.testing.assert_array_equal(estimator.transform(X), expected_transform)
    assert estimator.max_epochs == 3  # the parameters are the user's, as set


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_first_fit_that_fails_leaves_the_estimator_unfitted(data, estimator_class, monkeypatch):
    X, y, modalities = data
    estimator = _make(estimator_class, modalities, **_diverging(estimator_class, monkeypatch))
    with pytest.raises(FloatingPointError, match="training loss became nan at epoch 1, batch"):
        _fit(estimator, X, y)
    monkeypatch.undo()
    assert not [name for name in vars(estimator) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        estimator.transform(X)
    with pytest.raises(AttributeError):
        estimator.module_ if isinstance(estimator, ContrastiveAlignment) else estimator.net_


# ---------------------------------------------------------------- shared docs


@pytest.mark.parametrize("name", ["latent_dim", "encoder_hidden_sizes", "lr", "weight_decay",
                                  "batch_size", "max_epochs", "device", "random_state",
                                  "verbose"])
def test_shared_parameters_are_documented_alike(name):
    from numpydoc.docscrape import ClassDoc

    docs = {cls: {p.name: p for p in ClassDoc(cls)["Parameters"]} for cls in ESTIMATORS}
    entries = [docs[cls][name] for cls in ESTIMATORS]
    # the same text for the same idea; defaults, and notes on lines of their own, may differ
    assert len({entry.desc[0] for entry in entries}) == 1 or name == "latent_dim"
    assert len({entry.type.split(", default")[0] for entry in entries}) == 1
    assert all(name in cls().get_params() for cls in ESTIMATORS)
