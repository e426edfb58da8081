"""The modality protocol: estimators say how they are restricted to a subset of
their modalities and whether they predict with some masked; ablation and
Shapley values run on every configuration of the estimator catalogue."""

import warnings

import numpy as np
import pytest
from _fusion_catalogue import ENTRIES, make_data
from sklearn.base import clone, is_classifier
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skfusion import FeatureFusion, MultiviewCCA, NoModalityPresentWarning, WeightedVoteFusion
from skfusion._utils.modality_protocol import (
    ModalitySubsetError,
    predicts_with_masked_modalities,
    restrict_to_modalities,
)
from skfusion.inspection import modality_ablation, modality_shapley

CV = 3


def _supervised(entry, modalities):
    """The entry's estimator; a transformer gets a linear model after it."""
    estimator = entry.make(modalities)
    if entry.task == "transform":
        return make_pipeline(estimator, LogisticRegression())
    return estimator


def _data(entry):
    task = "classification" if entry.task == "transform" else entry.task
    return make_data(task, n_samples=90)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_ablation_and_both_shapley_methods_run_on_every_catalogue_configuration(entry):
    X, y, modalities = _data(entry)
    model = _supervised(entry, modalities)
    with warnings.catch_warnings():
        # an alignment needs two modalities: its singles are uninformed (tested below)
        warnings.filterwarnings("ignore", ".*cannot be restricted", UserWarning)
        ablation = modality_ablation(model, X, y, modalities, cv=CV)
        refit = modality_shapley(model, X, y, modalities, method="refit", cv=CV)
    assert ablation.subsets == [("a",), ("b",), ("a", "b")]
    assert np.isfinite(ablation.scores[ablation.metrics[0]]).all()
    # the same folds: the full coalition's value is the ablation's full score
    assert refit.full_score == pytest.approx(ablation.score(("a", "b")), abs=1e-12)
    assert refit.shapley_values.sum() == pytest.approx(refit.full_score - refit.empty_score)

    fitted = clone(model).fit(X, y)
    if entry.allows_missing:
        masked = modality_shapley(fitted, X, y, modalities, method="mask")
        assert masked.full_score == pytest.approx(fitted.score(X, y), abs=1e-12)
        assert masked.shapley_values.sum() == pytest.approx(
            masked.full_score - masked.empty_score
        )
    else:  # the estimator refuses missing modalities, and says which
        with pytest.raises(ValueError, match="Modality '[ab]'"):
            modality_shapley(fitted, X, y, modalities, method="mask")


def _two_modalities(n_samples=120, seed=0):
    X, y, modalities = make_data("classification", n_samples=n_samples, random_state=seed)
    return X, y, modalities


def _subset_score(ablation, subset):
    return ablation.scores[ablation.metrics[0]][ablation.subsets.index(subset)]


def test_feature_fusion_with_list_weights_restricts_them_by_position():
    X, y, modalities = _two_modalities()
    fusion = FeatureFusion(modalities, weights=[2.0, 0.5])
    assert restrict_to_modalities(fusion, {"b": [0, 1, 2, 3]}).weights == [0.5]
    ablation = modality_ablation(
        make_pipeline(fusion, LogisticRegression()), X, y, modalities, cv=CV
    )
    alone = make_pipeline(FeatureFusion({"b": [0, 1, 2, 3]}, weights=[0.5]), LogisticRegression())
    expected = cross_val_score(alone, X[:, modalities["b"]], y, cv=StratifiedKFold(CV))
    np.testing.assert_allclose(_subset_score(ablation, ("b",)), expected)


