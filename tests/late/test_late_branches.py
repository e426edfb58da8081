"""Branches of the late-fusion estimators: specification, parameters, fitting
in one flat joblib call, caching, pickling and metadata (skfusion.late._branches
and skfusion.late._base)."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin, clone, is_classifier, is_regressor
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from _nan_reference import mean_imputed, reference_means

from skfusion import NoModalityPresentWarning, StackingLateFusion, WeightedVoteFusion
from skfusion.datasets import make_multimodal_classification, make_multimodal_regression
from skfusion.late import _branches, _workers
from skfusion.late._voting import learn_vote_weights

ESTIMATORS = [StackingLateFusion, WeightedVoteFusion]


@pytest.fixture
def data():
    return make_multimodal_classification(n_samples=120, widths={"a": 3, "b": 4}, random_state=0)


class CountingLogisticRegression(LogisticRegression):
    """Counts its fits in a class attribute (tests run the fits in this process)."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


class NaNRegressor(RegressorMixin, BaseEstimator):
    """A regressor whose predictions are NaN."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(X.shape[0], np.nan)


# ---------------------------------------------------------------- specification


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_single_estimator_is_cloned_for_every_modality(Estimator, data):
    X, y, modalities = data
    base = LogisticRegression()
    model = Estimator(base, modalities=modalities, cv=3).fit(X, y)
    assert list(model.named_estimators_) == ["a", "b"]
    assert [est.n_features_in_ for est in model.estimators_] == [3, 4]
    assert all(est is not base for est in model.estimators_)
    assert not hasattr(base, "coef_")  # the parameter itself is never fitted
    assert model.branch_modalities_ == {"a": ["a"], "b": ["b"]}


def test_branch_sees_only_its_modality_columns(data):
    X, y, modalities = data
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None)
    model.fit(X, y)
    expected = LogisticRegression().fit(X[:, modalities["b"]], y)
    np.testing.assert_allclose(model.named_estimators_["b"].coef_, expected.coef_)


def test_three_tuple_branch_reads_several_modalities(data):
    X, y, modalities = data
    model = StackingLateFusion(
        [("a", LogisticRegression()), ("both", LogisticRegression(), ["a", "b"])],
        modalities=modalities,
        cv=3,
    ).fit(X, y)
    assert model.branch_modalities_ == {"a": ["a"], "both": ["a", "b"]}
    expected = LogisticRegression().fit(X[:, modalities["a"] + modalities["b"]], y)
    np.testing.assert_allclose(model.named_estimators_["both"].coef_, expected.coef_)


def test_two_tuple_name_must_be_a_modality(data):
    X, y, modalities = data
    model = StackingLateFusion([("lr", LogisticRegression())], modalities=modalities)
    with pytest.raises(ValueError, match=r"Branch 'lr'.*known modalities are \['a', 'b'\]"):
        model.fit(X, y)


def test_unknown_modality_in_three_tuple_raises(data):
    X, y, modalities = data
    model = StackingLateFusion([("x", LogisticRegression(), ["a", "z"])], modalities=modalities)
    with pytest.raises(ValueError, match="Branch 'x' reads unknown modality 'z'"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "estimators, message",
    [
        ([("a", LogisticRegression()), ("a", LogisticRegression())], "unique"),
        ([("cv", LogisticRegression(), ["a"])], "clash with constructor"),
        ([("a", "drop"), ("b", "drop")], "All branches are 'drop'"),
        ([("a", LogisticRegression(), ["a"], 1)], r"\(name, estimator\)"),
    ],
)
def test_malformed_estimators_raise(data, estimators, message):
    X, y, modalities = data
    with pytest.raises(ValueError, match=message):
        WeightedVoteFusion(estimators, modalities=modalities).fit(X, y)


def test_mixing_classifiers_and_regressors_raises(data):
    X, y, modalities = data
    model = StackingLateFusion([("a", LogisticRegression()), ("b", Ridge())], modalities=modalities)
    with pytest.raises(ValueError, match=r"classifiers \['a'\], regressors \['b'\]"):
        model.fit(X, y)


def test_estimator_type_follows_the_branches():
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    assert is_classifier(StackingLateFusion(pipe))
    assert is_classifier(WeightedVoteFusion([("a", LogisticRegression()), ("b", "drop")]))
    assert is_regressor(StackingLateFusion([("a", Ridge())]))
    assert is_regressor(WeightedVoteFusion(Ridge()))
    mixed = StackingLateFusion([("a", LogisticRegression()), ("b", Ridge())])
    assert not is_classifier(mixed) and not is_regressor(mixed)


def test_classifier_type_gives_stratified_cv_in_cross_val_score(data):
    X, y, modalities = data
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None)
    expected = cross_val_score(model, X, y, cv=StratifiedKFold(3))
    np.testing.assert_allclose(cross_val_score(model, X, y, cv=3), expected)


# ---------------------------------------------------------------- parameters


def test_branch_parameters_are_nested_and_keep_their_modalities():
    model = StackingLateFusion(
        [("a", LogisticRegression(C=1.0)), ("both", LogisticRegression(), ["a", "b"])]
    )
    params = model.get_params()
    assert params["both__C"] == 1.0 and params["a"] is model.estimators[0][1]
    model.set_params(both__C=0.5, a="drop")
    assert model.estimators[1][1].C == 0.5
    assert model.estimators[0] == ("a", "drop")
    model.set_params(both=Ridge())
    assert model.estimators[1][2] == ["a", "b"] and isinstance(model.estimators[1][1], Ridge)
    assert clone(model).get_params()["both__alpha"] == 1.0


def test_dropped_branch_is_left_out(data):
    X, y, modalities = data
    model = StackingLateFusion(
        [("a", LogisticRegression()), ("b", "drop")], modalities=modalities, cv=3
    ).fit(X, y)
    assert len(model.estimators_) == 1
    assert model.named_estimators_["b"] == "drop"
    assert list(model.get_feature_names_out()) == ["stackinglatefusion_a"]


# ---------------------------------------------------------------- rows and errors


def test_branch_with_too_few_rows_raises_naming_it(data):
    X, y, modalities = data
    X = X.copy()
    X[1:, modalities["b"]] = np.nan  # 'b' present in one row only
    model = StackingLateFusion(LogisticRegression(), modalities=modalities)
    with pytest.raises(ValueError, match=r"branch 'b' \(modalities \['b'\]\) has 1 of 120 rows"):
        model.fit(X, y)


def test_fit_error_names_the_branch_and_its_modalities(data):
    X, y, modalities = data
    model = WeightedVoteFusion(
        [
            ("a", LogisticRegression()),
            ("b", make_pipeline(StandardScaler(), LogisticRegression(solver="nope"))),
        ],
        modalities=modalities,
    )
    with pytest.raises(ValueError, match=r"branch 'b' \(modalities \['b'\]\).*solver"):
        model.fit(X, y)


def test_nan_out_of_fold_predictions_raise_naming_the_branch():
    X, y, modalities = make_multimodal_regression(
        n_samples=60, widths={"a": 2, "b": 2}, random_state=0
    )
    model = StackingLateFusion([("a", Ridge()), ("b", NaNRegressor())], modalities=modalities, cv=3)
    with pytest.raises(
        ValueError, match=r"branch 'b'.*non-finite out-of-fold predictions in 60 rows"
    ):
        model.fit(X, y)


def test_branch_rows_exclude_missing_modality_rows(data):
    X, y, modalities = data
    X = X.copy()
    missing = np.arange(0, 120, 4)
    X[np.ix_(missing, modalities["b"])] = np.nan
    model = WeightedVoteFusion(LogisticRegression(), modalities=modalities, weights=None).fit(X, y)
    present = np.setdiff1d(np.arange(120), missing)
    expected = LogisticRegression().fit(X[np.ix_(present, modalities["b"])], y[present])
    np.testing.assert_allclose(model.named_estimators_["b"].coef_, expected.coef_)


# ---------------------------------------------------------------- a modality missing in a block


def _block_data(task, n_missing=60):
    """200 rows in order (as sorted by date), modality 'b' missing in the first
    ``n_missing``: unshuffled folds over the first rows test none of 'b'."""
    if task == "classification":
        X, y, modalities = make_multimodal_classification(
            n_samples=200, widths={"a": 3, "b": 3}, random_state=0
        )
    else:
        X, y, modalities = make_multimodal_regression(
            n_samples=200, widths={"a": 3, "b": 3}, noise=0.5, random_state=0
        )
    X = X.copy()
    X[:n_missing, modalities["b"]] = np.nan
    return X, y, modalities


def _branch_estimator(task):
    return LogisticRegression() if task == "classification" else Ridge()


def _oof_by_hand(estimator, X, y, present, splits, method):
    """Out-of-fold predictions over the present rows (NaN elsewhere), fitting only the
    folds that test some present row; the positive class's probability when binary."""
    oof = np.full(y.shape[0], np.nan)
    for train, test in splits:
        train, test = train[present[train]], test[present[test]]
        if test.size:
            output = getattr(clone(estimator).fit(X[train], y[train]), method)(X[test])
            oof[test] = output[:, 1] if output.ndim == 2 else output
    return oof


