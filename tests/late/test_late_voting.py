"""WeightedVoteFusion: equivalence with scikit-learn's voting, renormalisation
over present branches, learned weights."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from skfusion import NoModalityPresentWarning, WeightedVoteFusion
from skfusion.datasets import make_multimodal_classification, make_multimodal_regression
from skfusion.late._voting import learn_vote_weights


def _selecting(columns, estimator):
    return make_pipeline(ColumnTransformer([("select", "passthrough", columns)]), estimator)


@pytest.fixture
def data():
    return make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 4, "c": 2}, n_classes=3, random_state=0
    )


# ---------------------------------------------------------------- equivalence


@pytest.mark.parametrize("weights", [None, [1, 2, 3]])
def test_soft_vote_equals_sklearn_voting_classifier(data, weights):
    X, y, modalities = data
    reference = VotingClassifier(
        [(name, _selecting(cols, LogisticRegression())) for name, cols in modalities.items()],
        voting="soft",
        weights=weights,
    ).fit(X, y)
    ours = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=weights).fit(
        X, y
    )
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(ours.transform(X), reference.transform(X), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))


def test_hard_vote_with_weights_equals_sklearn_voting_classifier(data):
    X, y, modalities = data
    weights = [2, 1, 1]
    reference = VotingClassifier(
        [(name, _selecting(cols, LogisticRegression())) for name, cols in modalities.items()],
        voting="hard",
        weights=weights,
    ).fit(X, y)
    ours = WeightedVoteFusion(
        LogisticRegression(), modalities=modalities, voting="hard", weights=weights
    ).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))
    np.testing.assert_array_equal(ours.transform(X), reference.transform(X))
    assert not hasattr(ours, "predict_proba")


def test_vote_equals_sklearn_voting_regressor():
    X, y, modalities = make_multimodal_regression(
        n_samples=100, widths={"a": 3, "b": 2}, random_state=0
    )
    reference = VotingRegressor(
        [(name, _selecting(cols, Ridge())) for name, cols in modalities.items()]
    ).fit(X, y)
    ours = WeightedVoteFusion(Ridge(), modalities=modalities, weights=None).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), reference.predict(X), atol=1e-12)
    np.testing.assert_allclose(ours.transform(X), reference.transform(X), atol=1e-12)
    assert ours.weights_ == {"a": 0.5, "b": 0.5}


# ---------------------------------------------------------------- renormalisation


def test_soft_vote_renormalises_weights_over_present_modalities(data):
    X, y, modalities = data
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=weights).fit(
        X, y
    )
    X_new = X[:3].copy()
    X_new[0, modalities["b"]] = np.nan  # a and c vote: 0.5 / 0.7 and 0.2 / 0.7
    X_new[1, modalities["a"] + modalities["c"]] = np.nan  # b alone
    p = {
        name: model.named_estimators_[name].predict_proba(X[:3, cols])
        for name, cols in modalities.items()
    }
    expected = np.vstack(
        [
            (0.5 * p["a"][0] + 0.2 * p["c"][0]) / 0.7,
            p["b"][1],
            0.5 * p["a"][2] + 0.3 * p["b"][2] + 0.2 * p["c"][2],
        ]
    )
    np.testing.assert_allclose(model.predict_proba(X_new), expected)


def test_hard_vote_renormalises_over_present_modalities():
    # every branch learns "class 1 iff my feature > 0"
    t = np.linspace(-2, 2, 20)
    X_train, y_train = np.column_stack([t, t, t]), (t > 0).astype(int)
    modalities = {"a": [0], "b": [1], "c": [2]}
    model = WeightedVoteFusion(
        LogisticRegression(), modalities=modalities, voting="hard", weights={"a": 3, "b": 2, "c": 4}
    ).fit(X_train, y_train)
    X = np.array(
        [
            [1.0, 1.0, -1.0],  # a, b vote 1 (3 + 2) against c (4): 1
            [1.0, np.nan, -1.0],  # a votes 1 (3) against c (4): 0
            [-1.0, 1.0, np.nan],  # a votes 0 (3) against b (2): 0
            [np.nan, 1.0, -1.0],  # b votes 1 (2) against c (4): 0
            [np.nan, 1.0, np.nan],  # b alone: 1
        ]
    )
    np.testing.assert_array_equal(model.transform(X)[1], [1, np.nan, 0])
    np.testing.assert_array_equal(model.predict(X), [1, 0, 0, 0, 1])


def test_rows_with_no_branch_present_get_the_prior_and_a_warning(data):
    X, y, modalities = data
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None).fit(X, y)
    X_new = X[:4].copy()
    X_new[[0, 2]] = np.nan
    prior = np.bincount(y) / y.size
    with pytest.warns(NoModalityPresentWarning, match="2 of 4 rows have no branch present"):
        proba = model.predict_proba(X_new)
    np.testing.assert_allclose(proba[[0, 2]], [prior, prior])


def test_rows_whose_present_branches_weigh_zero_get_the_prior(data):
    X, y, modalities = data
    model = WeightedVoteFusion(
        LogisticRegression(), modalities=modalities, weights={"a": 1, "b": 1, "c": 0}
    ).fit(X, y)
    X_new = X[:1].copy()
    X_new[0, modalities["a"] + modalities["b"]] = np.nan  # only the zero-weight 'c' left
    with pytest.warns(NoModalityPresentWarning, match="zero-weight"):
        np.testing.assert_allclose(model.predict_proba(X_new)[0], np.bincount(y) / y.size)


def test_regression_vote_renormalises_and_falls_back_to_the_mean():
    X, y, modalities = make_multimodal_regression(
        n_samples=80, widths={"a": 2, "b": 2}, random_state=0
    )
    model = WeightedVoteFusion(Ridge(), modalities=modalities, weights=[3, 1]).fit(X, y)
    X_new = X[:2].copy()
    X_new[0, modalities["b"]] = np.nan
    X_new[1] = np.nan
    with pytest.warns(NoModalityPresentWarning):
        pred = model.predict(X_new)
    a_alone = model.named_estimators_["a"].predict(X_new[:1, modalities["a"]])[0]
    np.testing.assert_allclose(pred, [a_alone, y.mean()])


def test_transform_is_nan_where_a_branch_is_absent(data):
    X, y, modalities = data
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None).fit(X, y)
    X_new = X[:2].copy()
    X_new[0, modalities["b"]] = np.nan
    meta = model.transform(X_new)
    names = list(model.get_feature_names_out())
    assert names[3:6] == ["weightedvotefusion_b0", "weightedvotefusion_b1", "weightedvotefusion_b2"]
    assert np.isnan(meta[0, 3:6]).all() and not np.isnan(meta[1]).any()


# ---------------------------------------------------------------- learned weights


def test_learned_weight_of_a_noise_modality_is_near_zero():
    X, y, modalities = make_multimodal_classification(
        n_samples=300, widths={"a": 4, "b": 4}, signal={"a": 2.0, "b": 0.0}, random_state=0
    )
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities).fit(X, y)
    assert sum(model.weights_.values()) == pytest.approx(1.0)
    assert model.weights_["b"] < 0.05


def test_learned_weights_minimise_out_of_fold_log_loss(data):
    X, y, modalities = data
    cv = StratifiedKFold(3)
    model = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", LogisticRegression())], modalities=modalities, cv=cv
    ).fit(X, y)
    oof = {
        name: cross_val_predict(
            LogisticRegression(), X[:, modalities[name]], y, cv=cv, method="predict_proba"
        )
        for name in ("a", "b")
    }
    grid = np.linspace(0, 1, 1001)
    losses = [log_loss(y, w * oof["a"] + (1 - w) * oof["b"]) for w in grid]
    assert model.weights_["a"] == pytest.approx(grid[np.argmin(losses)], abs=2e-3)


def test_learned_regression_weights_match_the_closed_form():
    X, y, modalities = make_multimodal_regression(
        n_samples=200, widths={"a": 3, "b": 3}, signal={"a": 1.0, "b": 0.5}, random_state=0
    )
    model = WeightedVoteFusion(LinearRegression(), modalities=modalities, cv=4).fit(X, y)
    oof = {
        name: cross_val_predict(LinearRegression(), X[:, cols], y, cv=4)
        for name, cols in modalities.items()
    }
    # argmin_w |y - w p_a - (1 - w) p_b|^2 = <y - p_b, p_a - p_b> / |p_a - p_b|^2
    diff = oof["a"] - oof["b"]
    w_a = np.clip((y - oof["b"]) @ diff / (diff @ diff), 0, 1)
    assert model.weights_["a"] == pytest.approx(w_a, abs=1e-4)


def test_learned_weights_account_for_renormalisation_with_missing_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(2, size=200)
    good = np.column_stack([np.where(y == 1, 0.8, 0.2), np.where(y == 1, 0.2, 0.8)])[:, ::-1]
    bad = np.full((200, 2), 0.5)
    rows = [np.arange(200), np.arange(0, 200, 2)]  # second branch present in half the rows
    weights = learn_vote_weights(
        [good, bad[rows[1]]], rows, y, task="classifier", prior=np.array([0.5, 0.5])
    )

    def loss(w):
        p_true = good[np.arange(200), y].copy()
        p_true[rows[1]] = w * p_true[rows[1]] + (1 - w) * 0.5
        return -np.mean(np.log(p_true))

    grid = np.linspace(0, 1, 1001)
    assert weights[0] == pytest.approx(grid[np.argmin([loss(w) for w in grid])], abs=2e-3)


def test_a_dropped_branch_gets_exactly_zero_weight_and_no_vote():
    # SLSQP stopped near the bound (5.6e-17) for the useless branch 'a'; with that
    # weight, 'a' alone decided the rows where 'b' is missing, which the learned
    # loss had scored as the prior. Dropped means zero, at fit and at predict.
    from sklearn.model_selection import PredefinedSplit

    X, y, modalities = make_multimodal_classification(
        n_samples=60, widths={"a": 3, "b": 4}, missing_rate=0.2, random_state=0
    )
    repeats = np.random.RandomState(0).randint(0, 3, 60)
    rows = np.repeat(np.arange(60), repeats)
    folds = PredefinedSplit((np.arange(60) % 3)[rows])
    vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=folds)
    vote.fit(X[rows], y[rows])
    assert vote.weights_["a"] == 0.0 and vote.weights_["b"] == 1.0
    only_a = ~np.isnan(X[:, 0]) & np.isnan(X[:, 3])
    assert only_a.sum() == 10
    with pytest.warns(NoModalityPresentWarning, match="only zero-weight branches"):
        proba = vote.predict_proba(X[only_a])
    np.testing.assert_allclose(proba, np.tile(vote.class_prior_, (10, 1)))
    # integer sample weights are those repeated rows (same folds): same weights and vote
    weighted = WeightedVoteFusion(
        LogisticRegression(), modalities=modalities, cv=PredefinedSplit(np.arange(60) % 3)
    ).fit(X, y, sample_weight=repeats)
    assert weighted.weights_ == vote.weights_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoModalityPresentWarning)
        np.testing.assert_allclose(weighted.predict_proba(X), vote.predict_proba(X), atol=1e-12)


def test_hard_voting_cannot_learn_weights(data):
    X, y, modalities = data
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, voting="hard")
    with pytest.raises(ValueError, match="weights='learn'.*voting='soft'"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1, 2], "2 values for 3 branches"),
        ({"a": 1, "z": 1}, "unknown branch 'z'"),
        ({"a": 1, "b": 1}, "no weight to branch 'c'"),
        ([1, -1, 1], "non-negative"),
        ([0, 0, 0], "not all zero"),
    ],
)
def test_bad_fixed_weights_raise(data, weights, message):
    X, y, modalities = data
    with pytest.raises(ValueError, match=message):
        WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=weights).fit(X, y)


def test_fixed_weights_are_normalised_and_skip_dropped_branches(data):
    X, y, modalities = data
    model = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", "drop"), ("c", LogisticRegression())],
        modalities=modalities,
        weights=[1, 5, 3],
    ).fit(X, y)
    assert model.weights_ == {"a": 0.25, "c": 0.75}
    same = clone(model).set_params(weights={"a": 1, "c": 3}).fit(X, y)
    np.testing.assert_allclose(same.predict_proba(X), model.predict_proba(X))


def test_string_labels(data):
    X, y, modalities = data
    labels = np.array(["x", "y", "z"])[y]
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=3).fit(X, labels)
    reference = clone(model).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), np.array(["x", "y", "z"])[reference.predict(X)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.score(X, labels) == pytest.approx(reference.score(X, y))


def test_weights_as_a_series_are_read_by_branch_name(data):
    # read as an array, a Series keyed by name was applied by position
    pd = pytest.importorskip("pandas")
    from skfusion._utils.modality_protocol import restrict_to_modalities

    X, y, modalities = data
    series = pd.Series({"c": 3.0, "a": 1.0, "b": 2.0})
    vote = WeightedVoteFusion(LogisticRegression(), modalities, weights=series).fit(X, y)
    by_dict = WeightedVoteFusion(LogisticRegression(), modalities, weights=series.to_dict())
    np.testing.assert_allclose(vote.weights_["c"], 0.5)
    np.testing.assert_array_equal(vote.predict_proba(X), by_dict.fit(X, y).predict_proba(X))
    restricted = restrict_to_modalities(vote, {"c": [0, 1], "b": [2, 3, 4, 5]})
    np.testing.assert_allclose(restricted.fit(X[:, modalities["c"] + modalities["b"]], y).weights_["c"], 0.6)
