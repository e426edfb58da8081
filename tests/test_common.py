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
    InteractionFusion(HALVES, n_components=2, random_state=0),
    InteractionFusion(HALVES, method="product", projection="random", missing="zero", random_state=0),
    InteractionFusion(HALVES, method="compact_bilinear", sketch_size=16, random_state=0),
]

# -- late --
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skfusion import StackingLateFusion, WeightedVoteFusion  # noqa: E402

# allow_nan is True because whole missing modalities are handled; NaN scattered
# inside a modality reaches the branch, so the branches here impute.
ESTIMATORS += [
    StackingLateFusion(make_pipeline(SimpleImputer(), LogisticRegression()), cv=3),
    StackingLateFusion(make_pipeline(SimpleImputer(), Ridge()), cv=3),
    WeightedVoteFusion(make_pipeline(SimpleImputer(), LogisticRegression()), cv=3),
    WeightedVoteFusion(make_pipeline(SimpleImputer(), Ridge()), cv=3),
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
    CooperativeFusion(HALVES, rho=0.5, alpha=0.01),
    CooperativeFusion(HALVES, rho=0.5, alpha=0.01, l1_ratio=0.0, family="binomial"),
]
EXPECTED_FAILED_CHECKS["MultiviewCCA"] = {
    # allow_nan: a modality whose columns are all NaN in a row is missing there and is
    # handled; this check puts NaN in a single column, which is refused with a ValueError.
    "check_estimators_pickle": "NaN in one column of a present modality is refused",
}
EXPECTED_FAILED_CHECKS["SimilarityNetworkFusion"] = {
    # as MultiviewCCA: a modality is missing in a row only when all its columns are NaN
    "check_estimators_pickle": "NaN in one column of a present modality is refused",
}
EXPECTED_FAILED_CHECKS["SimilarityNetworkClustering"] = {
    "check_estimators_pickle": "NaN in one column of a present modality is refused",
}

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
    ]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