def test_stacking_with_a_block_of_missing_rows_fits_only_the_folds_that_test_them():
    X, y, modalities = _block_data("classification")
    present = ~np.isnan(X[:, modalities["b"]]).any(axis=1)
    splits = list(StratifiedKFold(5).split(X, y))  # what cv=5 gives a classifier
    tested = [fold for fold, (_, test) in enumerate(splits) if present[test].any()]
    assert len(tested) == 4  # the first fold tests none of 'b': the case that crashed

    CountingLogisticRegression.n_fits = 0
    model = StackingLateFusion(CountingLogisticRegression(), modalities=modalities).fit(X, y)
    assert CountingLogisticRegression.n_fits == (5 + 1) + (4 + 1)  # 'a', then 'b'

    meta_a = _oof_by_hand(LogisticRegression(), X[:, modalities["a"]], y, np.ones(200, bool),
                          splits, "predict_proba")
    meta_b = _oof_by_hand(LogisticRegression(), X[:, modalities["b"]], y, present, splits,
                          "predict_proba")
    assert np.isfinite(meta_b[present]).all()  # every present row has its prediction
    both = LogisticRegression().fit(np.column_stack([meta_a, meta_b])[present], y[present])
    only_a = LogisticRegression().fit(meta_a[:, None], y)  # every row has 'a'
    assert sorted(model.final_estimators_) == [("a",), ("a", "b")]
    np.testing.assert_allclose(model.final_estimators_["a", "b"].coef_, both.coef_, rtol=1e-6)
    np.testing.assert_allclose(model.final_estimators_["a",].coef_, only_a.coef_, rtol=1e-6)
    # the rows without 'b' are predicted by the meta-learner of 'a' alone, as elsewhere
    meta = model.transform(X)
    assert np.isnan(meta[:60, 1]).all() and np.isfinite(meta[60:]).all()
    np.testing.assert_allclose(
        model.predict_proba(X[:60]), only_a.predict_proba(meta[:60, :1]), rtol=1e-6
    )


