"""skfusion: multimodal fusion for scikit-learn.

One 2-D ``X`` whose columns fall into modalities (described by a ``modalities``
dict), and estimators for every fusion strategy: early (feature-level),
intermediate (``skfusion.nn``, needs the ``torch`` extra), late
(decision-level), hybrid, and alignment into a shared space.

``import skfusion`` imports neither torch nor matplotlib.
"""

__version__ = "0.1.0.dev0"

from ._modalities import concat_modalities

# -- align --
from .align import (
    MultiviewCCA,
    SimilarityNetworkClustering,
    SimilarityNetworkFusion,
    propagate_labels,
)
from .cooperative import CooperativeFusion

# Public estimators, one line per strategy package (the floors are on docs/architecture.rst).
# -- early --
from .early import FeatureFusion, InteractionFusion
from .exceptions import NoModalityPresentWarning, SmallDataWarning

# -- late --
from .late import StackingLateFusion, WeightedVoteFusion

__all__ = [
    "__version__",
    "concat_modalities",
    # -- exported names --
    "FeatureFusion",
    "InteractionFusion",
    "CooperativeFusion",
    "MultiviewCCA",
    "SimilarityNetworkClustering",
    "SimilarityNetworkFusion",
    "propagate_labels",
    "NoModalityPresentWarning",
    "SmallDataWarning",
    "StackingLateFusion",
    "WeightedVoteFusion",
]
