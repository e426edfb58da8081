"""ContrastiveAlignment and the alignment losses (InfoNCE, MMD) in torch."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _selectors import HALVES  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from skfusion.metrics import mmd  # noqa: E402
from skfusion.nn import ContrastiveAlignment  # noqa: E402
from skfusion.nn import info_nce_loss, mmd_loss  # noqa: E402


@parametrize_with_checks(
    [ContrastiveAlignment(HALVES, latent_dim=2, encoder_hidden_sizes=(8,), max_epochs=2, batch_size=16,
                          device="cpu")],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _paired(n, seed, noise=0.1):
    """Two modalities that are different non-linear views of one 4-d latent."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(100)  # the same views for train and test draws
    to_a, to_b = mixing.normal(size=(4, 10)), mixing.normal(size=(4, 8))
    latent = rng.normal(size=(n, 4))
    a = np.tanh(latent @ to_a) + noise * rng.normal(size=(n, 10))
    b = latent @ to_b + noise * rng.normal(size=(n, 8))
    return np.hstack([a, b]), {"a": range(10), "b": range(10, 18)}


def test_retrieval_far_above_chance_after_training_and_near_chance_before():
    X, modalities = _paired(400, seed=0)
    X_test, _ = _paired(200, seed=1)
    chance = 1 / 200
    untrained = ContrastiveAlignment(modalities, max_epochs=0, random_state=0).fit(X)
    trained = ContrastiveAlignment(modalities, max_epochs=40, batch_size=64, random_state=0).fit(X)
    assert untrained.score(X_test) < 5 * chance
    assert trained.score(X_test) > 50 * chance
    assert trained.set_params(recall_k=5).score(X_test) > trained.set_params(recall_k=1).score(X_test)
    assert trained.loss_curve_[-1] < trained.loss_curve_[0]


def test_fixed_seed_is_reproducible_on_cpu():
    X, modalities = _paired(150, seed=0)

    def fit(seed):
        return ContrastiveAlignment(modalities, max_epochs=3, batch_size=32, random_state=seed).fit(X)

    np.testing.assert_array_equal(fit(7).transform(X), fit(7).transform(X))
    assert not np.allclose(fit(7).transform(X), fit(8).transform(X))