def test_vote_with_a_block_of_missing_rows_learns_weights_from_the_folds_that_test_them():
    X, y, modalities = _block_data("regression")
    present = ~np.isnan(X[:, modalities["b"]]).any(axis=1)
    splits = list(KFold(5).split(X))  # what cv=5 gives a regressor
    model = WeightedVoteFusion(Ridge(), modalities=modalities).fit(X, y)
    oof_a = _oof_by_hand(Ridge(), X[:, modalities["a"]], y, np.ones(200, bool), splits, "predict")
    oof_b = _oof_by_hand(Ridge(), X[:, modalities["b"]], y, present, splits, "predict")
    assert np.isfinite(oof_b[present]).all()
    expected = learn_vote_weights(
        [oof_a, oof_b[present]], [np.arange(200), np.flatnonzero(present)], y, task="regressor"
    )
    np.testing.assert_allclose(
        [model.weights_["a"], model.weights_["b"]], expected, rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_block_of_missing_rows_scores_like_as_many_rows_missing_at_random(Estimator, task):
    X, y, modalities = _block_data(task)
    X_train, y_train, X_test, y_test = X[:150], y[:150], X[150:], y[150:]
    model = Estimator(_branch_estimator(task), modalities=modalities)
    block = clone(model).fit(X_train, y_train)
    again = clone(model).fit(X_train, y_train)
    np.testing.assert_array_equal(block.predict(X), again.predict(X))  # deterministic
    assert np.isfinite(block.transform(X_train)[60:]).all()
    assert np.isfinite(block.predict(X_train).astype(float)).all()  # the block's rows too

    full = X_train.copy()
    full[:60] = X[:60]  # 'b' back in the block's rows (the data before the gap)
    scattered = []
    for seed in range(3):
        gaps = full.copy()
        rows = np.random.default_rng(seed).permutation(150)[:60]
        gaps[np.ix_(rows, modalities["b"])] = np.nan
        scattered.append(clone(model).fit(gaps, y_train).score(X_test, y_test))
    assert block.score(X_test, y_test) == pytest.approx(np.mean(scattered), abs=0.05)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_block_of_missing_rows_with_a_hybrid_branch_in_parallel_and_cached(
    Estimator, tmp_path
):
    X, y, modalities = _block_data("classification")
    estimators = [
        ("a", LogisticRegression()),
        ("ab", make_pipeline(StandardScaler(), LogisticRegression()), ["a", "b"]),
    ]
    model = Estimator(estimators, modalities=modalities)
    expected = clone(model).fit(X, y).predict_proba(X)
    cached = clone(model).set_params(n_jobs=2, memory=str(tmp_path))
    np.testing.assert_array_equal(cached.fit(X, y).predict_proba(X), expected)
    np.testing.assert_array_equal(cached.fit(X, y).predict_proba(X), expected)  # from memory


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_branch_without_training_rows_in_a_fold_raises_naming_it_and_the_fold(Estimator):
    X, y, modalities = _block_data("regression", n_missing=170)  # 'b' in the last fold only
    model = Estimator(Ridge(), modalities=modalities)
    message = (
        r"branch 'b' \(modalities \['b'\]\) has no training row in CV fold 4, which tests "
        r"30 of the 30 rows .* shuffle them \(e\.g\. cv=KFold\(5, shuffle=True"
    )
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    X, y, modalities = _block_data("regression", n_missing=159)  # one row before that fold
    with pytest.raises(ValueError, match=r"branch 'b'.* has 1 training row in CV fold 4"):
        model.fit(X, y)
    # shuffled folds are the way out
    model.set_params(cv=KFold(5, shuffle=True, random_state=0)).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_branch_with_one_class_in_a_folds_training_rows_raises_naming_it(Estimator):
    X, y, modalities = _block_data("classification", n_missing=120)
    y = y.copy()
    y[120:160], y[160:] = 0, 1  # labels of 'b' in order: its folds train on one class
    model = Estimator(LogisticRegression(), modalities=modalities, cv=KFold(5))
    with pytest.raises(
        ValueError,
        # fold 3 tests rows 120-159 (class 0) and trains 'b' on rows 160-199 (class 1)
        match=r"branch 'b' \(modalities \['b'\]\) has training rows of class 1 only in CV "
        r"fold 3, which tests 40 of the 80 rows",
    ):
        model.fit(X, y)


# ---------------------------------------------------------------- cv


def test_cv_int_splitter_and_iterable_agree(data):
    X, y, modalities = data
    splits = list(KFold(4).split(X))
    results = [
        StackingLateFusion(LogisticRegression(), modalities=modalities, cv=cv)
        .fit(X, y)
        .predict_proba(X)
        for cv in (KFold(4), splits)
    ]
    np.testing.assert_array_equal(results[0], results[1])


def test_cv_that_does_not_partition_rows_raises(data):
    X, y, modalities = data
    splits = [(np.arange(60, 120), np.arange(60))]
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=splits)
    with pytest.raises(ValueError, match="must partition the rows"):
        model.fit(X, y)


