"""Modality ablation, grouped permutation importance, exact Shapley values and
the displays, checked against independent computations and hand-worked games."""

import subprocess
import warnings
import sys
from itertools import permutations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion._modalities import resolve_modalities
from skfusion.datasets import make_multimodal_classification
from skfusion.inspection import (
    FusionComparisonDisplay,
    ModalityAblation,
    ModalityImportanceDisplay,
    modality_ablation,
    modality_importance,
    modality_shapley,
)

@pytest.fixture
def agg():
    """matplotlib without a display; figures closed after the test."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture
def additive():
    """y = 2 a0 + b0 with a two-column modality a, one-column b and a noise modality."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = 2 * X[:, 0] + X[:, 2] + 0.1 * rng.normal(size=120)
    return X, y, {"a": [0, 1], "b": [2], "noise": [3, 4]}


class SpecLinearRegression(RegressorMixin, BaseEstimator):
    """A fusion-like estimator: a linear model on the columns of its modalities.

    It refuses input whose width is not that of its modalities, so a test
    fails if ablation hands it the wrong columns or a stale specification.
    """

    def __init__(self, modalities=None):
        self.modalities = modalities

    def fit(self, X, y):
        self.modalities_ = resolve_modalities(self.modalities, X)
        self.columns_ = np.concatenate(list(self.modalities_.values()))
        if self.columns_.size != X.shape[1]:
            raise ValueError(f"got {X.shape[1]} columns for modalities {self.modalities}")
        self.model_ = LinearRegression().fit(X[:, self.columns_], y)
        return self

    def predict(self, X):
        return self.model_.predict(X[:, self.columns_])


class FixedRegressor(RegressorMixin, BaseEstimator):
    """A 'fitted' model predicting x0 - x1 + x2 whatever it was fitted on."""

    def fit(self, X, y):
        self.is_fitted_ = True
        return self

    def predict(self, X):
        X = np.asarray(X)
        return X[:, 0] - X[:, 1] + X[:, 2]


def _shapley_by_orderings(value, names):
    """Shapley values as the mean marginal contribution over all orderings."""
    phi = dict.fromkeys(names, 0.0)
    orderings = list(permutations(names))
    for ordering in orderings:
        coalition = ()
        for name in ordering:
            joined = tuple(sorted(coalition + (name,), key=names.index))
            phi[name] += value[joined] - value[coalition]
            coalition = joined
    return np.array([phi[name] / len(orderings) for name in names])


# --------------------------------------------------------------------------- ablation
def test_ablation_scores_every_subset_as_a_refit_on_its_columns(additive):
    X, y, modalities = additive
    ablation = modality_ablation(LinearRegression(), X, y, modalities, cv=4)
    assert ablation.subsets == [
        ("a",),
        ("b",),
        ("noise",),
        ("a", "b"),
        ("a", "noise"),
        ("b", "noise"),
        ("a", "b", "noise"),
    ]
    assert ablation.metrics == ["score"]
    for i, subset in enumerate(ablation.subsets):
        columns = [c for name in subset for c in modalities[name]]
        expected = cross_val_score(LinearRegression(), X[:, columns], y, cv=KFold(4))
        np.testing.assert_allclose(ablation.scores["score"][i], expected)
    assert ablation.score(("b", "a")) > 0.99
    assert ablation.score(("noise",)) < 0.05
    # noise adds nothing to a + b: no synergy
    assert (
        abs(ablation.synergy[ablation.subsets.index(("a", "b", "noise"))] - ablation.synergy[3])
        < 0.01
    )


def test_ablation_restricts_a_fusion_estimator_to_the_subset(additive):
    X, y, modalities = additive
    estimator = make_pipeline(StandardScaler(), SpecLinearRegression(modalities=modalities))
    ablation = modality_ablation(estimator, X, y, modalities, cv=3, scoring="r2")
    index = ablation.subsets.index(("a", "noise"))
    expected = cross_val_score(LinearRegression(), X[:, [0, 1, 3, 4]], y, cv=KFold(3))
    np.testing.assert_allclose(ablation.scores["r2"][index], expected)
    # the user's estimator is untouched
    assert estimator[-1].modalities == modalities


