"""Which torch device a ``device`` parameter names: one rule for every package.

``"auto"`` is CUDA when torch sees it, else the CPU; an explicit CUDA request
without CUDA is an error naming the parameter. torch is imported only inside
the function, so that importing a package that uses it stays torch-free.
"""

import re

__all__ = ["resolve_device"]

_DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")


def resolve_device(device):
    """The torch device string of a ``device`` parameter, or a ValueError naming it.

    ``"auto"`` is CUDA when torch sees it, else the CPU; ``"cpu"``, ``"cuda"``
    and ``"cuda:<index>"`` are taken as they are, provided torch has that device.

    Examples
    --------
    >>> from skfusion._utils.devices import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: `device` must be 'auto', 'cpu', 'cuda' or 'cuda:<index>'; got 'tpu'.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or not _DEVICE_PATTERN.fullmatch(device):
        raise ValueError(
            f"`device` must be 'auto', 'cpu', 'cuda' or 'cuda:<index>'; got {device!r}."
        )
    if device == "cpu":
        return device
    if not torch.cuda.is_available():
        raise ValueError(
            f"`device={device!r}` but torch sees no CUDA device; use device='auto' "
            "(CUDA when available, else CPU) or device='cpu'."
        )
    index = torch.device(device).index
    if index is not None and index >= torch.cuda.device_count():
        raise ValueError(
            f"`device={device!r}` but torch sees {torch.cuda.device_count()} CUDA "
            f"device(s), numbered from 0."
        )
    return device