def test_prefit_branches_are_used_as_given(data):
    X, y, modalities = data
    fitted = {name: LogisticRegression().fit(X[:, cols], y) for name, cols in modalities.items()}
    model = StackingLateFusion(
        list(fitted.items()), modalities=modalities, cv="prefit"
    ).fit(X, y)
    assert model.estimators_[0] is fitted["a"]
    meta = np.column_stack([fitted[n].predict_proba(X[:, c])[:, 1] for n, c in modalities.items()])
    np.testing.assert_allclose(
        model.final_estimator_.coef_, LogisticRegression().fit(meta, y).coef_
    )


@pytest.mark.parametrize("stack_method", ["predict_proba", "predict"])
def test_prefit_branch_with_labels_of_another_type_is_named(data, stack_method):
    # y of ints, a branch fitted on strings: numpy's "'<' not supported" came out
    X, y, modalities = data
    labels = np.array(["no", "yes"], dtype=object)[y]  # as from a pandas Series
    fitted = {name: LogisticRegression().fit(X[:, cols], labels) for name, cols in modalities.items()}
    model = StackingLateFusion(
        list(fitted.items()), modalities=modalities, cv="prefit", stack_method=stack_method
    )
    with pytest.raises(ValueError, match=r"branch 'a'.*classes \['no', 'yes'\] of another type"):
        model.fit(X, y)


def test_prefit_rejects_one_estimator_for_several_modalities(data):
    X, y, modalities = data
    model = StackingLateFusion(
        LogisticRegression().fit(X[:, :3], y), modalities=modalities, cv="prefit"
    )
    with pytest.raises(ValueError, match="one fitted estimator per branch"):
        model.fit(X, y)


# ---------------------------------------------------------------- parallel fitting


def test_all_fold_fits_and_refits_run_in_one_flat_parallel_call(data, monkeypatch):
    X, y, modalities = data
    calls = []

    class RecordingParallel(_branches.Parallel):
        def __call__(self, iterable):
            tasks = list(iterable)
            calls.append(len(tasks))
            return super().__call__(tasks)

    monkeypatch.setattr(_branches, "Parallel", RecordingParallel)
    StackingLateFusion(LogisticRegression(), modalities=modalities, cv=4).fit(X, y)
    assert calls == [2 * (4 + 1)]  # (branch x fold) fits plus one refit per branch


# multiprocessing: a backend that cannot stream results (return_as="list")
@pytest.mark.parametrize("backend", ["loky", "threading", "multiprocessing"])
def test_parallel_fit_equals_sequential_fit(data, backend):
    X, y, modalities = data
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    expected = clone(model).fit(X, y).predict_proba(X)
    with parallel_config(backend=backend, n_jobs=2):
        got = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(got, expected)


def _blas_threads():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


class BlasRecordingLogisticRegression(LogisticRegression):
    """Records the BLAS threads it was fitted under."""

    def fit(self, X, y, sample_weight=None):
        self.blas_threads_ = _blas_threads()
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_parallel_jobs_use_one_blas_thread_and_restore_the_limit(data, backend):
    X, y, modalities = data
    model = WeightedVoteFusion(BlasRecordingLogisticRegression(), modalities=modalities, cv=3)
    with threadpool_limits(2, user_api="blas"):
        with parallel_config(backend=backend, n_jobs=2):
            model.fit(X, y)
        after = _blas_threads()
        model.set_params(n_jobs=1).fit(X, y)  # sequential: left alone
        sequential = model.estimators_[0].blas_threads_
    with parallel_config(backend=backend, n_jobs=2):
        with threadpool_limits(2, user_api="blas"):
            model.set_params(n_jobs=None).fit(X, y)
    assert all(est.blas_threads_ == {1} for est in model.estimators_)
    assert after == {2} and sequential == {2}


def test_single_blas_thread_nests_and_restores():
    with threadpool_limits(2, user_api="blas"):
        with _workers.single_blas_thread(True):
            with _workers.single_blas_thread(True):
                inner = _blas_threads()
            still = _blas_threads()
        after = _blas_threads()
    assert (inner, still, after) == ({1}, {1}, {2})


# ---------------------------------------------------------------- data for process workers


def _mapped_file(X):
    """The file that X is a view of a memory map of (None: not mapped)."""
    while X is not None and not isinstance(X, np.memmap):
        X = getattr(X, "base", None)
    return None if X is None else Path(X.filename)