def test_ablation_drops_per_modality_settings_of_left_out_modalities(additive):
    from skfusion import FeatureFusion

    X, y, modalities = additive
    fusion = FeatureFusion(
        modalities, transformers={"a": StandardScaler(), "noise": "drop"}, weights={"b": 2.0}
    )
    model = make_pipeline(fusion, LinearRegression())
    # 'noise' alone leaves nothing to fuse: the uninformed model (the mean) is its score
    with pytest.warns(UserWarning, match=r"subsets \[\('noise',\)\].*drops every modality"):
        ablation = modality_ablation(model, X, y, modalities, cv=3)
    assert list(ablation.uninformed) == [("noise",)]
    dummy = cross_val_score(DummyRegressor(), X, y, cv=KFold(3))
    np.testing.assert_allclose(ablation.scores["score"][2], dummy)
    assert "noise †" in str(ablation) and "drops every modality" in str(ablation)
    assert ablation.synergy[ablation.subsets.index(("a", "noise"))] == pytest.approx(0.0)
    # least squares is invariant to the centring and scaling FeatureFusion applies
    expected = cross_val_score(LinearRegression(), X[:, [0, 1]], y, cv=KFold(3))
    np.testing.assert_allclose(ablation.scores["score"][0], expected, rtol=1e-9)
    # 'noise' is dropped by its transformer: adding it changes nothing
    assert ablation.score(("a", "b", "noise")) == pytest.approx(ablation.score(("a", "b")))


def test_ablation_restricts_late_fusion_branches(additive):
    from skfusion import StackingLateFusion

    X, y, modalities = additive
    fused = make_pipeline(
        StandardScaler(), SpecLinearRegression(modalities={"a": [0, 1], "b": [2], "noise": [3, 4]})
    )
    stacking = StackingLateFusion(
        [
            ("a", LinearRegression()),
            ("b", LinearRegression()),
            ("noise", LinearRegression()),
            ("fused", fused, ["a", "b", "noise"]),
        ],
        modalities=modalities,
        cv=3,
    )
    ablation = modality_ablation(stacking, X, y, modalities, cv=3)
    restricted = StackingLateFusion(
        [
            ("a", LinearRegression()),
            (
                "fused",
                make_pipeline(StandardScaler(), SpecLinearRegression(modalities={"a": [0, 1]})),
                ["a"],
            ),
        ],
        modalities={"a": [0, 1]},
        cv=3,
    )
    expected = cross_val_score(restricted, X[:, [0, 1]], y, cv=KFold(3))
    np.testing.assert_allclose(ablation.scores["score"][0], expected, rtol=1e-10)
    assert ablation.score(("a", "b")) > 0.99


def test_ablation_above_six_modalities_scores_singles_leave_one_out_and_all():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 7))
    y = X[:, 0]
    modalities = {f"m{i}": [i] for i in range(7)}
    ablation = modality_ablation(LinearRegression(), X, y, modalities, cv=2)
    names = list(modalities)
    assert ablation.subsets[:7] == [(name,) for name in names]
    assert ablation.subsets[7:14] == [tuple(n for n in names if n != name) for name in names]
    assert ablation.subsets[14:] == [tuple(names)]
    with pytest.raises(ValueError, match="not scored"):
        ablation.score(("m0", "m1"))


def test_ablation_with_several_metrics_and_its_outputs(additive):
    X, y, modalities = additive
    ablation = modality_ablation(
        LinearRegression(), X, y, modalities, cv=3, scoring=["r2", "neg_mean_absolute_error"]
    )
    assert ablation.metrics == ["r2", "neg_mean_absolute_error"]
    with parallel_config(backend="threading"):
        parallel = modality_ablation(
            LinearRegression(), X, y, modalities, cv=3, scoring="r2", n_jobs=2
        )
    np.testing.assert_allclose(parallel.scores["r2"], ablation.scores["r2"])
    frame = ablation.to_frame()
    assert list(frame.index[:2]) == ["a", "b"] and frame.loc["a + b", "n_modalities"] == 2
    assert frame.loc["a + b", "r2_mean"] == pytest.approx(ablation.score(("a", "b")))
    text = str(ablation)
    assert text.splitlines()[0].split() == [
        "modalities",
        "r2",
        "neg_mean_absolute_error",
        "synergy",
    ]
    assert len(ablation.to_dict()["subsets"]) == 7
    with pytest.raises(ValueError, match="Unknown modality 'c'"):
        ablation.score(("c",))