def test_a_search_over_per_modality_settings_restricts_its_candidates_too():
    # the search's estimator was restricted but not its grid: every subset without 'b'
    # failed the weighted candidate ("weights names an unknown modality 'b'") and
    # silently searched a smaller grid
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    modalities = {"a": [0, 1], "b": [2, 3]}
    grid = [{"featurefusion__weights": [None, {"a": 2.0, "b": 1.0}],
             "logisticregression__C": [0.1, 1.0]}]  # fmt: skip
    search = GridSearchCV(
        make_pipeline(FeatureFusion(modalities), LogisticRegression()), grid, cv=2,
        error_score="raise",
    )
    restricted = restrict_to_modalities(search, {"a": [0, 1]})
    assert restricted.param_grid == [
        {"featurefusion__weights": [None, {"a": 2.0}], "logisticregression__C": [0.1, 1.0]}
    ]
    assert restricted.estimator[0].modalities == {"a": [0, 1]}
    assert search.param_grid[0]["featurefusion__weights"][1] == {"a": 2.0, "b": 1.0}
    vote = GridSearchCV(WeightedVoteFusion(LogisticRegression(), modalities), {"weights": [[1, 3]]})
    assert restrict_to_modalities(vote, {"b": [0, 1]}).param_grid == {"weights": [[3.0]]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ablation = modality_ablation(search, X, y, modalities, cv=3)
    assert np.isfinite(ablation.score("a"))


def test_feature_fusion_with_named_transformer_pairs_keeps_the_subset_pairs():
    X, y, modalities = _two_modalities()
    fusion = FeatureFusion(modalities, transformers=[("a", PCA(2)), ("b", PCA(3))])
    restricted = restrict_to_modalities(fusion, {"a": [0, 1, 2]})
    assert [name for name, _ in restricted.transformers] == ["a"]
    assert restricted.transformers[0][1].n_components == 2
    assert fusion.transformers[1][1].n_components == 3  # the user's object is untouched
    shapley = modality_shapley(
        make_pipeline(fusion, LogisticRegression()), X, y, modalities, method="refit", cv=CV
    )
    alone = make_pipeline(
        FeatureFusion({"a": [0, 1, 2]}, transformers=[("a", PCA(2))]), LogisticRegression()
    )
    expected = cross_val_score(alone, X[:, modalities["a"]], y, cv=StratifiedKFold(CV))
    assert shapley.subset_scores[("a",)] == pytest.approx(expected.mean(), abs=1e-12)


def test_vote_with_weights_by_branch_name_keeps_the_branches_of_the_subset():
    X, y, modalities = _two_modalities()
    vote = WeightedVoteFusion(
        [("left", LogisticRegression(), ["a"]), ("right", LogisticRegression(), ["b"]),
         ("both", LogisticRegression(), ["a", "b"])],
        modalities=modalities,
        weights={"left": 1.0, "right": 3.0, "both": 2.0},
        cv=CV,
    )
    restricted = restrict_to_modalities(vote, {"a": [0, 1, 2]})
    assert [(name, mods) for name, _, mods in restricted.estimators] == [
        ("left", ["a"]), ("both", ["a"])
    ]
    assert restricted.weights == {"left": 1.0, "both": 2.0}
    ablation = modality_ablation(vote, X, y, modalities, cv=CV)
    alone = WeightedVoteFusion(
        [("left", LogisticRegression(), ["a"]), ("both", LogisticRegression(), ["a"])],
        modalities={"a": [0, 1, 2]},
        weights={"left": 1.0, "both": 2.0},
        cv=CV,
    )
    expected = cross_val_score(alone, X[:, modalities["a"]], y, cv=StratifiedKFold(CV))
    np.testing.assert_allclose(_subset_score(ablation, ("a",)), expected)


def test_vote_with_list_weights_keeps_the_entries_of_the_subset():
    vote = WeightedVoteFusion(LogisticRegression(), modalities={"a": [0], "b": [1], "c": [2]},
                              weights=[1.0, 2.0, 3.0])
    assert restrict_to_modalities(vote, {"a": [0], "c": [1]}).weights == [1.0, 3.0]


def test_a_hybrid_branch_restricts_its_own_fusion_estimator_to_the_kept_modalities():
    spec = {"a": [0, 1], "b": [2, 3, 4]}
    early = make_pipeline(FeatureFusion(spec, weights={"a": 2.0, "b": 1.0}), Ridge())
    hybrid = WeightedVoteFusion([("fused", early, ["a", "b"]), ("b", Ridge())], modalities=spec)
    restricted = restrict_to_modalities(hybrid, {"b": [0, 1, 2]})
    (name, branch, read), second = restricted.estimators
    assert (name, read) == ("fused", ["b"]) and second[0] == "b"
    inner = branch.steps[0][1]
    assert inner.modalities == {"b": [0, 1, 2]} and inner.weights == {"b": 1.0}
    assert early.steps[0][1].modalities == spec  # the user's pipeline is untouched


def test_an_estimator_that_cannot_use_one_modality_says_so_and_scores_uninformed():
    X, y, modalities = _two_modalities()
    with pytest.raises(ModalitySubsetError, match="two or more modalities"):
        restrict_to_modalities(MultiviewCCA(modalities), {"a": [0, 1, 2]})
    model = make_pipeline(MultiviewCCA(modalities, n_components=1), LogisticRegression())
    with pytest.warns(UserWarning, match=r"\('a',\), \('b',\).*two or more"):
        ablation = modality_ablation(model, X, y, modalities, cv=CV)
    assert set(ablation.uninformed) == {("a",), ("b",)}
    prior = cross_val_score(DummyClassifier(), X, y, cv=StratifiedKFold(CV))
    np.testing.assert_allclose(_subset_score(ablation, ("a",)), prior)


def test_shapley_auto_asks_the_fitted_estimator_whether_it_can_be_masked():
    X, y, modalities = _two_modalities()
    vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=CV).fit(X, y)
    assert predicts_with_masked_modalities(vote)
    assert modality_shapley(vote, X, y).method == "mask"
    pipeline = make_pipeline(FeatureFusion(modalities, missing="zero"), LogisticRegression())
    assert not predicts_with_masked_modalities(pipeline.fit(X, y))  # it might impute first
    with pytest.warns(UserWarning, match="refits clones of the fitted Pipeline"):
        assert modality_shapley(pipeline, X, y, modalities, cv=CV).method == "refit"
    unfitted = clone(pipeline)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing fitted is thrown away
        assert modality_shapley(unfitted, X, y, modalities, cv=CV).method == "refit"


