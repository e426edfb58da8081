"""compare_fusion: the same folds for every strategy, scores as cross_validate
computes them, costs, gains over the best single modality, and its result."""

import importlib.util
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.datasets import make_multimodal_classification, make_multimodal_regression
from skfusion.model_selection import STRATEGY_NAMES, FusionComparison, compare_fusion

HAS_TORCH = all(importlib.util.find_spec(name) is not None for name in ("torch", "skorch"))


@pytest.fixture
def classification():
    X, y, modalities = make_multimodal_classification(
        n_samples=150,
        widths={"a": 3, "b": 3, "noise": 2},
        signal={"a": 1.5, "b": 1.5, "noise": 0.0},
        random_state=0,
    )
    return X, y, modalities


def test_scores_are_cross_validate_scores_on_the_same_folds(classification):
    X, y, modalities = classification
    estimator = make_pipeline(StandardScaler(), LogisticRegression())
    result = compare_fusion(X, y, modalities, {"logreg": estimator}, cv=4)
    expected = cross_val_score(estimator, X, y, cv=StratifiedKFold(4))
    np.testing.assert_allclose(result.records[0]["scores"]["accuracy"], expected)
    assert result.records[0]["kind"] == "custom"
    assert result.n_splits == 4 and result.n_samples == 150


def test_every_strategy_sees_the_same_shuffled_folds(classification):
    X, y, modalities = classification
    rng = np.random.RandomState(3)  # a RandomState would give new folds on each split() call
    strategies = {"first": LogisticRegression(), "second": LogisticRegression()}
    result = compare_fusion(X, y, modalities, strategies, cv=3, random_state=rng)
    np.testing.assert_array_equal(
        result.records[0]["scores"]["accuracy"], result.records[1]["scores"]["accuracy"]
    )

    seeded = compare_fusion(
        X, y, modalities, {"logreg": LogisticRegression()}, cv=3, random_state=7
    )
    expected = cross_val_score(
        LogisticRegression(), X, y, cv=StratifiedKFold(3, shuffle=True, random_state=7)
    )
    np.testing.assert_allclose(seeded.records[0]["scores"]["accuracy"], expected)


def test_single_modality_strategy_is_a_linear_model_on_that_modality_alone(classification):
    X, y, modalities = classification
    result = compare_fusion(X, y, modalities, ["single:a"], cv=3)
    reference = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)),
        X[:, modalities["a"]],
        y,
        cv=3,
    )
    np.testing.assert_allclose(result.records[0]["scores"]["accuracy"], reference)
    assert result.records[0]["kind"] == "single"


def test_gain_is_over_the_best_single_modality(classification):
    X, y, modalities = classification
    result = compare_fusion(
        X, y, modalities, ["single", ("all columns", LogisticRegression())], cv=3
    )
    assert result.names == ["single:a", "single:b", "single:noise", "all columns"]
    means = {
        name: record["scores"]["accuracy"].mean()
        for name, record in zip(result.names, result.records)
    }
    best_single = max(["single:a", "single:b", "single:noise"], key=means.get)
    assert result.best_single_ == best_single
    for name in result.names:
        assert result.gain_[name] == pytest.approx(means[name] - means[best_single])
    assert result.best_ == max(means, key=means.get)
    # both modalities carry independent signal: using both beats either alone
    assert result.gain_["all columns"] > 0
    # the noise modality is at chance level
    assert means["single:noise"] < 0.65


def test_several_metrics_keep_their_order_and_the_first_ranks(classification):
    X, y, modalities = classification
    result = compare_fusion(
        X,
        y,
        modalities,
        {"prior": DummyClassifier(), "logreg": LogisticRegression()},
        cv=3,
        scoring=["roc_auc", "accuracy"],
    )
    assert result.metrics == ["roc_auc", "accuracy"]
    assert result.primary_metric == "roc_auc"
    np.testing.assert_allclose(result.records[0]["scores"]["roc_auc"], 0.5)
    assert result.best_ == "logreg"
    frame = result.to_frame()
    assert list(frame.columns) == [
        "kind",
        "roc_auc_mean",
        "roc_auc_std",
        "accuracy_mean",
        "accuracy_std",
        "fit_time_mean",
        "fit_time_std",
        "predict_ms_per_1k_mean",
        "predict_ms_per_1k_std",
        "gain",
    ]
    assert frame.loc["prior", "roc_auc_mean"] == pytest.approx(0.5)


