"""IntermediateFusionClassifier / IntermediateFusionRegressor: behaviour and numbers."""

import os
import pickle
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402
from skorch.exceptions import DeviceWarning  # noqa: E402

from skfusion import NoModalityPresentWarning  # noqa: E402
from skfusion.datasets import (  # noqa: E402
    make_multimodal_classification,
    make_multimodal_regression,
)
from skfusion.nn import IntermediateFusionClassifier, IntermediateFusionRegressor  # noqa: E402

FUSIONS = ["concat", "sum", "gated", "attention", "tensor", "lowrank", "graph"]
CPU = dict(device="cpu", random_state=0)


def _split(X, y, n_train):
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


@pytest.fixture(scope="module")
def easy():
    """Two informative, complementary modalities (linearly separable enough)."""
    X, y, modalities = make_multimodal_classification(
        400, {"a": 3, "b": 4}, noise=0.3, random_state=0
    )
    return X, y, modalities


# ---------------------------------------------------------------- fusion beats single modalities


def test_network_learns_a_cross_modal_interaction_no_single_modality_or_linear_model_sees():
    # signal=0: the label is the sign agreement of one latent in each modality,
    # so each modality alone and any linear model of both are at chance.
    X, y, modalities = make_multimodal_classification(
        1600, {"a": 3, "b": 3}, signal=0.0, interaction=3.0, random_state=0
    )
    X_train, X_test, y_train, y_test = _split(X, y, 800)
    a, b = modalities["a"], modalities["b"]

    baselines = {
        "logistic a": LogisticRegression().fit(X_train[:, a], y_train).score(X_test[:, a], y_test),
        "logistic b": LogisticRegression().fit(X_train[:, b], y_train).score(X_test[:, b], y_test),
        "linear early fusion": LogisticRegression().fit(X_train, y_train).score(X_test, y_test),
    }
    for name in ("a", "b"):
        # The same network on one modality: a nonlinear model that cannot see the product.
        single = IntermediateFusionClassifier({name: modalities[name]}, max_epochs=20, lr=1e-2,
                                              **CPU).fit(X_train, y_train)
        baselines[f"network on {name}"] = single.score(X_test, y_test)
    try:
        from skfusion import FeatureFusion
    except ImportError:  # pragma: no cover - written by another module
        pass
    else:
        early = make_pipeline(FeatureFusion(modalities), LogisticRegression())
        baselines["FeatureFusion + logistic"] = early.fit(X_train, y_train).score(X_test, y_test)

    assert max(baselines.values()) < 0.6, baselines  # the data set does what it says
    for fusion in ("tensor", "attention"):
        net = IntermediateFusionClassifier(modalities, fusion=fusion, max_epochs=20, lr=1e-2, **CPU)
        accuracy = net.fit(X_train, y_train).score(X_test, y_test)
        assert accuracy > 0.7, (fusion, accuracy)
        assert accuracy > max(baselines.values()) + 0.15, (fusion, accuracy, baselines)


def test_modality_dropout_helps_on_rows_that_lack_a_modality():
    # Redundant modalities (shared=1): either alone predicts y well, but a
    # multiplicative fusion trained on complete rows only leans on both.
    X, y, modalities = make_multimodal_classification(
        1200, {"a": 4, "b": 4}, shared=1.0, noise=0.3, random_state=1
    )
    X_train, X_test, y_train, y_test = _split(X, y, 600)
    X_test_only_a, X_test_only_b = X_test.copy(), X_test.copy()
    X_test_only_a[:, modalities["b"]] = np.nan
    X_test_only_b[:, modalities["a"]] = np.nan

    def accuracy_lacking_one(p):
        # early_stopping=False: every run trains the same 30 epochs on complete rows.
        net = IntermediateFusionClassifier(modalities, fusion="tensor", modality_dropout=p,
                                           max_epochs=30, early_stopping=False,
                                           **CPU).fit(X_train, y_train)
        full = net.score(X_test, y_test)
        return full, (net.score(X_test_only_a, y_test) + net.score(X_test_only_b, y_test)) / 2

    full_without, lacking_without = accuracy_lacking_one(0.0)
    full_with, lacking_with = accuracy_lacking_one(0.3)
    assert lacking_with > lacking_without + 0.05, (lacking_with, lacking_without)
    assert lacking_with > 0.85
    assert full_with > full_without - 0.02  # not paid for on complete rows


