"""``fit_context``: scikit-learn's ``_fit_context`` plus an all-or-nothing fit;
``fitting``: errors of an inner estimator's fit that say which one failed.

A ``fit`` that raises half-way would otherwise leave some fitted attributes
behind, so ``check_is_fitted`` passes and ``predict`` fails later with an
``AttributeError`` (or, on a refit, mixes the old model with new state). Every
skfusion estimator decorates ``fit`` with :func:`fit_context`, which restores
the estimator's attributes to what they were before the failed call.

A successful fit also records the parameters its fitted state is built for
(an estimator's ``_params_fixed_at_fit``), so that predict time refuses them
changed by ``set_params`` (:func:`check_params_unchanged_since_fit`) instead of
mixing the new value with state fitted for the old one.
"""

import functools
from contextlib import contextmanager
from numbers import Number

import numpy as np
from sklearn.base import _fit_context


def fit_context(*, prefer_skip_nested_validation):
    """Validate parameters as ``_fit_context`` does; undo a fit that raises."""
    validate = _fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)

    def decorator(fit_method):
        validated_fit = validate(fit_method)

        @functools.wraps(fit_method)
        def wrapper(estimator, *args, **kwargs):
            # A shallow copy suffices: fit assigns new attributes rather than
            # mutating the ones a previous fit left.
            state = estimator.__dict__.copy()
            try:
                result = validated_fit(estimator, *args, **kwargs)
            except BaseException:
                estimator.__dict__.clear()
                estimator.__dict__.update(state)
                raise
            fixed = getattr(type(estimator), "_params_fixed_at_fit", ())
            if fixed:
                estimator._fitted_params = {name: getattr(estimator, name) for name in fixed}
            return result

        return wrapper

    return decorator


def check_params_unchanged_since_fit(estimator):
    """Refuse a parameter of ``_params_fixed_at_fit`` changed by ``set_params`` after fit.

    Those are the parameters that predict time would read beside state fitted
    for their old value (an indicator column count, a projection's width, the
    neighbours of a fused graph): the result would be wrong or a shape error
    from deep inside. scikit-learn leaves this undefined; we name it.
    """
    for name, at_fit in getattr(estimator, "_fitted_params", {}).items():
        now = getattr(estimator, name)
        if not _same_value(now, at_fit):
            raise ValueError(
                f"{type(estimator).__name__} was fitted with {name}={at_fit!r}, and "
                f"{name} is now {now!r} (set_params after fit): its fitted state is for "
                f"{name}={at_fit!r}. Fit it again, or set {name} back."
            )


def _same_value(a, b):
    if a is b:
        return True
    numbers = (Number, np.number)
    if type(a) is not type(b) and not (isinstance(a, numbers) and isinstance(b, numbers)):
        return False  # 2 and np.int64(2) are the same value; 1 and "1" are not
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)
    except (TypeError, ValueError):
        return False


@contextmanager
def fitting(where):
    """Re-raise an error from inside with ``"Fitting the {where} failed: "`` in front.

    The error keeps its type (so callers can still catch it) and chains the
    original. ``where`` names the inner estimator, e.g. ``"branch 'text'"``.
    """
    try:
        yield
    except Exception as exc:
        message = f"Fitting the {where} failed"
        renamed = same_type_with_message(exc, f"{message}: {exc}")
        if renamed is None:
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(message)
            raise
        raise renamed from exc


def first_line(exc):
    """The first line of ``exc``'s message without its closing period, to quote inside
    a message of our own (scikit-learn's run on with advice over several lines)."""
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def same_type_with_message(exc, message):
    """A new exception of ``exc``'s type holding ``message`` (so that callers can
    still catch it by type), or None for a type with an unusual constructor."""
    try:
        return type(exc)(message)
    except Exception:
        return None
