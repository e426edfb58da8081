"""What the Display classes of :mod:`skfusion.inspection` and
:mod:`skfusion.model_selection` share: the axes to draw on (matplotlib imported
inside, so that importing skfusion never needs it) and the check of the keywords
their ``from_*`` constructors pass on to ``plot``."""

from sklearn.utils._optional_dependencies import check_matplotlib_support

__all__ = ["axes_or_new_figure", "check_plot_kwargs"]


def axes_or_new_figure(ax, caller):
    """``ax``, or a new figure's axes; a clear ImportError when matplotlib is missing."""
    check_matplotlib_support(caller)
    import matplotlib.pyplot as plt

    return plt.subplots()[1] if ax is None else ax


def check_plot_kwargs(plot_kwargs, plot, caller, also=()):
    """TypeError naming the keywords of ``plot_kwargs`` that ``plot`` does not take."""
    import inspect

    accepted = [name for name in inspect.signature(plot).parameters if name not in ("self", "ax")]
    accepted += list(also)
    unknown = sorted(set(plot_kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"{caller} got unexpected keyword argument(s) {unknown}; its other keywords "
            f"go to plot(), which takes {sorted(accepted)}."
        )