# ---------------------------------------------------------------- every fusion, shapes, API


@pytest.mark.parametrize("fusion", FUSIONS)
def test_every_fusion_trains_and_predicts(easy, fusion):
    X, y, modalities = easy
    X_train, X_test, y_train, y_test = _split(X, y, 300)
    reference = LogisticRegression().fit(X_train, y_train).score(X_test, y_test)
    net = IntermediateFusionClassifier(modalities, fusion=fusion, latent_dim=8, n_heads=2,
                                       rank=3, max_epochs=30, lr=3e-3, **CPU)
    net.fit(X_train, y_train)
    proba = net.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(net.predict(X_test), net.classes_[proba.argmax(axis=1)])
    assert net.score(X_test, y_test) > reference - 0.05  # a linear problem: match logistic
    width = {"concat": 16, "tensor": 81}.get(fusion, 8)
    fused = net.transform(X_test)
    assert fused.shape == (100, width) and fused.dtype == np.float32
    assert list(net.get_feature_names_out()) == [
        f"intermediatefusionclassifier{i}" for i in range(width)
    ]


def test_attention_weights_sum_to_one_over_present_modalities(easy):
    X, y, modalities = easy
    X = X.copy()
    X[:50, modalities["b"]] = np.nan
    net = IntermediateFusionClassifier(modalities, fusion="attention", latent_dim=8, n_heads=2,
                                       max_epochs=5, **CPU).fit(X, y)
    weights = net.attention_weights(X)
    assert weights.shape == (400, 2)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(weights[:50], np.tile([1.0, 0.0], (50, 1)))
    assert (weights[50:] > 0).all()
    with pytest.raises(ValueError, match="fusion='attention'.*fusion='concat'"):
        IntermediateFusionClassifier(modalities, max_epochs=1, **CPU).fit(X, y).attention_weights(X)


def test_string_labels_and_multiclass(easy):
    X, _, modalities = easy
    X, y, modalities = make_multimodal_classification(
        300, {"a": 3, "b": 3}, n_classes=3, noise=0.2, random_state=0
    )
    labels = np.array(["cat", "dog", "emu"])[y]
    net = IntermediateFusionClassifier(modalities, max_epochs=40, lr=3e-3, **CPU).fit(X, labels)
    np.testing.assert_array_equal(net.classes_, ["cat", "dog", "emu"])
    assert net.predict_proba(X).shape == (300, 3)
    reference = LogisticRegression().fit(X, labels).score(X, labels)
    assert net.score(X, labels) > reference - 0.05


def test_dataframe_input_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X, y, modalities = make_multimodal_classification(
        120, {"img": 3, "txt": 2}, as_frame=True, random_state=0
    )
    assert isinstance(X, pd.DataFrame)
    net = IntermediateFusionClassifier(modalities, max_epochs=3, **CPU).fit(X, y)
    np.testing.assert_array_equal(net.feature_names_in_, X.columns)
    assert net.n_features_in_ == 5
    assert {k: v.tolist() for k, v in net.modalities_.items()} == {"img": [0, 1, 2], "txt": [3, 4]}
    out = net.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame) and out.shape == (120, 64)
    with pytest.raises(ValueError, match="feature names"):
        net.predict(X[list(reversed(X.columns))])


# ---------------------------------------------------------------- missing modalities


@pytest.mark.parametrize("standardize", [True, False])
def test_nan_cells_take_their_training_mean_before_the_network(standardize):
    X, y, modalities = make_multimodal_regression(
        80, {"a": 3, "b": 2}, missing_rate=0.2, random_state=0
    )
    present = ~np.isnan(X[:, modalities["a"]]).all(axis=1)
    cells = np.flatnonzero(present)[[3, 8, 20]]
    X[cells, 1] = np.nan  # cells of 'a' where it is present
    net = IntermediateFusionRegressor(modalities, max_epochs=3, standardize=standardize, **CPU)
    net.fit(X, y)
    mean = np.nanmean(X[present, 1])
    np.testing.assert_allclose(net.fill_values_["a"][1], mean, rtol=1e-12)
    filled = X.copy()
    filled[cells, 1] = mean
    # with standardize=False the cell is the column mean too, not 0
    np.testing.assert_allclose(net.predict(X), net.predict(filled), rtol=1e-6)
    reference = clone(net).fit(filled, y)
    np.testing.assert_allclose(net.predict(X), reference.predict(filled), rtol=1e-5, atol=1e-6)


