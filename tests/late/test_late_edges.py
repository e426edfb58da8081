"""Edges of late fusion that once failed: verbose fits, calls before fit, negative
weights, predict-time parameters and metadata, and settings changed after fit."""

import re
import threading

import numpy as np
import pytest
import sklearn
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge, LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.svm import LinearSVC

from skfusion import StackingLateFusion, WeightedVoteFusion
from skfusion.datasets import make_multimodal_classification, make_multimodal_regression

ESTIMATORS = [StackingLateFusion, WeightedVoteFusion]


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(n_samples=90, widths={"a": 3, "b": 4}, random_state=0)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("n_jobs", [None, 1, 2])
@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_verbose_fit_runs_under_every_backend_and_n_jobs(Estimator, n_jobs, backend, data, capsys):
    X, y, modalities = data
    quiet = Estimator(LogisticRegression(), modalities=modalities, cv=3, n_jobs=n_jobs)
    with parallel_config(backend=backend):
        loud = Estimator(LogisticRegression(), modalities=modalities, cv=3, n_jobs=n_jobs, verbose=5)
        loud.fit(X, y)
        quiet.fit(X, y)
    np.testing.assert_array_equal(loud.predict_proba(X), quiet.predict_proba(X))
    assert "Parallel" in capsys.readouterr().err  # joblib reports progress on stderr


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform", "score"])
def test_calls_before_fit_raise_not_fitted_error(Estimator, method, data):
    X, y, modalities = data
    model = Estimator(LogisticRegression(), modalities=modalities)
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(model, method)(*args)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_negative_sample_weight_is_refused(Estimator, data):
    X, y, modalities = data
    weights = np.ones(y.size)
    weights[3] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        Estimator(LogisticRegression(), modalities=modalities).fit(X, y, sample_weight=weights)


def test_stacking_predict_passes_parameters_to_the_meta_learners():
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 4}, random_state=0
    )
    model = StackingLateFusion(Ridge(), modalities=modalities, final_estimator=BayesianRidge())
    model.fit(X, y)
    mean, std = model.predict(X[:10], return_std=True)
    expected_mean, expected_std = model.final_estimator_.predict(
        model.transform(X[:10]), return_std=True
    )
    np.testing.assert_allclose(mean, expected_mean)
    np.testing.assert_allclose(std, expected_std)
    gap = X[:4].copy()
    gap[:, modalities["b"]] = np.nan
    gap[3] = np.nan  # no modality: the training mean, and no uncertainty to report
    with pytest.warns(UserWarning, match="1 of 4 rows"):
        mean, std = model.predict(gap, return_std=True)
    assert mean[3] == pytest.approx(model.target_mean_)
    assert np.isnan(std[3]) and np.isfinite(std[:3]).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weight_with_routing_is_used_even_when_no_branch_requests_it(Estimator, data):
    X, y, modalities = data
    weights = np.where(y == 1, 3.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        branch = LogisticRegression().set_fit_request(sample_weight=False)
        model = Estimator(branch, modalities=modalities)
        if Estimator is StackingLateFusion:
            final = LogisticRegression().set_fit_request(sample_weight=False)
            model.set_params(final_estimator=final)
        model.fit(X, y, sample_weight=weights)
    expected = np.bincount(y, weights=weights) / weights.sum()
    np.testing.assert_allclose(model.class_prior_, expected)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_with_metadata_routing_enabled_and_no_metadata_returns(Estimator, data):
    X, y, modalities = data
    expected = Estimator(LogisticRegression(), modalities=modalities).fit(X, y).predict_proba(X)
    model = Estimator(LogisticRegression(), modalities=modalities)

    def fit():  # in a thread, so that a fit that never returns fails instead of hanging
        with sklearn.config_context(enable_metadata_routing=True):  # thread-local
            model.fit(X, y)

    worker = threading.Thread(target=fit, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "fit never returned"
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_vote_reads_voting_when_predicting(data):
    X, y, modalities = data
    vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None).fit(X, y)
    assert hasattr(vote, "predict_proba")
    vote.set_params(voting="hard")
    assert not hasattr(vote, "predict_proba")
    labels = np.column_stack(
        [vote.named_estimators_[m].predict(X[:, cols]) for m, cols in modalities.items()]
    )
    # equal weights, two branches: ties go to the first class, as in scikit-learn
    expected = np.where(labels.sum(axis=1) == 2, 1, 0)
    np.testing.assert_array_equal(vote.predict(X), expected)
    assert vote.transform(X).shape == (y.size, 2)  # one label per branch


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1e3, 1e6])
def test_vote_regression_follows_the_unit_of_y(scale):
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 4}, random_state=0
    )
    model = WeightedVoteFusion(LinearRegression(), modalities=modalities)
    reference = model.fit(X, y).predict(X)
    np.testing.assert_allclose(model.fit(X, scale * y).predict(X), scale * reference, rtol=1e-6)