class MapRecordingLogisticRegression(LogisticRegression):
    """Records the file of the memory map that the X it was fitted on views."""

    def fit(self, X, y, sample_weight=None):
        self.mapped_file_ = _mapped_file(X)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def large_data():
    """Over joblib's 1 MB threshold for memory-mapping an argument."""
    return make_multimodal_classification(
        n_samples=1200, widths={"a": 60, "b": 80}, random_state=0
    )


def _skfusion_folders(root):
    return sorted(p.name for p in root.iterdir() if p.name.startswith("skfusion_"))


def test_process_workers_read_one_memory_map_that_is_removed_after_fit(
    large_data, tmp_path, monkeypatch
):
    X, y, modalities = large_data
    assert X.nbytes > 1_000_000
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    model = StackingLateFusion(
        MapRecordingLogisticRegression(max_iter=200), modalities=modalities, cv=3
    )
    expected = clone(model).fit(X, y)
    with parallel_config(backend="loky", n_jobs=2):
        got = clone(model).fit(X, y)
    # the refits (all rows, one modality: a column view) saw a view of our one
    # map of X (left to itself, joblib would dump each branch's block to a file)
    mapped = {est.mapped_file_ for est in got.estimators_}
    assert len(mapped) == 1 and next(iter(mapped)).parent.name.startswith("skfusion_")
    assert [est.mapped_file_ for est in expected.estimators_] == [None, None]
    assert _skfusion_folders(tmp_path) == []  # and the file is gone
    np.testing.assert_array_equal(got.predict_proba(X), expected.predict_proba(X))


@pytest.mark.parametrize("large", [True, False])
def test_jobs_get_all_of_a_shared_map_or_else_only_their_branch_block(
    large, large_data, data, monkeypatch
):
    X, y, modalities = large_data if large else data
    sent = []

    class RecordingParallel(_branches.Parallel):
        def __call__(self, iterable):
            tasks = list(iterable)
            sent.extend(args[1] for _, args, _ in tasks)  # the X each job reads
            return super().__call__(tasks)

    monkeypatch.setattr(_branches, "Parallel", RecordingParallel)
    with parallel_config(backend="loky", n_jobs=2):
        StackingLateFusion(LogisticRegression(max_iter=200), modalities=modalities, cv=3).fit(X, y)
    if large:
        assert all(isinstance(x, np.memmap) and x.shape == X.shape for x in sent)
    else:
        widths = sorted({x.shape[1] for x in sent})
        assert widths == sorted(len(cols) for cols in modalities.values())
        assert not any(isinstance(x, np.memmap) for x in sent)


