"""Torch building blocks of skfusion.nn: encoders, fusion operators, head, projection heads.

Every network takes one standardised 2-D batch ``x`` (NaN already replaced by
0) and the boolean ``present`` mask ``(n, n_modalities)``, and splits ``x`` by
modality column positions into one encoder per modality
(:class:`ModalityEncoders`). :class:`FusionNetwork` (intermediate fusion)
zeroes the latents of missing (or, in training, dropped) modalities -- the one
code path for both -- fuses them and applies the head;
:class:`ProjectionNetwork` (contrastive alignment) returns the latents
themselves, one embedding per modality.

Every fusion operator maps latents ``z`` of shape ``(n, M, d)``, already zero
where absent, and the mask ``kept`` of shape ``(n, M)`` to a fused
``(n, out_dim)`` representation.
"""

import math

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "FUSIONS",
    "ModalityEncoder",
    "ConcatFusion",
    "SumFusion",
    "GatedFusion",
    "AttentionFusion",
    "TensorFusion",
    "LowRankFusion",
    "GraphFusion",
    "ModalityEncoders",
    "FusionNetwork",
    "ProjectionNetwork",
    "drop_modalities",
    "make_mlp",
]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}
NORMALIZATIONS = (None, "batch", "layer")


def make_mlp(in_dim, hidden_sizes, out_dim, *, activation="relu", dropout=0.0,
             normalization=None):
    """Linear -> [norm] -> activation -> [dropout] per hidden layer, then a linear output."""
    layers = []
    for width in hidden_sizes:
        layers.append(nn.Linear(in_dim, width))
        if normalization == "batch":
            layers.append(nn.BatchNorm1d(width))
        elif normalization == "layer":
            layers.append(nn.LayerNorm(width))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_dim = width
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class ModalityEncoder(nn.Module):
    """MLP from one modality's columns to its ``latent_dim``-wide latent vector."""

    def __init__(self, in_dim, latent_dim, hidden_sizes=(64,), *, activation="relu",
                 dropout=0.0, normalization=None):
        super().__init__()
        self.mlp = make_mlp(in_dim, hidden_sizes, latent_dim, activation=activation,
                            dropout=dropout, normalization=normalization)

    def forward(self, x):
        return self.mlp(x)


def drop_modalities(present, p):
    """Training-time modality dropout: drop each present modality with probability ``p``.

    A row never loses all of its present modalities: where every one was
    drawn for dropping, one of them, chosen uniformly, is kept.
    """
    if p <= 0:
        return present
    u = torch.rand(present.shape, device=present.device)
    kept = present & (u >= p)
    # argmax over uniform draws restricted to present modalities = a uniform choice among them.
    rescue = torch.where(present, u, torch.full_like(u, -1.0)).argmax(dim=1)
    lost_all = ~kept.any(dim=1)
    rescued = torch.nn.functional.one_hot(rescue, present.shape[1]).bool()
    return kept | (rescued & lost_all[:, None])


class ConcatFusion(nn.Module):
    """Concatenate the (masked) modality latents: ``out_dim = M * d``."""

    def __init__(self, n_modalities, latent_dim):
        super().__init__()
        self.out_dim = n_modalities * latent_dim

    def forward(self, z, kept):
        return z.flatten(1)


class SumFusion(nn.Module):
    """Sum the latents of the present modalities: ``out_dim = d``."""

    def __init__(self, n_modalities, latent_dim):
        super().__init__()
        self.out_dim = latent_dim

    def forward(self, z, kept):
        return z.sum(dim=1)


