"""The same code on a Dask cluster: joblib's dask backend gives the local results.

A ``dask.distributed.LocalCluster`` (two single-threaded worker processes on
the loopback interface, no dashboard) stands in for a real cluster; the
estimators run unchanged under ``joblib.parallel_config(backend="dask")``, and
their fits equal the fits made in this process.
"""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from skfusion import FeatureFusion, StackingLateFusion, WeightedVoteFusion  # noqa: E402
from skfusion.datasets import make_multimodal_classification  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # dask's own shutdown chatter is not ours to fix
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    # a cluster's HTTP server moving off a busy port (another test process's)
    pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning"),
]


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def problem():
    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"tab": 4, "text": 6, "image": 5}, n_classes=3,
        missing_rate=0.15, random_state=0,
    )
    return X, y, modalities


def _fusions(modalities, n_jobs):
    branch = LogisticRegression(max_iter=500)
    return {
        "stacking": StackingLateFusion(branch, modalities=modalities, cv=4, n_jobs=n_jobs),
        "vote": WeightedVoteFusion(branch, modalities=modalities, cv=4, n_jobs=n_jobs),
        "early": make_pipeline(FeatureFusion(modalities, missing="zero", add_indicator=True),
                               LogisticRegression(max_iter=500)),
    }


@pytest.mark.parametrize("name", ["stacking", "vote"])
def test_fit_on_dask_equals_local_fit(dask_client, problem, name):
    X, y, modalities = problem
    local = _fusions(modalities, n_jobs=None)[name].fit(X, y)
    with distributed.get_task_stream(dask_client) as stream, parallel_config(backend="dask"):
        remote = _fusions(modalities, n_jobs=-1)[name].fit(X, y)
    # the (branch x fold) fits really ran on the cluster's worker processes
    assert len(stream.data) > 0
    assert {task["worker"] for task in stream.data} <= set(dask_client.scheduler_info()["workers"])
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    if name == "vote":
        assert remote.weights_.keys() == local.weights_.keys()
        for branch, weight in local.weights_.items():
            assert remote.weights_[branch] == pytest.approx(weight, rel=1e-12, abs=1e-15)


def test_grid_search_over_fusion_choice_on_dask_equals_local(dask_client, problem):
    X, y, modalities = problem
    fusions = _fusions(modalities, n_jobs=None)
    pipeline = Pipeline([("fusion", fusions["vote"])])
    grid = {"fusion": [fusions["stacking"], fusions["vote"], fusions["early"]]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)

    local = GridSearchCV(pipeline, grid, cv=cv).fit(X, y)
    with distributed.get_task_stream(dask_client) as stream, parallel_config(backend="dask"):
        remote = GridSearchCV(pipeline, grid, cv=cv, n_jobs=-1).fit(X, y)
    assert len(stream.data) >= 3 * 3  # (candidate x fold) fits went to the cluster

    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-12
    )
    assert type(remote.best_params_["fusion"]) is type(local.best_params_["fusion"])
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=1e-12)
