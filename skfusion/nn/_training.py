"""The one trainer of skfusion.nn: a skorch net, its in-memory data path and callbacks.

Every estimator of :mod:`skfusion.nn` (intermediate fusion and contrastive
alignment) builds a :class:`FusionNet` in ``fit`` and predicts through its
:meth:`FusionNet.forward_iter`.

skorch's default path wraps arrays in a ``Dataset`` and batches them through a
``DataLoader``, which indexes and collates row by row. Here the whole training
set is moved to the device once (:class:`TensorData`) and every batch is one
slice (or one gather through a random permutation) of those tensors
(:class:`TensorBatches`), which is what a hand-written loop does.
"""

import contextlib
import math
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator, to_device

from .._utils.devices import resolve_device
from ._losses import info_nce_loss, mmd_loss

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")

# Inference runs in chunks of this many rows, each padded to the full size: a
# constant (not ``batch_size``), so that predicting one row costs one small
# chunk whatever the training batch size, and so that every chunk has the same
# shape (see :func:`inference_chunks`). Larger on CUDA, where a chunk costs a
# kernel launch per layer whatever its size.
INFERENCE_CHUNK_ROWS = {"cpu": 256, "cuda": 8192}

# CLIP clamps its learnable logit scale (1 / temperature) at 100 to keep training stable.
MAX_LOGIT_SCALE = math.log(100.0)


__all__ = [
    "INFERENCE_CHUNK_ROWS",
    "resolve_device",
    "TensorData",
    "TensorBatches",
    "inference_chunks",
    "HoldOutSplit",
    "StopOnNonFiniteLoss",
    "ValidAccuracy",
    "ClampTemperature",
    "ContrastiveLoss",
    "FusionNet",
    "alignment_loss",
]


class TensorData(torch.utils.data.Dataset):
    """Network input already on its device: ``x``, the ``present`` mask and ``y``.

    Subclassing ``Dataset`` makes skorch's ``get_dataset`` pass it through
    untouched; it is never indexed row by row. ``y`` is None for
    self-supervised training (contrastive alignment) and for inference.
    """

    def __init__(self, x, present, y=None):
        self.x = x
        self.present = present
        self.y = y

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        raise TypeError("TensorData is batched by TensorBatches, not indexed row by row.")

    def subset(self, indices):
        indices = torch.as_tensor(indices, dtype=torch.long, device=self.x.device)
        y = None if self.y is None else self.y[indices]
        return TensorData(self.x[indices], self.present[indices], y)


class TensorBatches:
    """Batches of a :class:`TensorData`: ``({"x": ..., "present": ...}, y)``.

    In training the rows are visited in a random order drawn on the device
    (``torch.randperm``, seeded by the caller); otherwise in order, as views.
    ``drop_single`` skips a trailing batch of one row, which batch
    normalisation cannot train on and which has no negative for a
    contrastive loss.
    """

    def __init__(self, data, batch_size, *, shuffle=False, drop_single=False):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_single = drop_single

    def __len__(self):
        n = len(self.data)
        n_batches = math.ceil(n / self.batch_size)
        if self.drop_single and n > 1 and n % self.batch_size == 1:
            n_batches -= 1
        return n_batches

    def __iter__(self):
        data, size = self.data, self.batch_size
        n = len(data)
        order = torch.randperm(n, device=data.x.device) if self.shuffle else None
        for start in range(0, len(self) * size, size):
            stop = min(start + size, n)
            if order is None:
                rows = slice(start, stop)
                yield {"x": data.x[rows], "present": data.present[rows]}, (
                    None if data.y is None else data.y[rows])
                continue
            rows = order[start:stop]  # index_select: a cheaper gather than x[rows]
            y = None if data.y is None else data.y.index_select(0, rows)
            yield {"x": data.x.index_select(0, rows),
                   "present": data.present.index_select(0, rows)}, y


