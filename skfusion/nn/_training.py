"""The skorch side of intermediate fusion: a fast in-memory data path and the net.

skorch's default path wraps arrays in a ``Dataset`` and batches them through a
``DataLoader``, which indexes and collates row by row. Here the whole training
set is moved to the device once (:class:`TensorData`) and every batch is one
slice (or one gather through a random permutation) of those tensors
(:class:`TensorBatches`), which is what a hand-written loop does.
"""

import contextlib
import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")

__all__ = [
    "TensorData",
    "TensorBatches",
    "HoldOutSplit",
    "StopOnNonFiniteLoss",
    "ValidAccuracy",
    "FusionNet",
    "alignment_loss",
]


class TensorData(torch.utils.data.Dataset):
    """Network input already on its device: ``x``, the ``present`` mask and ``y``.

    Subclassing ``Dataset`` makes skorch's ``get_dataset`` pass it through
    untouched; it is never indexed row by row.
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
    normalisation cannot train on.
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
            rows = slice(start, stop) if order is None else order[start:stop]
            y = None if data.y is None else data.y[rows]
            yield {"x": data.x[rows], "present": data.present[rows]}, y


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
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {epoch}, batch {batch_number}; "
                f"training stopped. Lower `lr` (now {net.lr}), check X for extreme "
                "values, or turn off `amp`."
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


def alignment_loss(latents, present, kind):
    """Mean alignment loss over pairs of modalities, on the rows where they are present.

    ``"contrastive"`` (InfoNCE) needs paired rows, so it uses the rows where both
    modalities are present; ``"mmd"`` compares distributions, so it uses all the
    rows where each is present. Pairs with fewer than two rows are skipped.
    """
    from ._losses import info_nce_loss, mmd_loss

    n_modalities = latents.shape[1]
    latents = latents.float()
    total, n_pairs = latents.new_zeros(()), 0
    for a in range(n_modalities):
        for b in range(a + 1, n_modalities):
            if kind == "contrastive":
                both = present[:, a] & present[:, b]
                za, zb = latents[both, a], latents[both, b]
            else:
                za, zb = latents[present[:, a], a], latents[present[:, b], b]
            if za.shape[0] < 2 or zb.shape[0] < 2:
                continue
            loss = info_nce_loss(za, zb) if kind == "contrastive" else mmd_loss(za, zb)
            total, n_pairs = total + loss, n_pairs + 1
    return total / max(n_pairs, 1)


class FusionNet(NeuralNet):
    """skorch ``NeuralNet`` over a :class:`~skfusion.nn._modules.FusionNetwork`.

    Differences from ``NeuralNet``: :class:`TensorData` is batched by
    :class:`TensorBatches`; the training step runs under CUDA autocast with a
    gradient scaler when ``amp`` is on, and adds ``alignment_weight`` times an
    alignment loss between modality latents when ``alignment`` is set.
    """

    def __init__(self, module, *args, amp=False, alignment=None, alignment_weight=0.1,
                 drop_single_batch=False, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.amp = amp
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.drop_single_batch = drop_single_batch

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, TensorData):
            return super().get_iterator(dataset, training=training)
        return TensorBatches(dataset, self.batch_size, shuffle=training,
                             drop_single=training and self.drop_single_batch)

    def _autocast(self):
        if not self._amp_on():
            return contextlib.nullcontext()  # entering a disabled autocast still costs
        return torch.autocast("cuda", dtype=torch.float16)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Batches are already tensors on the device: skip skorch's conversion.
        return self.criterion_(y_pred, y_true)

    def _amp_on(self):
        return bool(self.amp) and torch.device(self.device).type == "cuda"

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        # Training state only, dropped at the end so that it is never pickled.
        if self._amp_on():
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

    def _set_training(self, training=True):
        # skorch calls this every batch and Module.train walks every submodule;
        # skip the walk when the mode is already right (a measurable share of a
        # small network's step).
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        self._zero_grad_optimizer(set_to_none=True)
        with self._autocast():
            y_pred, latents, _ = self.module_.forward_parts(**Xi)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            if self.alignment is not None and self.alignment_weight > 0:
                loss = loss + self.alignment_weight * alignment_loss(
                    latents, Xi["present"], self.alignment
                )
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
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}

    def _notify_grad(self, batch):
        listeners = self.__dict__.get("_batch_listeners")
        if (listeners is not None and not listeners["on_grad_computed"]
                and type(self).on_grad_computed is NeuralNet.on_grad_computed):
            return  # nobody listens: skip building the parameter generator
        self.notify("on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch, training=True)

    def validation_step(self, batch, **fit_params):
        with self._autocast():
            step = super().validation_step(batch, **fit_params)
        return {"loss": step["loss"].float(), "y_pred": step["y_pred"].float()}
