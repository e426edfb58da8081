"""scikit-learn's estimator checks for the intermediate-fusion networks.

Kept apart from ``tests/test_common.py`` so that the torch-free suite stays
importable without the ``torch`` extra.
"""

import pytest

pytest.importorskip("torch")

from _selectors import HALVES  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from skfusion.nn import IntermediateFusionClassifier, IntermediateFusionRegressor  # noqa: E402

# Enough epochs (at a brisk learning rate) for the checks' accuracy and R^2
# thresholds on their small data, few enough to stay fast.
_FAST = dict(max_epochs=25, lr=1e-2, batch_size=128, device="cpu", random_state=0)

ESTIMATORS = [
    IntermediateFusionClassifier(**_FAST),
    IntermediateFusionClassifier(HALVES, fusion="attention", n_heads=2, latent_dim=8,
                                 modality_dropout=0.2, **_FAST),
    IntermediateFusionClassifier(HALVES, fusion="graph", latent_dim=8, modality_dropout=0.2,
                                 **_FAST),
    IntermediateFusionRegressor(**_FAST),
    IntermediateFusionRegressor(HALVES, fusion="lowrank", rank=2, early_stopping=True,
                                validation_fraction=0.2, **_FAST),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