def test_synergy_is_subset_score_minus_best_member():
    ablation = ModalityAblation(
        [("a",), ("b",), ("a", "b")],
        {
            "accuracy": np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 1.0]])
        },  # XOR-like: only the pair works
        modalities=["a", "b"],
    )
    np.testing.assert_allclose(ablation.synergy, [0.0, 0.0, 0.45])


# --------------------------------------------------------------------------- importance
def test_single_column_modalities_match_sklearn_permutation_importance(additive):
    X, y, _ = additive
    model = LinearRegression().fit(X, y)
    modalities = {f"f{i}": [i] for i in range(X.shape[1])}
    ours = modality_importance(model, X, y, modalities, n_repeats=4, random_state=3)
    theirs = permutation_importance(model, X, y, n_repeats=4, random_state=3)
    np.testing.assert_allclose(ours.importances, theirs.importances)
    np.testing.assert_allclose(ours.importances_mean, theirs.importances_mean)
    np.testing.assert_allclose(ours.importances_std, theirs.importances_std)
    assert ours.baseline_score == pytest.approx(model.score(X, y))


def test_a_modality_is_permuted_as_one_block():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    X[:, 1] = X[:, 0]  # the model reads x0 - x1, which is 0 while rows stay whole
    y = X[:, 2]
    model = FixedRegressor().fit(X, y)
    result = modality_importance(
        model, X, y, {"pair": [0, 1], "z": [2]}, n_repeats=3, random_state=0
    )
    np.testing.assert_array_equal(result.importances[0], 0.0)
    assert result.importances_mean[1] > 1.0
    assert result.modality_names.tolist() == ["pair", "z"]


def test_noise_modality_has_no_importance(additive):
    X, y, modalities = additive
    model = SpecLinearRegression(modalities=modalities).fit(X, y)
    result = modality_importance(
        model, X, y, n_repeats=5, random_state=0
    )  # modalities from modalities_
    a, b, noise = result.importances_mean
    assert a > 1.0 and b > 0.2
    assert abs(noise) < 0.01


def test_importance_on_a_dataframe_equals_the_array_result(additive):
    pd = pytest.importorskip("pandas")
    X, y, modalities = additive
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(5)])
    model = LinearRegression().fit(frame, y)
    named = {"a": ["c0", "c1"], "b": ["c2"], "noise": ["c3", "c4"]}
    from_frame = modality_importance(model, frame, y, named, random_state=0)
    from_array = modality_importance(LinearRegression().fit(X, y), X, y, modalities, random_state=0)
    np.testing.assert_allclose(from_frame.importances, from_array.importances)


def test_importance_with_several_metrics_returns_one_bunch_per_metric(additive):
    X, y, modalities = additive
    model = LinearRegression().fit(X, y)
    # threads: exercises n_jobs (and the private copy of X) without starting processes
    with parallel_config(backend="threading"):
        result = modality_importance(
            model,
            X,
            y,
            modalities,
            scoring=["r2", "neg_mean_squared_error"],
            random_state=0,
            n_jobs=2,
        )
    assert set(result) == {"r2", "neg_mean_squared_error"}
    single = modality_importance(model, X, y, modalities, scoring="r2", random_state=0)
    np.testing.assert_allclose(result["r2"].importances, single.importances)


def test_importance_needs_modalities_or_a_fitted_spec(additive):
    X, y, _ = additive
    with pytest.raises(ValueError, match="Pass `modalities`"):
        modality_importance(LinearRegression().fit(X, y), X, y)
    with pytest.raises(ValueError, match="n_repeats"):
        modality_importance(LinearRegression().fit(X, y), X, y, {"a": [0]}, n_repeats=0)