def test_regression_defaults_to_r2():
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 2}, random_state=0
    )
    result = compare_fusion(X, y, modalities, {"ridge": Ridge()}, cv=3)
    assert result.task == "regression" and result.metrics == ["r2"]
    expected = cross_val_score(Ridge(), X, y, cv=KFold(3), scoring="r2")
    np.testing.assert_allclose(result.records[0]["scores"]["r2"], expected)


def test_callable_scoring_is_named_score(classification):
    X, y, modalities = classification
    scorer = lambda estimator, X, y: float(np.mean(estimator.predict(X) == y))  # noqa: E731
    result = compare_fusion(
        X, y, modalities, {"logreg": LogisticRegression()}, cv=3, scoring=scorer
    )
    expected = cross_val_score(LogisticRegression(), X, y, cv=3)
    assert result.metrics == ["score"]
    np.testing.assert_allclose(result.records[0]["scores"]["score"], expected)


class _RecordingClassifier(LogisticRegression):
    """Records how many rows each predict call gets."""

    def predict(self, X):
        type(self).predict_rows.append(len(X))
        return super().predict(X)


def test_predict_latency_is_one_predict_call_on_at_least_a_thousand_rows(classification):
    X, y, modalities = classification
    _RecordingClassifier.predict_rows = []
    result = compare_fusion(X, y, modalities, {"logreg": _RecordingClassifier()}, cv=3)
    # 150 rows in 3 folds: each fold is scored on its 50 rows, then timed on 1,000
    assert _RecordingClassifier.predict_rows.count(1000) == 3
    latency = result.records[0]["predict_ms_per_1k"]
    assert latency.shape == (3,) and np.all(latency > 0)


def test_fit_time_is_the_cost_alone_and_the_time_spent_is_kept_apart(classification):
    X, y, modalities = classification
    strategies = ["stacking", "vote"]
    shared = compare_fusion(X, y, modalities, strategies, cv=3)
    alone = compare_fusion(X, y, modalities, strategies, cv=3, share_work=False)
    for name in strategies:
        one, other = (r.records[r.names.index(name)] for r in (shared, alone))
        np.testing.assert_allclose(one["scores"]["accuracy"], other["scores"]["accuracy"])
        np.testing.assert_allclose(other["fit_time"], other["fit_time_spent"])
    vote = shared.records[shared.names.index("vote")]
    # the vote reused stacking's branch fits: in every fold part of its cost was not spent
    # (reused seconds > 0; no comparison of two timings, which load on the machine can flip)
    assert np.all(vote["fit_time"] - vote["fit_time_spent"] > 0)
    assert shared.spent_seconds_ > 0 and "The comparison took" in str(shared)


def test_progress_is_reported_for_every_fold_and_at_the_end(classification):
    X, y, modalities = classification
    calls = []
    compare_fusion(
        X,
        y,
        modalities,
        {"one": LogisticRegression(), "two": DummyClassifier()},
        cv=2,
        progress=lambda *args: calls.append(args),
    )
    assert calls == [
        (0, 4, "one (0/2 folds)"), (1, 4, "one (1/2 folds)"), (2, 4, "one (2/2 folds)"),
        (2, 4, "two (0/2 folds)"), (3, 4, "two (1/2 folds)"), (4, 4, "two (2/2 folds)"),
        (4, 4, None),
    ]


