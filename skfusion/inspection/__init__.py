"""Which modality carries the prediction: ablation, permutation importance,
Shapley values, and the display that plots them.

- :func:`modality_ablation` refits the estimator on subsets of modalities
  (synergy and redundancy);
- :func:`modality_importance` shuffles one modality's columns together
  (scikit-learn's permutation importance, one block per modality);
- :func:`modality_shapley` splits the gain of the full model over an
  uninformed prediction among the modalities (exact Shapley values).

Each estimator answers for itself how it is restricted to a subset of its
modalities and whether it can predict with some of them masked (see
:mod:`skfusion._utils.modality_protocol`); these tools never look at its class.
"""

from ._ablation import ModalityAblation, modality_ablation
from ._importance import modality_importance
from ._plot import ModalityImportanceDisplay
from ._shapley import modality_shapley

__all__ = [
    "modality_ablation",
    "modality_importance",
    "modality_shapley",
    "ModalityAblation",
    "FusionComparisonDisplay",
    "ModalityImportanceDisplay",
]


def __getattr__(name):
    # FusionComparisonDisplay lives beside compare_fusion (model_selection); this
    # path, where it was first documented, keeps working without inspection
    # importing model_selection at import time.
    if name == "FusionComparisonDisplay":
        from ..model_selection import FusionComparisonDisplay

        return FusionComparisonDisplay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