# --------------------------------------------------------------------------- Shapley
def test_shapley_of_a_hand_worked_game_without_refitting():
    names = ["a", "b", "c"]
    game = {
        (): 0.0,
        ("a",): 1.0,
        ("b",): 2.0,
        ("c",): 0.0,
        ("a", "b"): 5.0,
        ("a", "c"): 1.0,
        ("b", "c"): 2.0,
        ("a", "b", "c"): 5.0,
    }
    modalities = {"a": [0], "b": [1], "c": [2]}

    def scorer(estimator, X, y):
        if isinstance(estimator, DummyClassifier):
            return game[()]
        present = tuple(name for name in names if not np.isnan(X[:, modalities[name][0]]).all())
        return game[present]

    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    model = LogisticRegression().fit(X, y)
    result = modality_shapley(model, X, y, modalities, scoring=scorer, method="mask")
    # a and b split their synergy of 2 equally; c adds nothing anywhere
    np.testing.assert_allclose(result.shapley_values, [2.0, 3.0, 0.0])
    np.testing.assert_allclose(result.shapley_values, _shapley_by_orderings(game, names))
    assert result.full_score == 5.0 and result.empty_score == 0.0
    assert result.subset_scores == game
    assert result.method == "mask"


def test_shapley_by_refitting_matches_cross_validated_subset_scores(additive):
    X, y, modalities = additive
    result = modality_shapley(LinearRegression(), X, y, modalities, cv=3)
    assert result.method == "refit"
    names = list(modalities)
    value = {(): cross_val_score(DummyRegressor(), X, y, cv=KFold(3)).mean()}
    for subset in result.subset_scores:
        if subset:
            columns = [c for name in subset for c in modalities[name]]
            value[subset] = cross_val_score(
                LinearRegression(), X[:, columns], y, cv=KFold(3)
            ).mean()
    np.testing.assert_allclose(
        result.shapley_values, _shapley_by_orderings(value, names), atol=1e-12
    )
    # efficiency: the values share out the full model's gain over the mean
    assert result.shapley_values.sum() == pytest.approx(
        result.full_score - result.empty_score, abs=1e-12
    )
    assert abs(result.shapley_values[2]) < 0.02  # noise
    assert result.shapley_values[0] > result.shapley_values[1] > 0.1


def test_shapley_of_a_fitted_vote_blanks_modalities_without_refitting():
    from skfusion import WeightedVoteFusion

    X, y, modalities = make_multimodal_classification(
        n_samples=400,
        widths={"a": 3, "b": 3, "noise": 3},
        signal={"a": 1.5, "b": 1.5, "noise": 0.0},
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=3).fit(
        X_train, y_train
    )
    result = modality_shapley(vote, X_test, y_test)
    assert result.method == "mask"
    assert result.shapley_values.sum() == pytest.approx(
        result.full_score - result.empty_score, abs=1e-12
    )
    assert result.full_score == pytest.approx(vote.score(X_test, y_test))
    blanked = X_test.copy()
    blanked[:, modalities["b"] + modalities["noise"]] = np.nan
    assert result.subset_scores[("a",)] == pytest.approx(vote.score(blanked, y_test))
    assert result.empty_score == pytest.approx(np.bincount(y_test).max() / len(y_test))
    assert abs(result.shapley_values[2]) < 0.03  # noise
    assert min(result.shapley_values[:2]) > 0.05


def test_shapley_refuses_what_it_cannot_do_exactly(additive):
    X, y, modalities = additive
    with pytest.raises(ValueError, match="one metric"):
        modality_shapley(
            LinearRegression(), X, y, modalities, scoring=["r2", "neg_mean_absolute_error"]
        )
    with pytest.raises(ValueError, match="`method`"):
        modality_shapley(LinearRegression(), X, y, modalities, method="sample")
    wide = {f"m{i}": [i] for i in range(7)}
    with pytest.raises(ValueError, match="at most 6"):
        modality_shapley(LinearRegression(), np.ones((10, 7)), np.arange(10.0), wide)


