"""Data sets: multimodal generators and the bundled UCI Multiple Features digits."""

from ._generators import make_multimodal_classification, make_multimodal_regression
from ._mfeat import load_mfeat

__all__ = ["load_mfeat", "make_multimodal_classification", "make_multimodal_regression"]
