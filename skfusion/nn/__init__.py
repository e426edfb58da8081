"""Torch-based estimators (intermediate fusion, contrastive alignment) and
the alignment losses they use.

Needs the ``torch`` extra: ``pip install "skfusion[torch]"``.
"""

from .._utils.optional import import_optional

# Fail here, with the extra to install, rather than deep inside a submodule.
import_optional("torch", needed_by="skfusion.nn", extra="torch")
import_optional("skorch", needed_by="skfusion.nn", extra="torch")

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
