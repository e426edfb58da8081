"""Properties that hold for any modality layout, for every public estimator (hypothesis).

Random numbers of modalities, widths, rows, classes and missing-modality masks:
outputs have the right shape and dtype; probabilities are finite,
non-negative and sum to one; permuting a DataFrame's columns changes nothing
when the modalities are given by name; a seed makes a fit reproducible; and
``clone`` + fit equals fit.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.base import clone

from _fusion_catalogue import ENTRIES, fit, make_data, output, predict

pd = pytest.importorskip("pandas")

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skfusion.NoModalityPresentWarning"),
]

# Few examples each (the whole suite must stay fast) and derandomized, so that
# CI runs the same examples every time.
SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

each_estimator = pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])


def same_computation_tolerance(entry):
    """Tolerance for one computation reached through two input layouts.

    float64 estimators agree to round-off. The torch networks (``slow``
    entries) train and predict in float32 through MKL, whose kernels are
    bit-reproducible for one memory layout but not promised across layouts
    (a column block as a strided view or gathered, other buffer alignment):
    a last-bit difference in one batch, carried through a few epochs of
    training, stays far below 1e-5 of the outputs.
    """
    if entry.slow:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-9, "atol": 1e-12}


@st.composite
def problems(draw, entry):
    """(X, y, modalities) with a random layout; missing modalities where allowed."""
    n_modalities = draw(st.integers(2, 3))
    widths = {f"m{j}": draw(st.integers(1, 4)) for j in range(n_modalities)}
    n_samples = draw(st.integers(45, 90))
    missing_rate = draw(st.sampled_from([0.0, 0.15])) if entry.allows_missing else 0.0
    seed = draw(st.integers(0, 2**16))
    if entry.task == "classification":
        from skfusion.datasets import make_multimodal_classification

        n_classes = draw(st.integers(2, entry.max_classes or 3))
        return make_multimodal_classification(
            n_samples=n_samples, widths=widths, n_classes=n_classes,
            missing_rate=missing_rate, random_state=seed,
        )
    return make_data(entry.task, n_samples=n_samples, widths=widths,
                     random_state=seed, missing_rate=missing_rate)


def _complete_rows(X, modalities):
    """Rows where no modality is missing."""
    present = [~np.isnan(X[:, idx]).all(axis=1) for idx in modalities.values()]
    return np.logical_and.reduce(present)


@each_estimator
@SETTINGS
@given(data=st.data())
def test_outputs_have_the_right_shape_dtype_and_range(entry, data):
    X, y, modalities = data.draw(problems(entry))
    estimator = fit(entry.build(modalities), X, y, entry.task)
    n = X.shape[0]
    if entry.task == "classification":
        labels = estimator.predict(X)
        assert labels.shape == (n,)
        assert labels.dtype == y.dtype
        assert set(np.unique(labels)) <= set(np.unique(y))
        np.testing.assert_array_equal(estimator.classes_, np.unique(y))
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            assert proba.shape == (n, np.unique(y).size)
            assert proba.dtype.kind == "f"
            assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
            assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
            np.testing.assert_array_equal(labels, estimator.classes_[proba.argmax(axis=1)])
    elif entry.task == "regression":
        predictions = estimator.predict(X)
        assert predictions.shape == (n,)
        assert predictions.dtype.kind == "f"
        assert np.all(np.isfinite(predictions))
    else:
        embedding = estimator.transform(X)
        assert embedding.shape == (n, len(estimator.get_feature_names_out()))
        assert embedding.dtype.kind == "f"
        assert np.all(np.isfinite(embedding[_complete_rows(X, modalities)]))


@each_estimator
@SETTINGS
@given(data=st.data())
def test_permuting_dataframe_columns_changes_nothing(entry, data):
    X, y, modalities = data.draw(problems(entry))
    columns = [f"c{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    by_name = {name: [columns[i] for i in idx] for name, idx in modalities.items()}
    permutation = data.draw(st.permutations(columns))
    shuffled = frame[list(permutation)]

    expected = output(fit(entry.build(by_name), frame, y, entry.task), frame, entry.task)
    estimator = fit(entry.build(by_name), shuffled, y, entry.task)
    got = output(estimator, shuffled, entry.task)
    assert_allclose(got, expected, **same_computation_tolerance(entry))


@each_estimator
@SETTINGS
@given(data=st.data())
def test_same_seed_same_fit(entry, data):
    X, y, modalities = data.draw(problems(entry))
    seed = data.draw(st.integers(0, 1000))
    params = {entry.random_state_param: seed} if entry.random_state_param else {}
    first = fit(entry.build(modalities, **params), X, y, entry.task)
    second = fit(entry.build(modalities, **params), X, y, entry.task)
    np.testing.assert_array_equal(output(first, X, entry.task), output(second, X, entry.task))
    np.testing.assert_array_equal(predict(first, X, entry.task), predict(second, X, entry.task))


@each_estimator
@SETTINGS
@given(data=st.data())
def test_clone_then_fit_equals_fit(entry, data):
    X, y, modalities = data.draw(problems(entry))
    original = fit(entry.build(modalities), X, y, entry.task)
    refitted = fit(clone(original), X, y, entry.task)
    np.testing.assert_array_equal(output(refitted, X, entry.task), output(original, X, entry.task))
    # the clone is a fresh estimator: fitting it left the original untouched
    assert refitted is not original
