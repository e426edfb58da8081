"""The defaults of the intermediate-fusion networks: early stopping, seed, linear skip,
the small-data warning, and compare_fusion's network using them."""

import warnings

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402

from skfusion import SmallDataWarning  # noqa: E402
from skfusion.datasets import make_multimodal_classification  # noqa: E402
from skfusion.nn import IntermediateFusionClassifier, IntermediateFusionRegressor  # noqa: E402

# Small networks at a brisk learning rate: every test here fits in about a second.
FAST = {"latent_dim": 8, "encoder_hidden_sizes": (16,), "head_hidden_sizes": (16,), "lr": 0.05,
        "device": "cpu"}


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(400, {"a": 3, "b": 4}, noise=0.3, random_state=0)


def test_early_stopping_is_on_by_default_and_restores_the_best_epoch(data):
    X, y, modalities = data
    net = IntermediateFusionClassifier(modalities, n_iter_no_change=3, max_epochs=200, **FAST)
    assert net.early_stopping == "auto"
    history = net.fit(X, y).net_.history
    valid_loss = history[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    assert len(history) < 200
    assert len(history) == best + 1 + 3
    # 10% of the rows held out, stratified; the restored weights score them as
    # the best epoch did (scikit-learn's log loss of the predicted probabilities).
    valid = net.net_.train_split.valid_indices
    assert valid.size == 40
    assert np.bincount(y[valid]).tolist() == [20, 20]
    loss = log_loss(y[valid], net.predict_proba(X[valid]))
    assert loss == pytest.approx(valid_loss[best], rel=1e-4)


def test_early_stopping_false_trains_every_row_for_max_epochs(data):
    X, y, modalities = data
    net = IntermediateFusionClassifier(modalities, early_stopping=False, max_epochs=7,
                                       **FAST).fit(X, y)
    assert len(net.net_.history) == 7
    assert net.net_.train_split is None
    assert "valid_loss" not in net.net_.history[-1]


def test_early_stopping_auto_is_off_when_the_held_out_part_would_have_under_two_rows():
    X, y, modalities = make_multimodal_classification(10, {"a": 2, "b": 2}, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallDataWarning)
        net = IntermediateFusionClassifier(modalities, max_epochs=3, **FAST).fit(X, y)
        assert net.net_.train_split is None  # ceil(0.1 * 10) = 1 row
        net.set_params(validation_fraction=0.2).fit(X, y)
        assert net.net_.train_split.valid_indices.size == 2


def test_two_default_fits_are_identical(data):
    X, y, modalities = data
    first = IntermediateFusionClassifier(modalities, max_epochs=5, device="cpu").fit(X, y)
    second = IntermediateFusionClassifier(modalities, max_epochs=5, device="cpu").fit(X, y)
    assert first.random_state == 0
    np.testing.assert_array_equal(first.net_.train_split.valid_indices,
                                  second.net_.train_split.valid_indices)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize("Estimator", [IntermediateFusionClassifier, IntermediateFusionRegressor])
def test_linear_skip_adds_one_linear_map_per_modality(data, Estimator):
    X, y, modalities = data
    plain = Estimator(modalities, max_epochs=1, **FAST).fit(X, y)
    assert plain.net_.module_.skip is None
    skip = Estimator(modalities, max_epochs=1, linear_skip=True, **FAST).fit(X, y)
    n_outputs = 2 if Estimator is IntermediateFusionClassifier else 1
    shapes = [tuple(layer.weight.shape) for layer in skip.net_.module_.skip]
    assert shapes == [(n_outputs, 3), (n_outputs, 4)]
    assert all(layer.bias is None for layer in skip.net_.module_.skip)


def test_linear_skip_output_is_head_plus_the_linear_maps_of_present_modalities(data):
    X, y, modalities = data
    net = IntermediateFusionClassifier(modalities, max_epochs=2, linear_skip=True,
                                       **FAST).fit(X, y)
    module = net.net_.module_.eval()
    x = torch.as_tensor(net._network_input(X[:5]))
    present = torch.tensor([[True, True], [True, False], [False, True], [True, True],
                            [True, False]])
    with torch.no_grad():
        out = module(x, present)
        head = module.head(module.fuse(module.encode(x), present))
        a, b = module.skip
        expected = head + a(x[:, :3]) * present[:, :1] + b(x[:, 3:]) * present[:, 1:]
    torch.testing.assert_close(out, expected)


def test_linear_skip_alone_matches_a_logistic_regression_in_accuracy(data):
    # The skip path is a linear model of every modality: with it, the network
    # starts where a logistic regression on all columns is.
    X, y, modalities = data
    net = IntermediateFusionClassifier(modalities, linear_skip=True, max_epochs=50,
                                       **FAST).fit(X[:300], y[:300])
    logistic = LogisticRegression().fit(X[:300], y[:300]).score(X[300:], y[300:])
    assert net.score(X[300:], y[300:]) >= logistic - 0.05


@pytest.mark.parametrize("n_samples, warns", [(100, True), (199, True), (200, False),
                                              (400, False)])
def test_small_data_warning_fires_below_200_rows(n_samples, warns):
    X, y, modalities = make_multimodal_classification(n_samples, {"a": 3, "b": 2},
                                                      random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        IntermediateFusionClassifier(modalities, max_epochs=1, **FAST).fit(X, y)
    small = [w for w in caught if w.category is SmallDataWarning]
    assert bool(small) is warns
    if warns:
        message = str(small[0].message)
        assert f"fitted on {n_samples} rows (fewer than 200)" in message
        assert "linear model" in message and "StackingLateFusion" in message
        assert small[0].filename == __file__  # points at the user's line


@pytest.mark.parametrize("params, error, match", [
    ({"early_stopping": "always"}, ValueError, "early_stopping"),
    ({"early_stopping": 1.5}, ValueError, "early_stopping"),
    ({"linear_skip": "yes"}, ValueError, "linear_skip"),
    ({"linear_skip": None}, ValueError, "linear_skip"),
])
def test_new_parameters_are_validated(data, params, error, match):
    X, y, modalities = data
    with pytest.raises(error, match=match):
        IntermediateFusionClassifier(modalities, max_epochs=1, **params).fit(X, y)


def test_compare_fusion_runs_the_network_with_its_defaults():
    from skfusion.model_selection._strategies import resolve_strategies

    default = IntermediateFusionClassifier().get_params()
    for random_state, expected_seed in [(None, 0), (3, 3)]:
        resolved, _ = resolve_strategies(["intermediate"], {"a": [0], "b": [1]},
                                         "classification", random_state=random_state)
        (_, _, net), = resolved
        params = net.get_params()
        assert params.pop("random_state") == expected_seed
        assert params.pop("modalities") == {"a": [0], "b": [1]}
        assert params == {k: v for k, v in default.items()
                          if k not in ("random_state", "modalities")}
