"""Choosing a fusion strategy by evidence: :func:`compare_fusion` cross-validates
fusion strategies on the same folds and returns a :class:`FusionComparison`
(scores, costs, gain over the best single modality), which
:class:`FusionComparisonDisplay` plots.
"""

from ._compare import compare_fusion
from ._plot import FusionComparisonDisplay
from ._result import FusionComparison
from ._strategies import STRATEGY_NAMES

__all__ = ["compare_fusion", "FusionComparison", "FusionComparisonDisplay", "STRATEGY_NAMES"]