def test_masked_shapley_needs_the_fitted_modalities_or_groups_of_them():
    # A modality left out was never blanked (the others took its credit); one split in
    # two was half blanked, read as NaN cells: both gave numbers, both meaningless.
    X, y, modalities = _two_modalities()
    vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=CV).fit(X, y)
    a, b = (list(modalities[name]) for name in ("a", "b"))
    with pytest.raises(ValueError, match="modality 'b' .* is in no modality of `modalities`"):
        modality_shapley(vote, X, y, {"a": a}, method="mask")
    with pytest.raises(ValueError, match="modality 'a' .* is split between 'a1' and 'a2'"):
        modality_shapley(vote, X, y, {"a1": a[:1], "a2": a[1:], "b": b}, method="mask")
    grouped = modality_shapley(vote, X, y, {"both": a + b}, method="mask")
    assert grouped.shapley_values[0] == pytest.approx(grouped.full_score - grouped.empty_score)


def test_masking_an_estimator_that_refuses_nan_says_why():
    X, y, modalities = _two_modalities()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="method='mask' blanks modalities with NaN.*refit"):
        modality_shapley(model, X, y, modalities, method="mask")


def test_masked_shapley_keeps_the_expected_fallback_warning_to_itself():
    X, y, modalities = _two_modalities()
    # 'b' has weight 0: masking 'a' leaves rows with only a zero-weight branch
    vote = WeightedVoteFusion(
        LogisticRegression(), modalities=modalities, weights={"a": 1.0, "b": 0.0}
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoModalityPresentWarning)
        result = modality_shapley(vote, X, y, method="mask")
    assert result.subset_scores[("b",)] == pytest.approx(result.empty_score)
    assert is_classifier(vote)
