"""Intermediate fusion estimators: per-modality encoders, a fusion operator, a head.

The public classes are plain scikit-learn estimators with flat parameters; at
``fit`` they build the trainer of skfusion.nn (:class:`~skfusion.nn._training.FusionNet`,
kept as ``net_``) around a :class:`~skfusion.nn._modules.FusionNetwork` and
train it on tensors moved to the device once (see :mod:`skfusion.nn._base`).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch.callbacks import EarlyStopping
from skorch.utils import noop

from .._fit_context import fit_context
from .._modalities import check_present_somewhere, presence_mask, validate_modal_data
from .._utils.docstrings import fill_doc
from .._utils.modal_transformers import fitted_input
from .._warnings import predict_present_rows, warn_at_caller
from ..exceptions import NoModalityPresentWarning, SmallDataWarning
from ._base import (
    BaseNetworkEstimator,
    attribute_docs,
    check_hidden_sizes,
    parameter_docs,
)
from ._docs import SAMPLES, TRAINING_SAMPLES
from ._modules import ACTIVATIONS, FUSIONS, FusionNetwork
from ._training import HoldOutSplit, StopOnNonFiniteLoss, ValidAccuracy, resolve_device

__all__ = ["IntermediateFusionClassifier", "IntermediateFusionRegressor"]

# Beyond this width the TFN outer product (and the head's first layer) gets huge.
_MAX_TENSOR_FUSION_WIDTH = 100_000

# early_stopping="auto" holds out a validation split only when it has at least
# this many rows: below that the best epoch is picked on noise.
_MIN_VALIDATION_ROWS = 2

# Below this many training rows the network with its defaults fell more than
# 10 points of accuracy behind a logistic regression on the best modality
# (benchmarks/bench_network.py, small-n case): fit warns (SmallDataWarning).
_SMALL_DATA_ROWS = 200

# What the rows with no modality present are, in NoModalityPresentWarning.
_ABSENT_ROWS = "have every modality missing (all NaN)"


class _BaseIntermediateFusion(ClassNamePrefixFeaturesOutMixin, BaseNetworkEstimator):
    """What the classifier and the regressor share. Not for direct use."""

    _parameter_constraints: dict = {
        **BaseNetworkEstimator._parameter_constraints,
        "fusion": [StrOptions(set(FUSIONS))],
        "head_hidden_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "normalization": [StrOptions({"batch", "layer"}), None],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        "standardize": ["boolean"],
        "alignment": [StrOptions({"mmd", "contrastive"}), None],
        "alignment_weight": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "linear_skip": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "amp": ["boolean"],
    }

    def __init__(
        self,
        modalities=None,
        *,
        fusion="concat",
        latent_dim=32,
        encoder_hidden_sizes=(64,),
        head_hidden_sizes=(64,),
        activation="relu",
        dropout=0.0,
        normalization=None,
        rank=4,
        n_heads=1,
        modality_dropout=0.0,
        linear_skip=False,
        standardize=True,
        alignment=None,
        alignment_weight=0.1,
        lr=1e-3,
        weight_decay=1e-2,
        batch_size=128,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        amp=False,
        random_state=0,
        verbose=0,
    ):
        self.modalities = modalities
        self.fusion = fusion
        self.latent_dim = latent_dim
        self.encoder_hidden_sizes = encoder_hidden_sizes
        self.head_hidden_sizes = head_hidden_sizes
        self.activation = activation
        self.dropout = dropout
        self.normalization = normalization
        self.rank = rank
        self.n_heads = n_heads
        self.modality_dropout = modality_dropout
        self.linear_skip = linear_skip
        self.standardize = standardize
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.amp = amp
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ modality protocol

    def _predicts_with_masked_modalities(self):
        # A missing modality reaches the fusion operator as one dropped by
        # modality dropout does: a network trained with it has learned to
        # predict without each modality; one trained without it has not.
        return self.modality_dropout > 0

    # ------------------------------------------------------------ tags

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The network computes, and transform returns, float32.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------ fit

    def _check_architecture(self, n_modalities):
        """Checks that need the data (number of modalities) or combine parameters."""
        encoder_hidden = check_hidden_sizes(self.encoder_hidden_sizes, "encoder_hidden_sizes")
        head_hidden = check_hidden_sizes(self.head_hidden_sizes, "head_hidden_sizes")
        if self.fusion == "attention" and self.latent_dim % self.n_heads:
            raise ValueError(
                f"fusion='attention' splits `latent_dim` across heads, so it must be a "
                f"multiple of `n_heads`; got latent_dim={self.latent_dim}, "
                f"n_heads={self.n_heads}."
            )
        if self.normalization == "batch" and self.batch_size < 2:
            raise ValueError(
                "normalization='batch' normalises each feature over the rows of a batch, "
                f"which needs at least 2 of them; got batch_size={self.batch_size}. Use "
                "normalization='layer' or a larger batch_size."
            )
        if self.fusion == "tensor":
            width = (self.latent_dim + 1) ** n_modalities
            if width > _MAX_TENSOR_FUSION_WIDTH:
                raise ValueError(
                    f"fusion='tensor' builds a (latent_dim + 1) ** n_modalities = "
                    f"{self.latent_dim + 1} ** {n_modalities} = {width}-wide representation "
                    f"(limit {_MAX_TENSOR_FUSION_WIDTH}); lower `latent_dim` or use "
                    "fusion='lowrank', its low-rank counterpart."
                )
        return encoder_hidden, head_hidden

    def _fit_network(self, X, y_net, n_outputs, criterion, criterion_kwargs, stratify):
        encoder_hidden, head_hidden = self._check_architecture(len(self.modalities_))
        device = resolve_device(self.device)
        present = presence_mask(X, self.modalities_)
        any_present = present.any(axis=1)
        if not any_present.all():
            raise ValueError(
                f"{np.count_nonzero(~any_present)} of {X.shape[0]} training rows have "
                f"every modality ({', '.join(map(repr, self.modalities_))}) missing "
                "(all NaN); they carry no information: drop them before fit."
            )
        check_present_somewhere(
            present, list(self.modalities_), reason="its encoder cannot be trained"
        )
        X = self._fill_nan_cells(X, present)
        self._warn_if_small(X.shape[0])
        seed = self._draw_seed()
        callbacks = [("stop_on_nonfinite_loss", StopOnNonFiniteLoss())]
        train_split = None
        early_stopping = self._early_stopping_on(X.shape[0])
        if early_stopping:
            train_split = HoldOutSplit(self._validation_rows(X.shape[0], stratify, seed))
            if stratify is not None:
                callbacks.append(("valid_acc", ValidAccuracy()))
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True,
                sink=print if self.verbose else noop,
            )))
        module = {
            "columns": [indices.tolist() for indices in self.modalities_.values()],
            "n_outputs": n_outputs,
            "latent_dim": self.latent_dim,
            "fusion": self.fusion,
            "encoder_hidden_sizes": encoder_hidden,
            "head_hidden_sizes": head_hidden,
            "activation": self.activation,
            "dropout": self.dropout,
            "normalization": self.normalization,
            "modality_dropout": self.modality_dropout,
            "rank": self.rank,
            "n_heads": self.n_heads,
            "linear_skip": self.linear_skip,
        }
        net = self._make_net(
            FusionNetwork,
            criterion,
            device=device,
            callbacks=callbacks,
            train_split=train_split,
            amp=self.amp,
            alignment=self.alignment,
            alignment_weight=self.alignment_weight,
            drop_single_batch=self.normalization == "batch",
            **{f"module__{key}": value for key, value in module.items()},
            **{f"criterion__{key}": value for key, value in criterion_kwargs.items()},
        )
        self.scaler_ = self._fit_scaler(X) if self.standardize else None
        self._train(net, self._to_device(X, present, y_net, device), seed)
        return self

    def _warn_if_small(self, n_samples):
        """SmallDataWarning below the row count where linear models measured clearly better."""
        if n_samples < _SMALL_DATA_ROWS:
            warn_at_caller(
                f"{type(self).__name__} is fitted on {n_samples} rows (fewer than "
                f"{_SMALL_DATA_ROWS}); on so few rows a linear model on the best modality, or "
                "late fusion of linear models (StackingLateFusion, WeightedVoteFusion), "
                "usually predicts better. skfusion.model_selection.compare_fusion measures "
                "it on your data.",
                SmallDataWarning,
            )

    def _early_stopping_on(self, n_samples):
        """Whether this fit holds out a validation split (``"auto"``: when it can)."""
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        n_valid = np.ceil(self.validation_fraction * n_samples)
        return _MIN_VALIDATION_ROWS <= n_valid < n_samples

    def _validation_rows(self, n_samples, stratify, seed):
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        if n_samples < 2 or n_valid >= n_samples:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of n_samples={n_samples} rows, leaving none to "
                "train on; "
                "use more rows, a smaller validation_fraction or early_stopping=False."
            )
        rows = np.arange(n_samples)
        try:
            _, valid = train_test_split(rows, test_size=n_valid, stratify=stratify,
                                        random_state=seed)
        except ValueError:
            # Some class is too rare to appear on both sides: hold out at random, but
            # keep one row of every class for training (a class's only row, held out,
            # would never be learned from).
            candidates = rows
            if stratify is not None:
                order = check_random_state(seed).permutation(n_samples)
                _, first = np.unique(np.asarray(stratify)[order], return_index=True)
                candidates = np.setdiff1d(rows, order[first])
            if n_valid >= candidates.size:  # train_test_split needs a row left to train on
                candidates = rows
            _, valid = train_test_split(candidates, test_size=n_valid, random_state=seed)
        return np.sort(valid)

    # ------------------------------------------------------------ inference

    def _validated(self, X):
        """Validated X, its presence mask, and the rows where some modality is present."""
        X, present = fitted_input(self, X)
        return X, present, present.any(axis=1)

    def _predict_present(self, X, output, fallback, fallback_name):
        """``output(network output)`` on the rows with a modality present; elsewhere the
        fitted attribute named ``fallback``.

        The network has nothing to compute from where every modality is
        missing: those rows get the training class prior or target mean with
        a :class:`~skfusion.NoModalityPresentWarning`, as in every fusion
        estimator (:func:`skfusion._warnings.predict_present_rows`).
        """
        X, present, any_present = self._validated(X)
        return predict_present_rows(
            lambda rows: output(self._predict_rows(X, present, "forward", rows)),
            any_present, getattr(self, fallback), absent_rows=_ABSENT_ROWS,
            fallback_name=fallback_name,
        )

    def _representation(self, X, method, what, width=None):
        """``module.<method>`` over X, ``width`` columns; NaN for rows with no modality present.

        There is no training value to give those rows (``what`` says what is
        missing, for the warning).
        """
        X, present, any_present = self._validated(X)
        if width is None:
            width = self._n_features_out if method == "transform" else len(self.modalities_)
        n_absent = np.count_nonzero(~any_present)
        if n_absent:
            warn_at_caller(
                f"{n_absent} of {X.shape[0]} rows {_ABSENT_ROWS}; {what} NaN there.",
                NoModalityPresentWarning,
            )
        result = np.full((X.shape[0], width), np.nan, dtype=np.float32)
        if n_absent < X.shape[0]:
            result[any_present] = self._predict_rows(X, present, method, any_present)
        return result

    @property
    def _n_features_out(self):
        """Width of :meth:`transform`'s output, for ``get_feature_names_out``."""
        return self.net_.module_.fusion.out_dim

    @fill_doc(X=SAMPLES)
    def transform(self, X):
        """Return the fused representation: the input of the head.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        X_fused : ndarray of shape (n_samples, n_fused), dtype float32
            ``n_fused`` depends on ``fusion``: ``n_modalities * latent_dim``
            (``"concat"``), ``(latent_dim + 1) ** n_modalities`` (``"tensor"``),
            ``latent_dim`` otherwise. Rows with no modality present are NaN.
        """
        return self._representation(X, "transform", "the fused representation is")

    @fill_doc(X=SAMPLES)
    def attention_weights(self, X):
        """Return the per-row attention of ``fusion="attention"`` on each modality.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        weights : ndarray of shape (n_samples, n_modalities)
            Weights of the pooling attention, averaged over heads, in the order
            of ``modalities_``: zero for missing modalities, summing to one over
            the present ones. Rows with no modality present are NaN.
        """
        check_is_fitted(self)
        if self.fusion != "attention":
            raise ValueError(
                f"attention_weights needs fusion='attention'; this model was fitted "
                f"with fusion={self.fusion!r}."
            )
        weights = self._representation(X, "attention_weights", "the attention weights are")
        weights = weights.astype(np.float64)
        # The softmax ran in float32; renormalise so that rows sum to one in float64.
        return weights / weights.sum(axis=1, keepdims=True)

    @fill_doc(X=SAMPLES)
    def graph_weights(self, X, *, average=False):
        """Return the learned edge weights of ``fusion="graph"``: which modality informs which.

        Parameters
        ----------
        %(X)s
        average : bool, default=False
            Return the mean over the rows of ``X`` instead of one matrix per row.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_modalities, n_modalities), \
                or (n_modalities, n_modalities) with ``average=True``
            ``weights[s, i, j]``: weight of the message from modality ``j``
            (sender, column) to modality ``i`` (receiver, row) in row ``s``,
            averaged over the message-passing rounds, modalities in the order
            of ``modalities_``. Each present receiver's weights sum to one over
            the present senders, itself included (a self-loop); a missing
            modality's row and column are zero (it neither sends nor
            receives). Rows of ``X`` with no modality present are NaN.
            With ``average=True``, entry ``[i, j]`` is the mean over the rows
            of ``X`` where modality ``i`` is present, so each row again sums to
            one (NaN for a modality present in no row).
        """
        check_is_fitted(self)
        if self.fusion != "graph":
            raise ValueError(
                f"graph_weights needs fusion='graph'; this model was fitted "
                f"with fusion={self.fusion!r}."
            )
        n_modalities = len(self.modalities_)
        weights = self._representation(X, "graph_weights", "the graph weights are",
                                       width=n_modalities * n_modalities)
        weights = weights.astype(np.float64).reshape(-1, n_modalities, n_modalities)
        # The softmax ran in float32; renormalise each present receiver's row in float64.
        totals = weights.sum(axis=2, keepdims=True)
        weights = np.divide(weights, totals, out=weights, where=totals > 0)
        if not average:
            return weights
        receives = weights.sum(axis=2) > 0  # (n, M): receiver present (NaN rows: False)
        counts = receives.sum(axis=0)
        totals = np.where(receives[:, :, None], weights, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return totals / counts[:, None]


_DOC_PARAMETERS = f"""
    modalities : dict of str to column selector, default=None
        Columns of each modality (see :func:`skfusion.concat_modalities`);
        ``None`` is one modality holding every column. A modality whose
        columns are all NaN in a row is missing there.
    fusion : {{"concat", "sum", "gated", "attention", "tensor", "lowrank", "graph"}}, \
            default="concat"
        How the modality latents are combined:

        - ``"concat"``: concatenation (``n_modalities * latent_dim`` wide);
        - ``"sum"``: sum over present modalities;
        - ``"gated"``: gated multimodal unit (softmax gates per dimension
          over the present modalities);
        - ``"attention"``: multi-head self-attention over modality tokens,
          then attention pooling (see :meth:`attention_weights`);
        - ``"tensor"``: Tensor Fusion Network outer product of ``[z_m, 1]``,
          ``(latent_dim + 1) ** n_modalities`` wide (for small widths);
        - ``"lowrank"``: Low-rank Multimodal Fusion of rank ``rank``;
        - ``"graph"``: the present modalities as the nodes of a complete
          graph, two rounds of attention-weighted message passing between
          them, then the mean of the nodes (see :meth:`graph_weights`).{parameter_docs(
        "latent_dim", "encoder_hidden_sizes", latent_dim=32,
        latent_dim_summary="Width of each modality's latent vector (the encoders' output).",
    )}
    head_hidden_sizes : tuple of int, default=(64,)
        Hidden layer widths of the head MLP on the fused representation.
    activation : {{"relu", "gelu", "tanh", "elu", "leaky_relu"}}, default="relu"
        Activation of the hidden layers.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation.
    normalization : {{"batch", "layer"}} or None, default=None
        Normalisation after each hidden linear layer.
    rank : int, default=4
        Rank of ``fusion="lowrank"``.
    n_heads : int, default=1
        Attention heads of ``fusion="attention"``; must divide ``latent_dim``.
    modality_dropout : float in [0, 1), default=0.0
        In training, probability of dropping each present modality of each
        row (never all of a row's modalities), which teaches the network to
        predict from the modalities that remain. A dropped modality is masked
        exactly like a missing one.
    linear_skip : bool, default=False
        Add a linear map of each present modality's (standardised) columns
        to the output, beside the encoders, fusion and head: the "wide" part
        of a wide-and-deep network, so that the network contains a linear
        model of every modality. Off by default: on the benchmark cases
        (``benchmarks/bench_network.py --ablation``) it did not help, and on
        small data it overfitted the columns that carry no signal.
    standardize : bool, default=True
        Standardise every column (mean and standard deviation over the rows
        where it is not NaN) before the network.
    alignment : {{"mmd", "contrastive"}} or None, default=None
        Add ``alignment_weight`` times an alignment loss between the latents of
        every pair of modalities: maximum mean discrepancy between the latents
        of rows where each is present (``"mmd"``), or symmetric InfoNCE between
        the paired latents of rows where both are present (``"contrastive"``).
    alignment_weight : float >= 0, default=0.1
        Weight of the alignment term.{parameter_docs(
        "lr", "weight_decay", "batch_size", "max_epochs", weight_decay="1e-2", max_epochs=100,
        max_epochs_note="With early stopping (the default), the most epochs it may run.",
    )}
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows (stratified for
        classification; which rows follows from ``random_state``) and stop
        when the validation loss has not improved for ``n_iter_no_change``
        epochs, restoring the best epoch's weights; ``max_epochs`` is then an
        upper bound. ``"auto"`` does so whenever the held-out part has at
        least 2 rows and leaves some to train on; ``False`` trains on every
        row for ``max_epochs`` epochs.
    validation_fraction : float in (0, 1), default=0.1
        Held-out fraction when early stopping is on.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.{parameter_docs("device")}
    amp : bool, default=False
        Mixed precision (float16 autocast with gradient scaling) on CUDA; no
        effect on CPU.{parameter_docs(
        "random_state", "verbose",
        random_state_note="It also seeds dropout, modality dropout and the validation split.",
        verbose_note="With early stopping it shows the validation loss and accuracy.",
    )}"""

_DOC_ATTRIBUTES = attribute_docs(
    scaler_none=" or None", scaler_note="``None`` when ``standardize=False``."
)

_DOC_NOTES = """
    A NaN cell (NaN in a row where its modality is present) takes its
    column's mean over the training rows where the modality is present
    (``fill_values_``), at fit and at prediction, before standardisation: a fit
    on data with NaN cells is the fit on the same data mean-imputed inside
    each modality. The network gets ``X`` standardised, a missing modality's
    block set to 0, and a presence mask. Each modality's encoder output is multiplied
    by its presence bit, so a missing modality and one dropped by
    ``modality_dropout`` reach the fusion operator identically; ``"gated"``,
    ``"attention"`` and ``"graph"`` also exclude them from their softmax.

    Fusion operators: gated multimodal unit (Arevalo, Solorio, Montes-y-Gómez
    and González, "Gated multimodal units for information fusion", ICLR
    workshop 2017); Tensor Fusion Network (Zadeh, Chen, Poria, Cambria and
    Morency, EMNLP 2017); Low-rank Multimodal Fusion (Liu, Shen, Lakshminarasimhan,
    Liang, Zadeh and Morency, ACL 2018); attention over modality tokens as in
    multimodal transformers (Vaswani et al., NeurIPS 2017, for the attention);
    message passing over the modality graph with graph attention (Veličković
    et al., "Graph attention networks", ICLR 2018), its edge scores computed
    as in GATv2 (Brody, Alon and Yahav, "How attentive are graph attention
    networks?", ICLR 2022). The modality graphs have a handful of nodes, so
    ``"graph"`` computes them densely in torch rather than through
    torch-geometric, a heavy dependency that brings nothing at this size.

    The estimator has flat parameters and builds the skorch net in ``fit``
    rather than subclassing skorch's ``NeuralNet``: ``NeuralNet`` keeps nested
    ``module__*`` parameters, accepts arbitrary keyword arguments and does work
    in ``__init__``, which would break ``clone`` and grid search over
    ``fusion`` or ``latent_dim``. Batches are sliced from tensors already on the
    device instead of going through a ``DataLoader``; the same net trains
    :class:`~skfusion.nn.ContrastiveAlignment`.

    The network computes in float32: a value that float32 cannot hold once
    standardised (beyond about ``3.4e38``) is refused with a ValueError naming
    its column, at fit and at prediction, rather than turned into NaN.

    ``fit`` is all or nothing: when it fails (a non-finite training loss,
    say), the estimator keeps the model of its previous fit, or stays
    unfitted."""


class IntermediateFusionClassifier(ClassifierMixin, _BaseIntermediateFusion):
    __doc__ = f"""Intermediate-fusion neural network classifier (torch, via skorch).

    One MLP encoder per modality maps its columns to a ``latent_dim`` vector;
    a fusion operator combines the vectors of the modalities present in a row;
    a head MLP outputs class logits, trained with (optionally class-weighted)
    cross-entropy and AdamW. Trains on a GPU when one is available.

    Parameters
    ----------{_DOC_PARAMETERS}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cross-entropy loss, as in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.{_DOC_ATTRIBUTES}

    See Also
    --------
    IntermediateFusionRegressor : The regression counterpart.
    skfusion.FeatureFusion : Early fusion (concatenate, then one model).
    skfusion.StackingLateFusion : Late fusion (one model per modality, then stack).

    Notes
    -----{_DOC_NOTES}

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.nn import IntermediateFusionClassifier
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=200, widths={{"image": 4, "text": 3}}, random_state=0)
    >>> clf = IntermediateFusionClassifier(
    ...     modalities, fusion="attention", device="cpu").fit(X, y)
    >>> len(clf.net_.history) < clf.max_epochs  # early stopping, on by default
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.attention_weights(X[:2]).sum(axis=1)
    array([1., 1.])
    >>> bool(clf.score(X, y) > 0.8)
    True
    """

    _parameter_constraints: dict = {
        **_BaseIntermediateFusion._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    # The base's parameters spelled out again: scikit-learn reads an estimator's
    # parameters from its own __init__ signature, and **kwargs is not allowed there.
    def __init__(
        self,
        modalities=None,
        *,
        fusion="concat",
        latent_dim=32,
        encoder_hidden_sizes=(64,),
        head_hidden_sizes=(64,),
        activation="relu",
        dropout=0.0,
        normalization=None,
        rank=4,
        n_heads=1,
        modality_dropout=0.0,
        linear_skip=False,
        standardize=True,
        alignment=None,
        alignment_weight=0.1,
        lr=1e-3,
        weight_decay=1e-2,
        batch_size=128,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        amp=False,
        random_state=0,
        verbose=0,
        class_weight=None,
    ):
        super().__init__(
            modalities, fusion=fusion, latent_dim=latent_dim,
            encoder_hidden_sizes=encoder_hidden_sizes, head_hidden_sizes=head_hidden_sizes,
            activation=activation, dropout=dropout,
            normalization=normalization, rank=rank, n_heads=n_heads,
            modality_dropout=modality_dropout, linear_skip=linear_skip, standardize=standardize,
            alignment=alignment, alignment_weight=alignment_weight, lr=lr,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, device=device, amp=amp,
            random_state=random_state, verbose=verbose,
        )
        self.class_weight = class_weight

    @fit_context(prefer_skip_nested_validation=True)
    @fill_doc(X=TRAINING_SAMPLES)
    def fit(self, X, y):
        """Fit the network to the class labels ``y``.

        Parameters
        ----------
        %(X)s
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y = validate_modal_data(self, X, y, dtype=[np.float64, np.float32])
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        if classes.size < 2:
            raise ValueError(
                f"IntermediateFusionClassifier needs at least 2 classes in y; got 1 "
                f"class ({classes[0]!r})."
            )
        y_encoded = encoder.transform(y).astype(np.int64)
        criterion_kwargs = {}
        if self.class_weight is not None:
            weights = compute_class_weight(self.class_weight, classes=classes, y=y)
            criterion_kwargs["weight"] = torch.as_tensor(weights, dtype=torch.float32)
        self.classes_ = classes
        self.class_prior_ = np.bincount(y_encoded, minlength=classes.size) / y.size
        return self._fit_network(X, y_encoded, classes.size, torch.nn.CrossEntropyLoss,
                                 criterion_kwargs, stratify=y_encoded)

    @fill_doc(X=SAMPLES)
    def predict_proba(self, X):
        """Return class probabilities.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the network's logits, columns in the order of
            ``classes_``. Rows with no modality present get ``class_prior_``
            (with a :class:`~skfusion.NoModalityPresentWarning`).
        """
        return self._predict_present(X, _softmax, "class_prior_", "class prior")

    @fill_doc(X=SAMPLES)
    def predict(self, X):
        """Return the most probable class.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class IntermediateFusionRegressor(RegressorMixin, _BaseIntermediateFusion):
    __doc__ = f"""Intermediate-fusion neural network regressor (torch, via skorch).

    One MLP encoder per modality maps its columns to a ``latent_dim`` vector;
    a fusion operator combines the vectors of the modalities present in a row;
    a head MLP outputs every target, trained with mean squared error (on
    standardised targets) and AdamW. Trains on a GPU when one is available.

    Parameters
    ----------{_DOC_PARAMETERS}

    Attributes
    ----------
    target_mean_ : ndarray of shape (n_targets,)
        Mean of each training target; the network learns standardised
        targets and predictions are mapped back.
    target_scale_ : ndarray of shape (n_targets,)
        Standard deviation of each training target (1 where it is 0).{_DOC_ATTRIBUTES}

    See Also
    --------
    IntermediateFusionClassifier : The classification counterpart.
    skfusion.FeatureFusion : Early fusion (concatenate, then one model).

    Notes
    -----{_DOC_NOTES}

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_regression
    >>> from skfusion.nn import IntermediateFusionRegressor
    >>> X, y, modalities = make_multimodal_regression(
    ...     n_samples=200, widths={{"image": 4, "text": 3}}, noise=0.1, random_state=0)
    >>> reg = IntermediateFusionRegressor(
    ...     modalities, fusion="lowrank", max_epochs=40, device="cpu",
    ...     random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> bool(reg.score(X, y) > 0.8)
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    @fill_doc(X=TRAINING_SAMPLES)
    def fit(self, X, y):
        """Fit the network to the targets ``y``.

        Parameters
        ----------
        %(X)s
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        X, y = validate_modal_data(self, X, y, dtype=[np.float64, np.float32],
                                   multi_output=True, y_numeric=True)
        self._y_is_1d = y.ndim == 1
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        self.target_mean_, self.target_scale_ = _target_scaling(y2d)
        y_net = ((y2d - self.target_mean_) / self.target_scale_).astype(np.float32)
        return self._fit_network(X, y_net, y2d.shape[1], torch.nn.MSELoss, {}, stratify=None)

    @fill_doc(X=SAMPLES)
    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions; rows with no modality present get ``target_mean_``
            (with a :class:`~skfusion.NoModalityPresentWarning`).
        """
        y_pred = self._predict_present(
            X, lambda out: out.astype(np.float64) * self.target_scale_ + self.target_mean_,
            "target_mean_", "target mean",
        )
        return y_pred.ravel() if self._y_is_1d else y_pred


def _softmax(logits):
    """Class probabilities (float64) from float32 logits, one row each."""
    scores = logits.astype(np.float64)
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


def _target_scaling(y2d):
    """Mean and standard deviation of each target, finite for any finite y.

    The spread is computed on y divided by its largest magnitude, since the
    squares of a target near 1e200 overflow float64 and would give an infinite
    scale (and infinite predictions).
    """
    mean = y2d.mean(axis=0)
    magnitude = np.abs(y2d).max(axis=0)
    magnitude = np.where(magnitude > 0, magnitude, 1.0)
    scale = (y2d / magnitude).std(axis=0) * magnitude
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))):
        raise ValueError(
            "The mean or spread of the target y overflows float64; rescale y before fit."
        )
    return mean, np.where(scale > 0, scale, 1.0)