def test_verbose_prints_progress_lines_on_stderr(classification, capsys):
    X, y, modalities = classification
    compare_fusion(X, y, modalities, {"one": DummyClassifier()}, cv=2, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2 one (2/2 folds)" in captured.err


def test_the_cheapest_strategy_within_one_standard_error_of_the_best_is_marked():
    records = [
        {"name": "big", "kind": "late", "scores": {"accuracy": np.array([0.90, 0.92, 0.94])},
         "fit_time": np.array([5.0, 5.0, 5.0]), "predict_ms_per_1k": np.ones(3)},
        {"name": "small", "kind": "early", "scores": {"accuracy": np.array([0.91, 0.91, 0.92])},
         "fit_time": np.array([0.1, 0.1, 0.1]), "predict_ms_per_1k": np.ones(3)},
        {"name": "poor", "kind": "single", "scores": {"accuracy": np.array([0.70, 0.71, 0.72])},
         "fit_time": np.array([0.01] * 3), "predict_ms_per_1k": np.ones(3)},
    ]
    result = FusionComparison(records, task="classification", n_samples=90, n_splits=3)
    # best mean 0.92, standard error 0.02/sqrt(3) = 0.0115 (sample deviation, ddof=1):
    # 'small' (0.9133) is within it
    assert result.best_ == "big" and result.cheapest_ == "small"
    text = str(result)
    assert "big *" in text and "small †" in text
    assert "† cheapest within one standard error of the best: small." in text


def test_table_json_and_repr(classification):
    X, y, modalities = classification
    result = compare_fusion(X, y, modalities, ["single:a", ("prior", DummyClassifier())], cv=3)
    text = str(result)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["strategy", "kind", "accuracy"]
    assert any(line.startswith("single:a *") for line in lines)  # the best is starred
    assert "best single modality (single:a)" in text
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["best"] == "single:a" and payload["best_single"] == "single:a"
    assert [entry["name"] for entry in payload["strategies"]] == ["single:a", "prior"]
    assert len(payload["strategies"][1]["scores"]["accuracy"]["folds"]) == 3
    assert payload["strategies"][0]["gain"] == 0.0
    assert "single:a" in repr(result)


def test_gain_is_undefined_without_a_single_modality(classification):
    X, y, modalities = classification
    result = compare_fusion(X, y, modalities, {"logreg": LogisticRegression()}, cv=2)
    assert result.best_single_ is None and np.isnan(result.gain_["logreg"])
    assert result.to_dict()["strategies"][0]["gain"] is None
    assert "best single modality" not in str(result)


def test_modalities_by_column_name_on_a_dataframe():
    X, y, modalities = make_multimodal_classification(
        n_samples=90, widths={"a": 2, "b": 2}, as_frame=True, random_state=1
    )
    assert isinstance(modalities["a"][0], str)
    result = compare_fusion(X, y, modalities, ["single:b"], cv=3)
    reference = compare_fusion(
        X.to_numpy(), y.to_numpy(), {"a": [0, 1], "b": [2, 3]}, ["single:b"], cv=3
    )
    np.testing.assert_allclose(
        result.records[0]["scores"]["accuracy"], reference.records[0]["scores"]["accuracy"]
    )


@pytest.mark.parametrize(
    "strategies, error, message",
    [
        (["bagging"], ValueError, "Unknown strategy 'bagging'"),
        (["single:c"], ValueError, "unknown modality 'c'"),
        ([("x", LogisticRegression()), ("x", Ridge())], ValueError, "unique"),
        ([], TypeError, "non-empty"),
        ([42], TypeError, "built-in name"),
        ({"x": "not an estimator"}, TypeError, "estimator with `fit`"),
    ],
)
def test_bad_strategies_are_refused(classification, strategies, error, message):
    X, y, modalities = classification
    with pytest.raises(error, match=message):
        compare_fusion(X, y, modalities, strategies, cv=2)


def test_bad_targets_and_cv_are_refused(classification):
    X, y, modalities = classification
    with pytest.raises(ValueError, match="1 class"):
        compare_fusion(
            X,
            np.zeros(len(y)),
            modalities,
            {"m": LogisticRegression()},
            cv=2,
            task="classification",
        )
    with pytest.raises(ValueError, match="multilabel"):
        compare_fusion(X, np.c_[y, y], modalities, {"m": LogisticRegression()}, cv=2)
    with pytest.raises(ValueError, match="at least 2 folds"):
        compare_fusion(X, y, modalities, {"m": LogisticRegression()}, cv=1)
    with pytest.raises(ValueError, match="`task`"):
        compare_fusion(X, y, modalities, {"m": LogisticRegression()}, task="ranking")


def test_default_strategies_run_and_fusion_beats_single_modalities(classification):
    X, y, modalities = classification
    result = compare_fusion(X, y, modalities, cv=3, random_state=0)
    expected = ["single:a", "single:b", "single:noise", "early", "stacking", "vote"]
    expected += ["intermediate"] if HAS_TORCH else []
    assert result.names == expected + ["hybrid"]
    kinds = dict(zip(result.names, (record["kind"] for record in result.records)))
    assert kinds["early"] == "early" and kinds["stacking"] == kinds["vote"] == "late"
    assert kinds["hybrid"] == "hybrid"
    frame = result.to_frame()
    assert np.isfinite(frame["accuracy_mean"]).all()
    # a and b carry independent halves of the signal
    for name in ("early", "stacking", "vote", "hybrid"):
        assert result.gain_[name] > 0, name


def test_default_strategies_for_regression():
    X, y, modalities = make_multimodal_regression(
        n_samples=120, widths={"a": 3, "b": 3}, random_state=0
    )
    result = compare_fusion(
        X, y, modalities, ["single", "early", "stacking", "vote", "hybrid"], cv=3
    )
    assert result.metrics == ["r2"]
    assert result.gain_["early"] > 0 and result.gain_["stacking"] > 0


def test_a_strategy_failing_every_fold_keeps_its_row_with_error_score(classification):
    X, y, modalities = classification
    X = X.copy()
    X[:, 0] = np.nan  # LogisticRegression refuses NaN, the prior ignores X
    strategies = {"prior": DummyClassifier(), "logreg": LogisticRegression()}
    with pytest.raises(ValueError, match="NaN"):
        compare_fusion(X, y, modalities, strategies, cv=2)
    with pytest.warns(FitFailedWarning, match="'logreg' failed on every fold"):
        result = compare_fusion(X, y, modalities, strategies, cv=2, error_score=np.nan)
    assert result.names == ["prior", "logreg"] and result.best_ == "prior"
    assert np.isnan(result.records[1]["scores"]["accuracy"]).all()
    assert np.isnan(result.records[1]["fit_time"]).all()
    logreg_line = str(result).splitlines()[3]
    assert logreg_line.split()[:3] == ["logreg", "custom", "failed"]
    assert (
        json.loads(json.dumps(result.to_dict(), allow_nan=False))["strategies"][1]["gain"] is None
    )


@pytest.mark.parametrize("error_score", [0.0, -1.0, np.nan])
def test_a_strategy_failing_every_fold_is_never_best_whatever_error_score(
    classification, error_score
):
    # error_score=0 once scored the failure 0 on every fold: best (and cheapest) for a
    # metric whose values are negative, with a gain over every real strategy
    X, y, modalities = classification
    X = X.copy()
    X[:, 0] = np.nan
    strategies = {"prior": DummyClassifier(), "logreg": LogisticRegression()}
    with pytest.warns(FitFailedWarning, match="'logreg' failed on every fold"):
        result = compare_fusion(
            X, y, modalities, strategies, cv=2, scoring="neg_log_loss", error_score=error_score
        )
    assert result.best_ == result.cheapest_ == "prior"
    assert np.isnan(result.records[1]["scores"]["neg_log_loss"]).all()
    assert str(result).splitlines()[3].split()[:3] == ["logreg", "custom", "failed"]


def test_integer_labels_read_as_a_quantity_are_said(classification):
    X, _, modalities = classification
    y = np.arange(len(X)) % 25  # 25 classes coded as integers: beyond MAX_AUTO_CLASSES
    with pytest.warns(UserWarning, match="25 distinct whole numbers.*task='classification'"):
        result = compare_fusion(X, y, modalities, ["single"], cv=2)
    assert result.task == "regression"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # given, or not whole numbers: no warning
        compare_fusion(X, y, modalities, ["single"], cv=2, task="regression")
        compare_fusion(X, y + 0.5, modalities, ["single"], cv=2)
        # whole numbers that are not label codes (counts, prices): a quantity, unsaid
        compare_fusion(X, (y + 1) * 7 + np.arange(len(y)) % 3, modalities, ["single"], cv=2)


def test_a_callable_scoring_is_not_called_on_a_stand_in(classification):
    # the suitability check scored a dummy on a one-column stand-in of X, so a scorer
    # reading X's columns failed with an IndexError before any fit
    X, y, modalities = classification

    def reads_x(estimator, X_test, y_test):
        return float(np.mean(estimator.predict(X_test) == y_test)) + 0 * X_test[:, 5].sum()

    result = compare_fusion(X, y, modalities, ["early"], cv=2, scoring=reads_x)
    assert 0.5 < result.to_frame()["score_mean"].iloc[0] <= 1.0


def test_a_small_table_gets_fewer_inner_folds_or_skips_late_fusion():
    # 5 inner folds failed on small tables with "n_splits=5 cannot be greater than the
    # number of members in each class", a setting the user never made
    X, y, modalities = make_multimodal_classification(
        n_samples=12, widths={"a": 2, "b": 2}, random_state=0
    )
    strategies = ["single", "early", "stacking", "vote", "hybrid"]
    with pytest.warns(UserWarning, match="stacking, vote, hybrid: 3 inner folds instead of 5"):
        result = compare_fusion(X, y, modalities, strategies, cv=3)
    assert [result.estimators_[name].cv for name in ("stacking", "vote", "hybrid")] == [3] * 3
    assert np.isfinite(result.to_frame()["accuracy_mean"]).all()
    tiny = make_multimodal_classification(n_samples=8, widths={"a": 2, "b": 2}, random_state=0)
    with pytest.warns(UserWarning, match="stacking: 3 inner folds"):
        compare_fusion(*tiny, ["early", "stacking"], cv=4)
    X, y, modalities = tiny
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1])  # 2 of class 1: 1 in a training fold
    result = compare_fusion(X, y, modalities, ["early", "stacking"], cv=2)
    assert result.names == ["early"] and "inner cross-validation" in result.skipped_["stacking"]
    frame = pd.DataFrame(X, columns=["a1", "a2", "b1", "b2"]).assign(note=["x y"] * 8)
    with pytest.warns(UserWarning, match="stacking: 3 inner folds"):  # a TableFusion strategy
        result = compare_fusion(frame, tiny[1], "auto", ["stacking"], cv=4)
    assert result.estimators_["stacking"].estimator.cv == 3


