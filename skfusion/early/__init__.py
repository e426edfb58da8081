"""Early (feature-level) fusion: one fused feature matrix for any downstream estimator.

:class:`FeatureFusion` transforms each modality (optionally), puts every block
on a comparable scale, weights and concatenates them. :class:`InteractionFusion`
builds cross-modal multiplicative features (element-wise products, Tensor
Fusion outer products, or their compact bilinear sketch).
"""

from ._feature_fusion import FeatureFusion
from ._interaction_fusion import InteractionFusion

__all__ = ["FeatureFusion", "InteractionFusion"]