def inference_chunks(data, chunk_rows):
    """``(batch, n_rows)`` over a :class:`TensorData`, every batch padded to ``chunk_rows``.

    Padding rows are zeros with every modality present; only the first
    ``n_rows`` outputs of a batch are real. BLAS and cuBLAS choose kernels by
    matrix shape, so in float32 a row's output could change in its last bits
    with the number of rows beside it; with every chunk the same shape, a
    row's prediction does not depend on the other rows of X (nor on row order
    or subsetting).
    """
    n = len(data)
    for start in range(0, n, chunk_rows):
        x = data.x[start:start + chunk_rows]
        present = data.present[start:start + chunk_rows]
        n_rows = x.shape[0]
        if n_rows < chunk_rows:
            x_full = x.new_zeros((chunk_rows, x.shape[1]))
            present_full = present.new_ones((chunk_rows, present.shape[1]))
            x_full[:n_rows] = x
            present_full[:n_rows] = present
            x, present = x_full, present_full
        yield {"x": x, "present": present}, n_rows


class HoldOutSplit:
    """skorch ``train_split`` holding out fixed rows (chosen by the estimator) for validation."""

    def __init__(self, valid_indices):
        self.valid_indices = valid_indices

    def __call__(self, dataset, y=None, **fit_params):
        valid = np.zeros(len(dataset), dtype=bool)
        valid[self.valid_indices] = True
        return dataset.subset(np.flatnonzero(~valid)), dataset.subset(np.flatnonzero(valid))


class StopOnNonFiniteLoss(Callback):
    """Stop training with an error when the training loss stops being finite.

    Reads the loss skorch has just recorded (already a Python float), so the
    check costs no extra device synchronisation.
    """

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            epoch = len(net.history)
            batch_number = len(net.history[-1, "batches"])
            amp = ", or turn off `amp`" if net.amp_on() else ""
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {epoch}, batch {batch_number}; "
                f"training stopped. Lower `lr` (now {net.lr}) or check X for extreme "
                f"values{amp}."
            )


class ValidAccuracy(Callback):
    """``valid_acc`` in the history (and the verbose table) from the validation batches."""

    def on_epoch_begin(self, net, **kwargs):
        self._correct = 0
        self._count = 0

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training:
            return
        # A device tensor: summed without synchronising until the epoch ends.
        self._correct = self._correct + (y_pred.argmax(dim=1) == batch[1]).sum()
        self._count += batch[1].shape[0]

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if self._count:
            net.history.record("valid_acc", float(self._correct) / self._count)
        # Hold no device tensor between epochs: the net is pickled with its callbacks.
        self._correct, self._count = 0, 0


class ClampTemperature(Callback):
    """CLIP's cap on a learnable temperature, after every optimiser step.

    The logit scale ``1 / temperature`` of the net's :class:`ContrastiveLoss`
    is kept at most 100 (Radford et al., 2021); the temperature reached is
    recorded in the history (``"temperature"``) at the end of every epoch.
    """

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            with torch.no_grad():
                net.criterion_.log_scale.clamp_(max=MAX_LOGIT_SCALE)

    def on_epoch_end(self, net, **kwargs):
        net.history.record("temperature", float(net.criterion_.temperature().detach()))


def alignment_loss(latents, present, kind, temperature=0.07):
    """Mean alignment loss over pairs of modalities, on the rows where they are present.

    ``"contrastive"`` (InfoNCE at ``temperature``) needs paired rows, so it
    uses the rows where both modalities are present; ``"mmd"`` compares
    distributions, so it uses all the rows where each is present. Pairs with
    fewer than two rows are skipped; with none left the loss is a constant 0.
    """
    n_modalities = latents.shape[1]
    latents = latents.float()
    # A batch where every modality is present (the common case) needs no per-pair
    # masking: one check instead of a boolean gather (and its backward) per pair.
    complete = bool(present.all())
    total, n_pairs = latents.new_zeros(()), 0
    for a in range(n_modalities):
        for b in range(a + 1, n_modalities):
            if complete:
                za, zb = latents[:, a], latents[:, b]
            elif kind == "contrastive":
                both = present[:, a] & present[:, b]
                za, zb = latents[both, a], latents[both, b]
            else:
                za, zb = latents[present[:, a], a], latents[present[:, b], b]
            if za.shape[0] < 2 or zb.shape[0] < 2:
                continue
            if kind == "contrastive":
                loss = info_nce_loss(za, zb, temperature)
            else:
                loss = mmd_loss(za, zb)
            total, n_pairs = total + loss, n_pairs + 1
    return total / max(n_pairs, 1)