class GatedFusion(nn.Module):
    """Gated multimodal unit (GMU) over any number of modalities.

    ``h_m = tanh(W_m z_m)``; per-dimension gates ``g = softmax_m(W_g [z_1..z_M])``
    restricted to the present modalities; output ``sum_m g_m * h_m``. With two
    modalities the softmax of two logits is the sigmoid gate ``g`` / ``1 - g``
    of Arevalo et al. (2017), equation (1).
    """

    def __init__(self, n_modalities, latent_dim):
        super().__init__()
        self.n_modalities = n_modalities
        self.latent_dim = latent_dim
        self.out_dim = latent_dim
        self.transforms = nn.ModuleList(
            nn.Linear(latent_dim, latent_dim) for _ in range(n_modalities)
        )
        self.gate = nn.Linear(n_modalities * latent_dim, n_modalities * latent_dim)

    def gates(self, z, kept):
        logits = self.gate(z.flatten(1)).view(-1, self.n_modalities, self.latent_dim)
        logits = logits.masked_fill(~kept[:, :, None], float("-inf"))
        return torch.softmax(logits.float(), dim=1).to(z.dtype)

    def forward(self, z, kept):
        h = torch.stack([torch.tanh(t(z[:, m])) for m, t in enumerate(self.transforms)], 1)
        return (self.gates(z, kept) * h).sum(dim=1)


class AttentionFusion(nn.Module):
    """Multi-head self-attention over modality tokens, then attention pooling.

    Each present modality is a token (its latent plus a learned modality
    embedding); one self-attention layer (residual + layer norm) lets tokens
    exchange information, and a learned query attends over them to pool one
    vector. Missing or dropped modalities are excluded through the key
    padding mask in both steps, so the pooling weights of a row sum to one over
    its present modalities (:meth:`pooling_weights`).
    """

    def __init__(self, n_modalities, latent_dim, n_heads=1):
        super().__init__()
        self.out_dim = latent_dim
        self.modality_embedding = nn.Parameter(torch.zeros(n_modalities, latent_dim))
        self.self_attention = nn.MultiheadAttention(latent_dim, n_heads, batch_first=True)
        self.norm = nn.LayerNorm(latent_dim)
        self.query = nn.Parameter(torch.randn(1, 1, latent_dim) / math.sqrt(latent_dim))
        self.pool = nn.MultiheadAttention(latent_dim, n_heads, batch_first=True)

    def _pool(self, z, kept, need_weights):
        tokens = z + self.modality_embedding
        padding = ~kept
        mixed, _ = self.self_attention(tokens, tokens, tokens, key_padding_mask=padding,
                                       need_weights=False)
        tokens = self.norm(tokens + mixed)
        query = self.query.expand(z.shape[0], -1, -1)
        pooled, weights = self.pool(query, tokens, tokens, key_padding_mask=padding,
                                    need_weights=need_weights, average_attn_weights=True)
        return pooled[:, 0], (None if weights is None else weights[:, 0])

    def forward(self, z, kept):
        return self._pool(z, kept, need_weights=False)[0]

    def pooling_weights(self, z, kept):
        """Attention of the pooling query on each modality, ``(n, M)``, averaged over heads."""
        return self._pool(z, kept, need_weights=True)[1]


def _with_one(z):
    """Append a constant 1 to each latent, ``[z, 1]``, as TFN and LMF do."""
    return torch.cat([z, torch.ones_like(z[..., :1])], dim=-1)


class TensorFusion(nn.Module):
    """Tensor Fusion Network: the flattened outer product of ``[z_m, 1]`` over modalities.

    ``out_dim = (d + 1) ** M``: keeps every unimodal, bimodal, ... M-modal
    product term (Zadeh et al., 2017); a missing modality's ``[0, 1]`` keeps
    the terms of the others.
    """

    def __init__(self, n_modalities, latent_dim):
        super().__init__()
        self.out_dim = (latent_dim + 1) ** n_modalities

    def forward(self, z, kept):
        z1 = _with_one(z)
        fused = z1[:, 0]
        for m in range(1, z1.shape[1]):
            fused = (fused[:, :, None] * z1[:, m, None, :]).flatten(1)
        return fused