# --------------------------------------------------------------------------- displays
def test_fusion_comparison_display_from_results(agg):
    plt = agg
    from skfusion.model_selection import FusionComparison

    records = [
        {
            "name": name,
            "kind": kind,
            "scores": {"accuracy": np.array(score), "f1": np.array(score)},
            "fit_time": np.array(time),
            "predict_ms_per_1k": np.array([1.0, 1.0]),
        }
        for name, kind, score, time in [
            ("single:a", "single", [0.6, 0.7], [0.01, 0.01]),
            ("early", "early", [0.8, 0.9], [0.02, 0.04]),
            ("stacking", "late", [0.85, 0.95], [0.5, 0.7]),
        ]
    ]
    result = FusionComparison(records, task="classification", n_samples=10, n_splits=2)
    _, ax = plt.subplots()
    display = FusionComparisonDisplay.from_results(result, ax=ax)
    assert display.ax_ is ax and display.figure_ is ax.figure
    assert [text.get_text() for text in display.texts_] == ["single:a", "early", "stacking"]
    assert len(display.errorbars_) == 3
    x, y_ = display.errorbars_[1].lines[0].get_data()
    assert (x[0], y_[0]) == pytest.approx((0.03, 0.85))
    assert ax.get_xscale() == "log"  # fit times span 60x
    assert display.ax_.get_ylabel() == "accuracy"
    assert FusionComparisonDisplay.from_results(result, metric="f1").ax_.get_ylabel() == "f1"
    with pytest.raises(ValueError, match="Unknown metric"):
        FusionComparisonDisplay.from_results(result, metric="auc")


def test_fusion_comparison_display_from_estimators(additive, agg):
    X, y, modalities = additive
    display = FusionComparisonDisplay.from_estimators(
        {"linear": LinearRegression(), "mean": DummyRegressor()}, X, y, modalities, cv=2
    )
    assert [text.get_text() for text in display.texts_] == ["linear", "mean"]
    assert display.ax_.get_ylabel() == "r2"


def test_modality_importance_display_from_importances_and_shapley(additive, agg):
    X, y, modalities = additive
    model = LinearRegression().fit(X, y)
    importances = modality_importance(model, X, y, modalities, random_state=0)
    display = ModalityImportanceDisplay.from_results(importances)
    order = np.argsort(importances.importances_mean)
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths, importances.importances_mean[order])
    assert [label.get_text() for label in display.ax_.get_yticklabels()][-1] == "a"
    assert display.figure_ is display.ax_.figure

    shapley = modality_shapley(LinearRegression(), X, y, modalities, cv=2)
    display = ModalityImportanceDisplay.from_results(shapley, sort=False)
    assert "Shapley" in display.ax_.get_xlabel()
    assert [label.get_text() for label in display.ax_.get_yticklabels()] == ["noise", "b", "a"]

    several = modality_importance(
        model, X, y, modalities, scoring=["r2", "neg_mean_absolute_error"], random_state=0
    )
    with pytest.raises(ValueError, match="several metrics"):
        ModalityImportanceDisplay.from_results(several)


def test_modality_importance_display_from_estimator(additive, agg):
    X, y, modalities = additive
    model = LinearRegression().fit(X, y)
    display = ModalityImportanceDisplay.from_estimator(
        model, X, y, modalities, n_repeats=2, random_state=0
    )
    assert len(display.bars_) == 3
    with pytest.raises(ValueError, match="`method`"):
        ModalityImportanceDisplay.from_estimator(model, X, y, modalities, method="lime")
    # Shapley's own method and folds reach modality_shapley
    display = ModalityImportanceDisplay.from_estimator(
        LinearRegression(), X, y, modalities, method="shapley", shapley_method="refit", cv=2,
        sort=False,
    )
    expected = modality_shapley(LinearRegression(), X, y, modalities, method="refit", cv=2)
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths[::-1], expected.shapley_values)  # first modality on top
    ablation = modality_ablation(LinearRegression(), X, y, modalities, cv=2)
    with pytest.raises(TypeError, match="modality_importance or modality_shapley.*Ablation"):
        ModalityImportanceDisplay.from_results(ablation)


def test_importing_the_modules_imports_neither_matplotlib_nor_torch():
    code = (
        "import sys, skfusion.inspection, skfusion.model_selection, skfusion.cli; "
        "assert 'matplotlib' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_comparison_plot_labels_never_overlap_and_the_best_is_marked():
    import matplotlib

    matplotlib.use("Agg")
    from skfusion.model_selection import FusionComparisonDisplay

    names = [f"strategy number {i}" for i in range(8)]
    display = FusionComparisonDisplay(
        names=names,
        scores_mean=[0.90, 0.901, 0.902, 0.9, 0.901, 0.95, 0.9, 0.9],
        scores_std=[0.01] * 8,
        fit_times_mean=[1.0, 1.01, 1.02, 1.0, 1.01, 2.0, 1.0, 1.0],
        fit_times_std=[0.1] * 8,
        metric="accuracy",
        best="strategy number 5",
    ).plot()
    display.figure_.canvas.draw()
    renderer = display.figure_.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in display.texts_]
    assert all(box.width > 10 for box in boxes)
    for i in range(len(boxes)):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (names[i], names[j])
    bold = [text.get_text() for text in display.texts_ if text.get_fontweight() == "bold"]
    assert bold == ["strategy number 5"]
    assert "best" in [text.get_text() for text in display.ax_.get_legend().get_texts()]
    display.plot(ax=display.ax_)  # twice on the same axes: each entry once
    entries = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert sorted(entries) == ["best", "custom"]


