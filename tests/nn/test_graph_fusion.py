"""fusion="graph": message passing over the modalities of each row, and its edge weights."""

import math

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skfusion import NoModalityPresentWarning  # noqa: E402
from skfusion.datasets import make_multimodal_classification  # noqa: E402
from skfusion.nn import IntermediateFusionClassifier, IntermediateFusionRegressor  # noqa: E402
from skfusion.nn._modules import FUSIONS, FusionNetwork, GraphFusion  # noqa: E402

CPU = dict(device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------- the module


def _reference_graph_fusion(fusion, z, kept):
    """GraphFusion written node by node from its definition, for one row at a time.

    For each present receiver i: e_ij = a . LeakyReLU(W_r h_i + W_s h_j + b_s)
    over the present senders j (i itself included), alpha = softmax_j(e_i),
    h_i <- LayerNorm(h_i + ELU(sum_j alpha_ij (W_v h_j + b_v))); then the mean
    of the present nodes.
    """
    fused, weights = [], []
    for row in range(z.shape[0]):
        nodes = [m for m in range(z.shape[1]) if kept[row, m]]
        h = {m: z[row, m] + fusion.modality_embedding[m] for m in nodes}
        row_weights = torch.zeros(len(fusion.rounds), z.shape[1], z.shape[1])
        for r, layer in enumerate(fusion.rounds):
            new_h = {}
            for i in nodes:
                scores = torch.stack([
                    layer.score.weight[0] @ torch.nn.functional.leaky_relu(
                        layer.receiver.weight @ h[i] + layer.sender.weight @ h[j]
                        + layer.sender.bias, 0.2)
                    for j in nodes
                ])
                alpha = torch.softmax(scores, 0)
                message = sum(a * (layer.value.weight @ h[j] + layer.value.bias)
                              for a, j in zip(alpha, nodes))
                new_h[i] = layer.norm(h[i] + torch.nn.functional.elu(message))
                for a, j in zip(alpha, nodes):
                    row_weights[r, i, j] = a
            h = new_h
        fused.append(torch.stack([h[m] for m in nodes]).mean(0))
        weights.append(row_weights)
    return torch.stack(fused), torch.stack(weights)


def _rows_with_missing():
    kept = torch.tensor([[True, True, True], [True, False, True], [False, True, False],
                         [False, True, True]])
    z = torch.randn(4, 3, 5) * kept[:, :, None]
    return z, kept


def test_graph_fusion_is_registered_and_keeps_the_latent_width():
    assert FUSIONS["graph"] is GraphFusion
    net = FusionNetwork([[0], [1, 2], [3]], 2, latent_dim=4, fusion="graph")
    assert net.fusion.out_dim == 4 and len(net.fusion.rounds) == 2
    assert net.transform(torch.randn(3, 4), torch.ones(3, 3, dtype=torch.bool)).shape == (3, 4)


def test_graph_fusion_matches_message_passing_written_node_by_node():
    fusion = GraphFusion(3, 5)
    with torch.no_grad():
        fusion.modality_embedding.normal_()
    z, kept = _rows_with_missing()
    expected_fused, expected_weights = _reference_graph_fusion(fusion, z, kept)
    torch.testing.assert_close(fusion(z, kept), expected_fused, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fusion.edge_weights(z, kept), expected_weights,
                               rtol=1e-4, atol=1e-6)


def test_graph_edge_weights_sum_to_one_over_present_senders_and_skip_absent_nodes():
    z, kept = _rows_with_missing()
    weights = GraphFusion(3, 5, n_rounds=3).edge_weights(z, kept)  # (n, rounds, M, M)
    assert weights.shape == (4, 3, 3, 3)
    receives = kept[:, None, :, None].expand_as(weights)
    sends = kept[:, None, None, :].expand_as(weights)
    assert torch.all(weights[~(receives & sends)] == 0)  # absent: neither sends nor receives
    row_sums = weights.sum(dim=3)
    torch.testing.assert_close(row_sums, kept[:, None, :].expand_as(row_sums).float())
    # A row with one modality: that node only listens to itself.
    assert torch.equal(weights[2, :, 1], torch.tensor([[0.0, 1.0, 0.0]] * 3))


def test_graph_fusion_trains_through_the_edge_weights():
    fusion = GraphFusion(3, 5)
    z, kept = _rows_with_missing()
    fusion(z, kept).sum().backward()
    for layer in fusion.rounds:
        assert layer.score.weight.grad is not None
        assert torch.isfinite(layer.score.weight.grad).all()
        assert layer.score.weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- the estimators


@pytest.fixture(scope="module")
def three_modalities():
    X, y, modalities = make_multimodal_classification(
        300, {"a": 3, "b": 4, "c": 2}, noise=0.3, random_state=0
    )
    X = X.copy()
    X[:40, modalities["b"]] = np.nan  # 'b' missing in the first 40 rows
    return X, y, modalities


def test_graph_weights_shape_row_sums_and_missing_modalities(three_modalities):
    X, y, modalities = three_modalities
    net = IntermediateFusionClassifier(modalities, fusion="graph", latent_dim=8, max_epochs=5,
                                       **CPU).fit(X, y)
    weights = net.graph_weights(X)
    assert weights.shape == (300, 3, 3) and weights.dtype == np.float64
    receives = np.ones((300, 3))
    receives[:40, 1] = 0
    np.testing.assert_allclose(weights.sum(axis=2), receives, rtol=1e-12)
    # 'b' (position 1) is missing in the first 40 rows: it neither receives nor sends.
    assert np.all(weights[:40, 1, :] == 0) and np.all(weights[:40, :, 1] == 0)
    assert np.all(weights[40:] > 0)

    average = net.graph_weights(X, average=True)
    assert average.shape == (3, 3)
    np.testing.assert_allclose(average.sum(axis=1), 1.0, rtol=1e-12)
    # Receiver 'b' is averaged over the rows where it is present only.
    np.testing.assert_allclose(average[1], weights[40:, 1].mean(axis=0))
    np.testing.assert_allclose(average[0], weights[:, 0].mean(axis=0))


def test_graph_weights_are_nan_where_no_modality_is_present(three_modalities):
    X, y, modalities = three_modalities
    net = IntermediateFusionClassifier(modalities, fusion="graph", latent_dim=8, max_epochs=2,
                                       **CPU).fit(X, y)
    X_new = X[:5].copy()
    X_new[0] = np.nan
    with pytest.warns(NoModalityPresentWarning, match="1 of 5 rows"):
        weights = net.graph_weights(X_new)
    assert np.isnan(weights[0]).all() and not np.isnan(weights[1:]).any()


def test_graph_fusion_is_deterministic_given_random_state(three_modalities):
    X, y, modalities = three_modalities
    params = dict(fusion="graph", latent_dim=8, max_epochs=4, modality_dropout=0.2, **CPU)
    first = IntermediateFusionClassifier(modalities, **params).fit(X, y)
    second = IntermediateFusionClassifier(modalities, **params).fit(X, y)
    np.testing.assert_array_equal(first.graph_weights(X), second.graph_weights(X))
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = IntermediateFusionClassifier(modalities, **{**params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(first.graph_weights(X), other.graph_weights(X))


def test_graph_weights_refuse_another_fusion(three_modalities):
    X, y, modalities = three_modalities
    net = IntermediateFusionClassifier(modalities, fusion="sum", max_epochs=1, **CPU).fit(X, y)
    with pytest.raises(ValueError, match="graph_weights needs fusion='graph'.*fusion='sum'"):
        net.graph_weights(X)


def test_graph_fusion_regressor_exposes_the_same_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = X[:, 0] * X[:, 2] + X[:, 1]
    modalities = {"a": [0, 1], "b": [2, 3]}
    reg = IntermediateFusionRegressor(modalities, fusion="graph", latent_dim=8, max_epochs=3,
                                      **CPU).fit(X, y)
    assert reg.predict(X).shape == (200,)
    np.testing.assert_allclose(reg.graph_weights(X).sum(axis=2), 1.0, rtol=1e-12)


def test_graph_fusion_learns_a_cross_modal_xor_no_single_modality_sees():
    # signal=0: y is whether the signs of one latent of 'a' and one of 'b'
    # agree, so each modality alone is at chance. With noise=0.2 on unit-norm
    # projections of 3 * u, each sign is read wrongly with probability
    # arctan(0.2 / 3) / pi, and the Bayes accuracy is p**2 + (1 - p)**2:
    flip = math.atan(0.2 / 3) / math.pi
    bayes = (1 - flip) ** 2 + flip**2
    assert bayes > 0.95
    X, y, modalities = make_multimodal_classification(
        1000, {"a": 3, "b": 3}, signal=0.0, interaction=3.0, noise=0.2, random_state=0
    )
    X_train, X_test, y_train, y_test = X[:700], X[700:], y[:700], y[700:]
    for name in ("a", "b"):
        cols = modalities[name]
        alone = LogisticRegression().fit(X_train[:, cols], y_train).score(X_test[:, cols], y_test)
        assert alone < 0.6, (name, alone)
    net = IntermediateFusionClassifier(modalities, fusion="graph", max_epochs=20, lr=1e-2, **CPU)
    accuracy = net.fit(X_train, y_train).score(X_test, y_test)
    assert accuracy >= 0.9, accuracy
