"""Encoders, fusion operators and the fast data path, against hand computations."""

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from skfusion.nn._modules import (  # noqa: E402
    AttentionFusion,
    ConcatFusion,
    FusionNetwork,
    GatedFusion,
    GraphFusion,
    LowRankFusion,
    SumFusion,
    TensorFusion,
    drop_modalities,
    make_mlp,
)
from skfusion.nn._training import TensorBatches, TensorData, alignment_loss  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _latents(n=5, m=3, d=4, kept=None):
    z = torch.randn(n, m, d)
    kept = torch.ones(n, m, dtype=torch.bool) if kept is None else kept
    return z * kept[:, :, None], kept


# ---------------------------------------------------------------- MLPs


@pytest.mark.parametrize(
    "normalization, norm_type", [(None, None), ("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)]
)
def test_make_mlp_layers_follow_hidden_sizes(normalization, norm_type):
    mlp = make_mlp(5, (7, 3), 2, activation="tanh", dropout=0.5, normalization=normalization)
    linears = [layer for layer in mlp if isinstance(layer, nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(5, 7), (7, 3), (3, 2)]
    assert sum(isinstance(layer, nn.Tanh) for layer in mlp) == 2
    assert sum(isinstance(layer, nn.Dropout) for layer in mlp) == 2
    norms = [layer for layer in mlp if norm_type is not None and isinstance(layer, norm_type)]
    assert len(norms) == (0 if norm_type is None else 2)
    assert isinstance(mlp[-1], nn.Linear)  # the output is linear, no activation


# ---------------------------------------------------------------- modality dropout


def test_drop_modalities_never_drops_every_present_modality_of_a_row():
    present = torch.rand(20000, 3) < 0.7
    present[present.sum(1) == 0, 0] = True
    kept = drop_modalities(present, 0.6)
    assert not (kept & ~present).any()  # never revives a missing modality
    assert kept.any(dim=1).all()


def test_drop_modalities_rate_matches_the_closed_form():
    # Every modality present, M = 3: a modality ends up dropped when it is drawn
    # for dropping, unless all three were and it is the one rescued (1 in 3).
    p, n = 0.3, 200_000
    kept = drop_modalities(torch.ones(n, 3, dtype=torch.bool), p)
    expected = p - p**3 / 3
    assert abs((~kept).float().mean().item() - expected) < 0.005


def test_drop_modalities_with_zero_probability_is_the_identity():
    present = torch.rand(50, 3) < 0.5
    assert torch.equal(drop_modalities(present, 0.0), present)


# ---------------------------------------------------------------- fusion operators


def test_concat_and_sum_fusion():
    z, kept = _latents()
    assert torch.equal(ConcatFusion(3, 4)(z, kept), torch.cat([z[:, 0], z[:, 1], z[:, 2]], 1))
    torch.testing.assert_close(SumFusion(3, 4)(z, kept), z[:, 0] + z[:, 1] + z[:, 2])


def test_gated_fusion_with_two_modalities_is_the_gmu_sigmoid_gate():
    gmu = GatedFusion(2, 4)
    z, kept = _latents(m=2)
    # Arevalo et al. (2017), eq. (1), per dimension: h = g * h_a + (1 - g) * h_b
    # with g = sigmoid(logit_a - logit_b).
    h_a = torch.tanh(gmu.transforms[0](z[:, 0]))
    h_b = torch.tanh(gmu.transforms[1](z[:, 1]))
    logits = gmu.gate(z.flatten(1)).view(-1, 2, 4)
    g = torch.sigmoid(logits[:, 0] - logits[:, 1])
    torch.testing.assert_close(gmu(z, kept), g * h_a + (1 - g) * h_b)


def test_gated_fusion_gives_all_weight_to_the_only_present_modality():
    gmu = GatedFusion(3, 4)
    kept = torch.tensor([[True, False, False], [False, True, True]])
    z, kept = _latents(n=2, kept=kept)
    out = gmu(z, kept)
    torch.testing.assert_close(out[0], torch.tanh(gmu.transforms[0](z[0, 0])))
    gates = gmu.gates(z, kept)
    torch.testing.assert_close(gates.sum(1), torch.ones(2, 4))
    assert torch.all(gates[1, 0] == 0)


def test_attention_pooling_weights_sum_to_one_over_present_modalities():
    att = AttentionFusion(3, 4, n_heads=2)
    kept = torch.tensor([[True, True, True], [True, False, True], [False, True, False]])
    z, kept = _latents(n=3, kept=kept)
    weights = att.pooling_weights(z, kept)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert torch.all(weights[~kept] == 0)
    assert torch.equal(weights[2], torch.tensor([0.0, 1.0, 0.0]))


@pytest.mark.parametrize(
    "fusion",
    [AttentionFusion(3, 4, n_heads=1), GraphFusion(3, 4)],
    ids=["attention", "graph"],
)
def test_masking_operators_ignore_the_content_of_absent_modalities(fusion):
    """Attention and message passing mask absent modalities themselves (the other
    operators receive them zeroed by the network)."""
    fusion.eval()
    kept = torch.tensor([[True, False, True]] * 4)
    z = torch.randn(4, 3, 4)
    z_other = z.clone()
    z_other[:, 1] = 100 * torch.randn(4, 4)
    torch.testing.assert_close(fusion(z, kept), fusion(z_other, kept))


def test_tensor_fusion_is_the_outer_product_of_latents_with_a_one_appended():
    z, kept = _latents(n=3, m=3, d=2)
    fused = TensorFusion(3, 2)(z, kept)
    assert fused.shape == (3, 27)
    one = torch.ones(3, 1)
    a, b, c = (torch.cat([z[:, m], one], 1) for m in range(3))
    expected = torch.stack([torch.kron(torch.kron(a[i], b[i]), c[i]) for i in range(3)])
    torch.testing.assert_close(fused, expected)
    # The constant 1 keeps the unimodal terms: [z_a, 1] x [z_b, 1] x [z_c, 1]
    # holds z_a itself at positions (i, d, d) = i * 9 + 8 for i < d = 2.
    torch.testing.assert_close(fused[:, [0 * 9 + 8, 1 * 9 + 8]], a[:, :2])


def test_lowrank_fusion_equals_tensor_fusion_with_the_full_rank_r_weight_tensor():
    # Liu et al. (2018): W = sum_i w_i (W_a^(i) o W_b^(i)), applied to the TFN
    # product [z_a, 1] x [z_b, 1], equals the factorised computation.
    lmf = LowRankFusion(2, 3, rank=4)
    with torch.no_grad():
        lmf.bias.normal_()
    z, kept = _latents(n=6, m=2, d=3)
    tfn = TensorFusion(2, 3)(z, kept)  # (n, 16)
    w_a, w_b = lmf.factors[0], lmf.factors[1]  # (r, 4, out)
    full = torch.einsum("r,rio,rjo->ijo", lmf.rank_weights, w_a, w_b).reshape(16, 3)
    torch.testing.assert_close(lmf(z, kept), tfn @ full + lmf.bias, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- the network


def test_fusion_network_output_does_not_depend_on_the_columns_of_missing_modalities():
    columns = [[0, 2, 4], [1, 3], [5]]  # non-contiguous columns go through index_select
    net = FusionNetwork(columns, 2, latent_dim=4, fusion="attention").eval()
    x = torch.randn(8, 6)
    present = torch.ones(8, 3, dtype=torch.bool)
    present[:4, 1] = False
    x_changed = x.clone()
    x_changed[:4][:, [1, 3]] = 50.0
    torch.testing.assert_close(net(x, present), net(x_changed, present))
    x_present_changed = x.clone()
    x_present_changed[4:, 1] = 50.0
    assert not torch.allclose(net(x, present)[4:], net(x_present_changed, present)[4:])


def test_fusion_network_encodes_each_modality_from_its_own_columns():
    columns = [[0, 2], [1, 3, 4]]
    net = FusionNetwork(columns, 1, latent_dim=3)
    x = torch.randn(5, 5)
    latents = net.encode(x)
    torch.testing.assert_close(latents[:, 0], net.encoders[0](x[:, [0, 2]]))
    torch.testing.assert_close(latents[:, 1], net.encoders[1](x[:, [1, 3, 4]]))


@pytest.mark.parametrize("fusion, width", [
    ("concat", 3 * 4), ("sum", 4), ("gated", 4), ("attention", 4),
    ("tensor", 5**3), ("lowrank", 4), ("graph", 4),
])
def test_fusion_network_transform_width(fusion, width):
    net = FusionNetwork([[0], [1, 2], [3]], 2, latent_dim=4, fusion=fusion, n_heads=2)
    assert net.fusion.out_dim == width
    assert net.transform(torch.randn(3, 4), torch.ones(3, 3, dtype=torch.bool)).shape == (3, width)


def test_modality_dropout_is_active_in_training_only():
    net = FusionNetwork([[0], [1]], 1, latent_dim=2, modality_dropout=0.5)
    present = torch.ones(1000, 2, dtype=torch.bool)
    assert (~net.train().mask(present)).any()
    assert torch.equal(net.eval().mask(present), present)


# ---------------------------------------------------------------- data path and alignment


def test_tensor_batches_visit_every_row_once_in_a_random_order():
    data = TensorData(torch.arange(10.0)[:, None], torch.ones(10, 1, dtype=torch.bool),
                      torch.arange(10))
    batches = list(TensorBatches(data, 4, shuffle=True))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    rows = torch.cat([y for _, y in batches])
    assert sorted(rows.tolist()) == list(range(10)) and rows.tolist() != list(range(10))
    for Xi, y in batches:
        assert torch.equal(Xi["x"][:, 0].long(), y)
    ordered = list(TensorBatches(data, 4))
    assert torch.cat([y for _, y in ordered]).tolist() == list(range(10))


def test_tensor_batches_can_drop_a_trailing_single_row():
    data = TensorData(torch.zeros(9, 1), torch.ones(9, 1, dtype=torch.bool), torch.zeros(9))
    assert [len(y) for _, y in TensorBatches(data, 4, drop_single=True)] == [4, 4]
    assert len(TensorBatches(data, 4, drop_single=True)) == 2
    assert [len(y) for _, y in TensorBatches(data, 4)] == [4, 4, 1]


@pytest.mark.parametrize("complete", [False, True])
@pytest.mark.parametrize("kind", ["contrastive", "mmd"])
def test_alignment_loss_averages_pairs_over_their_present_rows(kind, complete):
    from skfusion.nn import info_nce_loss, mmd_loss

    latents = torch.randn(12, 3, 4)
    present = torch.ones(12, 3, dtype=torch.bool)
    if not complete:
        present[:5, 0] = False
        present[8:, 2] = False
    expected = []
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        if kind == "contrastive":
            both = present[:, a] & present[:, b]
            expected.append(info_nce_loss(latents[both, a], latents[both, b]))
        else:
            expected.append(mmd_loss(latents[present[:, a], a], latents[present[:, b], b]))
    torch.testing.assert_close(alignment_loss(latents, present, kind), torch.stack(expected).mean())