# --------------------------------------------------------------------------- failures
class RefusesNaNAtPredict(LogisticRegression):
    """Fits on NaN (read as 0) but refuses NaN in predict: a fold fails at scoring only."""

    def fit(self, X, y):
        return super().fit(np.nan_to_num(np.asarray(X, dtype=float)), y)

    def predict(self, X):
        from sklearn.utils import check_array

        return super().predict(check_array(X))


def _nan_in_first_fold():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    X[0, 2] = np.nan  # modality b; KFold(3)'s first test fold holds row 0
    return X, y, {"a": [0, 1], "b": [2, 3]}


def test_ablation_scores_error_score_where_the_test_fold_cannot_be_scored():
    from sklearn.model_selection import cross_validate

    X, y, modalities = _nan_in_first_fold()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ablation = modality_ablation(
            RefusesNaNAtPredict(), X, y, modalities, cv=KFold(3), error_score=np.nan
        )
    assert [(w.category, str(w.message).split(";")[0]) for w in caught] == [
        (UserWarning, "Scoring failed on 2 of 9 fits (subsets: b, a + b)")
    ]
    assert "error_score=nan. ValueError: Input contains NaN" in str(caught[0].message)
    for i, subset in enumerate(ablation.subsets):
        columns = [c for name in subset for c in modalities[name]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's own "Scoring failed"
            expected = cross_validate(
                RefusesNaNAtPredict(), X[:, columns], y, cv=KFold(3), error_score=np.nan
            )["test_score"]
        np.testing.assert_allclose(ablation.scores["score"][i], expected)
    assert np.isnan(ablation.scores["score"][1:, 0]).all()  # b and a + b, first fold
    assert not np.isnan(ablation.scores["score"][:, 1:]).any()
    with pytest.raises(ValueError, match="NaN"):
        modality_ablation(RefusesNaNAtPredict(), X, y, modalities, cv=KFold(3))


def test_ablation_fit_failures_are_one_fit_failed_warning():
    from sklearn.exceptions import FitFailedWarning

    X, y, modalities = _nan_in_first_fold()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ablation = modality_ablation(
            LogisticRegression(), X, y, modalities, cv=KFold(3), error_score=-1.0
        )
    # b and a + b: the first fold cannot be scored, the two others cannot be fitted
    assert [(w.category, str(w.message).split(";")[0]) for w in caught] == [
        (FitFailedWarning, "Fitting failed on 4 of 9 fits (subsets: b, a + b)"),
        (UserWarning, "Scoring failed on 2 of 9 fits (subsets: b, a + b)"),
    ]
    np.testing.assert_array_equal(ablation.scores["score"][1:], -1.0)


# --------------------------------------------------------------------------- fit warnings
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_each_distinct_fit_warning_is_shown_once_naming_its_fits_and_subsets(n_jobs):
    """As compare_fusion: warnings are recorded where each fit runs (a worker process
    too) and each distinct one is shown once, with its category, at the user's line."""
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    modalities = {"m0": [0], "m1": [1], "m2": [2]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modality_ablation(LogisticRegression(max_iter=1), X, y, modalities, cv=3, n_jobs=n_jobs)
        modality_shapley(
            LogisticRegression(max_iter=1), X, y, modalities, method="refit", cv=3, n_jobs=n_jobs
        )
    # 7 subsets x 3 folds; Shapley also fits the prior (the empty set) without warning
    assert [(w.category, str(w.message).split(":")[0]) for w in caught] == [
        (ConvergenceWarning, "modality_ablation (21 of 21 fits, in 7 of 7 subsets)"),
        (ConvergenceWarning, "modality_shapley (21 of 24 fits, in 7 of 8 subsets)"),
    ]
    assert {w.filename for w in caught} == {__file__}


def test_a_warning_whose_numbers_vary_between_fits_is_shown_once():
    # "10 of 50 rows have no branch present", "12 of 50 rows ...": one warning per
    # distinct text made ten of the same NoModalityPresentWarning
    from skfusion import NoModalityPresentWarning, WeightedVoteFusion
    from skfusion.datasets import make_multimodal_classification

    X, y, modalities = make_multimodal_classification(
        n_samples=150, widths={"a": 3, "b": 3, "c": 2}, missing_rate=0.25, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modality_ablation(WeightedVoteFusion(LogisticRegression(), modalities), X, y, modalities, cv=3)
    absent = [str(w.message) for w in caught if w.category is NoModalityPresentWarning]
    assert len(absent) == 1, absent
    assert "its numbers vary between these fits" in absent[0]


# --------------------------------------------------------------------------- displays
def test_displays_take_groups_and_the_comparison_keywords(agg):
    """groups (and compare_fusion's task, error_score, share_work) reach the computation:
    they fell into **plot_kwargs, and GroupKFold said "'groups' should not be None"."""
    from sklearn.model_selection import GroupKFold

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = (X[:, 0] > 0).astype(int)
    groups = np.repeat(np.arange(9), 10)
    modalities = {"a": [0, 1], "b": [2, 3]}
    splits = list(GroupKFold(3).split(X, y, groups))

    display = ModalityImportanceDisplay.from_estimator(
        LogisticRegression(), X, y, modalities, method="shapley", cv=GroupKFold(3),
        groups=groups, sort=False,
    )
    expected = modality_shapley(LogisticRegression(), X, y, modalities, cv=splits)
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths[::-1], expected.shapley_values)

    display = FusionComparisonDisplay.from_estimators(
        {"lr": LogisticRegression()}, X, y, modalities, cv=GroupKFold(3), groups=groups,
        task="classification", error_score=np.nan, share_work=False,
    )
    expected = cross_val_score(LogisticRegression(), X, y, cv=splits).mean()
    _, score = display.errorbars_[0].lines[0].get_data()
    assert score[0] == pytest.approx(expected)


def test_displays_refuse_unknown_keywords_before_computing(agg):
    class Unfittable(LogisticRegression):
        def fit(self, X, y):
            raise AssertionError("computed before the keywords were checked")

    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) % 2
    with pytest.raises(TypeError, match=r"from_estimators got .*\['verbose'\].*plot\(\)"):
        FusionComparisonDisplay.from_estimators(
            {"x": Unfittable()}, X, y, {"a": [0], "b": [1]}, verbose=1
        )
    with pytest.raises(TypeError, match=r"from_estimator got .*\['group'\].*\['sort'\]"):
        ModalityImportanceDisplay.from_estimator(
            Unfittable(), X, y, {"a": [0], "b": [1]}, method="shapley", group=y
        )


# --------------------------------------------------------------------------- scoring
def _regression_30():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    return X, X[:, 0] + 0.1 * rng.normal(size=30), {"a": [0, 1], "b": [2, 3]}


class CountsFits(LinearRegression):
    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        return super().fit(X, y)


@pytest.mark.parametrize("tool", [modality_ablation, modality_shapley])
def test_a_scoring_that_does_not_suit_the_task_is_refused_before_any_fit(tool):
    """As compare_fusion: not NaN everywhere (r2 of one-row test folds, 90 warnings
    said so) or every fold failing with "continuous is not supported"."""
    from sklearn.model_selection import LeaveOneOut

    X, y, modalities = _regression_30()
    CountsFits.fits = 0
    with pytest.raises(ValueError, match="r2 is undefined on a test fold of 1 row"):
        tool(CountsFits(), X, y, modalities, cv=LeaveOneOut())
    with pytest.raises(ValueError, match="scoring 'accuracy' does not suit a regression target"):
        tool(CountsFits(), X, y, modalities, cv=3, scoring="accuracy")
    assert CountsFits.fits == 0
    # a classifier's metric on a classifier passes, whatever the tool
    labels = (y > 0).astype(int)
    assert np.isfinite(
        modality_ablation(LogisticRegression(), X, labels, modalities, cv=3,
                          scoring="neg_log_loss").scores["neg_log_loss"]
    ).all()


def test_shapley_by_masking_checks_the_scoring_on_the_whole_target():
    from skfusion import WeightedVoteFusion

    X, y, modalities = _regression_30()
    vote = WeightedVoteFusion(LinearRegression(), modalities).fit(X, y)
    with pytest.raises(ValueError, match="'accuracy' does not suit a regression target"):
        modality_shapley(vote, X, y, method="mask", scoring="accuracy")


# --------------------------------------------------------------------------- small API
def test_ablation_result_reads_one_name_and_names_its_metrics(additive):
    X, y, modalities = additive
    ablation = modality_ablation(LinearRegression(), X, y, modalities, cv=3)
    assert ablation.score("a") == ablation.score(("a",))
    expected = cross_val_score(LinearRegression(), X[:, [0, 1]], y, cv=KFold(3)).mean()
    assert ablation.score("a") == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"Unknown metric 'f1'; the ablation has \['score'\]"):
        ablation.score("a", metric="f1")


