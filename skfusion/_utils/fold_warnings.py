"""Warnings of many cross-validated fits, each distinct one shown once.

Every fit records the warnings of its fit and scoring where it runs (a worker
process too) with :func:`recorded_warnings`; the caller shows each distinct one
once with :func:`warn_once`, saying how many fits raised it. Without this, a
comparison over 5 folds said the same thing 5 times, and an ablation of 6
modalities over 3 folds 189 times.

:func:`~skfusion.model_selection.compare_fusion` and the inspection tools that
refit on subsets of modalities both use it; both tool packages (floor 4)
import it from here, floor 1, so that neither imports the other.
"""

import re
import warnings
from contextlib import contextmanager

from sklearn.exceptions import FitFailedWarning

# Numbers in a message ("10 of 50 rows have no branch present") differ from fit to
# fit; the warning is the same one.
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?")

__all__ = ["recorded_warnings", "distinct_warnings", "failures", "warn_once"]

#: Where a fit-and-score can fail (a result's ``"phase"``) and the warning that says
#: so, as scikit-learn's cross_validate: a FitFailedWarning for a failed fit, a
#: UserWarning for a test fold that could not be scored (a NaN in its rows only, say).
_FAILURE_WARNINGS = {"fit": FitFailedWarning, "score": UserWarning}


@contextmanager
def recorded_warnings(*ignored):
    """Record every warning raised inside, except those of the ``ignored`` categories."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in ignored:
            warnings.simplefilter("ignore", category)
        yield caught


def distinct_warnings(caught):
    """``(category, message)`` of each distinct recorded warning, in order."""
    return list(dict.fromkeys((record.category, str(record.message)) for record in caught))


def warn_once(warnings_per_fit, where, stacklevel=2):
    """Show each distinct warning of ``warnings_per_fit`` (one list per fit) once.

    ``where(fits)`` names the indices of the fits that raised it (say "'early'
    (2 of 5 folds)"); it prefixes the message, whose category is kept.
    ``stacklevel`` is as ``warnings.warn`` would take it in the caller.
    Messages that differ only in their numbers are one warning, shown with
    the first fit's numbers and a note that they vary.
    """
    groups = {}  # (category, message with its numbers masked) -> [first message, fits, varies]
    for i, found in enumerate(warnings_per_fit):
        for category, message in found:
            group = groups.setdefault((category, _NUMBER.sub("#", message)), [message, [], False])
            if i not in group[1]:
                group[1].append(i)
            group[2] = group[2] or message != group[0]
    for (category, _), (message, indices, varies) in groups.items():
        note = " (its numbers vary between these fits; here, the first one's)" if varies else ""
        warnings.warn(f"{where(indices)}: {message}{note}", category, stacklevel=stacklevel + 1)


def failures(results):
    """``(phase, category, indices)`` for each phase in which some of ``results`` (dicts
    with a ``"phase"``: ``"fit"``, ``"score"`` or None) failed, fits first."""
    for phase, category in _FAILURE_WARNINGS.items():
        failed = [i for i, result in enumerate(results) if result["phase"] == phase]
        if failed:
            yield phase, category, failed
