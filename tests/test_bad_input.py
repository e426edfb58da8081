"""Bad input, for every public estimator: the right answer or a clear error.

Each case walks the catalogue (tests/_fusion_catalogue.py). An estimator either
returns the correct result (checked against the same data given cleanly) or
raises a ValueError/TypeError whose message names the modality, parameter or
column at fault; never a silent wrong answer, never a raw error from deep
inside numpy or torch.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.metrics import accuracy_score

from _fusion_catalogue import ENTRIES, fit, make_data, output, predict

pd = pytest.importorskip("pandas")

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skfusion.NoModalityPresentWarning"),
]

def each_estimator(test=None, *, where=None):
    """Run ``test`` once per entry of the catalogue (those ``where(entry)`` accepts)."""

    def decorate(test):
        entries = [entry for entry in ENTRIES if where is None or where(entry)]
        return pytest.mark.parametrize("entry", entries, ids=[entry.id for entry in entries])(test)

    return decorate if test is None else decorate(test)


def _supervised(entry):
    return entry.task != "transform"


def _classification(entry):
    return entry.task == "classification"


# ------------------------------------------------------------------ helpers


def assert_clear_error(exc, *names):
    """A ValueError/TypeError whose message names one of ``names``."""
    assert isinstance(exc, (ValueError, TypeError)), (
        f"expected ValueError/TypeError, got {type(exc).__name__}: {exc}"
    )
    message = str(exc).lower()
    assert any(name.lower() in message for name in names), (
        f"the message should name one of {names}; got: {message}"
    )


def assert_valid_output(values, n_rows, task):
    """Finite, one row per sample; probabilities non-negative and summing to one."""
    values = np.asarray(values)
    assert values.shape[0] == n_rows
    assert np.all(np.isfinite(values.astype(np.float64))), "non-finite output"
    if task == "classification" and values.ndim == 2:
        assert np.all(values >= 0)
        assert_allclose(values.sum(axis=1), 1.0, rtol=1e-6)


def fit_or_error(entry, X, y, modalities, *names, **params):
    """Fit; return the estimator, or None after checking the error is clear."""
    estimator = entry.build(modalities, **params)
    try:
        fit(estimator, X, y, entry.task)
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        assert_clear_error(exc, *names)
        return None
    return estimator


def expect_error(call, *names):
    with pytest.raises(Exception) as info:
        call()
    assert_clear_error(info.value, *names)
    return info.value


def as_frame(X, modalities):
    """X as a DataFrame with the modalities given by column names."""
    columns = [f"{name}{i}" for name, idx in modalities.items() for i in range(len(idx))]
    order = np.concatenate([np.asarray(idx) for idx in modalities.values()])
    frame = pd.DataFrame(X[:, order], columns=columns)
    by_name = {}
    start = 0
    for name, idx in modalities.items():
        by_name[name] = columns[start:start + len(idx)]
        start += len(idx)
    return frame, by_name


def data(entry, **kwargs):
    return make_data(entry.task, **kwargs)


def fitted(entry, X=None, y=None, modalities=None):
    if X is None:
        X, y, modalities = data(entry)
    return fit(entry.build(modalities), X, y, entry.task)


def same_output_as_clean(entry, X_clean, y, modalities, X_bad, rtol=1e-7, atol=1e-9):
    """Fitting and predicting on ``X_bad`` gives the output of the clean float64 X."""
    expected = output(fitted(entry, X_clean, y, modalities), X_clean, entry.task)
    estimator = fitted(entry, X_bad, y, modalities)
    got = densify(output(estimator, X_bad, entry.task))
    assert_allclose(np.asarray(got, dtype=np.float64), densify(expected), rtol=rtol, atol=atol)


def densify(values):
    """Sparse output (e.g. a transformer given sparse input) as an array."""
    return values.toarray() if sp.issparse(values) else np.asarray(values)


def tolerance(entry, rtol):
    """Networks compute in float32 through MKL, bit-reproducible for one memory layout
    but not promised across layouts: a last-bit difference, carried through a few
    epochs of training, stays far below 1e-5 of the outputs."""
    if entry.slow:
        return {"rtol": max(rtol, 1e-5), "atol": 1e-6}
    if entry.iterative:
        return {"rtol": max(rtol, 1e-9), "atol": 1e-10}
    return {"rtol": rtol, "atol": 1e-12}


# ------------------------------------------------------------------ NaN and inf


@each_estimator
def test_nan_inside_a_modality_is_handled_or_named(entry):
    X, y, modalities = data(entry)
    X[5, modalities["a"][0]] = np.nan  # one cell: not a missing modality
    estimator = fit_or_error(entry, X, y, modalities, "'a'", "a0", "NaN")
    if estimator is None:
        return
    got = np.asarray(densify(output(estimator, X, entry.task)), dtype=np.float64)
    if entry.task == "transform":
        # scikit-learn's transformer convention: NaN is kept where it was, nowhere else
        assert_valid_output(np.delete(got, 5, axis=0), X.shape[0] - 1, entry.task)
    else:
        assert_valid_output(got, X.shape[0], entry.task)


@each_estimator
def test_inf_is_refused_at_fit_and_predict(entry):
    X, y, modalities = data(entry)
    X_inf = X.copy()
    X_inf[3, modalities["b"][1]] = np.inf
    expect_error(lambda: fit(entry.build(modalities), X_inf, y, entry.task), "infinity", "inf")
    estimator = fitted(entry, X, y, modalities)
    expect_error(lambda: predict(estimator, X_inf, entry.task), "infinity", "inf")


@each_estimator
@pytest.mark.parametrize("values", ["text", "category", "datetime"])
def test_a_column_that_holds_no_numbers_is_named_at_fit_and_predict(entry, values):
    """A DataFrame column of text, categories or dates inside a modality: the error names
    the column (numpy's own names none), whether a numeric estimator or a branch reads it."""
    X, y, modalities = data(entry)
    frame, by_name = as_frame(X, modalities)
    bad = frame.copy()
    column = by_name["b"][1]
    bad[column] = {
        "text": pd.Series(["low", "high"] * (len(bad) // 2)),
        "category": pd.Categorical(["low", "high"] * (len(bad) // 2)),
        "datetime": pd.date_range("2020-01-01", periods=len(bad)),
    }[values]
    expect_error(lambda: fit(entry.build(by_name), bad, y, entry.task), f"'{column}'")
    estimator = fitted(entry, frame, y, by_name)
    expect_error(lambda: predict(estimator, bad, entry.task), f"'{column}'")


@each_estimator
def test_row_missing_every_modality(entry):
    X, y, modalities = data(entry)
    estimator = fitted(entry, X, y, modalities)
    X_test = X[:6].copy()
    X_test[0] = np.nan
    if not entry.allows_missing:
        expect_error(lambda: predict(estimator, X_test, entry.task), "NaN")
        return
    try:
        got = np.asarray(densify(output(estimator, X_test, entry.task)), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - refusing missing modalities is allowed, clearly
        assert_clear_error(exc, "'a'", "'b'", "missing")
        return
    if entry.task == "transform":
        # an embedding of no information: documented as NaN (or a finite default)
        assert np.isnan(got[0]).all() or np.isfinite(got[0]).all()
        assert_valid_output(got[1:], 5, entry.task)
    else:
        assert_valid_output(got, 6, entry.task)
    # the other rows are untouched by the empty one
    assert_allclose(got[1:], densify(output(estimator, X[1:6], entry.task)),
                    **tolerance(entry, 1e-12))
    # at fit, the empty row is ignored or refused clearly
    X_train = X.copy()
    X_train[0] = np.nan
    estimator = fit_or_error(entry, X_train, y, modalities, "NaN", "'a'", "'b'", "missing")
    if estimator is not None:
        assert_valid_output(output(estimator, X, entry.task), X.shape[0], entry.task)


@each_estimator
def test_modality_missing_in_every_row_is_named(entry):
    X, y, modalities = data(entry)
    X[:, modalities["b"]] = np.nan
    if entry.allows_missing:
        names = ("'b'",)
    else:  # NaN is refused outright: "X contains NaN" names the culprit
        names = ("'b'", "NaN")
    expect_error(lambda: fit(entry.build(modalities), X, y, entry.task), *names)


# ------------------------------------------------------------------ columns at predict


@each_estimator
def test_wrong_number_of_columns_at_predict(entry):
    X, y, modalities = data(entry)
    estimator = fitted(entry, X, y, modalities)
    expect_error(lambda: predict(estimator, X[:, :-1], entry.task), "features", "columns")
    expect_error(
        lambda: predict(estimator, np.hstack([X, X[:, :1]]), entry.task), "features", "columns"
    )


@each_estimator
def test_dataframe_columns_renamed_or_reordered_at_predict(entry):
    X, y, modalities = data(entry)
    frame, by_name = as_frame(X, modalities)
    estimator = fitted(entry, frame, y, by_name)
    renamed = frame.rename(columns={"a0": "zz"})
    expect_error(lambda: predict(estimator, renamed, entry.task), "zz", "a0", "feature names")
    reordered = frame[frame.columns[::-1]]
    expect_error(lambda: predict(estimator, reordered, entry.task), "order", "feature names")


# ------------------------------------------------------------------ modality specification


@each_estimator
def test_unknown_or_empty_modality_is_named(entry):
    X, y, modalities = data(entry)
    n_features = X.shape[1]
    for bad in (
        {"a": modalities["a"], "b": [n_features + 3]},  # column out of range
        {"a": modalities["a"], "b": []},  # empty
        {"a": modalities["a"], "b": ["no_such_column"]},  # a name, on an ndarray
    ):
        expect_error(lambda: fit(entry.build(bad), X, y, entry.task), "'b'")
    frame, by_name = as_frame(X, modalities)
    bad = {"a": by_name["a"], "b": ["b0", "no_such_column"]}
    expect_error(lambda: fit(entry.build(bad), frame, y, entry.task), "'b'", "no_such_column")


def _named_parts(estimator):
    """(parameter, duplicated spec, spec naming an unknown modality 'c'), or None.

    The parameters through which an estimator names its branches, per-modality
    transformers or modality pairs.
    """
    params = estimator.get_params(deep=False)
    if "estimators" in params:
        branch = params["estimators"]
        if isinstance(branch, list):  # named branches: reuse the first one's estimator
            branch = branch[0][1]
        return ("estimators", [("a", branch), ("a", branch)], [("a", branch), ("c", branch)])
    if "transformers" in params:
        from sklearn.preprocessing import StandardScaler

        return (
            "transformers",
            [("a", StandardScaler()), ("a", StandardScaler())],
            [("c", StandardScaler())],
        )
    if "pairs" in params:
        return ("pairs", [("a", "b"), ("b", "a")], [("a", "c")])
    return None


def _has_named_parts(entry):
    return _named_parts(entry.build(make_data(entry.task)[2])) is not None


@each_estimator(where=_has_named_parts)
def test_duplicate_branch_names_are_refused(entry):
    X, y, modalities = data(entry)
    parts = _named_parts(entry.build(modalities))
    param, duplicated, unknown = parts
    expect_error(
        lambda: fit(entry.build(modalities, **{param: duplicated}), X, y, entry.task), "'a'"
    )
    expect_error(
        lambda: fit(entry.build(modalities, **{param: unknown}), X, y, entry.task), "'c'"
    )


# ------------------------------------------------------------------ targets


@each_estimator(where=_supervised)
def test_y_with_nan_is_refused(entry):
    X, y, modalities = data(entry)
    y = y.astype(np.float64)
    y[4] = np.nan
    expect_error(lambda: fit(entry.build(modalities), X, y, entry.task), "NaN")


@each_estimator(where=lambda entry: entry.task == "regression")
def test_a_regression_target_written_as_strings_is_read_as_numbers_or_named(entry):
    # scikit-learn's regressors read y=["1.5", ...]; a '<U' array reached the network's
    # target mean as numpy's "not compatible with add.reduce"
    X, y, modalities = data(entry)
    expected = output(fitted(entry, X, y, modalities), X, entry.task)
    as_text = np.array([repr(float(v)) for v in y])
    got = output(fitted(entry, X, as_text, modalities), X, entry.task)
    assert_allclose(got, expected, **tolerance(entry, 1e-12))
    as_text[3] = "high"
    expect_error(lambda: fit(entry.build(modalities), X, as_text, entry.task), "'high'")


@each_estimator(where=_classification)
def test_single_class_is_refused(entry):
    X, y, modalities = data(entry)
    expect_error(
        lambda: fit(entry.build(modalities), X, np.zeros_like(y), entry.task), "class"
    )


@each_estimator(where=_classification)
def test_score_with_classes_unseen_in_fit(entry):
    X, y, modalities = data(entry)
    estimator = fitted(entry, X, y, modalities)
    y_test = y.copy()
    y_test[:7] = y.max() + 1  # a label the model never saw: those rows are wrong
    assert estimator.score(X, y_test) == pytest.approx(
        accuracy_score(y_test, estimator.predict(X))
    )


# ------------------------------------------------------------------ dtypes and layouts


@each_estimator
def test_string_column_is_named(entry):
    X, y, modalities = data(entry)
    frame, by_name = as_frame(X, modalities)
    frame["a1"] = np.where(frame["a1"] > 0, "high", "low")
    estimator = fit_or_error(entry, frame, y, by_name, "'a'", "a1", "string")
    assert estimator is None, "a string column cannot be used as numbers silently"


@each_estimator
def test_object_array_of_numbers_equals_float(entry):
    X, y, modalities = data(entry)
    same_output_as_clean(entry, X, y, modalities, X.astype(object))


@pytest.mark.parametrize("dtype", ["float16", "int64", "bool"])
@each_estimator
def test_float16_int_and_bool_input(entry, dtype):
    X, y, modalities = data(entry)
    if dtype == "float16":
        X_typed = X.astype(np.float16)
        rtol, atol = 1e-4, 1e-6  # estimators may compute in float32 for float16 input
    elif dtype == "int64":
        X_typed = np.round(3 * X).astype(np.int64)
        rtol, atol = 1e-7, 1e-9
    else:
        X_typed = X > 0
        rtol, atol = 1e-7, 1e-9
    same_output_as_clean(entry, X_typed.astype(np.float64), y, modalities, X_typed, rtol, atol)


@each_estimator
def test_non_contiguous_input(entry):
    X, y, modalities = data(entry)
    strided = np.repeat(X, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    same_output_as_clean(entry, X, y, modalities, strided, **tolerance(entry, 1e-12))
    same_output_as_clean(entry, X, y, modalities, np.asfortranarray(X), **tolerance(entry, 1e-12))


@each_estimator
def test_read_only_memory_mapped_input(entry, tmp_path):
    X, y, modalities = data(entry)
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_mmap = np.load(path, mmap_mode="r")
    assert not X_mmap.flags.writeable
    same_output_as_clean(entry, X, y, modalities, X_mmap, **tolerance(entry, 1e-12))
    assert_allclose(np.asarray(X_mmap), X)  # and it was not written to


@each_estimator
def test_single_row(entry):
    X, y, modalities = data(entry)
    estimator = fitted(entry, X, y, modalities)
    one = densify(output(estimator, X[3:4], entry.task))
    assert one.shape[0] == 1
    assert_allclose(one, densify(output(estimator, X, entry.task))[3:4], **tolerance(entry, 1e-10))
    # fitting on one row: refused clearly, or a finite model
    estimator = fit_or_error(entry, X[:1], y[:1], modalities, "sample", "row", "class")
    if estimator is not None:
        assert_valid_output(densify(output(estimator, X, entry.task)), X.shape[0], entry.task)


@each_estimator
def test_sparse_input(entry):
    X, y, modalities = data(entry)
    X[np.abs(X) < 0.5] = 0.0
    X_sparse = sp.csr_matrix(X)
    if not entry.accepts_sparse:
        expect_error(lambda: fit(entry.build(modalities), X_sparse, y, entry.task), "sparse")
        return
    expected = densify(output(fitted(entry, X, y, modalities), X, entry.task))
    got = densify(output(fitted(entry, X_sparse, y, modalities), X_sparse, entry.task))
    if entry.task == "transform":
        # sparse blocks are scaled but not centred (documented, as StandardScaler's
        # with_mean=False): the same output up to a constant per column
        got = got - got[:1] + expected[:1]
    assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------ values


@each_estimator
def test_zero_variance_modality(entry):
    X, y, modalities = data(entry)
    X[:, modalities["b"]] = 1.0
    estimator = fit_or_error(entry, X, y, modalities, "'b'")
    if estimator is not None:
        assert_valid_output(output(estimator, X, entry.task), X.shape[0], entry.task)


@pytest.mark.parametrize("scale", [1e30, 1e-30])
@each_estimator
def test_extreme_magnitudes(entry, scale):
    X, y, modalities = data(entry)
    X_scaled = X * scale
    estimator = fit_or_error(entry, X_scaled, y, modalities, "'a'", "'b'", "scale", "overflow")
    if estimator is not None:
        assert_valid_output(output(estimator, X_scaled, entry.task), X.shape[0], entry.task)


# ================================================================== public functions
#
# The same discipline for the public functions: metrics on embeddings, and the
# inspection / model-selection functions that take an estimator, X, y and modalities.

from sklearn.linear_model import LogisticRegression  # noqa: E402

import skfusion  # noqa: E402

metrics = pytest.importorskip("skfusion.metrics")


def _samples(scale=1.0, dtype=np.float64):
    """Two samples (40 x 3) for MMD, and paired embeddings for recall@k."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 3)) * scale
    B = (rng.standard_normal((40, 3)) + 0.5) * scale
    return A.astype(dtype), B.astype(dtype)


METRICS = {
    "mmd": lambda A, B: metrics.mmd(A, B),
    "mmd_permutation_test": lambda A, B: metrics.mmd_permutation_test(
        A, B, n_permutations=19, random_state=0
    ).statistic,
    "recall_at_k": lambda A, B: metrics.recall_at_k(A, B, k=3),
}
each_metric = pytest.mark.parametrize("name", list(METRICS))


@each_metric
def test_metric_nan_and_inf_are_named(name):
    A, B = _samples()
    for bad, what in ((np.nan, "NaN"), (np.inf, "infinity")):
        A_bad = A.copy()
        A_bad[2, 1] = bad
        exc = expect_error(lambda: METRICS[name](A_bad, B), what)
        assert_clear_error(exc, "A")


@each_metric
def test_metric_mismatched_shapes_are_named(name):
    A, B = _samples()
    expect_error(lambda: METRICS[name](A, B[:, :2]), "columns")
    expect_error(lambda: METRICS[name](A[:, 0], B[:, 0]), "2D", "2-d", "reshape")
    if name == "recall_at_k":  # paired rows
        expect_error(lambda: METRICS[name](A, B[:-1]), "rows", "paired")


@pytest.mark.parametrize("kind", ["float16", "int64", "bool", "object", "strided", "memmap",
                                  "fortran"])
@each_metric
def test_metric_dtypes_and_layouts_equal_float64(name, kind, tmp_path):
    A, B = _samples(scale=3.0)
    if kind in ("int64", "bool"):
        A, B = (np.round(A), np.round(B)) if kind == "int64" else (A > 0, B > 0)
        A, B = A.astype(np.float64), B.astype(np.float64)
    if kind == "float16":
        A, B = A.astype(np.float16).astype(np.float64), B.astype(np.float16).astype(np.float64)
    expected = METRICS[name](A, B)
    converted = {
        "float16": lambda M: M.astype(np.float16),
        "int64": lambda M: M.astype(np.int64),
        "bool": lambda M: M.astype(bool),
        "object": lambda M: M.astype(object),
        "strided": lambda M: np.repeat(M, 2, axis=1)[:, ::2],
        "fortran": np.asfortranarray,
    }
    if kind == "memmap":
        np.save(tmp_path / "A.npy", A)
        np.save(tmp_path / "B.npy", B)
        A2 = np.load(tmp_path / "A.npy", mmap_mode="r")
        B2 = np.load(tmp_path / "B.npy", mmap_mode="r")
    else:
        A2, B2 = converted[kind](A), converted[kind](B)
    rtol = 1e-5 if kind == "float16" else 1e-10  # float16 may be computed in float32
    assert METRICS[name](A2, B2) == pytest.approx(expected, rel=rtol, abs=1e-12)


@pytest.mark.parametrize("scale", [1e30, 1e-30])
@each_metric
def test_metric_extreme_magnitudes(name, scale):
    """The default bandwidth (median heuristic) and the cosine are scale-free."""
    A, B = _samples()
    expected = METRICS[name](A, B)
    A_s, B_s = _samples(scale=scale)
    try:
        got = METRICS[name](A_s, B_s)
    except Exception as exc:  # noqa: BLE001
        assert_clear_error(exc, "A", "B", "scale", "overflow")
        return
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-12)


@each_metric
def test_metric_single_row_and_sparse(name):
    A, B = _samples()
    if name == "recall_at_k":
        assert metrics.recall_at_k(A[:1], B[:1], k=1) == 1.0  # its own partner, trivially
        assert metrics.recall_at_k(A[:2], B[:2], k=3) == 1.0  # documented: k >= n gives 1
    else:
        expect_error(lambda: METRICS[name](A[:1], B[:1]), "row", "sample", "A", "B")
    try:
        got = METRICS[name](sp.csr_matrix(A), sp.csr_matrix(B))
    except Exception as exc:  # noqa: BLE001
        assert_clear_error(exc, "sparse")
        return
    assert got == pytest.approx(METRICS[name](A, B), rel=1e-10)


# ------------------------------------------------------------------ estimator functions


def _stacking(modalities):
    return skfusion.StackingLateFusion(LogisticRegression(), modalities=modalities, cv=3)


def _call_inspection(name, X, y, modalities):
    inspection = pytest.importorskip("skfusion.inspection")
    model_selection = pytest.importorskip("skfusion.model_selection")
    if name == "compare_fusion":
        return model_selection.compare_fusion(X, y, modalities, strategies=["early", "stacking"],
                                              cv=3, random_state=0)
    if name == "modality_ablation":
        return inspection.modality_ablation(_stacking(modalities), X, y, modalities, cv=3)
    if name == "modality_importance":
        estimator = _stacking(modalities).fit(X, y)
        return inspection.modality_importance(estimator, X, y, modalities, n_repeats=2,
                                              random_state=0)
    return inspection.modality_shapley(_stacking(modalities), X, y, modalities, cv=3)


INSPECTION = ["compare_fusion", "modality_ablation", "modality_importance", "modality_shapley"]


@pytest.mark.parametrize("name", INSPECTION)
def test_function_unknown_or_empty_modality_is_named(name):
    X, y, modalities = make_data("classification")
    for bad in ({"a": modalities["a"], "b": [X.shape[1] + 3]},
                {"a": modalities["a"], "b": []}):
        expect_error(lambda: _call_inspection(name, X, y, bad), "'b'")


@pytest.mark.parametrize("name", INSPECTION)
def test_function_bad_y_and_inf_are_named(name):
    X, y, modalities = make_data("classification")
    y_nan = y.astype(np.float64)
    y_nan[3] = np.nan
    expect_error(lambda: _call_inspection(name, X, y_nan, modalities), "NaN")
    expect_error(lambda: _call_inspection(name, X, y[:-5], modalities),
                 "samples", "rows", "length", "inconsistent")
    X_inf = X.copy()
    X_inf[1, 0] = np.inf
    expect_error(lambda: _call_inspection(name, X_inf, y, modalities), "inf")