def test_a_failed_subset_is_none_in_to_dict_and_failed_in_the_table():
    import json

    X, y, modalities = _nan_in_first_fold()
    X[:, 2] = np.nan  # b cannot be fitted at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        ablation = modality_ablation(
            LogisticRegression(), X, y, modalities, cv=3, error_score=np.nan
        )
    as_json = json.loads(json.dumps(ablation.to_dict(), allow_nan=False))
    b, both = as_json["subsets"][1], as_json["subsets"][2]
    assert b["scores"]["score"] == [None, None, None] and both["synergy"] is None
    a = as_json["subsets"][0]["scores"]["score"]
    expected = cross_val_score(LogisticRegression(), X[:, [0, 1]], y, cv=StratifiedKFold(3))
    np.testing.assert_allclose(a, expected)
    lines = str(ablation).splitlines()
    assert lines[3].split() == ["b", "failed", "-"]
    assert lines[4].split() == ["a", "+", "b", "failed", "-"]


def test_shapley_refuses_a_scorer_giving_several_metrics(additive):
    from skfusion import WeightedVoteFusion

    X, y, modalities = additive

    def several(estimator, X, y):
        return {"r2": estimator.score(X, y), "other": 0.0}

    vote = WeightedVoteFusion(LinearRegression(), modalities).fit(X, y)
    for estimator, method in [(vote, "mask"), (LinearRegression(), "refit")]:
        with pytest.raises(TypeError, match="`scoring` must give one number.*got a dict"):
            modality_shapley(estimator, X, y, modalities, scoring=several, method=method, cv=2)


