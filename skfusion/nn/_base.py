"""What every estimator of skfusion.nn shares: its network input, training and inference.

:class:`BaseNetworkEstimator` holds the steps that intermediate fusion and
contrastive alignment take alike: standardise X and hand the network float32
(refusing values float32 cannot hold), build the one trainer
(:class:`~skfusion.nn._training.FusionNet`) with AdamW, train it under a seeded
RNG that leaves the caller's alone, and predict through
:meth:`~skfusion.nn._training.FusionNet.predict_tensor_data`. The numpydoc
text of the parameters they share lives here too (:func:`parameter_docs`), so
that the same idea is described once, under the same name.
"""

import string
import textwrap
from collections import defaultdict
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._modalities import fill_modality_nan_cells, modality_nan_cell_means
from .._utils.modality_protocol import ModalityProtocolMixin
from ._training import FusionNet, TensorData

__all__ = ["BaseNetworkEstimator", "check_hidden_sizes", "parameter_docs", "attribute_docs"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_hidden_sizes(sizes, name):
    """``sizes`` as a tuple of positive ints, or an error naming parameter ``name``."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"`{name}` must be a tuple of ints; got {sizes!r}.")
    sizes = tuple(sizes)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
            raise ValueError(f"`{name}` must hold positive ints; got {sizes!r}.")
    return tuple(int(size) for size in sizes)


class BaseNetworkEstimator(ModalityProtocolMixin, TransformerMixin, BaseEstimator):
    """Shared machinery of the skfusion.nn estimators. Not for direct use.

    Subclasses have the parameters ``lr``, ``weight_decay``, ``batch_size``,
    ``max_epochs``, ``device``, ``random_state`` and ``verbose``, and set
    ``scaler_`` in ``fit`` (:meth:`_fit_scaler`) before :meth:`_to_device`.
    """

    # The parameters every skfusion.nn estimator has, with the same meaning.
    _parameter_constraints: dict = {
        "modalities": [dict, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "encoder_hidden_sizes": ["array-like"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A modality missing in a row (all NaN there) is what these estimators handle;
        # a NaN cell takes its column's training mean (_fill_nan_cells).
        tags.input_tags.allow_nan = True
        # Bit-identical refits on CPU; CUDA kernels are not all deterministic.
        tags.non_deterministic = self.device != "cpu" and torch.cuda.is_available()
        return tags

    # ------------------------------------------------------------ network input

    def _fill_nan_cells(self, X, present):
        """``X`` with the NaN cells of its present modalities set to their column's mean
        over the rows where the modality is present, learnt here as ``fill_values_``
        (prediction fills with them in :func:`~skfusion._utils.modal_transformers.fitted_input`),
        before standardisation: the network's input is then that of the same data
        mean-imputed inside each modality."""
        self.fill_values_ = modality_nan_cell_means(X, self.modalities_, present)
        return fill_modality_nan_cells(X, self.modalities_, present, self.fill_values_)

    def _fit_scaler(self, X, chunk_rows=65_536):
        """StandardScaler of every column over the rows where it is not NaN.

        Fitted in row chunks (``fit`` on all of X at once makes transient
        copies about twice the size of X). Its own output configuration is
        pinned to NumPy, so that a global ``set_config(transform_output=...)``
        never reaches the network input.
        """
        scaler = StandardScaler().set_output(transform="default")
        # an overflow (inf, or NaN from inf - inf) is refused below, naming the column
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], chunk_rows):
                scaler.partial_fit(X[start : start + chunk_rows])
        # squares beyond float64 make the variance inf, or NaN once inf - inf is met; a
        # NaN statistic is an overflow unless the column had no value at all
        seen = np.broadcast_to(scaler.n_samples_seen_, scaler.mean_.shape) > 0
        overflow = seen & ~(np.isfinite(scaler.mean_) & np.isfinite(scaler.var_))
        if overflow.any():
            raise ValueError(
                f"{self._column_label(np.flatnonzero(overflow)[0])} of X: its mean or standard "
                "deviation overflows float64; rescale that column before fit."
            )
        return scaler

    def _column_label(self, j):
        names = getattr(self, "feature_names_in_", None)
        return f"Column {names[j]!r}" if names is not None else f"Column {j}"

    def _network_input(self, X):
        """Standardised float32 X with NaN (missing modalities; cells are filled) set to 0.

        The network computes in float32: a finite float64 value beyond its
        range would become inf there, and NaN after the first layer, so it is
        refused, naming the column (after standardisation, which is what the
        network sees).
        """
        if self.scaler_ is not None:
            values = X - self.scaler_.mean_
            values /= self.scaler_.scale_
        else:
            values = X
        with np.errstate(over="ignore"):
            out = np.array(values, dtype=np.float32)  # a copy: NaN is replaced in place
        np.putmask(out, np.isnan(out), 0.0)  # in place; nan_to_num also scans for inf
        if out.size and (out.max() == np.inf or out.min() == -np.inf):
            self._refuse_overflow(X, values, out)
        return out

    def _refuse_overflow(self, X, values, out):
        row, column = np.argwhere(np.isinf(out))[0]
        standardised = (
            f" (standardised: {values[row, column]:.3g})" if self.scaler_ is not None else ""
        )
        raise ValueError(
            f"{self._column_label(column)} of X holds {X[row, column]:.3g}{standardised} in row "
            f"{row}, beyond the float32 range the network computes in (|x| <= "
            f"{_FLOAT32_MAX:.3g}); rescale or clip that column."
        )

    def _to_device(self, X, present, y=None, device="cpu"):
        x = torch.from_numpy(np.ascontiguousarray(self._network_input(X))).to(device)
        mask = torch.from_numpy(np.ascontiguousarray(present)).to(device)
        y = None if y is None else torch.from_numpy(y).to(device)
        return TensorData(x, mask, y)

    # ------------------------------------------------------------ training

    def _make_net(self, module, criterion, *, device, callbacks, **params):
        """The one trainer, with the training parameters every estimator shares (AdamW)."""
        return FusionNet(
            module,
            criterion=criterion,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=int(self.verbose),
            device=device,
            **params,
        )

    def _draw_seed(self):
        """One int from ``random_state``: seeds torch (and any split) for this fit."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _train(self, net, data, seed):
        """Fit ``net`` on ``data`` (on the net's device); set ``net_`` and ``device_``.

        Seeded with ``seed`` inside a forked RNG state: reproducible, and the
        caller's global torch RNG is left as it was.
        """
        device = net.device
        devices = [torch.device(device)] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices, device_type="cuda"):
            torch.manual_seed(seed)
            net.fit(data, None)
        self.net_ = net
        self.device_ = device

    # ------------------------------------------------------------ inference

    def _predict_rows(self, X, present, method, rows=None):
        """``module_.<method>`` on the rows ``rows`` (a mask; None: all) of validated X.

        float32 NumPy output, computed in eval mode without gradient on the
        net's device, in chunks whose size does not depend on ``batch_size``.
        """
        if rows is not None and not rows.all():
            X, present = X[rows], present[rows]
        data = self._to_device(X, present, device=self.device_)
        return self.net_.predict_tensor_data(data, method)

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when no GPU is there (with a
        # DeviceWarning); follow it so that predictions run where the weights are.
        if "net_" in self.__dict__:
            self.device_ = str(self.net_.device)


# ------------------------------------------------------------ shared docstrings

_PARAMETER_DOCS = {
    "latent_dim": """
    latent_dim : int, default={latent_dim}{latent_dim_summary}""",
    "encoder_hidden_sizes": """
    encoder_hidden_sizes : tuple of int, default=(64,)
        Hidden layer widths of each modality's encoder MLP.{encoder_note}""",
    "lr": """
    lr : float > 0, default=1e-3
        Learning rate of AdamW.""",
    "weight_decay": """
    weight_decay : float >= 0, default={weight_decay}
        Decoupled weight decay of AdamW.{weight_decay_note}""",
    "batch_size": """
    batch_size : int, default=128
        Rows per training mini-batch. Inference runs in chunks of a fixed size
        whatever ``batch_size`` is, so predicting one row is cheap and a row's
        output does not depend on the other rows.{batch_size_note}""",
    "max_epochs": """
    max_epochs : int, default={max_epochs}
        Passes over the training rows.{max_epochs_note}""",
    "device": """
    device : {{"auto", "cpu", "cuda"}} or "cuda:<index>", default="auto"
        Where to train and predict: ``"auto"`` picks CUDA when torch sees it,
        else the CPU. Asking for CUDA where torch sees none, or for any other
        device, is a ValueError at fit.""",
    "random_state": """
    random_state : int, RandomState instance or None, default=0
        Seeds weight initialisation and batch order. With an int (the default
        is a fixed seed), fits on CPU are identical run to run; ``None`` draws
        a new seed from NumPy's global RNG at each fit. The global torch RNG is
        left as it was.{random_state_note}""",
    "verbose": """
    verbose : int, default=0
        ``> 0`` prints skorch's per-epoch table (losses, duration).{verbose_note}""",
}

#: Fitted attributes every skfusion.nn estimator has.
ATTRIBUTE_DOCS = """
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch history.
    scaler_ : StandardScaler{scaler_none}
        Fitted input standardisation of every column, over the rows where it
        is not NaN.{scaler_note}
    fill_values_ : dict of str to ndarray of shape (n_columns_in_modality,)
        The value a NaN cell (NaN in a row where its modality is present) of
        each column takes, at fit and at prediction, before standardisation:
        its mean over the training rows where its modality is present, NaN
        cells left out.
    device_ : str
        Device the network lives on.
    modalities_ : dict of str to ndarray of int
        Column positions of each modality.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when ``X`` has string
        column names."""


def _fill(template, fields):
    """``template`` with ``fields``: a ``*_note`` or ``*_summary`` is a paragraph of its
    own (wrapped, indented as a parameter description); a missing field is empty."""
    values = defaultdict(str)
    for key, value in fields.items():
        if key.endswith(("_note", "_summary")):
            value = "\n" + textwrap.fill(value, 79, initial_indent=8 * " ",
                                         subsequent_indent=8 * " ")
        values[key] = value
    return string.Formatter().vformat(template, (), values)


def parameter_docs(*names, **fields):
    """The numpydoc entries of the shared parameters ``names``, in that order.

    ``fields`` fill the per-estimator parts of the text: defaults
    (``latent_dim``, ``weight_decay``, ``max_epochs``) and paragraphs
    (``<parameter>_note``, ``latent_dim_summary``).
    """
    return "".join(_fill(_PARAMETER_DOCS[name], fields) for name in names)


def attribute_docs(**fields):
    """:data:`ATTRIBUTE_DOCS` with the per-estimator parts filled in."""
    return _fill(ATTRIBUTE_DOCS, fields)
