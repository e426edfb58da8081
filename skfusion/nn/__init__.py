"""Torch-based estimators (intermediate fusion, contrastive alignment) and
the alignment losses they use.

Needs the ``torch`` extra: ``pip install "skfusion[torch]"``.
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "skfusion.nn needs torch and skorch; install them with "
        "`pip install \"skfusion[torch]\"` (or `pip install torch skorch`)."
    ) from exc

from ._contrastive import ContrastiveAlignment
from ._estimators import IntermediateFusionClassifier, IntermediateFusionRegressor
from ._losses import info_nce_loss, mmd_loss

__all__ = [
    "ContrastiveAlignment",
    "IntermediateFusionClassifier",
    "IntermediateFusionRegressor",
    "info_nce_loss",
    "mmd_loss",
]