def test_shapley_asks_for_modalities_before_warning_about_a_refit():
    from skfusion import StackingLateFusion

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    stacking = StackingLateFusion(LogisticRegression(), {"img": [0, 1], "txt": [2, 3]}, cv=3)
    pipe = make_pipeline(StandardScaler(), stacking).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refit warning would come first
        with pytest.raises(ValueError, match="Pass `modalities`"):
            modality_shapley(pipe, X, y)


def test_synergy_is_undefined_when_the_best_member_was_uninformed():
    """A subset's gain over a member scored with the prior (an alignment given one
    modality) is no synergy: MultiviewCCA showed a's whole signal as +0.28."""
    subsets = [("a",), ("b",), ("c",), ("d",), ("a", "b"), ("a", "c"), ("a", "d")]
    means = [0.5, 0.7, 0.5, 0.3, 0.9, 0.6, 0.8]
    ablation = ModalityAblation(
        subsets,
        {"accuracy": np.array(means)[:, None].repeat(2, axis=1)},
        modalities=["a", "b", "c", "d"],
        uninformed={("a",): "needs two modalities"},
    )
    # a + b: b (informed) is best; a + c: a tie, the informed c counts; a + d: a† is best
    np.testing.assert_allclose(ablation.synergy, [0, 0, 0, 0, 0.2, 0.1, np.nan])
    assert ablation.to_dict()["subsets"][6]["synergy"] is None
    assert str(ablation).splitlines()[8].split()[-2:] == ["0.000", "-"]