def test_default_strategies_accept_missing_modalities():
    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 3}, signal=1.5, missing_rate=0.2, random_state=0
    )
    assert np.isnan(X).any()
    result = compare_fusion(X, y, modalities, ["single", "early", "stacking", "vote"], cv=3)
    assert np.isfinite(result.to_frame()["accuracy_mean"]).all()
    assert result.gain_["stacking"] > 0


def test_strategy_names_constant_lists_the_builtins():
    assert STRATEGY_NAMES == ("single", "early", "stacking", "vote", "intermediate", "hybrid")


def test_result_needs_a_strategy():
    with pytest.raises(ValueError, match="at least one strategy"):
        FusionComparison([], task="classification", n_samples=10, n_splits=2)


def test_a_raw_table_is_compared_through_its_modality_plan():
    pd = pytest.importorskip("pandas")
    pytest.importorskip("skrub")
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from skfusion import StackingLateFusion
    from skfusion.tables import TableFusion, infer_modalities

    rng = np.random.default_rng(0)
    words = np.array("alpha beta gamma delta kappa sigma omega theta".split())
    y = rng.integers(0, 2, 90)
    frame = pd.DataFrame({
        "note": [" ".join(rng.choice(words[:4] if label else words[4:], 10)) for label in y],
        "colour": rng.choice(["red", "blue"], 90),
        "size": rng.normal(size=90),
    })
    result = compare_fusion(frame, y, "auto", ["single", "stacking", "intermediate"][:2], cv=3)
    assert result.names == ["single:note", "single:tabular", "stacking"]
    plan = infer_modalities(frame)
    expected = cross_val_score(
        TableFusion(StackingLateFusion(LogisticRegression(max_iter=300)), modalities=plan),
        frame, y, cv=StratifiedKFold(3),
    )
    np.testing.assert_allclose(result.records[2]["scores"]["accuracy"], expected)
    with pytest.raises(ValueError, match="needs dense input.*'note'"):
        compare_fusion(frame, y, "auto", ["intermediate"], cv=3)
    default = compare_fusion(frame, y, "auto", cv=3)
    assert "intermediate" in default.skipped_ and "intermediate" not in default.names


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_a_warning_every_fold_raises_is_shown_once_per_strategy(n_jobs):
    """Fold warnings are recorded where the fold runs (a worker process too) and shown
    once per strategy, naming it and its folds, with their category kept."""
    from sklearn.exceptions import ConvergenceWarning

    X, y, modalities = make_multimodal_classification(
        n_samples=60, widths={"a": 3, "b": 3}, random_state=0
    )
    strategies = [
        "single:a",  # converges: nothing to say
        ("one step", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1))),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_fusion(X, y, modalities, strategies=strategies, cv=3, n_jobs=n_jobs,
                       random_state=0)
    assert [(w.category, str(w.message)[:36]) for w in caught] == [
        (ConvergenceWarning, "Strategy 'one step' (every fold): lb")
    ]


