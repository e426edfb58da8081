"""ModalityImportanceDisplay: bars of modality importances or Shapley values.

It follows scikit-learn's Display conventions: the constructor stores the
numbers, ``from_*`` class methods compute them and call :meth:`plot`, which
draws on ``ax`` (a new figure when None) and sets ``ax_`` and ``figure_``.
matplotlib is imported inside :meth:`plot` only.
"""

import numpy as np

from .._utils.docstrings import DISPLAY_AXES, FROM_AX_AND_PLOT_KWARGS, fill_doc
from .._utils.plotting import axes_or_new_figure, check_plot_kwargs

__all__ = ["ModalityImportanceDisplay"]


@fill_doc(display_axes=DISPLAY_AXES)
class ModalityImportanceDisplay:
    """Horizontal bars of modality importances, with their spread.

    Bars are the mean importance; error bars its standard deviation over
    repeats and dots the individual repeats (permutation importance). For
    Shapley values there is one value per modality and no spread.

    Parameters
    ----------
    importances_mean : array-like of shape (n_modalities,)
        Bar lengths.
    modality_names : array-like of shape (n_modalities,)
        Bar labels.
    importances_std : array-like of shape (n_modalities,), default=None
        Error bar half-widths.
    importances : array-like of shape (n_modalities, n_repeats), default=None
        Individual repeats, drawn as dots.
    xlabel : str, default="decrease in score when permuted"
        Label of the value axis.

    Attributes
    ----------
    %(display_axes)s
    bars_ : matplotlib BarContainer
        The bars, in plotting order (largest at the top when sorted).

    See Also
    --------
    skfusion.inspection.modality_importance : Permutation importance of modalities.
    skfusion.inspection.modality_shapley : Shapley values of modalities.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skfusion.inspection import ModalityImportanceDisplay
    >>> display = ModalityImportanceDisplay(
    ...     importances_mean=[0.3, 0.01], modality_names=["image", "text"],
    ...     importances_std=[0.02, 0.01]).plot()
    >>> [label.get_text() for label in display.ax_.get_yticklabels()]
    ['text', 'image']
    """

    def __init__(
        self,
        *,
        importances_mean,
        modality_names,
        importances_std=None,
        importances=None,
        xlabel="decrease in score when permuted",
    ):
        self.importances_mean = importances_mean
        self.modality_names = modality_names
        self.importances_std = importances_std
        self.importances = importances
        self.xlabel = xlabel

    def plot(self, ax=None, *, sort=True):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        sort : bool, default=True
            Largest mean at the top; otherwise the given order from the top.

        Returns
        -------
        display : ModalityImportanceDisplay
            ``self``, with ``ax_``, ``figure_`` and ``bars_`` set.
        """
        ax = axes_or_new_figure(ax, f"{type(self).__name__}.plot")
        mean = np.asarray(self.importances_mean, dtype=float)
        # barh draws from the bottom: ascending order puts the largest on top.
        order = np.argsort(mean, kind="stable") if sort else np.arange(mean.size)[::-1]
        positions = np.arange(mean.size)
        std = (
            None
            if self.importances_std is None
            else np.asarray(self.importances_std, dtype=float)[order]
        )
        self.bars_ = ax.barh(
            positions, mean[order], xerr=std, capsize=3, color="tab:blue", alpha=0.7
        )
        if self.importances is not None:
            repeats = np.asarray(self.importances, dtype=float)[order]
            rows = np.repeat(positions, repeats.shape[1])
            ax.plot(repeats.ravel(), rows, "k.", markersize=3, alpha=0.6)
        ax.set_yticks(positions, [str(self.modality_names[i]) for i in order])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("modality")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_results(cls, results, *, ax=None, xlabel=None, **plot_kwargs):
        """Plot what :func:`modality_importance` or :func:`modality_shapley` returned.

        Parameters
        ----------
        results : Bunch
            A permutation-importance Bunch (``importances_mean``, ...) or a
            Shapley Bunch (``shapley_values``).
        ax : matplotlib Axes, default=None
            Axes to draw on.
        xlabel : str, default=None
            Label of the value axis; a suitable one when None.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ModalityImportanceDisplay
        """
        if not isinstance(results, dict):
            raise TypeError(
                "`results` must be what modality_importance or modality_shapley returned; "
                f"got {type(results).__name__}"
                + (" (plot it with its own .plot())" if hasattr(results, "plot") else "")
                + "."
            )
        if "modality_names" not in results:
            raise ValueError(
                f"`results` holds several metrics {list(results)}; pass one of them, "
                "e.g. results['accuracy']."
            )
        if "shapley_values" in results:
            display = cls(
                importances_mean=results["shapley_values"],
                modality_names=results["modality_names"],
                xlabel=xlabel or "Shapley value (share of the gain over no modality)",
            )
        else:
            display = cls(
                importances_mean=results["importances_mean"],
                modality_names=results["modality_names"],
                importances_std=results["importances_std"],
                importances=results["importances"],
                xlabel=xlabel or "decrease in score when permuted",
            )
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    @fill_doc(from_ax_and_plot_kwargs=FROM_AX_AND_PLOT_KWARGS)
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        modalities=None,
        *,
        method="permutation",
        scoring=None,
        n_repeats=5,
        random_state=0,
        shapley_method="auto",
        cv=5,
        n_jobs=None,
        groups=None,
        ax=None,
        **plot_kwargs,
    ):
        """Compute modality importances of a fitted estimator and plot them.

        Parameters
        ----------
        estimator : estimator object
            Fitted for ``method="permutation"``; see :func:`modality_shapley`.
        X, y, modalities
            As in :func:`modality_importance`.
        method : {"permutation", "shapley"}, default="permutation"
            :func:`modality_importance` or :func:`modality_shapley`.
        scoring : str or callable, default=None
            One metric.
        n_repeats : int, default=5
            Permutations per modality (``"permutation"`` only).
        random_state : int, RandomState instance or None, default=0
            Seeds the permutations (a fixed seed by default).
        shapley_method : {"auto", "mask", "refit"}, default="auto"
            ``method`` of :func:`modality_shapley` (``"shapley"`` only).
        cv : int, cross-validation generator or iterable, default=5
            Folds of :func:`modality_shapley` when it refits (``"shapley"`` only).
        n_jobs : int, default=None
            Parallel jobs.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter in ``cv`` (``"shapley"`` when it
            refits only), as in :func:`modality_shapley`.
        %(from_ax_and_plot_kwargs)s

        Returns
        -------
        display : ModalityImportanceDisplay
        """
        from ._importance import modality_importance
        from ._shapley import modality_shapley

        # before the importances are computed: a keyword this method does not take
        # would otherwise fail only after that work
        check_plot_kwargs(plot_kwargs, cls.plot, "ModalityImportanceDisplay.from_estimator")

        if method == "permutation":
            results = modality_importance(
                estimator,
                X,
                y,
                modalities,
                n_repeats=n_repeats,
                scoring=scoring,
                random_state=random_state,
                n_jobs=n_jobs,
            )
        elif method == "shapley":
            results = modality_shapley(
                estimator,
                X,
                y,
                modalities,
                scoring=scoring,
                method=shapley_method,
                cv=cv,
                n_jobs=n_jobs,
                groups=groups,
            )
        else:
            raise ValueError(f"`method` must be 'permutation' or 'shapley'; got {method!r}.")
        return cls.from_results(results, ax=ax, **plot_kwargs)
