"""StackingLateFusion: equivalence with scikit-learn's stacking, meta-features
with missing modalities, simulated gaps, fallbacks."""

from functools import partial

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import StackingClassifier, StackingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from skfusion import StackingLateFusion
from skfusion.datasets import make_multimodal_classification, make_multimodal_regression


def _selecting(columns, estimator):
    """scikit-learn's way to give a base estimator one modality: a ColumnTransformer."""
    return make_pipeline(ColumnTransformer([("select", "passthrough", columns)]), estimator)


class RecordingDummyClassifier(DummyClassifier):
    """A final estimator that keeps what it was trained on, NaN included."""

    def fit(self, X, y, sample_weight=None):
        self.X_fit_ = np.array(X)
        return super().fit(X, y, sample_weight=sample_weight)


class RecordingLogisticRegression(LogisticRegression):
    """A final estimator that keeps the meta-features it was trained on."""

    def fit(self, X, y, sample_weight=None):
        self.X_fit_ = np.array(X)
        return super().fit(X, y, sample_weight=sample_weight)


# ---------------------------------------------------------------- equivalence


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("stack_method", ["auto", "decision_function"])
def test_equals_sklearn_stacking_classifier_without_missing_data(n_classes, stack_method):
    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 4, "c": 2}, n_classes=n_classes, random_state=0
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=1)
    reference = StackingClassifier(
        [(name, _selecting(cols, LogisticRegression())) for name, cols in modalities.items()],
        cv=cv,
        stack_method=stack_method,
    ).fit(X, y)
    ours = StackingLateFusion(
        LogisticRegression(),
        modalities=modalities,
        cv=cv,
        stack_method=stack_method,
    ).fit(X, y)
    assert list(ours.final_estimators_) == [("a", "b", "c")]
    # same out-of-fold meta-features => same final estimator
    np.testing.assert_allclose(
        ours.final_estimator_.coef_, reference.final_estimator_.coef_, atol=1e-10
    )
    np.testing.assert_allclose(ours.transform(X), reference.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(
        ours.decision_function(X), reference.decision_function(X), atol=1e-10
    )
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))
    assert ours.stack_method_ == reference.stack_method_


def test_equals_sklearn_stacking_regressor_with_passthrough():
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 2}, random_state=0
    )
    cv = KFold(4, shuffle=True, random_state=0)
    reference = StackingRegressor(
        [(name, _selecting(cols, Ridge())) for name, cols in modalities.items()],
        final_estimator=LinearRegression(),
        cv=cv,
        passthrough=True,
    ).fit(X, y)
    ours = StackingLateFusion(
        Ridge(),
        modalities=modalities,
        final_estimator=LinearRegression(),
        cv=cv,
        passthrough=True,
    ).fit(X, y)
    np.testing.assert_allclose(ours.transform(X), reference.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), reference.predict(X), atol=1e-10)
    assert list(ours.get_feature_names_out()[:2]) == [
        "stackinglatefusion_a",
        "stackinglatefusion_b",
    ]


def test_default_final_estimators_follow_the_task():
    X, y, modalities = make_multimodal_regression(
        n_samples=60, widths={"a": 2, "b": 2}, random_state=0
    )
    regressor = StackingLateFusion(Ridge(), modalities=modalities, cv=3).fit(X, y)
    # non-negative least squares (Breiman 1996): no penalty in the unit of y
    assert isinstance(regressor.final_estimator_, LinearRegression)
    assert regressor.final_estimator_.positive
    assert (regressor.final_estimator_.coef_ >= 0).all()
    assert not hasattr(regressor, "predict_proba")
    with pytest.raises(ValueError, match="`final_estimator` must be a regressor"):
        StackingLateFusion(
            Ridge(), modalities=modalities, final_estimator=LogisticRegression()
        ).fit(X, y)