class LowRankFusion(nn.Module):
    """Low-rank Multimodal Fusion: TFN with the weight tensor in rank-``r`` CP form.

    ``h = sum_i w_i * prod_m ([z_m, 1] @ W_m^(i)) + b`` (Liu et al., 2018,
    equation 6), computed without forming the outer product; ``out_dim = d``.
    """

    def __init__(self, n_modalities, latent_dim, rank=4):
        super().__init__()
        self.out_dim = latent_dim
        self.factors = nn.Parameter(torch.empty(n_modalities, rank, latent_dim + 1, latent_dim))
        self.rank_weights = nn.Parameter(torch.empty(rank))
        self.bias = nn.Parameter(torch.zeros(latent_dim))
        # Unit-variance projections of unit-variance latents keep the product over
        # modalities O(1) whatever M is; the rank weights average the r terms.
        nn.init.normal_(self.factors, std=1.0 / math.sqrt(latent_dim + 1))
        nn.init.normal_(self.rank_weights, std=1.0 / math.sqrt(rank))

    def forward(self, z, kept):
        z1 = _with_one(z)
        # (n, M, r, out): each modality's r rank-one projections.
        projected = torch.einsum("nmd,mrdo->nmro", z1, self.factors)
        product = projected.prod(dim=1)
        return torch.einsum("r,nro->no", self.rank_weights, product) + self.bias


class _GraphAttentionRound(nn.Module):
    """One round of attention-weighted message passing on the complete modality graph.

    Edge scores ``e_ij = a . LeakyReLU(W_r h_i + W_s h_j)`` from the pair of
    node states (GATv2's dynamic attention, Brody, Alon and Yahav, ICLR 2022),
    softmax over the present senders ``j`` of each receiver ``i`` (itself
    included, as GAT's self-loop), message ``m_i = sum_j alpha_ij W_v h_j``,
    update ``h_i <- LayerNorm(h_i + ELU(m_i))``.
    """

    def __init__(self, latent_dim):
        super().__init__()
        self.receiver = nn.Linear(latent_dim, latent_dim, bias=False)
        self.sender = nn.Linear(latent_dim, latent_dim)
        self.score = nn.Linear(latent_dim, 1, bias=False)
        self.value = nn.Linear(latent_dim, latent_dim)
        self.norm = nn.LayerNorm(latent_dim)

    def edge_weights(self, h, kept):
        """``alpha[n, i, j]``: receiver ``i``, sender ``j``; 0 where either is absent."""
        pairs = self.receiver(h)[:, :, None, :] + self.sender(h)[:, None, :, :]
        scores = self.score(nn.functional.leaky_relu(pairs, 0.2))[..., 0]
        scores = scores.masked_fill(~kept[:, None, :], float("-inf"))
        # A row always keeps one modality, so every receiver has a finite score;
        # the rows of absent receivers are then zeroed (they receive nothing).
        alpha = torch.softmax(scores.float(), dim=2).to(h.dtype)
        return alpha * kept[:, :, None].to(h.dtype)

    def forward(self, h, kept):
        alpha = self.edge_weights(h, kept)
        messages = torch.bmm(alpha, self.value(h))
        h = self.norm(h + nn.functional.elu(messages))
        return h * kept[:, :, None].to(h.dtype), alpha


class GraphFusion(nn.Module):
    """Message passing over the modalities of each row, a small complete graph; mean pooling.

    The present modalities' latents (plus a learned modality embedding) are
    the nodes; ``n_rounds`` rounds of attention-weighted message passing
    (:class:`_GraphAttentionRound`, own weights per round) update them, each
    edge weight a softmax over the receiver's present neighbours computed
    from the pair of node states; the fused vector is the mean of the
    present nodes' final states, ``out_dim = d``. A missing or dropped
    modality neither sends nor receives, and does not enter the mean.

    The graphs have one node per modality (a handful), so the messages are
    dense batched matrix products, ``(n, M, M)``: torch-geometric's sparse
    scatter machinery would add a heavy dependency and no speed at this size.
    :meth:`edge_weights` returns the learned weights per row and round.
    """

    def __init__(self, n_modalities, latent_dim, n_rounds=2):
        super().__init__()
        self.out_dim = latent_dim
        self.modality_embedding = nn.Parameter(torch.zeros(n_modalities, latent_dim))
        self.rounds = nn.ModuleList(_GraphAttentionRound(latent_dim) for _ in range(n_rounds))

    def _propagate(self, z, kept):
        h = (z + self.modality_embedding) * kept[:, :, None].to(z.dtype)
        weights = []
        for message_round in self.rounds:
            h, alpha = message_round(h, kept)
            weights.append(alpha)
        return h, torch.stack(weights, dim=1)

    def forward(self, z, kept):
        h, _ = self._propagate(z, kept)
        weight = kept.to(h.dtype)
        return (h * weight[:, :, None]).sum(dim=1) / weight.sum(dim=1, keepdim=True)

    def edge_weights(self, z, kept):
        """Edge weights of every round, ``(n, n_rounds, M, M)`` (receiver, sender)."""
        return self._propagate(z, kept)[1]


