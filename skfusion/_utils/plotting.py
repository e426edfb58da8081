"""What the Display classes of :mod:`skfusion.inspection` and
:mod:`skfusion.model_selection` share: the axes to draw on (matplotlib imported
inside, so that importing skfusion never needs it)."""

from sklearn.utils._optional_dependencies import check_matplotlib_support

__all__ = ["axes_or_new_figure"]


def axes_or_new_figure(ax, caller):
    """``ax``, or a new figure's axes; a clear ImportError when matplotlib is missing."""
    check_matplotlib_support(caller)
    import matplotlib.pyplot as plt

    return plt.subplots()[1] if ax is None else ax
