"""Alignment into a shared space: regularised multi-view CCA.

Multi-set CCA finds, for each modality, linear projections whose outputs
agree (correlate) across modalities; the shared coordinates of a row are the
average of its modalities' projections. The torch-based counterpart,
:class:`skfusion.nn.ContrastiveAlignment`, learns non-linear heads instead.
"""

from ._mcca import MultiviewCCA

__all__ = ["MultiviewCCA"]