def test_missing_modalities_at_fit_and_predict_never_reach_the_network_as_nan():
    X, y, modalities = make_multimodal_classification(
        600, {"a": 3, "b": 3, "c": 2}, missing_rate=0.3, noise=0.3, random_state=0
    )
    assert np.isnan(X).any()
    X[0, 0] = np.nan  # a lone NaN inside a present modality is imputed, too
    seen = []
    net = IntermediateFusionClassifier(modalities, fusion="gated", max_epochs=30, lr=3e-3, **CPU)
    net.fit(X[:400], y[:400])
    hook = net.net_.module_.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["x"]), with_kwargs=True
    )
    proba = net.predict_proba(X[400:])
    hook.remove()
    assert seen and not any(torch.isnan(x).any() for x in seen)
    assert np.isfinite(proba).all()
    # Independent reference: logistic regression on mean-imputed data with the
    # presence indicators, a sound linear way to handle these rows.
    from sklearn.impute import SimpleImputer

    reference = make_pipeline(SimpleImputer(add_indicator=True), LogisticRegression())
    ref_score = reference.fit(X[:400], y[:400]).score(X[400:], y[400:])
    assert net.score(X[400:], y[400:]) > ref_score - 0.05


def test_standardisation_is_fitted_on_present_rows_only():
    X, y, modalities = make_multimodal_classification(200, {"a": 2, "b": 2}, random_state=0)
    X[:, 0] += 10.0
    X_missing = X.copy()
    X_missing[:60, modalities["a"]] = np.nan
    net = IntermediateFusionClassifier(modalities, max_epochs=1, **CPU).fit(X_missing, y)
    np.testing.assert_allclose(net.scaler_.mean_[:2], X[60:, :2].mean(axis=0))
    np.testing.assert_allclose(net.scaler_.scale_[:2], X[60:, :2].std(axis=0))


def test_rows_with_no_modality_present():
    X, y, modalities = make_multimodal_classification(100, {"a": 2, "b": 2}, random_state=0)
    X_bad = X.copy()
    X_bad[:3] = np.nan
    net = IntermediateFusionClassifier(modalities, max_epochs=2, **CPU)
    with pytest.raises(ValueError, match="3 of 100 training rows have every modality"):
        net.fit(X_bad, y)
    net.fit(X, y)
    with pytest.warns(NoModalityPresentWarning,
                      match=r"^3 of 100 rows have every modality missing \(all NaN\); they get "
                            r"the training class prior\.$"):
        proba = net.predict_proba(X_bad)
    np.testing.assert_allclose(proba[:3], np.tile(np.bincount(y) / 100, (3, 1)))
    np.testing.assert_allclose(proba[3:], net.predict_proba(X[3:]))
    with pytest.warns(NoModalityPresentWarning):
        assert np.isnan(net.transform(X_bad)[:3]).all()
    # predict agrees with predict_proba, and each warning points at this file (the caller)
    for method in ("predict", "predict_proba", "transform"):
        with pytest.warns(NoModalityPresentWarning) as record:
            result = getattr(net, method)(X_bad)
        assert record[0].filename == __file__, (method, record[0].filename)
        if method == "predict":
            np.testing.assert_array_equal(result, net.classes_[np.argmax(proba, axis=1)])


def test_regressor_rows_with_no_modality_present_get_the_target_mean():
    X, y, modalities = make_multimodal_regression(100, {"a": 2, "b": 2}, n_targets=2,
                                                  random_state=0)
    net = IntermediateFusionRegressor(modalities, max_epochs=2, **CPU).fit(X, y)
    X_bad = X.copy()
    X_bad[[0, 50]] = np.nan
    with pytest.warns(NoModalityPresentWarning,
                      match=r"^2 of 100 rows have every modality missing \(all NaN\); they get "
                            r"the training target mean\.$") as record:
        predictions = net.predict(X_bad)
    assert record[0].filename == __file__
    np.testing.assert_allclose(predictions[[0, 50]], np.tile(y.mean(axis=0), (2, 1)))
    keep = np.ones(100, dtype=bool)
    keep[[0, 50]] = False
    np.testing.assert_array_equal(predictions[keep], net.predict(X[keep]))
    with pytest.warns(NoModalityPresentWarning, match="2 of 2 rows"):
        np.testing.assert_allclose(net.predict(X_bad[[0, 50]]), np.tile(y.mean(axis=0), (2, 1)))


