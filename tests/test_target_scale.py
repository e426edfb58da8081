"""Results never depend on the unit of the target: every regressor of the catalogue
fitted on c * y predicts c times as much, for c from 1e-6 to 1e6."""

import numpy as np
import pytest
from _fusion_catalogue import ENTRIES, make_data
from sklearn.base import clone
from sklearn.metrics import r2_score

REGRESSORS = [entry for entry in ENTRIES if entry.task == "regression"]


@pytest.mark.parametrize("entry", REGRESSORS, ids=lambda e: e.id)
@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3, 1e6])
def test_predictions_follow_the_unit_of_y(entry, scale):
    X, y, modalities = make_data("regression", n_samples=80)
    model = entry.build(modalities)
    reference = clone(model).fit(X, y).predict(X)
    scaled = clone(model).fit(X, scale * y).predict(X)
    # a float32 network repeats the same arithmetic on the standardised target
    rtol = 1e-5 if entry.slow else 1e-6
    np.testing.assert_allclose(scaled, scale * reference, rtol=rtol, atol=0)
    assert r2_score(scale * y, scaled) == pytest.approx(r2_score(y, reference), abs=1e-6)