class ContrastiveLoss(torch.nn.Module):
    """Symmetric InfoNCE over every pair of modalities, with CLIP's learnable temperature.

    The criterion of contrastive alignment: ``forward(embeddings, present)``
    with embeddings ``(n, M, d)`` is :func:`alignment_loss` of kind
    ``"contrastive"``. The temperature is learned as its log inverse (the
    logit scale) when ``learn_temperature``; the net's optimiser trains it
    with the module, as skorch trains a criterion's parameters.
    """

    def __init__(self, temperature=0.07, learn_temperature=True):
        super().__init__()
        log_scale = torch.tensor(math.log(1.0 / temperature))
        self.log_scale = torch.nn.Parameter(log_scale, requires_grad=learn_temperature)

    def temperature(self):
        return torch.exp(-self.log_scale)

    def forward(self, embeddings, present):
        return alignment_loss(embeddings, present, "contrastive", self.temperature())


class FusionNet(NeuralNet):
    """The skorch ``NeuralNet`` of every skfusion.nn estimator.

    The module takes ``(x, present)`` (see :mod:`skfusion.nn._modules`). The
    loss of a batch is ``criterion(output, y)``, or, for a batch without a
    target (self-supervised contrastive alignment),
    ``criterion(output, present)``; with ``alignment`` set, plus
    ``alignment_weight`` times :func:`alignment_loss` between the latents of
    the modalities (the module's ``forward_parts``).

    Differences from ``NeuralNet``, all through its public hooks:
    :class:`TensorData` is batched by :class:`TensorBatches`
    (``get_iterator``); the steps switch the module's train/eval mode only
    when it changes and zero gradients by setting them to None; the training
    step runs under CUDA autocast with a gradient scaler when ``amp`` is on;
    a step whose loss has no gradient (no pair of modalities to compare)
    leaves the weights alone; per-batch events reach only the callbacks that
    listen to them (``notify``); and :meth:`forward_iter` runs any module
    method over fixed-size padded chunks (:func:`inference_chunks`).
    """

    def __init__(self, module, *args, amp=False, alignment=None, alignment_weight=0.1,
                 drop_single_batch=False, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.amp = amp
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.drop_single_batch = drop_single_batch

    # ------------------------------------------------------------ data

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, TensorData):
            return super().get_iterator(dataset, training=training)
        return TensorBatches(dataset, self.batch_size, shuffle=training,
                             drop_single=training and self.drop_single_batch)

    # ------------------------------------------------------------ modes and precision

    def amp_on(self):
        """Whether the steps run under float16 autocast (``amp`` on a CUDA device)."""
        return bool(self.amp) and torch.device(self.device).type == "cuda"

    def _autocast(self):
        if not self.amp_on():
            return contextlib.nullcontext()  # entering a disabled autocast still costs
        return torch.autocast("cuda", dtype=torch.float16)

    def _switch_modes(self, training):
        # Module.train walks every submodule, and a step runs once per batch:
        # switch only when the mode changes (a measurable share of a small
        # network's step).
        for part in (self.module_, self.criterion_):
            if isinstance(part, torch.nn.Module) and part.training != training:
                part.train(training)

    # ------------------------------------------------------------ loss and steps

    def infer(self, x, **fit_params):
        if not isinstance(x, Mapping):
            return super().infer(x, **fit_params)
        # Batches are already tensors on the device: skip skorch's conversion.
        return self.module_(**x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if y_true is None:
            # Self-supervised: the criterion compares the modalities' outputs
            # with each other on the rows where they are present.
            return self.criterion_(y_pred, X["present"])
        return self.criterion_(y_pred, y_true)

    def train_step(self, batch, **fit_params):
        self._switch_modes(True)
        Xi, yi = batch
        self.optimizer_.zero_grad(set_to_none=True)
        aligned = self.alignment is not None and self.alignment_weight > 0
        with self._autocast():
            if aligned:
                y_pred, latents, _ = self.module_.forward_parts(**Xi)
            else:
                y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            if aligned:
                loss = loss + self.alignment_weight * alignment_loss(
                    latents, Xi["present"], self.alignment
                )
        if loss.requires_grad:
            self._backward_and_step(loss, batch)
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}

    def _backward_and_step(self, loss, batch):
        scaler = self.__dict__.get("_scaler")
        if scaler is not None:
            scaler.scale(loss).backward()
            self._notify_grad(batch)
            scaler.step(self.optimizer_)
            scaler.update()
        else:
            loss.backward()
            self._notify_grad(batch)
            self.optimizer_.step()

    def _notify_grad(self, batch):
        listeners = self.__dict__.get("_batch_listeners")
        if (listeners is not None and not listeners["on_grad_computed"]
                and type(self).on_grad_computed is NeuralNet.on_grad_computed):
            return  # nobody listens: skip building the parameter generator
        self.notify("on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch, training=True)

    def validation_step(self, batch, **fit_params):
        self._switch_modes(False)
        Xi, yi = batch
        with torch.no_grad(), self._autocast():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss.float(), "y_pred": y_pred.float()}

    # ------------------------------------------------------------ inference

    def evaluation_step(self, batch, training=False, *, method="forward"):
        """``module_.<method>`` on one batch, without gradient unless ``training``."""
        self.check_is_fitted()
        Xi, _ = batch
        self._switch_modes(training)
        with torch.set_grad_enabled(training), self._autocast():
            if method == "forward":
                # infer calls the module itself, so that its hooks run, as users expect.
                return self.infer(Xi).float()
            return getattr(self.module_, method)(**Xi).float()

    def forward_iter(self, X, training=False, device="cpu", *, method="forward"):
        """Outputs of ``module_.<method>`` over ``X``, one fixed-size chunk at a time.

        For a :class:`TensorData`, the chunks are :func:`inference_chunks` of
        ``INFERENCE_CHUNK_ROWS`` rows (whatever ``batch_size``), padding
        removed; other input goes through skorch's own ``forward_iter``.
        """
        if not isinstance(X, TensorData):
            yield from super().forward_iter(X, training=training, device=device)
            return
        chunk_rows = INFERENCE_CHUNK_ROWS[torch.device(self.device).type]
        for batch, n_rows in inference_chunks(X, chunk_rows):
            output = self.evaluation_step((batch, None), training=training, method=method)
            yield to_device(output[:n_rows], device)

    def predict_tensor_data(self, data, method="forward"):
        """``module_.<method>`` over all of ``data`` (a :class:`TensorData`), as float32 NumPy.

        The one inference path of skfusion.nn: eval mode, no gradient, on the
        net's device, in fixed-size chunks (:meth:`forward_iter`).
        """
        return torch.cat(list(self.forward_iter(data, method=method))).numpy()

    # ------------------------------------------------------------ callbacks

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        # Training state only, dropped at the end so that it is never pickled.
        if self.amp_on():
            self.__dict__["_scaler"] = torch.amp.GradScaler("cuda")
        self.__dict__["_batch_listeners"] = {
            event: [cb for _, cb in self.callbacks_
                    if getattr(type(cb), event) is not getattr(Callback, event)]
            for event in _BATCH_EVENTS
        }

    def on_train_end(self, net, **kwargs):
        self.__dict__.pop("_scaler", None)
        self.__dict__.pop("_batch_listeners", None)
        super().on_train_end(net, **kwargs)

    def notify(self, method_name, **cb_kwargs):
        # Per-batch events reach only the callbacks that override them: calling
        # every callback's no-op three times a batch is most of skorch's
        # per-batch cost on a small network.
        listeners = self.__dict__.get("_batch_listeners")
        if listeners is None or method_name not in listeners:
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for callback in listeners[method_name]:
            getattr(callback, method_name)(self, **cb_kwargs)
