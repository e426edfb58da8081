"""Cooperative learning: one parameter between early and late fusion (linear models).

Ding, Li, Narasimhan and Tibshirani, "Cooperative learning for multiview
analysis", PNAS 119(38), 2022.
"""

from ._cooperative import CooperativeFusion

__all__ = ["CooperativeFusion"]
