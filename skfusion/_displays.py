"""Displays for fusion comparisons and modality importances.

They follow scikit-learn's Display conventions: the constructor stores the
numbers, ``from_*`` class methods compute them and call :meth:`plot`, which
draws on ``ax`` (a new figure when None) and sets ``ax_`` and ``figure_``.
matplotlib is imported inside :meth:`plot` only.
"""

import numpy as np

__all__ = ["FusionComparisonDisplay", "ModalityImportanceDisplay"]


def _axes(ax, caller):
    """``ax`` or a fresh one; a clear ImportError when matplotlib is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a test dependency
        raise ImportError(
            f'{caller} needs matplotlib; install it with `pip install "skfusion[plot]"`.'
        ) from exc
    if ax is None:
        _, ax = plt.subplots()
    return ax


_KIND_COLORS = {
    "single": "tab:gray",
    "early": "tab:blue",
    "late": "tab:orange",
    "intermediate": "tab:green",
    "hybrid": "tab:purple",
    "custom": "tab:red",
}


class FusionComparisonDisplay:
    """Score against fit time, one labelled point per fusion strategy.

    Each point is a strategy's mean cross-validated score (error bar: its
    standard deviation over folds) against its mean fit time (error bar:
    standard deviation), coloured by kind. Build it with :meth:`from_results`
    or :meth:`from_estimators`.

    Parameters
    ----------
    names : list of str
        Strategy labels.
    scores_mean, scores_std : array-like of shape (n_strategies,)
        Mean and standard deviation of the score over folds.
    fit_times_mean, fit_times_std : array-like of shape (n_strategies,)
        Mean and standard deviation of the fit time in seconds.
    kinds : list of str, default=None
        Kind of each strategy (``"single"``, ``"early"``, ``"late"``, ...),
        used for colours and the legend.
    metric : str, default="score"
        Label of the y axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    errorbars_ : list of matplotlib ErrorbarContainer
        One per strategy.
    texts_ : list of matplotlib Text
        The strategy labels.

    See Also
    --------
    skfusion.model_selection.compare_fusion : Computes the comparison.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skfusion.inspection import FusionComparisonDisplay
    >>> display = FusionComparisonDisplay(
    ...     names=["single:a", "early"], scores_mean=[0.7, 0.9], scores_std=[0.05, 0.02],
    ...     fit_times_mean=[0.1, 0.3], fit_times_std=[0.01, 0.02],
    ...     kinds=["single", "early"], metric="accuracy").plot()
    >>> display.ax_.get_ylabel()
    'accuracy'
    >>> [text.get_text() for text in display.texts_]
    ['single:a', 'early']
    """

    def __init__(
        self,
        *,
        names,
        scores_mean,
        scores_std,
        fit_times_mean,
        fit_times_std,
        kinds=None,
        metric="score",
    ):
        self.names = names
        self.scores_mean = scores_mean
        self.scores_std = scores_std
        self.fit_times_mean = fit_times_mean
        self.fit_times_std = fit_times_std
        self.kinds = kinds
        self.metric = metric

    def plot(self, ax=None, *, log_time="auto", annotate=True):
        """Draw the comparison.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        log_time : bool or "auto", default="auto"
            Logarithmic time axis; "auto" uses one when the fit times span
            more than a factor of 10.
        annotate : bool, default=True
            Write each strategy's name next to its point.

        Returns
        -------
        display : FusionComparisonDisplay
            ``self``, with ``ax_``, ``figure_``, ``errorbars_`` and ``texts_`` set.
        """
        ax = _axes(ax, f"{type(self).__name__}.plot")
        times = np.asarray(self.fit_times_mean, dtype=float)
        kinds = self.kinds if self.kinds is not None else ["custom"] * len(self.names)
        self.errorbars_, self.texts_, seen = [], [], set()
        for i, name in enumerate(self.names):
            kind = kinds[i]
            container = ax.errorbar(
                times[i],
                self.scores_mean[i],
                yerr=self.scores_std[i],
                xerr=self.fit_times_std[i],
                fmt="o",
                capsize=3,
                color=_KIND_COLORS.get(kind, "black"),
                label=None if kind in seen else kind,
            )
            seen.add(kind)
            self.errorbars_.append(container)
            if annotate:
                self.texts_.append(
                    ax.annotate(
                        name,
                        (times[i], self.scores_mean[i]),
                        textcoords="offset points",
                        xytext=(5, 5),
                        fontsize="small",
                    )
                )
        positive = times[times > 0]
        if log_time is True or (
            log_time == "auto" and positive.size and positive.max() > 10 * positive.min()
        ):
            ax.set_xscale("log")
        ax.set_xlabel("fit time per fold (s)")
        ax.set_ylabel(self.metric)
        ax.legend(title="kind", fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_results(cls, results, *, metric=None, ax=None, **plot_kwargs):
        """Plot a :class:`~skfusion.model_selection.FusionComparison`.

        Parameters
        ----------
        results : FusionComparison
            What :func:`~skfusion.model_selection.compare_fusion` returned.
        metric : str, default=None
            Which metric to plot; the primary one when None.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FusionComparisonDisplay
        """
        metric = results.primary_metric if metric is None else metric
        if metric not in results.metrics:
            raise ValueError(f"Unknown metric {metric!r}; the comparison has {results.metrics}.")
        records = results.records
        display = cls(
            names=list(results.names),
            scores_mean=np.array([np.mean(r["scores"][metric]) for r in records]),
            scores_std=np.array([np.std(r["scores"][metric]) for r in records]),
            fit_times_mean=np.array([np.mean(r["fit_time"]) for r in records]),
            fit_times_std=np.array([np.std(r["fit_time"]) for r in records]),
            kinds=[r["kind"] for r in records],
            metric=metric,
        )
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimators(
        cls,
        strategies,
        X,
        y,
        modalities,
        *,
        cv=5,
        scoring=None,
        n_jobs=None,
        random_state=None,
        ax=None,
        **plot_kwargs,
    ):
        """Run :func:`~skfusion.model_selection.compare_fusion` and plot it.

        Parameters
        ----------
        strategies : "default", list or dict
            As in :func:`~skfusion.model_selection.compare_fusion`.
        X, y, modalities, cv, scoring, n_jobs, random_state
            As in :func:`~skfusion.model_selection.compare_fusion`.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FusionComparisonDisplay
        """
        from .model_selection import compare_fusion

        results = compare_fusion(
            X,
            y,
            modalities,
            strategies,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            random_state=random_state,
        )
        return cls.from_results(results, ax=ax, **plot_kwargs)


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
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
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
        ax = _axes(ax, f"{type(self).__name__}.plot")
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
        if isinstance(results, dict) and "modality_names" not in results:
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
        random_state=None,
        n_jobs=None,
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
        random_state : int, RandomState instance or None, default=None
            Seeds the permutations.
        n_jobs : int, default=None
            Parallel jobs.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ModalityImportanceDisplay
        """
        from .inspection import modality_importance, modality_shapley

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
            results = modality_shapley(estimator, X, y, modalities, scoring=scoring, n_jobs=n_jobs)
        else:
            raise ValueError(f"`method` must be 'permutation' or 'shapley'; got {method!r}.")
        return cls.from_results(results, ax=ax, **plot_kwargs)
