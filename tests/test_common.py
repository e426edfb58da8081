"""scikit-learn's estimator checks over every public estimator of skfusion.

Each strategy module adds its instances below (configured to run on the checks'
small data) and, for any check expected to fail, the reason.
"""

from _selectors import HALVES
from sklearn.utils.estimator_checks import parametrize_with_checks

ESTIMATORS = []
EXPECTED_FAILED_CHECKS = {}  # class name -> {check name: reason}

# -- early --
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfusion import FeatureFusion, InteractionFusion  # noqa: E402

ESTIMATORS += [
    FeatureFusion(),
    FeatureFusion(
        HALVES, block_scaling="mfa", weights={"second": 2.0}, missing="zero", add_indicator=True
    ),
    FeatureFusion(
        HALVES,
        transformers={
            "first": StandardScaler(with_mean=False),
            "second": SimpleImputer(strategy="median"),
        },
        block_scaling=None,
        missing="zero",
    ),
    FeatureFusion(transformers=PCA(n_components=1), block_scaling="mfa"),
    # NaN cells are filled before a transformer, so one that refuses NaN is fine
    FeatureFusion(HALVES, transformers=PCA(n_components=1), missing="zero"),
    # missing="zero": scikit-learn's NaN checks may empty a whole half in a row, which
    # missing="error" (tested in the catalogue) refuses as a missing modality
    InteractionFusion(HALVES, n_components=2, missing="zero", random_state=0),
    InteractionFusion(HALVES, method="product", projection="random", missing="zero", random_state=0),
    InteractionFusion(
        HALVES, method="compact_bilinear", sketch_size=16, missing="zero", random_state=0
    ),
]

# -- late --
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skfusion import StackingLateFusion, WeightedVoteFusion  # noqa: E402

# allow_nan: whole missing modalities are handled, and NaN cells are set to their
# column's training mean before a branch sees them, so the branches need no imputer.
ESTIMATORS += [
    StackingLateFusion(LogisticRegression(), cv=3),
    StackingLateFusion(Ridge(), cv=3),
    WeightedVoteFusion(LogisticRegression(), cv=3),
    WeightedVoteFusion(Ridge(), cv=3),
    StackingLateFusion(
        [("first", LogisticRegression()), ("second", LogisticRegression())],
        modalities=HALVES,
        cv=3,
        passthrough=True,
    ),
]

# -- align --
from skfusion import (  # noqa: E402
    CooperativeFusion,
    MultiviewCCA,
    SimilarityNetworkClustering,
    SimilarityNetworkFusion,
)

ESTIMATORS += [
    MultiviewCCA(HALVES, n_components=1),
    MultiviewCCA(HALVES, n_components=1, regularization=0.1, output="concat"),
    MultiviewCCA(HALVES, n_components=1, method="gcca", output="concat"),
    SimilarityNetworkFusion(HALVES, n_neighbors=3, n_components=1, random_state=0),
    SimilarityNetworkFusion(HALVES, n_neighbors=3, n_components=1, graph="sparse", random_state=0),
    SimilarityNetworkClustering(HALVES, n_clusters=2, n_neighbors=3, random_state=0),
    CooperativeFusion(HALVES),  # the defaults: lasso, alpha=0.01
    CooperativeFusion(HALVES, family="binomial"),
    CooperativeFusion(HALVES, rho=0.5, alpha=0.01, l1_ratio=0.0, family="binomial"),
]

# -- tables (the skrub extra) --
# On the checks' numeric arrays a table is one tabular modality (columns x0, x1, ...).
# TextEmbedding is not here: it takes one column of texts, never the checks' numeric
# matrices; tests/tables/test_text_embedding.py checks it.
try:
    import skrub  # noqa: F401
except ImportError:  # pragma: no cover - the tables extra is not installed
    pass
else:
    from skfusion.tables import TableEncoder, TableFusion  # noqa: E402

    ESTIMATORS += [
        TableEncoder(),
        TableFusion(LogisticRegression()),
        TableFusion(Ridge()),
        TableFusion(StackingLateFusion(LogisticRegression(), cv=2)),
        TableFusion(make_pipeline(FeatureFusion(missing="zero"), Ridge())),
        # a transformer: its tags must not promise float32 the encoder does not give
        TableFusion(FeatureFusion(missing="zero", add_indicator=True)),
    ]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
