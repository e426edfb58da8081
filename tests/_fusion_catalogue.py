"""The catalogue of public skfusion estimators the reliability tests walk.

One entry per (estimator, task): a factory building it for a given
``modalities`` spec with small, fast settings, and the kind of data it takes.
Built from what exists, so a strategy module that is not there (or
``skfusion.nn`` without torch) simply adds no entry; ``MISSING`` lists those.

Shared by test_bad_input, test_properties, test_persistence and test_faults so
that each walks the same estimators.
"""

from dataclasses import dataclass
from typing import Callable

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils._tags import get_tags

import skfusion
from skfusion.datasets import make_multimodal_classification, make_multimodal_regression

WIDTHS = {"a": 3, "b": 4}


@dataclass(frozen=True)
class Entry:
    """One public estimator configured for the reliability tests."""

    id: str
    make: Callable  # make(modalities) -> unfitted estimator
    task: str  # "classification", "regression" or "transform" (unsupervised transform)
    random_state_param: str = None  # name of its seed parameter, if any
    max_classes: int = None  # e.g. 2 for a binomial model
    slow: bool = False  # a float32 torch network: looser numerical tolerances
    # an iterative eigensolver (ARPACK): its eigenvectors agree to about eps / gap,
    # so a last-bit change of the input (another memory layout) moves their last digits
    iterative: bool = False
    # accepts NaN cells (allow_nan) yet refuses a whole missing modality (missing="error")
    refuses_missing_modalities: bool = False

    def build(self, modalities, **params):
        estimator = self.make(modalities)
        return estimator.set_params(**params) if params else estimator

    @property
    def estimator_class(self):
        return type(self.make(dict(_POSITIONS)))

    @property
    def allows_missing(self):
        """Whether whole missing modalities (all-NaN blocks) are accepted."""
        return self.allows_nan_cells and not self.refuses_missing_modalities

    @property
    def allows_nan_cells(self):
        """Whether NaN cells inside a present modality are accepted (and imputed)."""
        return get_tags(self.make(dict(_POSITIONS))).input_tags.allow_nan

    @property
    def accepts_sparse(self):
        return get_tags(self.make(dict(_POSITIONS))).input_tags.sparse


_POSITIONS = {"a": [0, 1, 2], "b": [3, 4, 5, 6]}

ENTRIES = []
MISSING = []  # names of public estimators expected but not found


def _have(name, module=skfusion):
    if getattr(module, name, None) is None:
        MISSING.append(name)
        return False
    return True


def _nn():
    try:
        import skfusion.nn as nn
    except ImportError:
        return None
    return nn


# ---------------------------------------------------------------- early fusion
if _have("FeatureFusion"):
    ENTRIES += [
        # missing="error": NaN cells are imputed, a missing modality is refused
        Entry(
            "FeatureFusion",
            lambda m: skfusion.FeatureFusion(m),
            "transform",
            refuses_missing_modalities=True,
        ),
        Entry(
            "FeatureFusion-missing-zero",
            lambda m: skfusion.FeatureFusion(m, missing="zero", add_indicator=True),
            "transform",
        ),
        # per-modality settings as a list (by position) and as named pairs
        Entry(
            "FeatureFusion-list-settings",
            lambda m: skfusion.FeatureFusion(
                m,
                transformers=[(name, StandardScaler()) for name in m],
                weights=[2.0] + [1.0] * (len(m) - 1),
                missing="zero",
            ),
            "transform",
        ),
    ]
if _have("InteractionFusion"):
    ENTRIES += [
        Entry(
            "InteractionFusion",
            lambda m: skfusion.InteractionFusion(m, n_components=2, random_state=0),
            "transform",
            "random_state",
            refuses_missing_modalities=True,
        ),
        Entry(
            "InteractionFusion-missing-zero",
            lambda m: skfusion.InteractionFusion(
                m, method="product", n_components=2, missing="zero", random_state=0
            ),
            "transform",
            "random_state",
        ),
    ]

# ---------------------------------------------------------------- late fusion
if _have("StackingLateFusion"):
    ENTRIES += [
        Entry(
            "StackingLateFusion-clf",
            lambda m: skfusion.StackingLateFusion(LogisticRegression(), modalities=m, cv=3),
            "classification",
        ),
        Entry(
            "StackingLateFusion-reg",
            lambda m: skfusion.StackingLateFusion(Ridge(), modalities=m, cv=3),
            "regression",
        ),
    ]