@pytest.fixture
def metadata_routing():
    """Metadata routing on for the test, off again after it whatever happens."""
    with config_context(enable_metadata_routing=True):
        yield


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("given_final", [False, True])
def test_routed_sample_weight_reaches_the_final_estimator_as_in_sklearn(
    task, given_final, metadata_routing
):
    """scikit-learn's stacking fits its final estimator with fit's sample_weight without
    asking it: the default one (built inside, its requests out of reach) and a given
    one whose requests are unset alike."""
    if task == "classification":
        X, y, modalities = make_multimodal_classification(
            n_samples=90, widths={"a": 3, "b": 2}, random_state=0
        )
        Branch, Reference, default = LogisticRegression, StackingClassifier, LogisticRegression
        cv = StratifiedKFold(3)
    else:
        X, y, modalities = make_multimodal_regression(
            n_samples=90, widths={"a": 3, "b": 2}, random_state=0
        )
        Branch, Reference, cv = Ridge, StackingRegressor, KFold(3)
        default = partial(LinearRegression, positive=True)  # ours; scikit-learn's is RidgeCV
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    ours = StackingLateFusion(
        Branch().set_fit_request(sample_weight=True),
        modalities=modalities,
        final_estimator=default() if given_final else None,
        cv=cv,
    ).fit(X, y, sample_weight=weights)
    reference = Reference(
        [
            (name, _selecting(cols, Branch().set_fit_request(sample_weight=True)))
            for name, cols in modalities.items()
        ],
        final_estimator=default(),
        cv=cv,
    ).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(
        ours.final_estimator_.coef_, reference.final_estimator_.coef_, rtol=1e-8
    )
    np.testing.assert_allclose(ours.predict(X), reference.predict(X), rtol=1e-8, atol=1e-12)
    # and the weights did reach it: unweighted, the final estimator differs
    with config_context(enable_metadata_routing=False):
        unweighted = StackingLateFusion(Branch(), modalities=modalities, cv=cv).fit(X, y)
    assert not np.allclose(unweighted.final_estimator_.coef_, ours.final_estimator_.coef_)


# ---------------------------------------------------------------- missing modalities


@pytest.fixture
def gappy():
    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 4}, random_state=0
    )
    X = X.copy()
    missing_b = np.arange(0, 150, 3)
    X[np.ix_(missing_b, modalities["b"])] = np.nan
    return X, y, modalities, missing_b


def test_meta_features_of_an_absent_branch_are_nan(gappy):
    X, y, modalities, missing_b = gappy
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    row = X[missing_b[:2]]
    expected_a = model.named_estimators_["a"].predict_proba(row[:, modalities["a"]])[:, 1]
    np.testing.assert_allclose(model.transform(row), np.column_stack([expected_a, [np.nan] * 2]))
    assert list(model.get_feature_names_out()) == ["stackinglatefusion_a", "stackinglatefusion_b"]


def _out_of_fold(X, y, modalities, present_b, cv):
    """The meta-features by hand: each branch fitted on its present training rows."""
    meta = np.full((y.size, 2), np.nan)
    for train, test in cv.split(X, y):
        for j, (name, cols) in enumerate(modalities.items()):
            tr = train if name == "a" else train[present_b[train]]
            te = test if name == "a" else test[present_b[test]]
            fold = LogisticRegression().fit(X[np.ix_(tr, cols)], y[tr])
            meta[te, j] = fold.predict_proba(X[np.ix_(te, cols)])[:, 1]
    return meta


def test_each_pattern_has_its_meta_learner_on_the_rows_where_its_branches_are_present(gappy):
    """Rebuild every meta-learner's training set by hand and compare the models."""
    X, y, modalities, missing_b = gappy
    cv = StratifiedKFold(3)
    model = StackingLateFusion(
        LogisticRegression(),
        modalities=modalities,
        cv=cv,
        final_estimator=RecordingLogisticRegression(),
    ).fit(X, y)
    present_b = np.ones(y.size, dtype=bool)
    present_b[missing_b] = False
    meta = _out_of_fold(X, y, modalities, present_b, cv)
    assert sorted(model.final_estimators_) == [("a",), ("a", "b")]
    both, a_only = model.final_estimators_[("a", "b")], model.final_estimators_[("a",)]
    assert model.final_estimator_ is both
    np.testing.assert_allclose(both.X_fit_, meta[present_b], atol=1e-12)
    np.testing.assert_allclose(a_only.X_fit_, meta[:, :1], atol=1e-12)  # every row has 'a'
    expected = LogisticRegression().fit(meta[present_b], y[present_b])
    np.testing.assert_allclose(both.coef_, expected.coef_, atol=1e-10)
    # a row without 'b' is predicted by the meta-learner of 'a' alone
    rows = X[missing_b[:3]]
    a_meta = model.named_estimators_["a"].predict_proba(rows[:, modalities["a"]])[:, 1:]
    np.testing.assert_allclose(
        model.predict_proba(rows), LogisticRegression().fit(meta[:, :1], y).predict_proba(a_meta)
    )


