"""Contrastive alignment: one projection head per modality, trained with symmetric InfoNCE."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._fit_context import fit_context
from .._utils.docstrings import FIT_UNSUPERVISED, GET_FEATURE_NAMES_OUT, fill_doc
from .._utils.modal_transformers import feature_names_out, fit_alignment_input, fitted_input
from .._utils.modality_protocol import ModalitySubsetError
from ..metrics import recall_at_k
from ._base import (
    BaseNetworkEstimator,
    attribute_docs,
    check_hidden_sizes,
    parameter_docs,
)
from ._modules import ProjectionNetwork
from ._training import (
    ClampTemperature,
    ContrastiveLoss,
    StopOnNonFiniteLoss,
    resolve_device,
)

__all__ = ["ContrastiveAlignment"]


class ContrastiveAlignment(BaseNetworkEstimator):
    __doc__ = f"""Align modalities in a shared space with projection heads and a CLIP-style loss.

    Each modality gets its own small MLP (projection head) into a
    ``latent_dim``-dimensional space. The heads are trained so that the
    embeddings of the two modalities of the same row are closer (in cosine
    similarity) than those of different rows, with the symmetric InfoNCE loss
    and a learnable temperature of CLIP.

    Parameters
    ----------
    modalities : dict of str to columns
        At least two modalities (see :func:`skfusion.concat_modalities`).
        With more than two, the loss is averaged over all pairs of modalities.{parameter_docs(
        "latent_dim", "encoder_hidden_sizes", latent_dim=16,
        latent_dim_summary="Dimension of the shared space: the width of every modality's embedding.",
        encoder_note="The heads use ReLU; ``()`` gives linear heads.",
    )}
    temperature : float > 0, default=0.07
        Initial softmax temperature (CLIP's value).
    learn_temperature : bool, default=True
        Learn the temperature with the heads (its inverse is capped at 100, as
        in CLIP).{parameter_docs(
        "lr", "weight_decay", "max_epochs", "batch_size", weight_decay="0.0", max_epochs=50,
        weight_decay_note="The temperature is not decayed.",
        max_epochs_note="0 leaves the heads at their random initialisation (a baseline).",
        batch_size_note="At least 2: the other rows of a batch are each row's negatives.",
    )}
    output : str, default="mean"
        What :meth:`transform` returns: ``"mean"`` (average of the present
        modalities' embeddings), ``"concat"`` (all modalities' embeddings side
        by side, NaN where a modality is missing), or a modality name (that
        modality's embedding, NaN where it is missing).
    query_modality, gallery_modality : str or None, default=None
        Modalities compared by :meth:`score` (queries and gallery); None
        means the first and second modality.
    recall_k : int, default=1
        The ``k`` of :meth:`score`'s recall@k.{parameter_docs(
        "device", "random_state", "verbose",
        verbose_note="The table shows the temperature reached at each epoch too.",
    )}

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted projection heads, ``net_.module_`` (a
        :class:`~skfusion.nn._modules.ProjectionNetwork`; the head of the
        ``j``-th modality of ``modalities_`` is ``module_.encoders[j]``).
    temperature_ : float
        The final temperature.
    loss_curve_ : list of float
        Mean training loss per epoch (``net_.history[:, "train_loss"]``).{attribute_docs()}

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

    Trained by the same skorch net as the intermediate-fusion estimators (the
    ``net_`` attribute, AdamW), without a target: the criterion compares the
    heads' outputs with each other, and holds the learnable temperature, which
    a callback caps after every step. Only the rows where two or more
    modalities are present carry a positive pair, so only they are trained on.

    Missing modalities (all columns NaN in a row) are allowed: a pair of
    modalities is trained on the rows of a batch where both are present, and
    ``transform`` averages over the modalities present. A NaN cell (NaN in a
    row where its modality is present) takes its column's training mean over
    the rows where the modality is present (``fill_values_``), at fit and
    transform, before standardisation: fitting on data with NaN cells gives
    the heads fitted on the same data with those cells mean-imputed.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.nn import ContrastiveAlignment
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(200, 4))
    >>> X = np.hstack([latent @ rng.normal(size=(4, 6)), latent @ rng.normal(size=(4, 5))])
    >>> align = ContrastiveAlignment({{"a": range(6), "b": range(6, 11)}}, latent_dim=8,
    ...                              max_epochs=30, batch_size=64, random_state=0)
    >>> align.fit_transform(X).shape
    (200, 8)
    >>> bool(align.score(X) > 0.5)  # recall@1 of a->b retrieval; chance is 1/200
    True
    """

    # Read at transform time beside the network fitted for it: refused if changed after fit.
    _params_fixed_at_fit = ("latent_dim",)

    _parameter_constraints: dict = {
        **BaseNetworkEstimator._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "learn_temperature": ["boolean"],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "output": [str],
        "query_modality": [str, None],
        "gallery_modality": [str, None],
        "recall_k": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        modalities=None,
        *,
        latent_dim=16,
        encoder_hidden_sizes=(64,),
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
        device="auto",
        random_state=0,
        verbose=0,
    ):
        self.modalities = modalities
        self.latent_dim = latent_dim
        self.encoder_hidden_sizes = encoder_hidden_sizes
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
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @fit_context(prefer_skip_nested_validation=True)
    @fill_doc(fit=FIT_UNSUPERVISED)
    def fit(self, X, y=None):
        """Train the projection heads.

        %(fit)s
        """
        X, names, mask = fit_alignment_input(self, X, reason="its projection head cannot be trained")
        hidden_sizes = self._check_params(names)
        device = resolve_device(self.device)
        # Only rows with two or more modalities present carry a positive pair.
        paired = mask.sum(axis=1) >= 2
        n_paired = int(np.count_nonzero(paired))
        if n_paired < 2:
            raise ValueError(
                "ContrastiveAlignment needs at least 2 samples where two or more modalities "
                "are present (each row's negatives are the other rows of its batch); got "
                f"{n_paired} sample(s) of {X.shape[0]}."
            )
        seed = self._draw_seed()
        # CLIP does not decay its logit scale (a second parameter group only when there is
        # decay at all: each group costs an optimiser pass per step).
        no_decay = [("log_scale", {"weight_decay": 0.0})] if self.weight_decay > 0 else []
        net = self._make_net(
            ProjectionNetwork,
            ContrastiveLoss,
            device=device,
            callbacks=[
                ("stop_on_nonfinite_loss", StopOnNonFiniteLoss()),
                ("clamp_temperature", ClampTemperature()),
            ],
            train_split=None,
            drop_single_batch=True,  # a batch of one row has no negative
            module__columns=[columns.tolist() for columns in self.modalities_.values()],
            module__latent_dim=self.latent_dim,
            module__encoder_hidden_sizes=hidden_sizes,
            criterion__temperature=self.temperature,
            criterion__learn_temperature=self.learn_temperature,
            optimizer__param_groups=no_decay,
        )
        self.scaler_ = self._fit_scaler(X)
        self._train(net, self._to_device(X[paired], mask[paired], device=device), seed)
        history = net.history  # empty with max_epochs=0 (the untrained baseline)
        self.loss_curve_ = [float(loss) for loss in history[:, "train_loss"]] if history else []
        self.temperature_ = float(net.criterion_.temperature().detach())
        return self

    def _check_params(self, names):
        """Checks that need the modality names; returns the hidden sizes as a tuple."""
        hidden_sizes = check_hidden_sizes(self.encoder_hidden_sizes, "encoder_hidden_sizes")
        if self.output not in ("mean", "concat") and self.output not in names:
            raise ValueError(f"`output` must be 'mean', 'concat' or a modality name in {names}; got {self.output!r}.")
        for param in ("query_modality", "gallery_modality"):
            value = getattr(self, param)
            if value is not None and value not in names:
                raise ValueError(f"`{param}`={value!r} is not a modality; known modalities are {names}.")
        return hidden_sizes

    @property
    def module_(self):
        return self.net_.module_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _embed(self, X):
        """L2-normalised embedding per modality (NaN rows where it is missing) and the mask."""
        X, mask = fitted_input(self, X)
        rows = mask.any(axis=1)
        embedded = np.full((X.shape[0], len(self.modalities_), self.latent_dim), np.nan,
                           dtype=X.dtype)
        if rows.any():
            embedded[rows] = self._predict_rows(X, mask, "transform", rows)
        out = {}
        for j, name in enumerate(self.modalities_):
            z = embedded[:, j]
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
        ndarray of shape (n_samples, latent_dim) or (n_samples, n_modalities * latent_dim)
            See ``output``; the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        self._check_params(list(self.modalities_))  # set_params may have changed output
        embedded, mask, dtype = self._embed(X)
        if self.output == "concat":
            return np.concatenate(list(embedded.values()), axis=1)
        if self.output != "mean":
            return np.ascontiguousarray(embedded[self.output])
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
        check_is_fitted(self)
        names = list(self.modalities_)
        self._check_params(names)  # set_params may have changed the modalities scored
        embedded, mask, _ = self._embed(X)
        query = self.query_modality or names[0]
        gallery = self.gallery_modality or (names[1] if query != names[1] else names[0])
        both = mask[:, names.index(query)] & mask[:, names.index(gallery)]
        if not both.any():
            raise ValueError(f"No row has both {query!r} and {gallery!r} present; recall@k is undefined.")
        return recall_at_k(embedded[query][both], embedded[gallery][both], k=self.recall_k)

    @fill_doc(sections=GET_FEATURE_NAMES_OUT)
    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``contrastivealignment<i>``, prefixed by the modality for ``"concat"``.

        %(sections)s
        """
        return feature_names_out(self, input_features, "contrastivealignment", self.latent_dim,
                                 per_modality=self.output == "concat")

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