if _have("WeightedVoteFusion"):
    ENTRIES += [
        # branches whose names are not modality names, one over every modality
        # (a hybrid), and fixed weights given by branch name
        Entry(
            "WeightedVoteFusion-named-branches",
            lambda m: skfusion.WeightedVoteFusion(
                [(f"{name}-only", LogisticRegression(), [name]) for name in m]
                + [("together", LogisticRegression(), list(m))],
                modalities=m,
                weights={**{f"{name}-only": 1.0 for name in m}, "together": 2.0},
                cv=3,
            ),
            "classification",
        ),
        Entry(
            "WeightedVoteFusion-clf",
            lambda m: skfusion.WeightedVoteFusion(LogisticRegression(), modalities=m, cv=3),
            "classification",
        ),
        Entry(
            "WeightedVoteFusion-reg",
            lambda m: skfusion.WeightedVoteFusion(Ridge(), modalities=m, cv=3),
            "regression",
        ),
    ]

# ---------------------------------------------------------------- alignment
if _have("MultiviewCCA"):
    ENTRIES.append(
        Entry(
            "MultiviewCCA",
            lambda m: skfusion.MultiviewCCA(modalities=m, n_components=2),
            "transform",
        )
    )

if _have("SimilarityNetworkFusion"):
    ENTRIES += [
        Entry(
            "SimilarityNetworkFusion",
            lambda m: skfusion.SimilarityNetworkFusion(m, n_neighbors=5, n_components=2, random_state=0),
            "transform",
            "random_state",
        ),
        Entry(
            "SimilarityNetworkFusion-sparse",
            lambda m: skfusion.SimilarityNetworkFusion(
                m, n_neighbors=5, n_components=2, graph="sparse", random_state=0
            ),
            "transform",
            "random_state",
            iterative=True,
        ),
    ]

if _have("CooperativeFusion"):
    ENTRIES += [
        Entry(
            "CooperativeFusion-reg",
            lambda m: skfusion.CooperativeFusion(m, alpha=0.01),
            "regression",
        ),
        Entry(
            "CooperativeFusion-clf",
            lambda m: skfusion.CooperativeFusion(m, alpha=0.01, family="binomial"),
            "classification",
            max_classes=2,
        ),
    ]

# ---------------------------------------------------------------- networks (torch extra)
_nn_module = _nn()
# Tiny networks, a few epochs on CPU: these tests are about behaviour, not accuracy.
_NET = dict(
    latent_dim=4, encoder_hidden_sizes=(8,), head_hidden_sizes=(8,), batch_size=32,
    max_epochs=3, device="cpu", random_state=0,
)
if _nn_module is None:
    MISSING += ["IntermediateFusionClassifier", "IntermediateFusionRegressor",
                "ContrastiveAlignment"]
else:
    if _have("IntermediateFusionClassifier", _nn_module):
        ENTRIES.append(
            Entry(
                "IntermediateFusionClassifier",
                lambda m: _nn_module.IntermediateFusionClassifier(m, **_NET),
                "classification",
                "random_state",
                slow=True,
            )
        )
    if _have("IntermediateFusionRegressor", _nn_module):
        ENTRIES.append(
            Entry(
                "IntermediateFusionRegressor",
                lambda m: _nn_module.IntermediateFusionRegressor(m, **_NET),
                "regression",
                "random_state",
                slow=True,
            )
        )
    if _have("ContrastiveAlignment", _nn_module):
        ENTRIES.append(
            Entry(
                "ContrastiveAlignment",
                lambda m: _nn_module.ContrastiveAlignment(
                    m, latent_dim=2, encoder_hidden_sizes=(8,), max_epochs=3,
                    batch_size=32, device="cpu", random_state=0,
                ),
                "transform",
                "random_state",
                slow=True,
            )
        )

IDS = [entry.id for entry in ENTRIES]


# ---------------------------------------------------------------- data and outputs


def make_data(task, n_samples=60, widths=None, random_state=0, missing_rate=0.0):
    """(X, y, modalities) from skfusion's generators; alignment gets a class label y."""
    widths = WIDTHS if widths is None else widths
    if task == "regression":
        return make_multimodal_regression(
            n_samples=n_samples, widths=widths, missing_rate=missing_rate,
            random_state=random_state,
        )
    return make_multimodal_classification(
        n_samples=n_samples, widths=widths, missing_rate=missing_rate,
        random_state=random_state,
    )


def fit(estimator, X, y, task):
    """Fit, with ``y`` for supervised tasks."""
    if task == "transform":
        return estimator.fit(X)
    return estimator.fit(X, y)


def output(estimator, X, task):
    """The continuous output a user reads: probabilities, predictions or the transform."""
    if task == "classification":
        if hasattr(estimator, "predict_proba"):
            return estimator.predict_proba(X)
        return estimator.predict(X)
    if task == "regression":
        return estimator.predict(X)
    return estimator.transform(X)


def predict(estimator, X, task):
    """``predict`` for supervised tasks, ``transform`` for alignment."""
    if task == "transform":
        return estimator.transform(X)
    return estimator.predict(X)
