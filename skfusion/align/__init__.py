"""Alignment into a shared space: regularised multi-view CCA (and generalised CCA),
and graph-based fusion of per-modality sample graphs (similarity network fusion).

Multi-set CCA finds, for each modality, linear projections whose outputs
agree (correlate) across modalities; the shared coordinates of a row are the
average of its modalities' projections. The torch-based counterpart,
:class:`skfusion.nn.ContrastiveAlignment`, learns non-linear heads instead.
"""

from ._mcca import MultiviewCCA
from ._snf import SimilarityNetworkClustering, SimilarityNetworkFusion, propagate_labels

__all__ = ["MultiviewCCA", "SimilarityNetworkClustering", "SimilarityNetworkFusion", "propagate_labels"]