def test_global_torch_rng_is_left_alone():
    X, modalities = _paired(60, seed=0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ContrastiveAlignment(modalities, max_epochs=1, random_state=0).fit(X)
    assert torch.equal(torch.rand(3), expected)


def test_temperature_is_learned_only_when_asked():
    X, modalities = _paired(200, seed=0)
    learned = ContrastiveAlignment(modalities, max_epochs=5, lr=1e-2, random_state=0).fit(X)
    fixed = ContrastiveAlignment(modalities, max_epochs=5, lr=1e-2, learn_temperature=False, random_state=0).fit(X)
    assert fixed.temperature_ == pytest.approx(0.07)
    assert learned.temperature_ != pytest.approx(0.07, rel=1e-4)
    assert learned.temperature_ >= 0.01 - 1e-9  # CLIP's cap on 1 / temperature


def test_outputs_and_missing_modalities():
    X, modalities = _paired(120, seed=0)
    model = ContrastiveAlignment(modalities, latent_dim=6, max_epochs=2, random_state=0).fit(X)
    per_modality = model.set_params(output="concat").transform(X)
    assert per_modality.shape == (120, 12)
    np.testing.assert_allclose(np.linalg.norm(per_modality[:, :6], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(model.set_params(output="b").transform(X), per_modality[:, 6:])

    X_missing = X.copy()
    X_missing[:10, 10:] = np.nan  # b missing
    X_missing[10, :] = np.nan  # nothing present
    mean = model.set_params(output="mean").transform(X_missing)
    np.testing.assert_allclose(mean[:10], per_modality[:10, :6], rtol=1e-6)
    assert np.isnan(mean[10]).all()
    np.testing.assert_allclose(mean[11:], (per_modality[11:, :6] + per_modality[11:, 6:]) / 2, rtol=1e-5, atol=1e-7)
    assert np.isnan(model.set_params(output="concat").transform(X_missing)[:10, 6:]).all()
    # Training with missing modalities uses the rows where both are present.
    ContrastiveAlignment(modalities, max_epochs=1, random_state=0).fit(X_missing)


def test_three_modalities_train_on_all_pairs_and_score_any_pair():
    X, _ = _paired(300, seed=0)
    modalities = {"a": range(0, 5), "b": range(5, 10), "c": range(10, 18)}
    model = ContrastiveAlignment(modalities, max_epochs=30, batch_size=64, random_state=0).fit(X)
    for query, gallery in (("a", "c"), ("c", "b")):
        model.set_params(query_modality=query, gallery_modality=gallery)
        assert model.score(X) > 10 / 300


def test_trains_through_the_shared_skorch_net_with_adamw():
    from skfusion.nn._training import ContrastiveLoss, FusionNet

    X, modalities = _paired(100, seed=0)
    model = ContrastiveAlignment(modalities, max_epochs=4, weight_decay=0.05, device="cpu",
                                 random_state=0).fit(X)
    assert type(model.net_) is FusionNet and model.module_ is model.net_.module_
    assert isinstance(model.net_.optimizer_, torch.optim.AdamW)
    assert isinstance(model.net_.criterion_, ContrastiveLoss)
    history = model.net_.history
    assert model.loss_curve_ == list(history[:, "train_loss"]) and len(model.loss_curve_) == 4
    assert history[-1, "temperature"] == pytest.approx(model.temperature_)
    # CLIP does not decay its logit scale; every other parameter is decayed.
    groups = model.net_.optimizer_.param_groups
    criterion_group = [g for g in groups if any(p is model.net_.criterion_.log_scale
                                                for p in g["params"])]
    assert len(criterion_group) == 1 and criterion_group[0]["weight_decay"] == 0.0
    others = [p for g in groups if g["weight_decay"] == 0.05 for p in g["params"]]
    assert len(others) == len(list(model.module_.parameters()))


def test_only_rows_with_two_modalities_present_are_trained_on():
    X, modalities = _paired(100, seed=0)
    X[:70, 10:] = np.nan  # b missing in 70 rows: 30 rows carry a pair
    model = ContrastiveAlignment(modalities, max_epochs=1, batch_size=8, device="cpu",
                                 random_state=0).fit(X)
    assert sum(model.net_.history[0, "batches", :, "train_batch_size"]) == 30
    X[:99, 10:] = np.nan
    with pytest.raises(ValueError, match="at least 2 samples where two or more modalities are "
                                         "present.*got 1 sample"):
        ContrastiveAlignment(modalities, max_epochs=1, device="cpu").fit(X)


def test_a_batch_with_no_pair_to_compare_leaves_the_weights_alone():
    from skfusion.nn._modules import ProjectionNetwork
    from skfusion.nn._training import ContrastiveLoss, FusionNet, TensorData

    # Three rows, each with a different pair of three modalities: no pair has 2 rows.
    x = torch.randn(3, 3)
    present = torch.tensor([[True, True, False], [False, True, True], [True, False, True]])
    net = FusionNet(ProjectionNetwork, module__columns=[[0], [1], [2]], module__latent_dim=2,
                    criterion=ContrastiveLoss, optimizer=torch.optim.AdamW, batch_size=3,
                    max_epochs=1, train_split=None, device="cpu", verbose=0)
    net.initialize()
    before = [p.detach().clone() for p in net.module_.parameters()]
    net.partial_fit(TensorData(x, present), None)
    assert net.history[-1, "train_loss"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, net.module_.parameters()))


def test_verbose_prints_skorchs_epoch_table_with_the_temperature(capsys):
    X, modalities = _paired(60, seed=0)
    ContrastiveAlignment(modalities, max_epochs=2, verbose=1, device="cpu").fit(X)
    out = capsys.readouterr().out
    for column in ("epoch", "train_loss", "temperature", "dur"):
        assert column in out


@pytest.mark.parametrize(
    "params, message",
    [
        ({"modalities": None}, "two or more modalities"),
        ({"output": "image"}, "`output` must be"),
        ({"query_modality": "image"}, "`query_modality`='image' is not a modality"),
        ({"encoder_hidden_sizes": (8, 0)}, "encoder_hidden_sizes"),
    ],
)
def test_bad_parameters_name_the_culprit(params, message):
    X, modalities = _paired(20, seed=0)
    with pytest.raises(ValueError, match=message):
        ContrastiveAlignment(**{"modalities": modalities, "max_epochs": 1, **params}).fit(X)


def test_settings_changed_after_fit_are_checked_where_they_are_read():
    # a bare KeyError: 'zzz' (transform) and "'zz' is not in list" (score) before
    X, modalities = _paired(20, seed=0)
    fitted = ContrastiveAlignment(modalities, max_epochs=1, device="cpu").fit(X)
    with pytest.raises(ValueError, match="`output` must be 'mean', 'concat' or a modality"):
        fitted.set_params(output="zzz").transform(X)
    fitted.set_params(output="mean")
    with pytest.raises(ValueError, match="`query_modality`='zz' is not a modality"):
        fitted.set_params(query_modality="zz").score(X)


def test_info_nce_matches_a_hand_written_cross_entropy():
    generator = torch.Generator().manual_seed(0)
    za, zb = torch.randn(6, 3, generator=generator), torch.randn(6, 3, generator=generator)
    a = za.numpy() / np.linalg.norm(za.numpy(), axis=1, keepdims=True)
    b = zb.numpy() / np.linalg.norm(zb.numpy(), axis=1, keepdims=True)
    logits = a @ b.T / 0.5

    def cross_entropy(rows):
        return np.mean([math.log(np.exp(row).sum()) - row[i] for i, row in enumerate(rows)])

    expected = (cross_entropy(logits) + cross_entropy(logits.T)) / 2
    assert float(info_nce_loss(za, zb, temperature=0.5)) == pytest.approx(expected, rel=1e-5)
    assert float(info_nce_loss(zb, za, temperature=0.5)) == pytest.approx(expected, rel=1e-5)  # symmetric


def test_info_nce_is_log_n_for_uninformative_embeddings_and_differentiable_in_temperature():
    z = torch.ones(8, 4)
    assert float(info_nce_loss(z, z)) == pytest.approx(math.log(8), rel=1e-6)
    log_scale = torch.tensor(1.0, requires_grad=True)
    za = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    info_nce_loss(za, za, temperature=torch.exp(-log_scale)).backward()
    assert log_scale.grad is not None and float(log_scale.grad) < 0  # sharper helps matched pairs


def test_info_nce_refuses_unpaired_shapes():
    with pytest.raises(ValueError, match="paired 2-D tensors"):
        info_nce_loss(torch.zeros(3, 2), torch.zeros(4, 2))


@pytest.mark.parametrize("gamma", [0.3, None])
def test_mmd_loss_agrees_with_the_numpy_estimate(rng, gamma):
    A, B = rng.normal(size=(30, 3)), rng.normal(size=(25, 3)) + 0.5
    loss = mmd_loss(torch.as_tensor(A), torch.as_tensor(B), gamma=gamma)
    assert float(loss) == pytest.approx(mmd(A, B, gamma=gamma), rel=1e-8)


def test_mmd_loss_median_heuristic_is_the_one_of_metrics_mmd_on_the_docstring_example():
    # Pooled squared distances 1, 1, 1, 4, 4, 9: numpy's median is 2.5 (gamma 0.2);
    # torch.median's lower middle value, 1, would give gamma 0.5 and 0.7688.
    a, b = [[0.0], [1.0]], [[2.0], [3.0]]
    expected = mmd(a, b, gamma=0.2)
    assert mmd(a, b) == pytest.approx(expected, rel=1e-12)
    assert float(mmd_loss(torch.tensor(a), torch.tensor(b))) == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.6961, abs=1e-4)


@pytest.mark.parametrize("n_a, n_b, width, shift", [
    (3, 4, 2, 0.0),  # 21 pairs: an odd count
    (10, 10, 3, 0.5),  # 190 pairs: an even count, where the two medians differ
    (40, 25, 1, 1.0),
    (700, 600, 4, 0.3),  # 1300 pooled rows: the median reads 1000 evenly spaced ones
])
def test_mmd_loss_in_float32_equals_metrics_mmd_in_float64(n_a, n_b, width, shift):
    rng = np.random.default_rng(n_a)
    A = rng.normal(size=(n_a, width))
    B = rng.normal(size=(n_b, width)) + shift
    expected = mmd(A, B)
    loss = mmd_loss(torch.as_tensor(A, dtype=torch.float32), torch.as_tensor(B, dtype=torch.float32))
    assert loss.dtype == torch.float32
    assert float(loss) == pytest.approx(expected, abs=1e-6)


def test_mmd_loss_with_mostly_coincident_rows_uses_gamma_one_as_metrics_mmd():
    # 36 of the 55 pooled pairs coincide: the median distance is 0, the kernel then gamma=1.
    A = np.zeros((6, 2))
    B = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    assert mmd(A, B, gamma=1.0) != pytest.approx(mmd(A, B, gamma=5.0))
    assert float(mmd_loss(torch.as_tensor(A), torch.as_tensor(B))) == pytest.approx(
        mmd(A, B, gamma=1.0), rel=1e-10)
    assert mmd(A, B) == pytest.approx(mmd(A, B, gamma=1.0), rel=1e-12)


def test_mmd_loss_has_gradients_and_needs_two_rows():
    za = torch.randn(10, 2, requires_grad=True)
    mmd_loss(za, torch.randn(12, 2) + 1.0).backward()
    assert za.grad is not None and torch.isfinite(za.grad).all()
    with pytest.raises(ValueError, match="at least 2 rows"):
        mmd_loss(torch.zeros(1, 2), torch.zeros(3, 2))


def test_latent_dim_changed_after_fit_is_refused():
    # transform shaped its output by the new latent_dim: a numpy shape error
    X = np.random.default_rng(0).normal(size=(60, 4))
    align = ContrastiveAlignment(HALVES, latent_dim=2, max_epochs=2, device="cpu").fit(X)
    embedded = align.transform(X)
    align.set_params(latent_dim=3)
    with pytest.raises(ValueError, match="fitted with latent_dim=2, and latent_dim is now 3"):
        align.transform(X)
    np.testing.assert_array_equal(align.set_params(latent_dim=2).transform(X), embedded)