def test_soft_vote_with_fixed_weights_needs_no_probabilities_at_fit(data):
    X, y, modalities = data
    # voting="soft" (the default) over branches without predict_proba: with fixed
    # weights nothing at fit asks for probabilities, and voting is read when predicting
    vote = WeightedVoteFusion(LinearSVC(), modalities=modalities, weights=None).fit(X, y)
    with pytest.raises(ValueError, match="Soft voting needs predict_proba, which the branch 'a'"):
        vote.predict_proba(X)
    vote.set_params(voting="hard")
    labels = np.column_stack(
        [vote.named_estimators_[m].predict(X[:, cols]) for m, cols in modalities.items()]
    )
    # equal weights, two branches: ties go to the first class, as in scikit-learn
    np.testing.assert_array_equal(vote.predict(X), np.where(labels.sum(axis=1) == 2, 1, 0))
    # learned weights minimise the log-loss of out-of-fold probabilities: refused at fit
    with pytest.raises(ValueError, match="Soft voting needs predict_proba, which the branch 'a'"):
        WeightedVoteFusion(LinearSVC(), modalities=modalities).fit(X, y)


class _FitOnlyClassifier(ClassifierMixin, BaseEstimator):
    """A classifier with no prediction method; fitting it is an error of its own."""

    def fit(self, X, y):
        raise RuntimeError("fitted although it cannot be stacked")


def test_stacking_branch_without_any_method_names_the_methods_tried(data):
    X, y, modalities = data
    model = StackingLateFusion(
        [("a", LogisticRegression()), ("b", _FitOnlyClassifier())], modalities=modalities
    )
    message = (
        "The branch 'b' (modalities ['b']) implements none of 'predict_proba', "
        "'decision_function', 'predict' (stack_method='auto')."
    )
    with pytest.raises(ValueError, match=re.escape(message)):  # before any fit
        model.fit(X, y)
    model.set_params(stack_method="decision_function")
    message = "The branch 'b' (modalities ['b']) does not implement 'decision_function'"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X, y)


class _ShiftingRegressor(LinearRegression):
    """A final estimator whose predict adds the sample weights it is given."""

    def predict(self, X, sample_weight=None):
        prediction = super().predict(X)
        return prediction if sample_weight is None else prediction + sample_weight


def test_stacking_routes_predict_metadata_to_each_patterns_rows():
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 4}, random_state=0
    )
    X[:15, modalities["b"]] = np.nan  # a pattern with 'a' only, in training and below
    weights = np.arange(20.0)
    with sklearn.config_context(enable_metadata_routing=True):
        final = _ShiftingRegressor().set_predict_request(sample_weight=True)
        model = StackingLateFusion(Ridge(), modalities=modalities, final_estimator=final)
        model.fit(X, y)
        plain = model.predict(X[5:25])  # rows 5-14 miss 'b', rows 15-24 have both
        shifted = model.predict(X[5:25], sample_weight=weights)
    assert sorted(model.final_estimators_) == [("a",), ("a", "b")]
    # each row's meta-learner got that row's weight, whatever its pattern
    np.testing.assert_allclose(shifted - plain, weights)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_grid_search_routes_sample_weight_to_the_fusion_and_the_branches_requesting_it(
    Estimator,
):
    """The fusion uses sample_weight itself (and stacking's final estimator gets it
    whatever its requests): a search routes it there with no set_fit_request on the
    fusion, as on scikit-learn's ensembles. Scoring with it stays the user's choice."""
    X, y, modalities = make_multimodal_regression(
        n_samples=90, widths={"a": 3, "b": 2}, random_state=0
    )
    X[:20, modalities["b"]] = np.nan
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    cv, grid = KFold(3), {"estimators__alpha": [0.1, 10.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        model = Estimator(
            Ridge().set_fit_request(sample_weight=True), modalities=modalities, cv=3
        ).set_score_request(sample_weight=True)
        search = GridSearchCV(model, grid, cv=cv).fit(X, y, sample_weight=weights)
    # each candidate's score by hand, without routing: weighted fits, weighted scores
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        scores = []
        for train, test in cv.split(X):
            fitted = Estimator(Ridge(), modalities=modalities, cv=3).set_params(**params)
            fitted.fit(X[train], y[train], sample_weight=weights[train])
            scores.append(fitted.score(X[test], y[test], sample_weight=weights[test]))
        assert score == pytest.approx(np.mean(scores), rel=1e-10)


@pytest.mark.parametrize("dtype", ["Int64", "boolean"])
def test_na_in_a_nullable_integer_or_boolean_column_is_filled_like_a_float_nan(dtype):
    # the branch got the pd.NA and failed ("Input X contains NaN") where FeatureFusion
    # and the networks filled it
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    from skfusion import StackingLateFusion, WeightedVoteFusion

    rng = np.random.default_rng(0)
    values = rng.integers(0, 9, 80) if dtype == "Int64" else rng.integers(0, 2, 80).astype(bool)
    X = pd.DataFrame({"n": pd.array(values, dtype=dtype), "age": rng.normal(50, 9, 80),
                      "lab": rng.normal(size=80)})
    y = (X["lab"] + rng.normal(size=80) > 0).astype(int)
    X.loc[[3, 7], "n"] = pd.NA
    as_float = X.astype({"n": "float64"})
    modalities = {"clin": ["n", "age"], "lab": ["lab"]}
    for model in (StackingLateFusion(LogisticRegression(), modalities, cv=3),
                  WeightedVoteFusion(LogisticRegression(), modalities)):
        nullable = clone(model).fit(X, y)
        reference = clone(model).fit(as_float, y)
        np.testing.assert_allclose(nullable.fill_values_["clin"], reference.fill_values_["clin"])
        np.testing.assert_allclose(nullable.predict_proba(X), reference.predict_proba(as_float))
