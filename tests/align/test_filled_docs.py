"""The docstrings that fill_doc fills keep no ``%(name)s`` placeholder."""

import inspect

import pytest

from skfusion import (
    CooperativeFusion,
    MultiviewCCA,
    SimilarityNetworkClustering,
    SimilarityNetworkFusion,
)
from skfusion.nn import ContrastiveAlignment, IntermediateFusionClassifier, IntermediateFusionRegressor

ESTIMATORS = [
    CooperativeFusion, MultiviewCCA, SimilarityNetworkClustering, SimilarityNetworkFusion,
    ContrastiveAlignment, IntermediateFusionClassifier, IntermediateFusionRegressor,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_no_placeholder_is_left(estimator):
    docs = {"class": estimator.__doc__}
    for name, member in inspect.getmembers(estimator, callable):
        if not name.startswith("_") and member.__doc__:
            docs[name] = member.__doc__
    assert not [name for name, doc in docs.items() if "%(" in doc]


def test_fit_documents_x_y_and_self():
    from numpydoc.docscrape import FunctionDoc

    for estimator in (MultiviewCCA, SimilarityNetworkFusion, SimilarityNetworkClustering,
                      ContrastiveAlignment):
        doc = FunctionDoc(estimator.fit)
        assert [p.name for p in doc["Parameters"]] == ["X", "y"]
        assert [p.name for p in doc["Returns"]] == ["self"]