FUSIONS = {
    "concat": ConcatFusion,
    "sum": SumFusion,
    "gated": GatedFusion,
    "attention": AttentionFusion,
    "tensor": TensorFusion,
    "lowrank": LowRankFusion,
    "graph": GraphFusion,
}


def _contiguous_slice(indices):
    """A slice for contiguous columns (selecting it is a view), else None."""
    indices = [int(i) for i in indices]
    if indices == list(range(indices[0], indices[-1] + 1)):
        return slice(indices[0], indices[-1] + 1)
    return None


class ModalityEncoders(nn.Module):
    """One encoder MLP per modality, each reading its own columns of ``x``.

    The part every network of skfusion.nn shares: :meth:`encode` maps ``x``
    to the unmasked latents ``(n, M, latent_dim)``, in modality order.

    Parameters
    ----------
    columns : list of sequence of int
        Column positions of each modality in ``x``, in modality order.
    latent_dim : int
        Width of each modality latent.
    encoder_hidden_sizes : tuple of int
        Hidden layer widths of each encoder MLP.
    activation, dropout, normalization
        Of the hidden layers (see :func:`make_mlp`).
    """

    def __init__(self, columns, latent_dim=32, encoder_hidden_sizes=(64,), activation="relu",
                 dropout=0.0, normalization=None):
        super().__init__()
        self.column_slices = [_contiguous_slice(c) for c in columns]
        for m, (key, indices) in enumerate(zip(self.column_slices, columns)):
            if key is None:
                # A buffer follows the module to its device.
                self.register_buffer(
                    f"_columns_{m}", torch.as_tensor([int(i) for i in indices]),
                    persistent=False,
                )
        self.encoders = nn.ModuleList(
            ModalityEncoder(len(c), latent_dim, encoder_hidden_sizes, activation=activation,
                            dropout=dropout, normalization=normalization)
            for c in columns
        )

    def _block(self, x, m):
        key = self.column_slices[m]
        if key is not None:
            return x[:, key]
        return x.index_select(1, getattr(self, f"_columns_{m}"))

    def encode(self, x):
        """Unmasked latents of every modality, ``(n, M, latent_dim)``."""
        return torch.stack([enc(self._block(x, m)) for m, enc in enumerate(self.encoders)], 1)


