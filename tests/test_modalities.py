"""The modality specification: selectors, validation, presence mask, concat."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.compose import make_column_selector

from skfusion import concat_modalities
from skfusion._modalities import (
    ALL_COLUMNS,
    branch_columns,
    branch_modalities,
    check_finite_allowing_nan,
    check_finite_target,
    check_no_missing,
    check_present_somewhere,
    fill_modality_nan_cells,
    fill_nan_cells,
    modality_nan_cell_means,
    nan_cell_means,
    presence_mask,
    present_block,
    resolve_modalities,
    take_columns,
    validate_modal_data,
)

pd = pytest.importorskip("pandas")


class _Holder(BaseEstimator):
    """The smallest estimator that owns a ``modalities`` parameter."""

    def __init__(self, modalities=None):
        self.modalities = modalities

    def fit(self, X, y=None):
        validate_modal_data(self, X)
        return self


@pytest.fixture
def frame():
    X = np.arange(30, dtype=float).reshape(5, 6)
    return pd.DataFrame(X, columns=["age", "bmi", "emb_0", "emb_1", "emb_2", "note"])


def _as_lists(resolved):
    return {name: idx.tolist() for name, idx in resolved.items()}


@pytest.mark.parametrize(
    "columns, expected",
    [
        ([0, 2], [0, 2]),
        ([3, 1], [3, 1]),  # the user's order is kept, as in ColumnTransformer
        (slice(1, 4), [1, 2, 3]),
        (slice(None), [0, 1, 2, 3, 4, 5]),
        ([True, False, False, False, False, True], [0, 5]),
        (np.array([True, False, True, False, False, False]), [0, 2]),
        (-1, [5]),
        ([-2, -1], [4, 5]),
        (4, [4]),
        (np.array([1, 2]), [1, 2]),
        ((0, 1), [0, 1]),
    ],
)
def test_array_selectors_resolve_to_positions(columns, expected):
    X = np.zeros((3, 6))
    assert _as_lists(resolve_modalities({"m": columns}, X)) == {"m": expected}


@pytest.mark.parametrize(
    "columns, expected",
    [
        (["bmi", "age"], [1, 0]),
        ("note", [5]),
        (slice("emb_0", "emb_2"), [2, 3, 4]),  # label slices include the stop, like .loc
        (make_column_selector(pattern="^emb_"), [2, 3, 4]),
        (lambda df: [c for c in df.columns if c.startswith("a")], [0]),
        ([0, 1], [0, 1]),  # ints are positions on DataFrames too
    ],
)
def test_dataframe_selectors_resolve_to_positions(frame, columns, expected):
    assert _as_lists(resolve_modalities({"m": columns}, frame)) == {"m": expected}


def test_none_is_one_modality_of_every_column():
    resolved = resolve_modalities(None, np.zeros((2, 4)))
    assert _as_lists(resolved) == {ALL_COLUMNS: [0, 1, 2, 3]}


def test_overlapping_modalities_are_allowed_and_unused_columns_ignored():
    resolved = resolve_modalities({"a": [0, 1], "ab": [1, 2]}, np.zeros((2, 5)))
    assert _as_lists(resolved) == {"a": [0, 1], "ab": [1, 2]}


@pytest.mark.parametrize(
    "modalities, error, match",
    [
        ([0, 1], TypeError, "must be a dict"),
        ({}, ValueError, "at least one modality"),
        ({1: [0]}, TypeError, "must be strings; got 1"),
        ({"": [0]}, ValueError, "non-empty"),
        ({"text__emb": [0]}, ValueError, "'text__emb' contains '__'"),
        ({"text": []}, ValueError, "Modality 'text' selects no columns"),
        ({"text": [False] * 6}, ValueError, "Modality 'text' selects no columns"),
        ({"text": [6]}, ValueError, "Modality 'text': column index 6 is out of range"),
        ({"text": [-7]}, ValueError, "column index -7 is out of range"),
        ({"text": [True, False]}, ValueError, "boolean mask has 2 entries but X has 6"),
        ({"text": ["emb_0"]}, ValueError, "Modality 'text' selects columns by name"),
        ({"text": [0, 0]}, ValueError, "more than once"),
        ({"text": slice(0, 6, 2)}, ValueError, "step"),
        ({"text": [0.5]}, TypeError, "dtype float64"),
    ],
)
def test_invalid_specifications_name_the_fault(modalities, error, match):
    with pytest.raises(error, match=match):
        resolve_modalities(modalities, np.zeros((3, 6)))


def test_unknown_column_name_is_reported(frame):
    with pytest.raises(ValueError, match=r"Modality 'tab': unknown column name\(s\) \['weight'\]"):
        resolve_modalities({"tab": ["age", "weight"]}, frame)


def test_positions_mixed_with_names_are_refused(frame):
    # numpy made [0, "age"] the names ["0", "age"]: "unknown column name(s) ['0']"
    with pytest.raises(TypeError, match=r"Modality 'tab' mixes column positions and column names"):
        resolve_modalities({"tab": [0, "age"]}, frame)


def test_selector_matching_nothing_is_reported(frame):
    with pytest.raises(ValueError, match="Modality 'img' selects no columns"):
        resolve_modalities({"img": make_column_selector(pattern="^img_")}, frame)


def test_validate_modal_data_sets_fitted_attributes(frame):
    est = _Holder({"tab": ["age", "bmi"], "emb": make_column_selector(pattern="^emb_")})
    X = validate_modal_data(est, frame)
    assert isinstance(X, np.ndarray) and X.shape == (5, 6)
    assert _as_lists(est.modalities_) == {"tab": [0, 1], "emb": [2, 3, 4]}
    assert est.n_features_in_ == 6
    assert list(est.feature_names_in_) == list(frame.columns)
    assert est.modalities == {"tab": ["age", "bmi"], "emb": est.modalities["emb"]}


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_predict_time_checks_width_and_column_names(frame):
    est = _Holder({"tab": ["age", "bmi"]})
    validate_modal_data(est, frame)
    with pytest.raises(ValueError, match="6 features"):
        validate_modal_data(est, frame.iloc[:, :5].to_numpy(), reset=False)
    reordered = frame[["bmi", "age", "emb_0", "emb_1", "emb_2", "note"]]
    with pytest.raises(ValueError, match="feature names"):
        validate_modal_data(est, reordered, reset=False)
    renamed = frame.rename(columns={"note": "comment"})
    with pytest.raises(ValueError, match="feature names"):
        validate_modal_data(est, renamed, reset=False)


def test_predict_time_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        validate_modal_data(_Holder(), np.zeros((2, 2)), reset=False)


def test_inf_is_refused_but_nan_allowed():
    est = _Holder()
    X = np.array([[np.nan, 1.0], [2.0, 3.0]])
    validate_modal_data(est, X)
    with pytest.raises(ValueError, match="infinity"):
        validate_modal_data(est, np.array([[np.inf, 1.0]]))


def test_presence_mask_marks_only_wholly_nan_modalities_missing():
    X = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, 5.0],
            [np.nan, np.nan, 3.0, 4.0, 5.0],  # 'a' missing
            [np.nan, 2.0, np.nan, np.nan, 5.0],  # 'a' partly NaN: present; 'b' missing
            [np.nan, np.nan, np.nan, np.nan, np.nan],  # everything missing
        ]
    )
    modalities = {"a": np.array([0, 1]), "b": np.array([2, 3]), "c": np.array([4])}
    expected = np.array(
        [[True, True, True], [False, True, True], [True, False, True], [False, False, False]]
    )
    np.testing.assert_array_equal(presence_mask(X, modalities), expected)


def test_presence_mask_on_non_contiguous_and_dataframe_input(frame):
    X = frame.to_numpy().copy()
    X[1, [0, 5]] = np.nan
    modalities = {"ends": np.array([0, 5]), "mid": np.array([2, 3])}
    expected = np.ones((5, 2), dtype=bool)
    expected[1, 0] = False
    np.testing.assert_array_equal(presence_mask(X, modalities), expected)
    np.testing.assert_array_equal(presence_mask(pd.DataFrame(X), modalities), expected)


def test_presence_mask_on_sparse_counts_explicit_nans_only():
    dense = np.array([[np.nan, np.nan, 1.0], [0.0, 0.0, 1.0], [np.nan, 0.0, 1.0]])
    X = sp.csr_matrix(dense)
    X.eliminate_zeros()
    modalities = {"a": np.array([0, 1]), "b": np.array([2])}
    expected = np.array([[False, True], [True, True], [True, True]])
    np.testing.assert_array_equal(presence_mask(X, modalities), expected)


def test_presence_mask_on_object_dataframe():
    df = pd.DataFrame({"city": ["a", None, "c"], "n": [1.0, np.nan, 3.0]})
    mask = presence_mask(df, {"tab": np.array([0, 1])})
    np.testing.assert_array_equal(mask[:, 0], [True, False, True])


def test_take_columns_returns_views_for_contiguous_runs():
    X = np.arange(12.0).reshape(3, 4)
    block = take_columns(X, np.array([1, 2]))
    assert np.shares_memory(block, X)
    np.testing.assert_array_equal(block, X[:, 1:3])
    np.testing.assert_array_equal(take_columns(X, np.array([3, 0])), X[:, [3, 0]])


def test_branch_columns_unions_modalities_in_order():
    modalities = {"a": np.array([0, 1]), "b": np.array([1, 4]), "c": np.array([2])}
    assert branch_columns(modalities, ["b", "a"]).tolist() == [1, 4, 0]
    with pytest.raises(ValueError, match="Unknown modality 'z'"):
        branch_columns(modalities, ["z"])


def test_check_no_missing_names_modality_and_row_count():
    mask = np.array([[True, True], [True, False], [True, False]])
    with pytest.raises(ValueError, match=r"Modality 'text' is missing \(all NaN\) in 2 of 3 rows"):
        check_no_missing(mask, ["tab", "text"])
    check_no_missing(mask[:1], ["tab", "text"])


def test_check_present_somewhere_names_the_modality_missing_in_every_row():
    mask = np.array([[True, False, False], [False, False, True], [True, False, True]])
    with pytest.raises(
        ValueError, match=r"^Modality 'text' is missing \(all NaN\) in all 3 rows; fit needs it\.$"
    ):
        check_present_somewhere(mask, ["tab", "text", "img"], reason="fit needs it")
    # present in one row each is enough, even if never together
    check_present_somewhere(mask[:, [0, 2]], ["tab", "img"])


def test_concat_modalities_arrays():
    X, modalities = concat_modalities({"tab": np.ones((4, 2)), "text": np.zeros((4, 3)), "y": np.arange(4)})
    assert X.shape == (4, 6)
    assert modalities == {"tab": [0, 1], "text": [2, 3, 4], "y": [5]}
    np.testing.assert_array_equal(X[:, 5], np.arange(4))


def test_concat_modalities_keeps_dataframe_names_and_names_arrays():
    tab = pd.DataFrame({"age": [1.0, 2.0], "bmi": [3.0, 4.0]}, index=[10, 11])
    X, modalities = concat_modalities({"tab": tab, "text": np.eye(2)})
    assert list(X.columns) == ["age", "bmi", "text_0", "text_1"]
    assert modalities == {"tab": ["age", "bmi"], "text": ["text_0", "text_1"]}
    np.testing.assert_array_equal(X[["text_0", "text_1"]].to_numpy(), np.eye(2))
    assert _as_lists(resolve_modalities(modalities, X)) == {"tab": [0, 1], "text": [2, 3]}


def test_concat_modalities_refuses_mismatched_rows_and_bad_names():
    with pytest.raises(ValueError, match="same number of rows"):
        concat_modalities({"a": np.ones((3, 1)), "b": np.ones((4, 1))})
    with pytest.raises(ValueError, match="'a__b' contains '__'"):
        concat_modalities({"a__b": np.ones((3, 1))})
    with pytest.raises(ValueError, match="more than one block"):
        concat_modalities({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})})


def test_import_skfusion_imports_neither_torch_nor_matplotlib():
    code = (
        "import sys, skfusion, skfusion.datasets, skfusion.model_selection, "
        "skfusion.inspection, skfusion.metrics;"
        "bad = [m for m in ('torch', 'skorch', 'matplotlib') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_skfusion_nn_without_torch_says_what_to_install(tmp_path):
    # A stub module named torch that fails to import stands in for a missing torch.
    (tmp_path / "torch.py").write_text("raise ImportError('No module named torch')\n")
    code = "import skfusion.nn"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert result.returncode != 0
    assert 'pip install "skfusion[torch]"' in result.stderr


def test_branch_modalities_reindexes_to_the_branch_columns():
    modalities_ = {"a": np.array([4, 5]), "b": np.array([0, 1, 2]), "c": np.array([2, 3])}
    # the branch over (a, c) receives columns [4, 5, 2, 3] of X, in that order
    assert list(branch_columns(modalities_, ["a", "c"])) == [4, 5, 2, 3]
    assert branch_modalities(modalities_, ["a", "c"]) == {"a": [0, 1], "c": [2, 3]}
    # overlapping modalities share the branch column
    assert branch_modalities(modalities_, ["b", "c"]) == {"b": [0, 1, 2], "c": [2, 3]}


def test_check_finite_target_refuses_nan_and_inf_but_not_labels():
    for bad in ([0.0, np.nan, 1.0], [0.0, np.inf]):
        with pytest.raises(ValueError, match="y contains NaN or infinity"):
            check_finite_target(bad)
    check_finite_target(np.array(["a", "b"], dtype=object))
    check_finite_target([0, 1, 2])


def test_present_block_takes_present_rows():
    X = np.arange(12, dtype=float).reshape(4, 3)
    X[1, 1:] = np.nan  # modality 'b' (columns 1, 2) missing in row 1
    present = np.array([True, False, True, True])
    np.testing.assert_array_equal(present_block(X, [1, 2], present), X[[0, 2, 3]][:, 1:])


# ---------------------------------------------------------------- NaN cells


def _cells_block(dtype=np.float64):
    """Rows 1 and 4 missing (all NaN); NaN cells at (0, 1), (3, 0), (3, 2), (5, 1)."""
    block = np.arange(21, dtype=dtype).reshape(7, 3) ** 1.5
    block[[1, 4]] = np.nan
    block[0, 1] = block[3, 0] = block[3, 2] = block[5, 1] = np.nan
    present = np.array([True, False, True, True, False, True, True])
    return block, present


def test_nan_cell_means_leave_out_missing_rows_and_nan_cells():
    block, present = _cells_block()
    expected = [np.mean([block[r, k] for r in np.flatnonzero(present) if not np.isnan(block[r, k])])
                for k in range(3)]
    np.testing.assert_allclose(nan_cell_means(block, present), expected, rtol=1e-14)
    np.testing.assert_allclose(nan_cell_means(block), expected, rtol=1e-14)  # same: rows all NaN
    complete = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(nan_cell_means(complete), complete.mean(axis=0))
    block[:, 2] = np.nan  # a column never observed where the modality is present
    assert nan_cell_means(block, present)[2] == 0.0


def test_fill_nan_cells_fills_present_rows_only_and_keeps_the_dtype():
    for dtype in (np.float64, np.float32):
        block, present = _cells_block(dtype)
        means = nan_cell_means(block, present)
        filled = fill_nan_cells(block, means, present)
        assert filled.dtype == dtype and filled is not block
        assert np.isnan(filled[[1, 4]]).all()  # missing rows stay missing
        assert not np.isnan(filled[present]).any()
        assert filled[3, 0] == dtype(means[0]) and filled[5, 1] == dtype(means[1])
        assert np.isnan(block[3, 0])  # the input is not modified


def test_fill_nan_cells_returns_the_block_itself_when_there_is_nothing_to_fill():
    block, present = _cells_block()
    block[[0, 3, 5]] = 1.0
    assert fill_nan_cells(block, np.zeros(3), present) is block  # only missing rows hold NaN
    complete = np.ones((5, 2), dtype=np.float32)
    assert fill_nan_cells(complete, np.zeros(2)) is complete
    integers = np.ones((5, 2), dtype=np.int64)
    assert fill_nan_cells(integers, np.zeros(2)) is integers
    sparse = sp.csr_matrix(complete)
    assert fill_nan_cells(sparse, np.zeros(2)) is sparse


def test_fill_nan_cells_large_blocks_in_chunks(monkeypatch):
    import skfusion._modalities as modalities_module

    monkeypatch.setattr(modalities_module, "_CHUNK_CELLS", 4)  # several chunks on small data
    block, present = _cells_block()
    means = nan_cell_means(block, present)
    expected = np.where(np.isnan(block) & present[:, None], means, block)
    np.testing.assert_array_equal(fill_nan_cells(block, means, present), expected)
    np.testing.assert_allclose(modalities_module.nan_cell_means(block, present), means, rtol=1e-14)


@pytest.mark.parametrize("format", ["csr", "csc"])
def test_sparse_nan_cells_count_implicit_zeros_and_keep_the_format(format):
    dense = np.array([[0.0, 2.0], [np.nan, np.nan], [4.0, np.nan], [0.0, 6.0]], dtype=np.float32)
    present = np.array([True, False, True, True])
    block = sp.csr_matrix(dense).asformat(format)
    means = nan_cell_means(block, present)
    np.testing.assert_allclose(means, [4.0 / 3, 4.0])
    filled = fill_nan_cells(block, means, present)
    assert filled.format == format and filled.dtype == np.float32
    np.testing.assert_allclose(filled.toarray()[2, 1], 4.0)
    assert np.isnan(filled.toarray()[1]).all()


def test_fill_modality_nan_cells_over_arrays_sparse_matrices_and_frames():
    pd = pytest.importorskip("pandas")
    X = np.arange(24, dtype=float).reshape(6, 4)
    X[0, :2] = np.nan  # 'a' missing in row 0
    X[1, 0] = X[2, 3] = np.nan  # cells
    modalities = {"a": np.array([0, 1]), "b": np.array([2, 3])}
    mask = presence_mask(X, modalities)
    means = modality_nan_cell_means(X, modalities, mask)
    expected = X.copy()
    expected[1, 0], expected[2, 3] = np.nanmean(X[:, 0]), np.nanmean(X[:, 3])
    np.testing.assert_array_equal(fill_modality_nan_cells(X, modalities, mask, means), expected)
    assert np.isnan(X[1, 0])  # the input is not modified
    filled = fill_modality_nan_cells(sp.csr_matrix(X), modalities, mask, means)
    np.testing.assert_array_equal(filled.toarray(), expected)
    frame = pd.DataFrame(X, columns=["a0", "a1", "b0", "b1"]).astype({"b1": np.float32})
    frame["b0"] = pd.Series(["u", "v", None, "w", "x", "y"], dtype=object)
    modalities = {"a": np.array([0, 1]), "b": np.array([2, 3])}
    means = modality_nan_cell_means(frame, modalities, mask)
    assert np.isnan(means["b"][0])  # not a float column: never filled
    out = fill_modality_nan_cells(frame, modalities, mask, means)
    assert out["b1"].dtype == np.float32 and out.loc[2, "b1"] == np.float32(np.nanmean(X[:, 3]))
    assert out["b0"].isna().sum() == 1 and np.isnan(out.loc[0, "a0"])
    clean = frame.drop(index=[1, 2])
    clean_mask = presence_mask(clean.to_numpy(), modalities)
    assert fill_modality_nan_cells(clean, modalities, clean_mask, means) is clean


def test_fill_modality_nan_cells_when_the_sum_of_x_overflows():
    """The whole-array fast path (a sum that is not NaN proves no NaN) must not be fooled
    by finite values whose sum overflows to inf - inf = NaN: then each block is checked."""
    big = np.finfo(np.float64).max / 2
    X = np.array([[big, big, 1.0], [big, big, 2.0], [-big, -big, 3.0], [-big, -big, 4.0]])
    modalities = {"a": [0, 1], "b": [2]}
    mask = np.ones((4, 2), dtype=bool)
    means = {"a": np.array([0.0, 0.0]), "b": np.array([2.5])}
    assert fill_modality_nan_cells(X, modalities, mask, means) is X  # nothing to fill
    X[1, 2] = np.nan
    mask[1, 1] = False  # 'b' is one column: its NaN row is a missing modality, left as is
    assert np.isnan(fill_modality_nan_cells(X, modalities, mask, means)[1, 2])
    X[1, 2], X[0, 0] = 2.0, np.nan  # a NaN cell of 'a', present in row 0
    mask[1, 1] = True
    filled = fill_modality_nan_cells(X, modalities, mask, means)
    assert filled[0, 0] == 0.0 and not np.isnan(filled).any()
    assert np.isnan(X[0, 0])  # the input is not written to


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_check_finite_allowing_nan_answers_both_questions_in_one_pass(container, dtype):
    """A finite sum proves no NaN and no inf; otherwise scikit-learn's check decides
    (inf refused with its message, NaN allowed) and the answer is
    "look for NaN cells"."""
    X = np.arange(12, dtype=dtype).reshape(4, 3)
    assert check_finite_allowing_nan(container(X)) is True
    X[1, 2] = np.nan
    assert check_finite_allowing_nan(container(X)) is False
    X[2, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        check_finite_allowing_nan(container(X))
    big = np.finfo(dtype).max / 2  # finite values whose sum overflows: no error
    assert check_finite_allowing_nan(container(np.full((3, 2), big, dtype=dtype))) is False


def test_pd_na_in_an_object_column_is_a_missing_cell():
    # numpy refuses pd.NA (it takes None): a modality missing in a row of an object
    # column was refused as "holds values that are not numbers (e.g. <NA>)"
    from skfusion import FeatureFusion, MultiviewCCA

    rng = np.random.default_rng(0)
    numbers = pd.DataFrame(rng.normal(size=(40, 4)), columns=["a0", "a1", "b0", "b1"])
    numbers.iloc[0, 2:] = np.nan
    numbers.iloc[5, 0] = np.nan
    as_objects = numbers.astype(object)
    as_objects.iloc[0, 2:] = pd.NA
    as_objects.iloc[5, 0] = None
    modalities = {"a": ["a0", "a1"], "b": ["b0", "b1"]}
    for estimator in (FeatureFusion(modalities, missing="zero"), MultiviewCCA(modalities)):
        np.testing.assert_array_equal(
            clone(estimator).fit_transform(as_objects), clone(estimator).fit_transform(numbers)
        )
    as_objects.iloc[7, 1] = "x"  # a value that is no number is still named, not the NA
    with pytest.raises(ValueError, match=r"column 'a1' holds values that are not numbers \(e.g. 'x'\)"):
        FeatureFusion(modalities, missing="zero").fit(as_objects)