class ExplodingFinalEstimator(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("exploded while fitting")


def test_final_estimator_failing_while_refits_run_names_it_and_cleans_up(
    large_data, tmp_path, monkeypatch
):
    X, y, modalities = large_data
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    model = StackingLateFusion(
        LogisticRegression(max_iter=200),
        modalities=modalities,
        final_estimator=ExplodingFinalEstimator(),
        cv=3,
        n_jobs=2,
    )
    with pytest.raises(RuntimeError, match="final estimator.*exploded while fitting"):
        model.fit(X, y)
    assert not hasattr(model, "estimators_")  # all or nothing
    assert _skfusion_folders(tmp_path) == []


@pytest.mark.parametrize(
    "backend, n_jobs, nbytes, shared",
    [
        ("loky", 2, 2_000_000, True),
        ("multiprocessing", 2, 2_000_000, True),
        ("loky", 1, 2_000_000, False),  # sequential: nothing to share
        ("threading", 2, 2_000_000, False),  # threads share memory anyway
        ("loky", 2, 8_000, False),  # small: pickling is cheaper than a file
    ],
)
def test_shared_with_workers_maps_only_large_arrays_for_process_workers(
    backend, n_jobs, nbytes, shared, tmp_path, monkeypatch
):
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path))
    X = np.asfortranarray(np.arange(nbytes // 8, dtype=np.float64).reshape(-1, 100))
    with parallel_config(backend=backend):
        with _workers.shared_with_workers(X, n_jobs) as got:
            inside = _skfusion_folders(tmp_path)
            assert isinstance(got, np.memmap) is shared
            np.testing.assert_array_equal(got, X)
            assert got.flags.f_contiguous
    assert len(inside) == int(shared)
    assert _skfusion_folders(tmp_path) == []


def test_shared_with_workers_falls_back_to_the_array_when_it_cannot_write(monkeypatch):
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", "/nonexistent/skfusion-test")
    X = np.ones((2000, 100))
    with parallel_config(backend="loky"):
        with _workers.shared_with_workers(X, 2) as got:
            assert got is X


# ---------------------------------------------------------------- memory


def _counting_stack(modalities, memory):
    return StackingLateFusion(
        CountingLogisticRegression(), modalities=modalities, cv=3, memory=memory
    )


def test_memory_avoids_refitting_branches_in_a_grid_search_over_the_final_estimator(data, tmp_path):
    X, y, modalities = data
    grid = {"final_estimator": [LogisticRegression(C=c) for c in (0.1, 1.0, 10.0)]}
    CountingLogisticRegression.n_fits = 0
    GridSearchCV(_counting_stack(modalities, str(tmp_path)), grid, cv=3).fit(X, y)
    # per outer fold and for the final refit: 2 branches x (3 folds + 1 refit), once
    assert CountingLogisticRegression.n_fits == (3 + 1) * 2 * (3 + 1)

    CountingLogisticRegression.n_fits = 0
    GridSearchCV(_counting_stack(modalities, None), grid, cv=3).fit(X, y)
    assert CountingLogisticRegression.n_fits == (3 * 3 + 1) * 2 * (3 + 1)


def test_memory_shares_branch_fits_across_strategies_in_a_grid_search(data, tmp_path):
    """A search over *which* strategy combines the branches fits each branch once per fold."""
    X, y, modalities = data
    memory = str(tmp_path)
    vote = WeightedVoteFusion(
        CountingLogisticRegression(), modalities=modalities, cv=3, memory=memory
    )
    grid = [
        {"fusion": [_counting_stack(modalities, memory)],
         "fusion__final_estimator": [LogisticRegression(C=c) for c in (0.1, 10.0)]},
        {"fusion": [vote], "fusion__weights": ["learn", None, [2, 1]]},
    ]
    CountingLogisticRegression.n_fits = 0
    search = GridSearchCV(
        Pipeline([("fusion", "passthrough")]), grid, cv=StratifiedKFold(3), scoring="accuracy"
    ).fit(X, y)
    # 5 candidates, yet per outer fold and for the final refit: 2 branches x (3 folds + 1 refit)
    assert CountingLogisticRegression.n_fits == (3 + 1) * 2 * (3 + 1)
    # and every candidate scores as it does fitted alone
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        alone = clone(params["fusion"]).set_params(memory=None)
        alone.set_params(**{k.split("__", 1)[1]: v for k, v in params.items() if "__" in k})
        expected = cross_val_score(alone, X, y, cv=StratifiedKFold(3)).mean()
        assert score == pytest.approx(expected, abs=1e-12)


def test_memory_refits_only_the_branch_whose_parameters_changed(data, tmp_path):
    X, y, modalities = data
    model = StackingLateFusion(
        [("a", CountingLogisticRegression()), ("b", CountingLogisticRegression())],
        modalities=modalities,
        cv=3,
        memory=str(tmp_path),
    )
    model.fit(X, y)
    CountingLogisticRegression.n_fits = 0
    model.set_params(a__C=0.5).fit(X, y)
    assert CountingLogisticRegression.n_fits == 3 + 1
    CountingLogisticRegression.n_fits = 0
    model.fit(X[:100], y[:100])  # other data: every branch again
    assert CountingLogisticRegression.n_fits == 2 * (3 + 1)


def test_vote_memory_serves_weights_and_voting_grid_without_refits(data, tmp_path):
    X, y, modalities = data
    model = WeightedVoteFusion(
        CountingLogisticRegression(), modalities=modalities, cv=3, memory=str(tmp_path)
    )
    model.fit(X, y)
    CountingLogisticRegression.n_fits = 0
    for weights in ("learn", None, [1, 2], {"a": 1, "b": 0}):
        model.set_params(weights=weights).fit(X, y)
    model.set_params(voting="hard", weights=None).fit(X, y)
    assert CountingLogisticRegression.n_fits == 0


def test_cached_fit_equals_uncached_fit(data, tmp_path):
    X, y, modalities = data
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    expected = clone(model).fit(X, y).predict_proba(X)
    cached = clone(model).set_params(memory=str(tmp_path))
    cached.fit(X, y)
    np.testing.assert_array_equal(cached.fit(X, y).predict_proba(X), expected)


# ---------------------------------------------------------------- grid search, pickle


def test_grid_search_over_branch_parameters_drop_and_weights(data):
    X, y, modalities = data
    vote = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", LogisticRegression())], modalities=modalities, cv=3
    )
    grid = {"a__C": [0.1, 1.0], "b": ["drop", LogisticRegression()], "weights": [None, "learn"]}
    search = GridSearchCV(vote, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    # one candidate's score, recomputed independently
    i = search.cv_results_["params"].index({"a__C": 0.1, "b": "drop", "weights": None})
    expected = cross_val_score(
        clone(vote).set_params(a__C=0.1, b="drop", weights=None), X, y, cv=3
    ).mean()
    assert search.cv_results_["mean_test_score"][i] == pytest.approx(expected)


def test_grid_search_over_the_final_estimator_matches_cross_val_score(data):
    X, y, modalities = data
    stack = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    finals = [LogisticRegression(C=0.01), LogisticRegression(C=1.0)]
    search = GridSearchCV(stack, {"final_estimator": finals}, cv=3).fit(X, y)
    for i, final in enumerate(finals):
        expected = cross_val_score(clone(stack).set_params(final_estimator=final), X, y, cv=3)
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(expected.mean())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_round_trip_gives_identical_predictions(Estimator, data):
    X, y, modalities = data
    X = X.copy()
    X[::5, modalities["a"]] = np.nan
    model = Estimator(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


# ---------------------------------------------------------------- sample weights, input types


def test_sample_weight_reaches_branches_and_final_estimator(data):
    X, y, modalities = data
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=y.size)
    cv = StratifiedKFold(3)
    model = StackingLateFusion(
        LogisticRegression(), modalities=modalities, cv=cv
    ).fit(X, y, sample_weight=weights)
    meta = []
    for name, cols in modalities.items():
        refit = LogisticRegression().fit(X[:, cols], y, sample_weight=weights)
        np.testing.assert_allclose(model.named_estimators_[name].coef_, refit.coef_)
        oof = cross_val_predict(
            LogisticRegression(),
            X[:, cols],
            y,
            cv=cv,
            method="predict_proba",
            params={"sample_weight": weights},
        )
        meta.append(oof[:, 1])
    final = LogisticRegression().fit(np.column_stack(meta), y, sample_weight=weights)
    np.testing.assert_allclose(model.final_estimator_.coef_, final.coef_, rtol=1e-6)


def test_pipeline_branch_gets_sample_weight_in_every_step_that_takes_it(data):
    # the scaler was fitted unweighted: a weight of 2 was not a row given twice
    from sklearn.feature_selection import VarianceThreshold

    X, y, modalities = data
    weights = np.linspace(0.5, 2.0, y.size)
    pipe = make_pipeline(VarianceThreshold(), StandardScaler(), LogisticRegression())
    model = WeightedVoteFusion(pipe, modalities=modalities, weights=None)
    model.fit(X, y, sample_weight=weights)
    expected = clone(pipe).fit(
        X[:, modalities["a"]],
        y,
        standardscaler__sample_weight=weights,
        logisticregression__sample_weight=weights,
    )
    np.testing.assert_allclose(model.named_estimators_["a"][1].mean_, expected[1].mean_)
    np.testing.assert_allclose(model.named_estimators_["a"][-1].coef_, expected[-1].coef_)
    # integer weights: the rows repeated
    counts = np.arange(y.size) % 3
    weighted = WeightedVoteFusion(pipe, modalities=modalities, weights=None)
    weighted.fit(X, y, sample_weight=counts)
    repeated = WeightedVoteFusion(pipe, modalities=modalities, weights=None)
    repeated.fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-6
    )


def test_branch_without_sample_weight_support_raises(data):
    X, y, modalities = data
    model = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", KNeighborsClassifier())],
        modalities=modalities,
        weights=None,
    )
    with pytest.raises(
        TypeError, match="branch 'b'.*KNeighborsClassifier does not support sample weights"
    ):
        model.fit(X, y, sample_weight=np.ones(y.size))