def test_prediction_of_a_row_does_not_depend_on_the_other_rows_nor_on_batch_size():
    X, y, modalities = make_multimodal_regression(700, {"a": 3, "b": 4}, random_state=0)
    net = IntermediateFusionRegressor(modalities, fusion="attention", batch_size=64,
                                      max_epochs=3, **CPU)
    net.fit(X, y)
    full = net.predict(X)  # 700 rows: three inference chunks
    order = np.random.default_rng(0).permutation(700)
    np.testing.assert_array_equal(net.predict(X[order]), full[order])
    np.testing.assert_array_equal(net.predict(X[7:50]), full[7:50])
    np.testing.assert_array_equal(net.predict(X[[5]]), full[[5]])
    np.testing.assert_array_equal(net.predict(X[300:]), full[300:])
    for batch_size in (1, 2**20):
        np.testing.assert_array_equal(net.set_params(batch_size=batch_size).predict(X), full)


# ---------------------------------------------------------------- training options


def test_same_seed_gives_identical_models_and_leaves_the_global_rng_alone(easy):
    X, y, modalities = easy
    params = dict(fusion="attention", dropout=0.2, modality_dropout=0.3, max_epochs=3,
                  early_stopping=True)
    state = torch.random.get_rng_state()
    first = IntermediateFusionClassifier(modalities, **params, **CPU).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)
    second = IntermediateFusionClassifier(modalities, **params, **CPU).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    for (name, a), b in zip(first.net_.module_.state_dict().items(),
                            second.net_.module_.state_dict().values()):
        assert torch.equal(a, b), name
    other = IntermediateFusionClassifier(modalities, **params, device="cpu", random_state=1)
    assert not np.array_equal(other.fit(X, y).predict_proba(X), first.predict_proba(X))


def test_early_stopping_restores_the_best_epoch_and_records_validation(easy):
    X, y, modalities = easy
    net = IntermediateFusionClassifier(modalities, early_stopping=True, n_iter_no_change=3,
                                       validation_fraction=0.25, lr=0.05, max_epochs=200, **CPU)
    history = net.fit(X, y).net_.history
    epochs = len(history)
    assert epochs < 200
    valid_loss = history[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    assert epochs == best + 1 + 3  # stopped n_iter_no_change epochs after the best
    assert all(0 <= acc <= 1 for acc in history[:, "valid_acc"])
    assert sum(history[0, "batches", :, "valid_batch_size"]) == 100  # 25% of 400
    # load_best: the module scores the held-out rows as it did at the best epoch.
    split = net.net_.train_split.valid_indices
    module = net.net_.module_.eval()
    with torch.no_grad():
        x = torch.as_tensor(net._network_input(X[split]))
        present = torch.ones(len(split), 2, dtype=torch.bool)
        logits = module(x, present)
    loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[split])).item()
    assert loss == pytest.approx(valid_loss[best], rel=1e-4)


def test_class_weight_balanced_raises_minority_recall():
    X, y, modalities = make_multimodal_classification(800, {"a": 3, "b": 3}, noise=2.0,
                                                      random_state=0)
    keep = (y == 0) | (np.arange(800) % 6 == 0)  # one positive for ~5 negatives
    X, y = X[keep], y[keep]
    plain = IntermediateFusionClassifier(modalities, max_epochs=20, **CPU).fit(X, y)
    balanced = IntermediateFusionClassifier(modalities, class_weight="balanced", max_epochs=20,
                                            **CPU).fit(X, y)
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    np.testing.assert_allclose(balanced.net_.criterion_.weight.numpy(), expected, rtol=1e-6)
    recall = [(m.predict(X)[y == 1] == 1).mean() for m in (plain, balanced)]
    assert recall[1] > recall[0] + 0.1, recall


