"""``warn_at_caller``: a warning that points at the user's line.

A fixed ``stacklevel`` breaks whenever a call passes through another helper
or one of scikit-learn's method wrappers (``set_output`` wraps ``transform``),
so the level is found by walking the stack instead, as pandas'
``find_stack_level`` does.
"""

import os
import sys
import warnings

import sklearn

# skfusion's own directory and scikit-learn's
_INTERNAL = (os.path.dirname(__file__) + os.sep, os.path.dirname(sklearn.__file__) + os.sep)


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first frame outside skfusion and scikit-learn."""
    frame, depth = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, depth = frame.f_back, depth + 1
    # stacklevel=1 is this function's own line; depth counts frames above it.
    warnings.warn(message, category, stacklevel=depth + 1)