def test_sample_weight_with_metadata_routing(data):
    X, y, modalities = data
    weights = np.linspace(0.5, 2.0, y.size)
    with config_context(enable_metadata_routing=True):
        branch = LogisticRegression().set_fit_request(sample_weight=True)
        final = LogisticRegression().set_fit_request(sample_weight=True)
        routed = StackingLateFusion(
            branch, modalities=modalities, final_estimator=final, cv=3
        ).fit(X, y, sample_weight=weights)
    plain = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    plain.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(routed.predict_proba(X), plain.predict_proba(X))


def test_groups_reach_a_group_splitter_with_metadata_routing(data):
    X, y, modalities = data
    groups = np.arange(y.size) % 7
    with config_context(enable_metadata_routing=True):
        model = StackingLateFusion(
            LogisticRegression(), modalities=modalities, cv=GroupKFold(3)
        ).fit(X, y, groups=groups)
    splits = list(GroupKFold(3).split(X, y, groups))
    expected = StackingLateFusion(
        LogisticRegression(), modalities=modalities, cv=splits
    )
    np.testing.assert_array_equal(model.predict_proba(X), expected.fit(X, y).predict_proba(X))


def test_dataframe_columns_reach_branches_by_name():
    pd = pytest.importorskip("pandas")
    X, y, modalities = make_multimodal_classification(
        n_samples=80, widths={"a": 2, "b": 3}, as_frame=True, random_state=0
    )
    # the branch selects a column by name: it must see the DataFrame block
    branch_b = make_pipeline(
        make_column_transformer((StandardScaler(), ["b_0"]), remainder="passthrough"),
        LogisticRegression(),
    )
    model = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", branch_b)], modalities=modalities, weights=None
    ).fit(X, y)
    assert list(model.named_estimators_["b"].feature_names_in_) == ["b_0", "b_1", "b_2"]
    assert list(model.feature_names_in_) == list(X.columns)
    assert isinstance(X, pd.DataFrame) and model.predict(X).shape == (80,)


def test_sparse_input_gives_the_dense_result(data):
    X, y, modalities = data
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)
    dense = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(
        clone(model).fit(sp.csr_matrix(X), y).predict_proba(sp.csr_matrix(X)), dense
    )


