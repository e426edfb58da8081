"""Contrastive alignment: one projection head per modality, trained with symmetric InfoNCE."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted
from torch import nn

from .._fit_context import fit_context
from .._modalities import (
    check_present_somewhere,
    presence_mask,
    present_block,
    take_columns,
    validate_modal_data,
)
from .._utils.modality_protocol import ModalityProtocolMixin, ModalitySubsetError
from ..metrics import recall_at_k
from ._losses import info_nce_loss

__all__ = ["ContrastiveAlignment"]

# CLIP clamps its learnable logit scale (1 / temperature) at 100 to keep training stable.
_MAX_LOGIT_SCALE = math.log(100.0)


class _ProjectionHeads(nn.Module):
    """One MLP per modality, mapping its columns to the shared space, and the logit scale."""

    def __init__(self, widths, hidden_layer_sizes, n_components, temperature, learn_temperature):
        super().__init__()
        heads = {}
        for name, width in widths.items():
            layers, previous = [], width
            for size in hidden_layer_sizes:
                layers += [nn.Linear(previous, size), nn.ReLU()]
                previous = size
            layers.append(nn.Linear(previous, n_components))
            heads[name] = nn.Sequential(*layers)
        self.heads = nn.ModuleDict(heads)
        log_scale = torch.tensor(math.log(1.0 / temperature))
        self.log_scale = nn.Parameter(log_scale, requires_grad=learn_temperature)

    def forward(self, blocks):
        return {name: self.heads[name](block) for name, block in blocks.items()}


class ContrastiveAlignment(ModalityProtocolMixin, TransformerMixin, BaseEstimator):
    """Align modalities in a shared space with projection heads and a CLIP-style loss.

    Each modality gets its own small MLP (projection head) into an
    ``n_components``-dimensional space. The heads are trained so that the
    embeddings of the two modalities of the same row are closer (in cosine
    similarity) than those of different rows, with the symmetric InfoNCE loss
    and a learnable temperature of CLIP.

    Parameters
    ----------
    modalities : dict of str to columns
        At least two modalities (see :func:`skfusion.concat_modalities`).
        With more than two, the loss is averaged over all pairs of modalities.
    n_components : int, default=16
        Dimension of the shared space.
    hidden_layer_sizes : tuple of int, default=(64,)
        Hidden layers of every head (ReLU); ``()`` gives linear heads.
    temperature : float > 0, default=0.07
        Initial softmax temperature (CLIP's value).
    learn_temperature : bool, default=True
        Learn the temperature with the heads (its inverse is capped at 100, as in CLIP).
    lr : float > 0, default=1e-3
        Adam learning rate.
    weight_decay : float >= 0, default=0.0
        Adam weight decay.
    max_epochs : int >= 0, default=50
        Passes over the training rows; 0 leaves the heads at their random
        initialisation (a baseline).
    batch_size : int >= 2, default=128
        Rows per batch; the other rows of a batch are each row's negatives.
    output : str, default="mean"
        What :meth:`transform` returns: ``"mean"`` (average of the present
        modalities' embeddings), ``"concat"`` (all modalities' embeddings side
        by side, NaN where a modality is missing), or a modality name (that
        modality's embedding, NaN where it is missing).
    query_modality, gallery_modality : str or None, default=None
        Modalities compared by :meth:`score` (queries and gallery); None
        means the first and second modality.
    recall_k : int, default=1
        The ``k`` of :meth:`score`'s recall@k.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the batch order; with a fixed seed, fits
        on CPU are reproducible.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``. The data are moved to it once.
    verbose : int, default=0
        Print the mean loss every epoch when > 0.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted projection heads (``module_.heads[name]``).
    temperature_ : float
        The final temperature.
    loss_curve_ : list of float
        Mean training loss per epoch.
    modalities_ : dict of str to ndarray of int
        Column positions of each modality.
    n_features_in_ : int
        Number of columns of ``X`` seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names of ``X``, when it is a DataFrame with string names.

    See Also
    --------
    skfusion.MultiviewCCA : linear alignment, in closed form.
    skfusion.metrics.recall_at_k : the retrieval metric of :meth:`score`.
    skfusion.nn.info_nce_loss : the loss.

    Notes
    -----
    Radford et al., "Learning transferable visual models from natural language
    supervision" (CLIP), ICML 2021; the InfoNCE loss of van den Oord, Li and
    Vinyals, "Representation learning with contrastive predictive coding",
    2018. Columns are standardised with their training mean and standard
    deviation before the heads. Embeddings are L2-normalised, as the loss
    compares them by cosine similarity.

    A plain torch loop rather than a skorch ``NeuralNet``: the loss takes no
    ``y`` and compares the heads' outputs with each other, which skorch's
    target-centred training step would have to be overridden for, and batches
    are sliced from tensors already on the device.

    Missing modalities (all columns NaN in a row) are allowed: a pair of
    modalities is trained on the rows of a batch where both are present, and
    ``transform`` averages over the modalities present.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.nn import ContrastiveAlignment
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(200, 4))
    >>> X = np.hstack([latent @ rng.normal(size=(4, 6)), latent @ rng.normal(size=(4, 5))])
    >>> align = ContrastiveAlignment({"a": range(6), "b": range(6, 11)}, n_components=8,
    ...                              max_epochs=30, batch_size=64, random_state=0)
    >>> align.fit_transform(X).shape
    (200, 8)
    >>> bool(align.score(X) > 0.5)  # recall@1 of a->b retrieval; chance is 1/200
    True
    """

    _parameter_constraints: dict = {
        "modalities": [dict, None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "learn_temperature": ["boolean"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "output": [str],
        "query_modality": [str, None],
        "gallery_modality": [str, None],
        "recall_k": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        modalities=None,
        *,
        n_components=16,
        hidden_layer_sizes=(64,),
        temperature=0.07,
        learn_temperature=True,
        lr=1e-3,
        weight_decay=0.0,
        max_epochs=50,
        batch_size=128,
        output="mean",
        query_modality=None,
        gallery_modality=None,
        recall_k=1,
        random_state=None,
        device="cpu",
        verbose=0,
    ):
        self.modalities = modalities
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.temperature = temperature
        self.learn_temperature = learn_temperature
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.output = output
        self.query_modality = query_modality
        self.gallery_modality = gallery_modality
        self.recall_k = recall_k
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- modality protocol ----------------------------------------------------

    def _check_restriction(self, kept):
        if len(kept) < 2:
            raise ModalitySubsetError(f"ContrastiveAlignment aligns two or more modalities; got {kept}.")
        if self.output not in ("mean", "concat") and self.output not in kept:
            raise ModalitySubsetError(f"ContrastiveAlignment outputs modality {self.output!r}, not in {kept}.")

    def _per_modality_params(self, kept, modalities):
        # a retrieval direction over a left-out modality falls back to the default pair
        return {
            param: None
            for param in ("query_modality", "gallery_modality")
            if getattr(self, param) not in kept
        }

    def _predicts_with_masked_modalities(self):
        return True  # transform averages the embeddings of the modalities present

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the projection heads.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            All modalities' columns; NaN marks a missing modality.
        y : None
            Ignored.

        Returns
        -------
        self : ContrastiveAlignment
        """
        X = validate_modal_data(self, X, dtype=[np.float64, np.float32])
        names = list(self.modalities_)
        self._check_params(names)
        mask = presence_mask(X, self.modalities_)
        check_present_somewhere(mask, names, reason="its projection head cannot be trained")
        self._centre, self._scale = {}, {}
        for j, (name, columns) in enumerate(self.modalities_.items()):
            # every modality has rows here: check_present_somewhere refused the others
            block = np.asarray(present_block(X, columns, mask[:, j], name), dtype=np.float64)
            self._centre[name] = block.mean(axis=0)
            std = block.std(axis=0)
            self._scale[name] = np.where(std > 1e-12, std, 1.0)

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        widths = {name: columns.size for name, columns in self.modalities_.items()}
        # fork_rng: seed the weight initialisation without touching the user's global torch RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.module_ = _ProjectionHeads(
                widths, tuple(self.hidden_layer_sizes), self.n_components, self.temperature, self.learn_temperature
            ).to(self.device)
        blocks, present = self._to_tensors(X, mask)
        self.loss_curve_ = self._train(blocks, present, seed)
        self.temperature_ = float(torch.exp(-self.module_.log_scale.detach()).cpu())
        return self

    def _check_params(self, names):
        if len(names) < 2:
            raise ValueError(
                "ContrastiveAlignment aligns two or more modalities; `modalities` gives "
                f"{len(names)} ({names[0]!r})."
            )
        if any(not isinstance(size, Integral) or size < 1 for size in self.hidden_layer_sizes):
            raise ValueError(f"`hidden_layer_sizes` must hold positive ints; got {self.hidden_layer_sizes!r}.")
        if self.output not in ("mean", "concat") and self.output not in names:
            raise ValueError(f"`output` must be 'mean', 'concat' or a modality name in {names}; got {self.output!r}.")
        for param in ("query_modality", "gallery_modality"):
            value = getattr(self, param)
            if value is not None and value not in names:
                raise ValueError(f"`{param}`={value!r} is not a modality; known modalities are {names}.")

    def _to_tensors(self, X, mask):
        """Standardised float32 tensor per modality (absent rows zero) and the mask, on device."""
        blocks = {}
        for j, (name, columns) in enumerate(self.modalities_.items()):
            block = (np.asarray(take_columns(X, columns), dtype=np.float64) - self._centre[name]) / self._scale[name]
            block[~mask[:, j]] = 0.0
            blocks[name] = torch.as_tensor(block, dtype=torch.float32, device=self.device)
        return blocks, torch.as_tensor(mask, device=self.device)

    def _train(self, blocks, present, seed):
        names = list(blocks)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        index = {name: j for j, name in enumerate(names)}
        # Only rows with two or more modalities present carry a positive pair.
        rows = torch.nonzero(present.sum(dim=1) >= 2).squeeze(1)
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(
            [p for p in self.module_.parameters() if p.requires_grad], lr=self.lr, weight_decay=self.weight_decay
        )
        self.module_.train()
        losses = []
        for epoch in range(self.max_epochs):
            order = rows[torch.randperm(rows.numel(), generator=generator).to(rows.device)]
            total, count = 0.0, 0
            for start in range(0, order.numel(), self.batch_size):
                batch = order[start : start + self.batch_size]
                if batch.numel() < 2:
                    continue
                embedded = self.module_({name: block[batch] for name, block in blocks.items()})
                temperature = torch.exp(-self.module_.log_scale)
                terms = []
                for a, b in pairs:
                    both = present[batch, index[a]] & present[batch, index[b]]
                    if int(both.sum()) >= 2:
                        terms.append(info_nce_loss(embedded[a][both], embedded[b][both], temperature))
                if not terms:
                    continue
                loss = torch.stack(terms).mean()
                if not torch.isfinite(loss):
                    # one NaN step would leave NaN weights and a model that embeds nothing
                    raise FloatingPointError(
                        f"The contrastive loss became {float(loss.detach())} at epoch {epoch + 1}; "
                        f"training stopped. Lower `lr` (now {self.lr}) or check X for "
                        "extreme values."
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    self.module_.log_scale.clamp_(max=_MAX_LOGIT_SCALE)
                total += float(loss.detach()) * batch.numel()
                count += batch.numel()
            losses.append(total / max(count, 1))
            if self.verbose:
                temperature = math.exp(-self.module_.log_scale.item())
                print(f"epoch {epoch + 1:4d}  loss {losses[-1]:.4f}  temperature {temperature:.4f}")
        return losses

    def _embed(self, X):
        """L2-normalised embedding per modality (NaN rows where it is missing) and the mask."""
        check_is_fitted(self)
        X = validate_modal_data(self, X, reset=False, dtype=[np.float64, np.float32])
        mask = presence_mask(X, self.modalities_)
        for j, (name, columns) in enumerate(self.modalities_.items()):
            present_block(X, columns, mask[:, j], name)  # refuses partly-NaN modalities
        blocks, _ = self._to_tensors(X, mask)
        self.module_.eval()
        with torch.no_grad():
            embedded = self.module_(blocks)
        out = {}
        for j, name in enumerate(self.modalities_):
            z = torch.nn.functional.normalize(embedded[name], dim=1).cpu().numpy().astype(X.dtype)
            z[~mask[:, j]] = np.nan
            out[name] = z
        return out, mask, X.dtype

    def transform(self, X):
        """Embed rows in the shared space.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            NaN marks a missing modality.

        Returns
        -------
        ndarray of shape (n_samples, n_components) or (n_samples, n_modalities * n_components)
            See ``output``.
        """
        embedded, mask, dtype = self._embed(X)
        if self.output == "concat":
            return np.concatenate(list(embedded.values()), axis=1)
        if self.output != "mean":
            return embedded[self.output]
        stacked = np.stack(list(embedded.values()))
        counts = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.nansum(stacked, axis=0) / counts[:, None]).astype(dtype, copy=False)

    def score(self, X, y=None):
        """Recall@k of retrieving each row's gallery-modality embedding from its query-modality one.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows where both modalities are present are scored.
        y : None
            Ignored.

        Returns
        -------
        float
            :func:`skfusion.metrics.recall_at_k` with ``k=recall_k``.
        """
        embedded, mask, _ = self._embed(X)
        names = list(self.modalities_)
        query = self.query_modality or names[0]
        gallery = self.gallery_modality or (names[1] if query != names[1] else names[0])
        both = mask[:, names.index(query)] & mask[:, names.index(gallery)]
        if not both.any():
            raise ValueError(f"No row has both {query!r} and {gallery!r} present; recall@k is undefined.")
        return recall_at_k(embedded[query][both], embedded[gallery][both], k=self.recall_k)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``contrastivealignment<i>``, prefixed by the modality for ``"concat"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        suffixes = [f"contrastivealignment{i}" for i in range(self.n_components)]
        if self.output == "concat":
            return np.asarray([f"{name}_{s}" for name in self.modalities_ for s in suffixes], dtype=object)
        return np.asarray(suffixes, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = self.device != "cpu"
        return tags
