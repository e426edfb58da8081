"""StackingLateFusion: equivalence with scikit-learn's stacking, meta-features
with missing modalities, simulated gaps, fallbacks."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import StackingClassifier, StackingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from skfusion import NoModalityPresentWarning, StackingLateFusion
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
        simulate_missing=0,
    ).fit(X, y)
    assert not ours.presence_indicators_
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
        simulate_missing=0,
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
    assert isinstance(regressor.final_estimator_, RidgeCV)
    assert not hasattr(regressor, "predict_proba")
    with pytest.raises(ValueError, match="`final_estimator` must be a regressor"):
        StackingLateFusion(
            Ridge(), modalities=modalities, final_estimator=LogisticRegression()
        ).fit(X, y)


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


def test_meta_features_where_a_modality_is_missing_are_prior_and_indicator(gappy):
    X, y, modalities, missing_b = gappy
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    assert model.presence_indicators_
    row = X[missing_b[:2]]
    expected_a = model.named_estimators_["a"].predict_proba(row[:, modalities["a"]])[:, 1]
    prior_1 = np.mean(y == 1)
    np.testing.assert_allclose(
        model.transform(row),
        np.column_stack([expected_a, [prior_1, prior_1], [1.0, 1.0], [0.0, 0.0]]),
    )
    assert list(model.get_feature_names_out()) == [
        "stackinglatefusion_a",
        "stackinglatefusion_b",
        "stackinglatefusion_a_present",
        "stackinglatefusion_b_present",
    ]


def test_out_of_fold_meta_features_use_only_present_rows(gappy):
    """Rebuild the meta-learner's training set by hand and compare the final model."""
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
    prior_1 = np.mean(y == 1)
    meta = np.column_stack(
        [np.zeros(y.size), np.full(y.size, prior_1), np.ones(y.size), present_b * 1.0]
    )
    for train, test in cv.split(X, y):
        for j, (name, cols) in enumerate(modalities.items()):
            tr = train if name == "a" else train[present_b[train]]
            te = test if name == "a" else test[present_b[test]]
            fold = LogisticRegression().fit(X[np.ix_(tr, cols)], y[tr])
            meta[te, j] = fold.predict_proba(X[np.ix_(te, cols)])[:, 1]
    np.testing.assert_allclose(model.final_estimator_.X_fit_, meta, atol=1e-12)
    expected = LogisticRegression().fit(meta, y)
    np.testing.assert_allclose(model.final_estimator_.coef_, expected.coef_, atol=1e-10)


def test_gaps_are_simulated_when_training_has_none():
    X, y, modalities = make_multimodal_classification(
        n_samples=300, widths={"a": 3, "b": 4}, random_state=0
    )
    model = StackingLateFusion(
        LogisticRegression(),
        modalities=modalities,
        cv=3,
        random_state=0,
        final_estimator=RecordingLogisticRegression(),
    ).fit(X, y)
    seen = model.final_estimator_.X_fit_
    assert model.presence_indicators_ and seen.shape == (600, 4)
    original, copy = seen[:300], seen[300:]
    assert np.all(original[:, 2:] == 1.0)
    np.testing.assert_array_equal(copy[copy[:, 2] == 1, 0], original[copy[:, 2] == 1, 0])
    assert np.all(copy[:, 2:].sum(axis=1) >= 1)  # each copied row keeps a branch
    # a branch is absent where its modality was blanked (p=0.3), unless it was given back
    # to a row that lost both (0.09 of rows, half of them to each branch): 0.3 - 0.045
    assert np.mean(copy[:, 2:] == 0) == pytest.approx(0.255, abs=0.06)
    np.testing.assert_allclose(copy[copy[:, 3] == 0, 1], np.mean(y == 1))


def test_simulated_gaps_are_seeded():
    X, y, modalities = make_multimodal_classification(
        n_samples=100, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3, random_state=3)
    first = clone(model).fit(X, y).final_estimator_.coef_
    np.testing.assert_array_equal(clone(model).fit(X, y).final_estimator_.coef_, first)