@pytest.mark.parametrize(
    "Estimator, method",
    [
        (WeightedVoteFusion, "predict"),
        (WeightedVoteFusion, "predict_proba"),
        (StackingLateFusion, "predict"),
        (StackingLateFusion, "predict_proba"),
        (StackingLateFusion, "decision_function"),
    ],
)
def test_no_branch_warning_points_at_the_caller(data, Estimator, method):
    X, y, modalities = data
    model = Estimator(LogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    X_new = X[:3].copy()
    X_new[0] = np.nan
    with pytest.warns(NoModalityPresentWarning, match="1 of 3 rows") as record:
        getattr(model, method)(X_new)
    assert record[0].filename == __file__


# ---------------------------------------------------------------- NaN cells


class RecordingLogisticRegression(LogisticRegression):
    """Keeps a copy of the X of its last fit and of its last predict_proba."""

    def fit(self, X, y, sample_weight=None):
        self.seen_at_fit_ = X.copy()
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        type(self).seen_at_predict = X.copy()
        return super().predict_proba(X)


def _with_cells_and_missing(X, modalities):
    """X with 'b' missing in rows 0-9 and NaN cells in rows where their modality is present."""
    X = X.copy()
    X[:10, modalities["b"]] = np.nan
    X[[12, 20, 31], modalities["a"][0]] = np.nan
    X[[5, 40], modalities["a"][2]] = np.nan  # row 5: 'b' missing, 'a' present with a cell
    X[[15, 16], modalities["b"][1]] = np.nan
    return X


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_branches_see_nan_cells_as_their_column_mean_over_present_rows(Estimator, data):
    X, y, modalities = data
    X = _with_cells_and_missing(X, modalities)
    X_ref = mean_imputed(X, modalities)
    model = Estimator(RecordingLogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    # 'a' is present in every row: its branch sees the mean-imputed block, row for row
    np.testing.assert_allclose(
        model.named_estimators_["a"].seen_at_fit_, X_ref[:, modalities["a"]], rtol=1e-14
    )
    # 'b' is missing in rows 0-9: its branch sees the other rows, filled
    np.testing.assert_allclose(
        model.named_estimators_["b"].seen_at_fit_, X_ref[10:, modalities["b"]], rtol=1e-14
    )
    np.testing.assert_allclose(
        model.fill_values_["a"], reference_means(X, modalities)[modalities["a"]], rtol=1e-12
    )
    reference = clone(model).fit(X_ref, y)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X_ref), rtol=1e-12)
    # at prediction, the cells take the training means; 'b' stays missing in rows 0-9
    X_new = X[:12].copy()
    X_new[11, modalities["b"][0]] = np.nan
    model.predict_proba(X_new)
    seen_b = RecordingLogisticRegression.seen_at_predict  # the last branch asked: 'b'
    assert seen_b.shape == (2, 4) and not np.isnan(seen_b).any()
    assert seen_b[1, 0] == model.fill_values_["b"][0]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_branch_without_nan_cells_gets_exactly_its_data(Estimator, data):
    X, y, modalities = data
    X = X.copy()
    X[[3, 7], modalities["b"][0]] = np.nan  # cells in 'b' only
    model = Estimator(RecordingLogisticRegression(), modalities=modalities, cv=3).fit(X, y)
    np.testing.assert_array_equal(model.named_estimators_["a"].seen_at_fit_, X[:, modalities["a"]])


def test_stacking_passthrough_columns_have_their_nan_cells_filled(data):
    X, y, modalities = data
    X = _with_cells_and_missing(X, modalities)
    X_ref = mean_imputed(X, modalities)
    model = StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3, passthrough=True)
    got = clone(model).fit(X, y)
    reference = clone(model).fit(X_ref, y)
    np.testing.assert_allclose(got.transform(X), reference.transform(X_ref), rtol=1e-12)
    np.testing.assert_allclose(got.predict_proba(X), reference.predict_proba(X_ref), rtol=1e-12)


def test_dataframe_branches_get_float_cells_filled_and_other_columns_as_given():
    pd = pytest.importorskip("pandas")
    X, y, modalities = make_multimodal_classification(
        n_samples=80, widths={"a": 2, "b": 2}, as_frame=True, random_state=0
    )
    X = X.astype({"b_1": np.float32})
    X["b_kind"] = pd.Series(np.where(y == 1, "up", "down"), dtype=object)
    X.loc[[4, 9], "b_kind"] = None
    X.loc[[3, 8], "b_1"] = np.nan
    X.loc[[2], "a_0"] = np.nan
    modalities = {"a": ["a_0", "a_1"], "b": ["b_0", "b_1", "b_kind"]}
    seen = {}

    class Recording(BaseEstimator):
        def fit(self, X, y=None):
            seen["fit"] = X.copy()
            return self

        def transform(self, X):
            return X

    branch_b = make_pipeline(
        Recording(),
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()), ["b_kind"]),
            remainder="passthrough",
        ),
        LogisticRegression(),
    )
    model = WeightedVoteFusion(
        [("a", LogisticRegression()), ("b", branch_b)], modalities=modalities, weights=None
    ).fit(X, y)
    frame = seen["fit"]
    assert isinstance(frame, pd.DataFrame)
    assert frame["b_1"].dtype == np.float32
    expected = np.float32(X["b_1"].mean())  # pandas leaves NaN out
    assert (frame.loc[[3, 8], "b_1"] == expected).all()
    assert frame["b_kind"].isna().sum() == 2  # not a float column: the branch's to impute
    assert np.isnan(model.fill_values_["b"][2])
    np.testing.assert_allclose(model.fill_values_["a"][0], X["a_0"].mean(), rtol=1e-12)
    assert model.predict(X).shape == (80,)