def test_a_pattern_first_met_at_predict_time_gets_its_meta_learner_then():
    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 4, "c": 2}, random_state=0
    )
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    assert list(model.final_estimators_) == [("a", "b", "c")]
    gap = X[:5].copy()
    gap[:, modalities["b"]] = np.nan
    proba = model.predict_proba(gap)
    assert list(model.final_estimators_) == [("a", "b", "c"), ("a", "c")]
    # the same as a model that met the pattern in training would learn: deterministic
    again = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(gap), proba)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_default_stacking_is_deterministic_and_equals_scikit_learn():
    X, y, modalities = make_multimodal_classification(
        n_samples=200, widths={"a": 3, "b": 4}, n_classes=3, random_state=0
    )
    first = StackingLateFusion(LogisticRegression(), modalities=modalities).fit(X, y)
    second = StackingLateFusion(LogisticRegression(), modalities=modalities).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    reference = StackingClassifier(
        [(name, _selecting(cols, LogisticRegression())) for name, cols in modalities.items()]
    ).fit(X, y)
    np.testing.assert_allclose(first.predict_proba(X), reference.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e6])
def test_regression_stacking_follows_the_unit_of_y(scale):
    X, y, modalities = make_multimodal_regression(
        n_samples=150, widths={"a": 3, "b": 4}, random_state=0
    )
    model = StackingLateFusion(LinearRegression(), modalities=modalities)
    reference = clone(model).fit(X, y)
    scaled = model.fit(X, scale * y)
    np.testing.assert_allclose(scaled.predict(X), scale * reference.predict(X), rtol=1e-6)
    assert scaled.score(X, scale * y) == pytest.approx(reference.score(X, y), abs=1e-6)


# ---------------------------------------------------------------- classification details


def test_string_labels_round_trip():
    X, y, modalities = make_multimodal_classification(
        n_samples=90, widths={"a": 2, "b": 2}, n_classes=3, random_state=0
    )
    labels = np.array(["cat", "dog", "eel"])[y]
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    model.fit(X, labels)
    assert list(model.classes_) == ["cat", "dog", "eel"]
    reference = clone(model).fit(X, y)
    np.testing.assert_array_equal(
        model.predict(X), np.array(["cat", "dog", "eel"])[reference.predict(X)]
    )
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))


def test_decision_function_only_when_the_final_estimator_has_it():
    X, y, modalities = make_multimodal_classification(
        n_samples=60, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(
        LogisticRegression(), modalities=modalities, final_estimator=GaussianNB()
    )
    assert hasattr(model, "predict_proba") and not hasattr(model, "decision_function")
    svc = StackingLateFusion(LinearSVC(), modalities=modalities, final_estimator=LinearSVC(), cv=3)
    svc.fit(X, y)
    assert svc.stack_method_ == ["decision_function", "decision_function"]
    assert not hasattr(svc, "predict_proba") and svc.decision_function(X).shape == (60,)


def test_stack_method_the_branch_lacks_raises_naming_it():
    X, y, modalities = make_multimodal_classification(
        n_samples=60, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(
        [("a", LogisticRegression()), ("b", LinearSVC())],
        modalities=modalities,
        stack_method="predict_proba",
    )
    with pytest.raises(ValueError, match=r"branch 'b'.*does not implement 'predict_proba'"):
        model.fit(X, y)


def test_set_output_pandas_uses_feature_names():
    pytest.importorskip("pandas")
    X, y, modalities = make_multimodal_classification(
        n_samples=60, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    frame = model.set_output(transform="pandas").fit(X, y).transform(X)
    assert list(frame.columns) == list(model.get_feature_names_out())
