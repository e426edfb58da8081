"""Late (decision-level) fusion: one model per modality, then a vote or a stack.

Both estimators fit each branch only on the rows where its modalities are
present, run all (branch x fold) fits in one flat joblib call, and can cache
each branch's work with ``memory``.
"""

from ._stacking import StackingLateFusion
from ._voting import WeightedVoteFusion

__all__ = ["StackingLateFusion", "WeightedVoteFusion"]