class FusionNetwork(ModalityEncoders):
    """Encoders per modality, a fusion operator, and a head MLP; optionally a linear skip path.

    Parameters
    ----------
    columns : list of sequence of int
        Column positions of each modality in ``x``, in modality order.
    n_outputs : int
        Width of the head output (classes, or regression targets).
    latent_dim : int
        Width of each modality latent.
    fusion : str
        Key of :data:`FUSIONS`.
    encoder_hidden_sizes, head_hidden_sizes : tuple of int
        Hidden layer widths of each encoder MLP and of the head MLP.
    activation, dropout, normalization
        Shared by encoders and head.
    modality_dropout : float
        Probability of dropping each present modality of each row in training.
    rank : int
        Rank of ``"lowrank"`` fusion.
    n_heads : int
        Heads of ``"attention"`` fusion.
    linear_skip : bool
        Add a linear map of each kept modality's columns to the output
        (:meth:`linear_part`): the wide part of a wide-and-deep network.
    """

    def __init__(self, columns, n_outputs, latent_dim=32, fusion="concat",
                 encoder_hidden_sizes=(64,), head_hidden_sizes=(64,), activation="relu",
                 dropout=0.0, normalization=None, modality_dropout=0.0, rank=4, n_heads=1,
                 linear_skip=False):
        super().__init__(columns, latent_dim, encoder_hidden_sizes, activation=activation,
                         dropout=dropout, normalization=normalization)
        self.modality_dropout = modality_dropout
        n_modalities = len(columns)
        if fusion == "attention":
            self.fusion = AttentionFusion(n_modalities, latent_dim, n_heads)
        elif fusion == "lowrank":
            self.fusion = LowRankFusion(n_modalities, latent_dim, rank)
        else:
            self.fusion = FUSIONS[fusion](n_modalities, latent_dim)
        self.head = make_mlp(self.fusion.out_dim, head_hidden_sizes, n_outputs,
                             activation=activation, dropout=dropout,
                             normalization=normalization)
        self.skip = None
        if linear_skip:
            # One bias, the head's; one weight block per modality, so that a
            # dropped or missing modality's block is left out like its latent.
            self.skip = nn.ModuleList(
                nn.Linear(len(c), n_outputs, bias=False) for c in columns
            )

    def mask(self, present):
        """The modalities the network sees: ``present``, minus modality dropout in training."""
        if self.training:
            return drop_modalities(present, self.modality_dropout)
        return present

    def fuse(self, latents, kept):
        """Zero the latents of absent modalities (the one masking path) and fuse them."""
        z = latents * kept[:, :, None].to(latents.dtype)
        return self.fusion(z, kept)

    def linear_part(self, x, kept):
        """The linear skip path: ``sum_m kept_m * x_m @ W_m``, ``(n, n_outputs)``.

        A missing modality's columns are 0 (standardised, NaN replaced by the
        mean), and a modality dropped in training is multiplied by 0, so
        either contributes nothing, as through the encoders.
        """
        out = None
        for m, linear in enumerate(self.skip):
            term = linear(self._block(x, m)) * kept[:, m, None].to(x.dtype)
            out = term if out is None else out + term
        return out

    def _output(self, x, fused, kept):
        out = self.head(fused)
        if self.skip is not None:
            out = out + self.linear_part(x, kept)
        return out

    def forward_parts(self, x, present):
        """``(output, latents, kept)``: what training needs for task and alignment losses."""
        latents = self.encode(x)
        kept = self.mask(present)
        return self._output(x, self.fuse(latents, kept), kept), latents, kept

    def forward(self, x, present):
        kept = self.mask(present)
        return self._output(x, self.fuse(self.encode(x), kept), kept)

    def transform(self, x, present):
        """The fused representation (the head's input)."""
        return self.fuse(self.encode(x), self.mask(present))

    def attention_weights(self, x, present):
        """Pooling weights of ``"attention"`` fusion, ``(n, M)``."""
        kept = self.mask(present)
        z = self.encode(x) * kept[:, :, None].to(x.dtype)
        return self.fusion.pooling_weights(z, kept)

    def graph_weights(self, x, present):
        """Edge weights of ``"graph"`` fusion averaged over rounds, flattened: ``(n, M * M)``."""
        kept = self.mask(present)
        z = self.encode(x) * kept[:, :, None].to(x.dtype)
        return self.fusion.edge_weights(z, kept).mean(dim=1).flatten(1)


class ProjectionNetwork(ModalityEncoders):
    """Contrastive alignment's projection heads: one MLP per modality into a shared space.

    ``forward`` returns every modality's raw embedding ``(n, M, latent_dim)``
    (what the contrastive loss compares, after normalising); :meth:`transform`
    the L2-normalised ones (what the loss sees: cosine similarity). The
    ``present`` mask is not used: a missing modality's embedding is computed
    from zeros and set aside by the caller.
    """

    def forward(self, x, present):
        return self.encode(x)

    def transform(self, x, present):
        """L2-normalised embeddings, ``(n, M, latent_dim)``."""
        return torch.nn.functional.normalize(self.encode(x), dim=-1)
