"""Results never depend on the unit of a numeric input column: every estimator of the
catalogue, with its defaults, gives the same output when columns are measured in
other units (multiplied by 1e-3 or 1e3), fitted and applied alike.

Late fusion is the exception by design: its branches are the user's estimators,
and a penalised branch on raw columns depends on their units as it does alone in
scikit-learn. With standardised branches, late fusion adds no dependence of its own.
"""

import numpy as np
import pytest
from _fusion_catalogue import ENTRIES, fit, make_data, output
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion import StackingLateFusion, WeightedVoteFusion

LATE_FUSION = (StackingLateFusion, WeightedVoteFusion)
OWN_DEFAULTS = [entry for entry in ENTRIES if not issubclass(entry.estimator_class, LATE_FUSION)]
# One column of each modality of the catalogue's data ({"a": 3 columns, "b": 4}).
RESCALED_COLUMNS = [1, 4]


def _in_other_units(X, factor):
    X = X.copy()
    X[:, RESCALED_COLUMNS] *= factor
    return X


def _assert_same_output(model, task, X, y, factor, slow=False):
    reference = output(fit(clone(model), X, y, task), X, task)
    X_other = _in_other_units(X, factor)
    rescaled = output(fit(clone(model), X_other, y, task), X_other, task)
    # a float32 network rounds its (identical) standardised input alike, up to the last bits
    tolerance = dict(rtol=1e-4, atol=1e-5) if slow else dict(rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(rescaled, reference, **tolerance)


@pytest.mark.parametrize("factor", [1e-3, 1e3])
@pytest.mark.parametrize("entry", OWN_DEFAULTS, ids=lambda e: e.id)
def test_output_does_not_depend_on_the_unit_of_a_column(entry, factor):
    task = "classification" if entry.task == "transform" else entry.task
    X, y, modalities = make_data(task, n_samples=80)
    _assert_same_output(entry.build(modalities), entry.task, X, y, factor, slow=entry.slow)


@pytest.mark.parametrize("factor", [1e-3, 1e3])
@pytest.mark.parametrize("late_fusion", LATE_FUSION)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_late_fusion_over_standardised_branches_does_not_depend_on_units(
    late_fusion, task, factor
):
    X, y, modalities = make_data(task, n_samples=80)
    linear = LogisticRegression() if task == "classification" else Ridge()
    model = late_fusion(make_pipeline(StandardScaler(), linear), modalities=modalities, cv=3)
    _assert_same_output(model, task, X, y, factor)