def test_group_splitters_take_groups(classification):
    # GroupKFold asked for groups none of the tools took ("The 'groups' parameter
    # should not be None"); a list of its splits was the only way
    from sklearn.model_selection import GroupKFold

    from skfusion.inspection import modality_ablation, modality_shapley

    X, y, modalities = classification
    groups = np.arange(len(y)) // 10  # 15 patients of 10 rows
    splits = list(GroupKFold(3).split(X, y, groups))
    for _, test in splits:
        assert not set(groups[test]) & set(np.delete(groups, test))
    grouped = compare_fusion(X, y, modalities, ["single", "early"], cv=GroupKFold(3), groups=groups)
    listed = compare_fusion(X, y, modalities, ["single", "early"], cv=splits)
    np.testing.assert_allclose(
        grouped.to_frame()["accuracy_mean"], listed.to_frame()["accuracy_mean"]
    )
    model = LogisticRegression()
    ablation = modality_ablation(model, X, y, modalities, cv=GroupKFold(3), groups=groups)
    assert ablation.to_frame().equals(modality_ablation(model, X, y, modalities, cv=splits).to_frame())
    shapley = modality_shapley(model, X, y, modalities, cv=GroupKFold(3), groups=groups)
    expected = modality_shapley(model, X, y, modalities, cv=splits)
    np.testing.assert_allclose(shapley.shapley_values, expected.shapley_values)


