"""Which torch device a ``device`` parameter names: one rule for every package.

The rule of :mod:`skfusion.nn`'s estimators: ``"auto"`` is CUDA when torch
sees it, else the CPU; an explicit CUDA request without CUDA is an error
naming the parameter. torch is imported only here, inside the function, so
that importing a package that uses it stays torch-free.
"""

__all__ = ["resolve_device"]


def resolve_device(device):
    """``"auto"`` -> CUDA when available; an explicit CUDA request without CUDA is an error.

    Returns the device as torch spells it (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"`device` must be 'cpu', 'cuda', 'cuda:<index>' or 'auto'; got {device!r}."
        ) from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"`device={device!r}` but torch sees no CUDA device; use device='auto' "
            "(CUDA when available, else CPU) or device='cpu'."
        )
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"`device` must be a CPU or CUDA device; got {device!r}.")
    return str(parsed)