def test_alignment_term_pulls_modality_latents_together():
    from skfusion.nn import mmd_loss

    X, y, modalities = make_multimodal_classification(300, {"a": 3, "b": 3}, shared=1.0,
                                                      random_state=0)

    def latent_mmd(**params):
        net = IntermediateFusionClassifier(modalities, max_epochs=30, **params, **CPU).fit(X, y)
        with torch.no_grad():
            latents = net.net_.module_.encode(torch.as_tensor(net._network_input(X)))
        return mmd_loss(latents[:, 0], latents[:, 1], gamma=0.5).item(), net

    unaligned, _ = latent_mmd()
    aligned, net = latent_mmd(alignment="mmd", alignment_weight=1.0)
    assert aligned < unaligned / 3, (aligned, unaligned)
    assert net.score(X, y) > 0.8
    contrastive = IntermediateFusionClassifier(modalities, alignment="contrastive", max_epochs=5,
                                               **CPU).fit(X, y)
    assert np.isfinite(contrastive.net_.history[:, "train_loss"]).all()


def test_non_finite_loss_stops_training_with_a_clear_error_and_no_model():
    X, y, modalities = make_multimodal_regression(100, {"a": 2, "b": 2}, random_state=0)
    net = IntermediateFusionRegressor(modalities, lr=1e30, max_epochs=50, **CPU)
    with pytest.raises(FloatingPointError, match="training loss became nan.*Lower `lr`"):
        net.fit(X, y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        net.predict(X)


def test_verbose_prints_skorchs_epoch_table(easy, capsys):
    X, y, modalities = easy
    IntermediateFusionClassifier(modalities, max_epochs=2, verbose=1, early_stopping=True,
                                 **CPU).fit(X, y)
    out = capsys.readouterr().out
    for column in ("epoch", "train_loss", "valid_loss", "valid_acc", "dur"):
        assert column in out
    IntermediateFusionClassifier(modalities, max_epochs=2, **CPU).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("params, match", [
    (dict(fusion="attention", latent_dim=10, n_heads=3), "multiple of `n_heads`"),
    (dict(fusion="tensor", latent_dim=400), "lower `latent_dim` or use fusion='lowrank'"),
    (dict(device="tpu"), "`device`"),
    (dict(encoder_hidden_sizes=(8, 0)), "encoder_hidden_sizes"),
    (dict(fusion="late"), "fusion"),
    (dict(early_stopping=True, validation_fraction=0.999), "validation_fraction"),
    (dict(normalization="batch", batch_size=1), "normalization='batch' .* batch_size=1"),
])
def test_bad_parameters_are_named(easy, params, match):
    X, y, modalities = easy
    with pytest.raises(ValueError, match=match):
        IntermediateFusionClassifier(modalities, max_epochs=1, **params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_asking_for_cuda_without_cuda_says_so(easy):
    X, y, modalities = easy
    with pytest.raises(ValueError, match="no CUDA device.*device='auto'"):
        IntermediateFusionClassifier(modalities, device="cuda", max_epochs=1).fit(X, y)


def test_one_class_is_refused(easy):
    X, _, modalities = easy
    with pytest.raises(ValueError, match="at least 2 classes"):
        IntermediateFusionClassifier(modalities, max_epochs=1, **CPU).fit(X, np.zeros(400))


# ---------------------------------------------------------------- regression


def test_regressor_matches_linear_regression_on_a_linear_problem_multi_output():
    X, y, modalities = make_multimodal_regression(600, {"a": 3, "b": 3}, n_targets=2,
                                                  noise=0.2, random_state=0)
    X_train, X_test, y_train, y_test = _split(X, y, 400)
    y_train = y_train * [1.0, 100.0] + [0.0, 1000.0]  # targets on unrelated scales
    y_test = y_test * [1.0, 100.0] + [0.0, 1000.0]
    reference = LinearRegression().fit(X_train, y_train).score(X_test, y_test)
    net = IntermediateFusionRegressor(modalities, fusion="sum", max_epochs=60, lr=3e-3, **CPU)
    net.fit(X_train, y_train)
    assert net.predict(X_test).shape == (200, 2)
    assert net.score(X_test, y_test) > reference - 0.05
    np.testing.assert_allclose(net.target_mean_, y_train.mean(axis=0))
    one = IntermediateFusionRegressor(modalities, max_epochs=2, **CPU).fit(X_train, y_train[:, 0])
    assert one.predict(X_test).shape == (200,)


# ---------------------------------------------------------------- model selection and persistence


def test_grid_search_over_the_fusion_operator():
    X, y, modalities = make_multimodal_classification(
        600, {"a": 3, "b": 3}, signal=0.0, interaction=3.0, random_state=0
    )
    base = IntermediateFusionClassifier(modalities, max_epochs=20, lr=3e-3, **CPU)
    search = GridSearchCV(base, {"fusion": ["sum", "tensor"], "latent_dim": [8]}, cv=3)
    search.fit(X, y)
    assert [p["fusion"] for p in search.cv_results_["params"]] == ["sum", "tensor"]
    assert search.best_estimator_.fusion == search.best_params_["fusion"]
    assert search.best_estimator_.latent_dim == 8
    assert search.best_score_ > 0.65
    assert base.get_params()["fusion"] == "concat"  # the template was cloned, not fitted
    assert not hasattr(base, "net_")
    params = clone(base).set_params(fusion="lowrank", rank=2).get_params()
    assert (params["fusion"], params["rank"]) == ("lowrank", 2)


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads), (None, None)])
def test_pickle_and_joblib_round_trip_gives_identical_predictions(easy, tmp_path, dump, load):
    X, y, modalities = easy
    net = IntermediateFusionClassifier(modalities, fusion="lowrank", max_epochs=3, **CPU).fit(X, y)
    if dump is None:
        joblib.dump(net, tmp_path / "net.joblib")
        restored = joblib.load(tmp_path / "net.joblib")
    else:
        restored = load(dump(net))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(restored.transform(X), net.transform(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a machine without CUDA")
def test_a_model_saved_on_cuda_loads_and_predicts_on_cpu(easy):
    X, y, modalities = easy
    net = IntermediateFusionClassifier(modalities, max_epochs=3, **CPU).fit(X, y)
    expected = net.predict_proba(X)
    # What a CUDA-trained model records; skorch maps its tensors to the CPU
    # on unpickling when CUDA is absent, and the estimator follows.
    net.net_.device = "cuda"
    net.device_ = "cuda"
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(pickle.dumps(net))
    assert restored.device_ == "cpu"
    assert next(restored.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_with_amp_and_loading_on_a_cpu_only_process(easy, tmp_path):
    X, y, modalities = easy
    net = IntermediateFusionClassifier(modalities, fusion="attention", device="cuda", amp=True,
                                       max_epochs=30, lr=3e-3, random_state=0).fit(X, y)
    assert net.device_.startswith("cuda")
    assert next(net.net_.module_.parameters()).is_cuda
    assert net.score(X, y) > 0.8
    path = tmp_path / "net.pkl"
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", net.predict_proba(X))
    joblib.dump(net, path)
    code = (
        "import warnings, joblib, numpy as np, torch; warnings.simplefilter('ignore');"
        "assert not torch.cuda.is_available();"
        f"net = joblib.load(r'{path}'); X = np.load(r'{tmp_path / 'X.npy'}');"
        f"expected = np.load(r'{tmp_path / 'proba.npy'}');"
        "np.testing.assert_allclose(net.predict_proba(X), expected, atol=2e-2);"
        "print(net.device_)"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cpu"


def test_warnings_are_not_emitted_on_a_plain_fit(easy):
    X, y, modalities = easy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IntermediateFusionClassifier(modalities, max_epochs=2, **CPU).fit(X, y).predict(X)


@pytest.mark.parametrize("seed", range(12))
def test_early_stopping_never_holds_out_a_class_only_row(easy, seed):
    # stratification fails for a class of one row; the random hold-out that follows
    # held that row out for some seeds, and the class was never trained on
    X, y, modalities = easy
    y = y.copy()
    y[0] = 2
    net = IntermediateFusionClassifier(modalities, early_stopping=True, max_epochs=1, **CPU)
    valid = net._validation_rows(len(y), y, seed)
    assert 0 not in valid
    assert len(valid) == int(np.ceil(net.validation_fraction * len(y)))
