"""Does a scoring suit the task? Checked once, before any fit.

:func:`~skfusion.model_selection.compare_fusion` and the inspection tools that
cross-validate (modality ablation, Shapley values) refuse a metric that cannot
score the target here, naming the metric and the task, instead of failing in
every fold with the metric's own words ("continuous is not supported") or
returning NaN everywhere (r2 of one-row test folds). Both tool packages
(floor 4) import it from here, floor 1, so that neither imports the other.
"""

import warnings

import numpy as np

from .._fit_context import first_line

__all__ = ["check_scoring_suits_task", "scoring_estimator"]


def scoring_estimator(task):
    """A stand-in of the task's estimator type, for check_scoring's default scorer."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier() if task == "classification" else DummyRegressor()


def check_scoring_suits_task(scorer, scoring, task, y, splits=None):
    """A metric that cannot score this target fails here, naming the metric and the
    task; r2 of a one-row test fold is undefined, so such folds are refused.

    ``scoring`` is what the user passed (None: the estimator's ``score``, r2 for
    a regressor); ``splits`` the folds, or None when the whole ``y`` is scored.
    """
    names = scoring if isinstance(scoring, (list, tuple)) else (
        list(scoring.values()) if isinstance(scoring, dict) else [scoring]
    )
    uses_r2 = any(name == "r2" or (name is None and task == "regression") for name in names)
    smallest = len(y) if splits is None else min(len(test) for _, test in splits)
    if uses_r2 and smallest < 2:
        raise ValueError(
            f"r2 is undefined on a test fold of {smallest} row; use fewer folds (cv) or "
            "another scoring."
        )
    if not all(name is None or isinstance(name, str) for name in names):
        return  # a callable of the user's may read X: it is not called on a stand-in
    stand_in = np.zeros((len(y), 1))  # the prior reads no column
    try:
        dummy = scoring_estimator(task).fit(stand_in, y)
    except (ValueError, TypeError):
        return  # a target the prior cannot fit: the estimator's own fit will say why
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the prior's warnings (ill-defined metrics)
            scorer(dummy, stand_in, y)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"scoring {scoring!r} does not suit a {task} target ({first_line(exc)})."
        ) from None