class RefusesNaNAtPredict(LogisticRegression):
    """Fits on NaN (read as 0) but refuses NaN in predict: a fold fails at scoring only."""

    def fit(self, X, y):
        return super().fit(np.nan_to_num(np.asarray(X, dtype=float)), y)

    def predict(self, X):
        from sklearn.utils import check_array

        return super().predict(check_array(X))


def test_a_fold_that_cannot_be_scored_scores_error_score_as_in_cross_validate():
    from sklearn.model_selection import cross_validate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    X[0, 2] = np.nan  # only KFold(3)'s first test fold holds row 0
    modalities = {"a": [0, 1], "b": [2, 3]}
    strategies = {"lr": RefusesNaNAtPredict()}
    with pytest.warns(UserWarning, match="'lr' failed scoring on 1 of 3 folds.*NaN"):
        result = compare_fusion(X, y, modalities, strategies, cv=KFold(3), error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's own "Scoring failed"
        expected = cross_validate(
            RefusesNaNAtPredict(), X, y, cv=KFold(3), error_score=np.nan
        )["test_score"]
    assert np.isnan(expected[0]) and not np.isnan(expected[1:]).any()
    np.testing.assert_allclose(result.records[0]["scores"]["accuracy"], expected)
    # the fit itself succeeded on every fold: its time is known, the latency is not
    assert not np.isnan(result.records[0]["fit_time"]).any()
    assert np.isnan(result.records[0]["predict_ms_per_1k"][0])
    with pytest.raises(ValueError, match="NaN"):
        compare_fusion(X, y, modalities, strategies, cv=KFold(3))


@pytest.mark.parametrize("task", ["auto", "regression"])
def test_a_constant_regression_target_is_refused(task):
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = np.full(30, 2.5)
    # scikit-learn's r2 on a constant truth: 1 for the constant, 0 for anything else
    assert (r2_score(y, y), r2_score(y, rng.normal(size=30))) == (1.0, 0.0)
    with pytest.raises(ValueError, match=r"The target is constant \(every value is 2.5\)"):
        compare_fusion(X, y, {"a": [0, 1], "b": [2, 3]}, ["early"], cv=3, task=task)


def test_the_standard_error_uses_the_sample_deviation_of_the_folds():
    # ddof=0 gave 0.9198 as the bar for the probe's folds [0.925, 0.970, 0.909], and left
    # out a strategy of 0.9197 within the textbook (ddof=1) standard error, bar 0.9164
    best = np.array([0.925, 0.970, 0.909])
    records = [
        {"name": "best", "kind": "late", "scores": {"accuracy": best},
         "fit_time": np.full(3, 5.0), "predict_ms_per_1k": np.ones(3)},
        {"name": "close", "kind": "early", "scores": {"accuracy": np.full(3, 0.9197)},
         "fit_time": np.full(3, 0.1), "predict_ms_per_1k": np.ones(3)},
    ]
    result = FusionComparison(records, task="classification", n_samples=90, n_splits=3)
    bar = best.mean() - best.std(ddof=1) / np.sqrt(3)
    assert 0.9164 < bar < 0.9165
    assert result.cheapest_ == "close"
