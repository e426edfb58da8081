"""FusionComparisonDisplay: score against fit time, one point per strategy.

It follows scikit-learn's Display conventions: the constructor stores the
numbers, ``from_*`` class methods compute them and call :meth:`plot`, which
draws on ``ax`` (a new figure when None) and sets ``ax_`` and ``figure_``.
matplotlib is imported inside :meth:`plot` only (as scikit-learn keeps
``model_selection/_plot.py``).
"""

import numpy as np

from .._utils.docstrings import DISPLAY_AXES, FROM_AX_AND_PLOT_KWARGS, fill_doc
from .._utils.plotting import axes_or_new_figure, check_plot_kwargs

__all__ = ["FusionComparisonDisplay"]


_KIND_COLORS = {
    "single": "tab:gray",
    "early": "tab:blue",
    "late": "tab:orange",
    "intermediate": "tab:green",
    "hybrid": "tab:purple",
    "custom": "tab:red",
}


@fill_doc(display_axes=DISPLAY_AXES)
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
    best : str, default=None
        The best strategy, marked on the plot (``from_results`` passes the
        comparison's ``best_``).

    Attributes
    ----------
    %(display_axes)s
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
        best=None,
    ):
        self.names = names
        self.scores_mean = scores_mean
        self.scores_std = scores_std
        self.fit_times_mean = fit_times_mean
        self.fit_times_std = fit_times_std
        self.kinds = kinds
        self.metric = metric
        self.best = best

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
            Write each strategy's name next to its point; labels that would
            overlap are moved apart vertically. The ``best`` strategy's point
            is ringed and its label is bold.

        Returns
        -------
        display : FusionComparisonDisplay
            ``self``, with ``ax_``, ``figure_``, ``errorbars_`` and ``texts_`` set.
        """
        ax = axes_or_new_figure(ax, f"{type(self).__name__}.plot")
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
            if name == self.best:
                ax.plot(times[i], self.scores_mean[i], "o", markersize=14, markerfacecolor="none",
                        markeredgecolor="black", label="best")
            if annotate and np.isfinite(self.scores_mean[i]):  # a strategy that failed: no point
                self.texts_.append(
                    ax.annotate(
                        name,
                        (times[i], self.scores_mean[i]),
                        textcoords="offset points",
                        xytext=(5, 5),
                        fontsize="small",
                        fontweight="bold" if name == self.best else "normal",
                    )
                )
        positive = times[times > 0]
        if log_time is True or (
            log_time == "auto" and positive.size and positive.max() > 10 * positive.min()
        ):
            ax.set_xscale("log")
        ax.set_xlabel("fit time per fold (s)")
        ax.set_ylabel(self.metric)
        # one entry per kind (and the best's ring), also when plotted twice on the same
        # axes; no "kind" title, which the ring is not
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), fontsize="small")
        _separate_labels(self.texts_)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    @fill_doc(from_ax_and_plot_kwargs=FROM_AX_AND_PLOT_KWARGS)
    def from_results(cls, results, *, metric=None, ax=None, **plot_kwargs):
        """Plot a :class:`~skfusion.model_selection.FusionComparison`.

        Parameters
        ----------
        results : FusionComparison
            What :func:`~skfusion.model_selection.compare_fusion` returned.
        metric : str, default=None
            Which metric to plot; the primary one when None.
        %(from_ax_and_plot_kwargs)s

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
            best=results.best_ if metric == results.primary_metric else None,
        )
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    @fill_doc(from_ax_and_plot_kwargs=FROM_AX_AND_PLOT_KWARGS)
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
        task="auto",
        error_score="raise",
        share_work=True,
        groups=None,
        ax=None,
        **plot_kwargs,
    ):
        """Run :func:`~skfusion.model_selection.compare_fusion` and plot it.

        Parameters
        ----------
        strategies : "default", list or dict
            As in :func:`~skfusion.model_selection.compare_fusion`.
        X, y, modalities, cv, scoring, n_jobs, random_state, task, error_score, share_work, groups
            As in :func:`~skfusion.model_selection.compare_fusion` (``groups``:
            group labels for a group splitter in ``cv``).
        %(from_ax_and_plot_kwargs)s
            (``metric``, the one to plot, to :meth:`from_results`.)

        Returns
        -------
        display : FusionComparisonDisplay
        """
        from ._compare import compare_fusion

        # before the comparison runs: a misspelt or misplaced keyword (a keyword of
        # compare_fusion this method does not take) would otherwise fail after it
        check_plot_kwargs(plot_kwargs, cls.plot, "FusionComparisonDisplay.from_estimators",
                          also=("metric",))
        results = compare_fusion(
            X,
            y,
            modalities,
            strategies,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            random_state=random_state,
            task=task,
            error_score=error_score,
            share_work=share_work,
            groups=groups,
        )
        return cls.from_results(results, ax=ax, **plot_kwargs)


def _separate_labels(texts, gap_points=1.0, max_rounds=50):
    """Move overlapping labels up, in offset points, until no two overlap.

    Greedy: labels are visited bottom to top, and each one that overlaps one
    already placed is raised just above it (dense clusters become stacks).
    """
    if len(texts) < 2:
        return
    figure = texts[0].figure
    figure.draw_without_rendering()  # the labels' extents are known once laid out
    renderer = figure.canvas.get_renderer()
    points_per_pixel = 72.0 / figure.dpi
    for _ in range(max_rounds):
        boxes = [text.get_window_extent(renderer) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: boxes[i].y0)
        moved = False
        for a_rank, a in enumerate(order):
            for b in order[:a_rank]:
                if boxes[a].overlaps(boxes[b]):
                    lift = (boxes[b].y1 - boxes[a].y0) * points_per_pixel + gap_points
                    x, y = texts[a].xyann
                    texts[a].xyann = (x, y + lift)
                    boxes[a] = texts[a].get_window_extent(renderer)
                    moved = True
        if not moved:
            return