def test_no_simulation_when_training_already_has_gaps(gappy):
    X, y, modalities, _ = gappy
    model = StackingLateFusion(
        LogisticRegression(),
        modalities=modalities,
        cv=3,
        final_estimator=RecordingLogisticRegression(),
    ).fit(X, y)
    assert model.final_estimator_.X_fit_.shape == (150, 4)


def test_simulated_passthrough_copy_blanks_the_masked_modality():
    X, y, modalities = make_multimodal_classification(
        n_samples=90, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(
        LogisticRegression(),
        modalities=modalities,
        cv=3,
        passthrough=True,
        random_state=0,
        final_estimator=RecordingDummyClassifier(),
    ).fit(X, y)
    seen = model.final_estimator_.X_fit_
    assert seen.shape == (180, 2 + 2 + 4)
    np.testing.assert_array_equal(seen[:90, 4:], X)
    copy = seen[90:]
    for k, cols in enumerate(modalities.values()):
        absent = copy[:, 2 + k] == 0
        assert absent.any() and np.isnan(copy[absent][:, 4 + np.array(cols)]).all()
        np.testing.assert_array_equal(copy[~absent][:, 4 + np.array(cols)], X[~absent][:, cols])


def test_rows_with_no_branch_get_the_prior_and_a_warning(gappy):
    X, y, modalities, _ = gappy
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    X_new = X[:5].copy()
    X_new[[1, 3]] = np.nan
    prior = np.bincount(y) / y.size
    with pytest.warns(NoModalityPresentWarning, match="2 of 5 rows have no branch present"):
        proba = model.predict_proba(X_new)
    np.testing.assert_allclose(proba[[1, 3]], [prior, prior])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoModalityPresentWarning)
        assert np.all(model.predict(X_new)[[1, 3]] == np.argmax(prior))
        log_odds = np.log(prior[1] / prior[0])
        np.testing.assert_allclose(model.decision_function(X_new)[[1, 3]], log_odds)
        np.testing.assert_allclose(proba[[0, 2, 4]], model.predict_proba(X[[0, 2, 4]]))


def test_regression_rows_with_no_branch_get_the_training_mean():
    X, y, modalities = make_multimodal_regression(
        n_samples=80, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion(Ridge(), modalities=modalities, cv=3).fit(X, y)
    with pytest.warns(NoModalityPresentWarning, match="1 of 1 rows.*target mean"):
        assert model.predict(np.full((1, 4), np.nan))[0] == pytest.approx(y.mean())


def _nb_data(n_samples, rng):
    """Classes differ in spread, not in mean: the mean is a confident class-0 point."""
    y = rng.randint(2, size=n_samples)
    X = rng.standard_normal((n_samples, 9)) * np.where(y == 1, 2.5, 1.0)[:, None]
    modalities = {"a": [0, 1, 2], "b": [3, 4, 5], "c": [6, 7, 8]}
    missing = rng.rand(n_samples, 3) < 0.3
    lost = missing.all(axis=1)
    missing[lost, rng.randint(3, size=lost.sum())] = False
    for j, cols in enumerate(modalities.values()):
        X[np.ix_(missing[:, j], cols)] = np.nan
    return X, y, modalities


def test_stacking_beats_mean_imputation_with_30_percent_missing_pairs():
    rng = np.random.RandomState(0)
    X, y, modalities = _nb_data(400, rng)
    X_test, y_test, _ = _nb_data(400, rng)
    imputed = StackingClassifier(
        [
            (name, _selecting(cols, make_pipeline(SimpleImputer(), GaussianNB())))
            for name, cols in modalities.items()
        ]
    ).fit(X, y)
    ours = StackingLateFusion(GaussianNB(), modalities=modalities, random_state=0).fit(X, y)
    assert ours.score(X_test, y_test) > imputed.score(X_test, y_test) + 0.05


# ---------------------------------------------------------------- classification details


def test_string_labels_round_trip():
    X, y, modalities = make_multimodal_classification(
        n_samples=90, widths={"a": 2, "b": 2}, n_classes=3, random_state=0
    )
    labels = np.array(["cat", "dog", "eel"])[y]
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3, random_state=0)
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
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3, random_state=0)
    frame = model.set_output(transform="pandas").fit(X, y).transform(X)
    assert list(frame.columns) == list(model.get_feature_names_out())
