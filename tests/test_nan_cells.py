"""NaN cells (NaN in a row where its modality is present), for every public estimator.

Walks the catalogue (tests/_fusion_catalogue.py). An estimator whose
``allow_nan`` tag is True accepts NaN cells at fit and at prediction and gives
the mean-imputed result: each cell takes its column's mean over the training
rows where its modality is present. The reference is computed here, from the
data alone, and the estimator is fitted on it; rows where a modality is
missing (all its columns NaN) stay missing in the reference, so the equality
also says that they are not filled. An estimator whose tag is False refuses
NaN cells with an error that says so.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from _fusion_catalogue import ENTRIES, fit, make_data, output, predict
from _nan_reference import mean_imputed, reference_means
from numpy.testing import assert_allclose
from sklearn.pipeline import make_pipeline

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skfusion.NoModalityPresentWarning"),
]


ALLOW_NAN = [entry for entry in ENTRIES if entry.allows_nan_cells]
REFUSE_NAN = [entry for entry in ENTRIES if not entry.allows_nan_cells]


def each(entries):
    return pytest.mark.parametrize("entry", entries, ids=[entry.id for entry in entries])


def with_nan_cells(X, modalities, n_cells, seed):
    """A copy of X with ``n_cells`` NaN cells, at most one per row and modality, in
    rows where the modality is present (so no modality becomes missing)."""
    X = X.copy()
    rng = np.random.default_rng(seed)
    for columns in modalities.values():
        present = np.flatnonzero(~np.isnan(X[:, columns]).all(axis=1))
        rows = rng.choice(present, size=n_cells, replace=False)
        X[rows, rng.choice(columns, size=n_cells)] = np.nan
    return X


def densify(values):
    return np.asarray(values.toarray() if sp.issparse(values) else values, dtype=np.float64)


def tolerance(entry, dtype=np.float64):
    if entry.slow or dtype == np.float32:
        return {"rtol": 1e-4, "atol": 1e-5}
    return {"rtol": 1e-9, "atol": 1e-10}


def problem(entry, seed=0):
    """Training data with missing modalities and NaN cells, its mean-imputed reference,
    and a test set with NaN cells of its own (with its reference, from the training means)."""
    missing_rate = 0.1 if entry.allows_missing else 0.0
    X, y, modalities = make_data(
        entry.task, n_samples=90, missing_rate=missing_rate, random_state=seed
    )
    X_train, y_train, X_test = X[:60], y[:60], X[60:]
    X_train = with_nan_cells(X_train, modalities, 6, seed)
    X_test = with_nan_cells(X_test, modalities, 4, seed + 1)
    means = reference_means(X_train, modalities)
    return (
        X_train, mean_imputed(X_train, modalities, means), y_train,
        X_test, mean_imputed(X_test, modalities, means), modalities,
    )


@each(ALLOW_NAN)
def test_nan_cells_give_the_mean_imputed_fit(entry):
    X, X_ref, y, _, X_test_ref, modalities = problem(entry)
    with_cells = fit(entry.build(modalities), X, y, entry.task)
    reference = fit(entry.build(modalities), X_ref, y, entry.task)
    assert_allclose(
        densify(output(with_cells, X_test_ref, entry.task)),
        densify(output(reference, X_test_ref, entry.task)),
        **tolerance(entry),
    )


@each(ALLOW_NAN)
def test_nan_cells_at_prediction_take_the_training_means(entry):
    X, _, y, X_test, X_test_ref, modalities = problem(entry, seed=1)
    estimator = fit(entry.build(modalities), X, y, entry.task)
    got = densify(output(estimator, X_test, entry.task))
    expected = densify(output(estimator, X_test_ref, entry.task))
    assert_allclose(got, expected, **tolerance(entry))
    # NaN in the output only where the estimator says a row has no information
    rows_with_cells = np.isnan(X_test).any(axis=1) & ~np.isnan(X_test_ref).any(axis=1)
    assert np.isfinite(got[rows_with_cells]).all()


@each(ALLOW_NAN)
def test_float32_with_nan_cells_stays_float32(entry):
    X, X_ref, y, X_test, X_test_ref, modalities = problem(entry, seed=2)
    X, X_ref = X.astype(np.float32), X_ref.astype(np.float32)
    X_test, X_test_ref = X_test.astype(np.float32), X_test_ref.astype(np.float32)
    with_cells = fit(entry.build(modalities), X, y, entry.task)
    reference = fit(entry.build(modalities), X_ref, y, entry.task)
    got = output(with_cells, X_test, entry.task)
    expected = output(reference, X_test_ref, entry.task)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    assert_allclose(densify(got), densify(expected), **tolerance(entry, np.float32))


@each([entry for entry in ALLOW_NAN if entry.accepts_sparse])
def test_sparse_input_with_nan_cells(entry):
    X, X_ref, y, X_test, X_test_ref, modalities = problem(entry, seed=3)
    with_cells = fit(entry.build(modalities), sp.csr_matrix(X), y, entry.task)
    reference = fit(entry.build(modalities), sp.csr_matrix(X_ref), y, entry.task)
    assert_allclose(
        densify(output(with_cells, sp.csr_matrix(X_test), entry.task)),
        densify(output(reference, sp.csr_matrix(X_test_ref), entry.task)),
        **tolerance(entry),
    )


@each(REFUSE_NAN)
def test_estimators_that_do_not_allow_nan_refuse_nan_cells(entry):
    X, y, modalities = make_data(entry.task)
    X_cells = with_nan_cells(X, modalities, 3, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        fit(entry.build(modalities), X_cells, y, entry.task)
    estimator = fit(entry.build(modalities), X, y, entry.task)
    with pytest.raises(ValueError, match="NaN"):
        output(estimator, X_cells, entry.task)


# ------------------------------------------------ the matrix: cells, missing rows, both

#: (missing_rate, NaN cells per modality in 60 training rows): scattered NaN cells
#: only, whole modalities missing in some rows only (all-NaN blocks), and both.
PATTERNS = {"cells": (0.0, 8), "missing-rows": (0.25, 0), "both": (0.25, 8)}


def patterned(entry, pattern, seed=0):
    """Training and test data holding the NaN ``pattern``, and the complete test rows."""
    missing_rate, n_cells = PATTERNS[pattern]
    X, y, modalities = make_data(entry.task, n_samples=100, missing_rate=missing_rate,
                                 random_state=seed)
    X_test_complete = X[60:].copy()
    if n_cells:
        X = np.vstack([
            with_nan_cells(X[:60], modalities, n_cells, seed),
            with_nan_cells(X[60:], modalities, n_cells // 2, seed + 1),
        ])
    return X[:60], y[:60], X[60:], y[60:], X_test_complete, modalities


def _matrix():
    return [
        pytest.param(entry, pattern, id=f"{entry.id}-{pattern}")
        for entry in ALLOW_NAN
        for pattern in PATTERNS
        # missing="error" refuses rows with a missing modality (tested in test_bad_input)
        if pattern == "cells" or entry.allows_missing
    ]


@pytest.mark.parametrize("entry, pattern", _matrix())
def test_nan_patterns_give_finite_deterministic_outputs(entry, pattern):
    X, y, X_test, _, _, modalities = patterned(entry, pattern)
    assert np.isnan(X).any() and np.isnan(X_test).any()
    first = densify(output(fit(entry.build(modalities), X, y, entry.task), X_test, entry.task))
    again = densify(output(fit(entry.build(modalities), X, y, entry.task), X_test, entry.task))
    # every test row keeps some modality, so every output is a number
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize(
    "entry, pattern",
    [param for param in _matrix() if param.values[0].task != "transform"],
)
def test_nan_patterns_give_sensible_predictions(entry, pattern):
    """Predictions with NaN in the test rows stay close to those on the complete rows
    (the same fitted model): a few imputed cells or a missing modality move little."""
    X, y, X_test, y_test, X_test_complete, modalities = patterned(entry, pattern)
    estimator = fit(entry.build(modalities), X, y, entry.task)
    with_nan = predict(estimator, X_test, entry.task)
    complete = predict(estimator, X_test_complete, entry.task)
    if entry.task == "classification":
        agreement = np.mean(with_nan == complete)
        assert agreement >= 0.75, agreement
        # what the model learnt survives the gaps
        assert np.mean(with_nan == y_test) >= np.mean(complete == y_test) - 0.15
    else:
        spread = np.std(complete)
        assert np.sqrt(np.mean((with_nan - complete) ** 2)) < spread, spread


# ------------------------------------------------ tables: the encoder imputes, with indicators


def _table_fusions():
    pytest.importorskip("skrub")
    from sklearn.linear_model import LogisticRegression

    from skfusion import FeatureFusion, StackingLateFusion
    from skfusion.tables import TableFusion

    return {
        "stacking": lambda m: TableFusion(StackingLateFusion(LogisticRegression(), cv=3),
                                          modalities=m),
        "early": lambda m: TableFusion(
            make_pipeline(FeatureFusion(missing="zero"), LogisticRegression()), modalities=m
        ),
    }


@pytest.mark.parametrize("pattern", list(PATTERNS))
@pytest.mark.parametrize("model", ["stacking", "early"])
def test_table_fusion_with_nan_patterns(model, pattern):
    """TableFusion on a DataFrame: its encoder imputes NaN cells (mean, with an
    indicator column), a modality empty in a row stays missing for the estimator."""
    pd = pytest.importorskip("pandas")
    entry = next(entry for entry in ALLOW_NAN if entry.task == "classification")
    X, y, X_test, _, _, positions = patterned(entry, pattern)
    columns = [f"{name}{k}" for name, cols in positions.items() for k in range(len(cols))]
    frame, test = pd.DataFrame(X, columns=columns), pd.DataFrame(X_test, columns=columns)
    modalities = {
        name: [columns[c] for c in cols] for name, cols in positions.items()
    }
    make = _table_fusions()[model]
    first = make(modalities).fit(frame, y).predict_proba(test)
    again = make(modalities).fit(frame, y).predict_proba(test)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
