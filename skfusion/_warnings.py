"""Warnings that point at the user's line, and the one place that gives rows
without any modality the uninformed prediction.

A fixed ``stacklevel`` breaks whenever a call passes through another helper
or one of scikit-learn's method wrappers (``set_output`` wraps ``transform``),
so the level is found by walking the stack instead, as pandas'
``find_stack_level`` does.
"""

import os
import sys
import warnings

import numpy as np
import sklearn

from .exceptions import NoModalityPresentWarning

__all__ = ["predict_present_rows", "warn_at_caller"]

# skfusion's own directory and scikit-learn's
_INTERNAL = (os.path.dirname(__file__) + os.sep, os.path.dirname(sklearn.__file__) + os.sep)


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first frame outside skfusion and scikit-learn."""
    frame, depth = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, depth = frame.f_back, depth + 1
    # stacklevel=1 is this function's own line; depth counts frames above it.
    warnings.warn(message, category, stacklevel=depth + 1)


def predict_present_rows(predict, present, fallback, *, absent_rows, fallback_name):
    """``predict(present)`` on the rows where ``present``; ``fallback`` on the others.

    Every fusion estimator predicts this way for rows where nothing it reads
    is present: the training prior (or mean), the prediction of a model that
    knows nothing else, with a :class:`~skfusion.NoModalityPresentWarning`
    saying how many rows got it and why.

    Parameters
    ----------
    predict : callable
        ``predict(present)`` returns the output of the rows where ``present``
        is True, in order (only called when there are some).
    present : ndarray of bool of shape (n_samples,)
        Rows where the estimator has something to predict from.
    fallback : scalar or ndarray
        One row's output for the other rows (a class index, a prior, a mean).
    absent_rows : str
        What the other rows are, for the warning: "<n> of <N> rows
        {absent_rows}; they get the training {fallback_name}."
    fallback_name : str
        What ``fallback`` is, e.g. "class prior" or "target mean".
    """
    n_samples = present.shape[0]
    n_absent = n_samples - int(np.count_nonzero(present))
    fallback = np.asarray(fallback)
    if n_absent:
        warn_at_caller(
            f"{n_absent} of {n_samples} rows {absent_rows}; they get the training "
            f"{fallback_name}.",
            NoModalityPresentWarning,
        )
    if n_absent == n_samples:
        return np.broadcast_to(fallback, (n_samples,) + fallback.shape).copy()
    output = np.asarray(predict(present))
    if not n_absent:
        return output
    full = np.empty((n_samples,) + output.shape[1:], dtype=np.result_type(output, fallback))
    full[present] = output
    full[~present] = fallback
    return full
