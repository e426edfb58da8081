"""Columns in no modality are never read: an ID column, free text or garbage beside
the modalities changes nothing, for every estimator of the catalogue and for
compare_fusion."""

import numpy as np
import pytest
from _fusion_catalogue import ENTRIES, fit, make_data, output

pd = pytest.importorskip("pandas")


def _frames(entry):
    """The catalogue's data as a DataFrame, and the same with unread columns around it."""
    X, y, positions = make_data(entry.task, n_samples=60)
    columns = [f"c{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    modalities = {name: [columns[i] for i in cols] for name, cols in positions.items()}
    noisy = frame.copy()
    noisy.insert(0, "id", [f"p{i:03d}" for i in range(len(frame))])
    noisy.insert(3, "notes", ["free text, unread"] * len(frame))
    noisy["garbage"] = np.where(np.arange(len(frame)) % 2, np.inf, np.nan)
    return frame, noisy, y, modalities


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_columns_outside_every_modality_are_never_read(entry):
    frame, noisy, y, modalities = _frames(entry)
    clean_model = fit(entry.build(modalities), frame, y, entry.task)
    noisy_model = fit(entry.build(modalities), noisy, y, entry.task)
    tolerance = dict(rtol=1e-12, atol=1e-12)
    if entry.slow:
        tolerance = dict(rtol=1e-5, atol=1e-6)
    elif entry.iterative:  # the noise columns change the layout of the modalities' copy
        tolerance = dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        output(noisy_model, noisy, entry.task), output(clean_model, frame, entry.task), **tolerance
    )
    assert list(noisy_model.feature_names_in_) == list(noisy.columns)
    with pytest.raises(ValueError, match="feature names"):
        output(noisy_model, frame, entry.task)  # the columns seen in fit are still required


def test_compare_fusion_ignores_columns_outside_every_modality():
    from skfusion.model_selection import compare_fusion

    entry = next(e for e in ENTRIES if e.task == "classification")
    frame, noisy, y, modalities = _frames(entry)
    strategies = ["single", "early", "vote"]
    clean = compare_fusion(frame, y, modalities, strategies, cv=3)
    with_id = compare_fusion(noisy, y, modalities, strategies, cv=3)
    for name in clean.names:
        np.testing.assert_allclose(
            with_id.records[clean.names.index(name)]["scores"]["accuracy"],
            clean.records[clean.names.index(name)]["scores"]["accuracy"],
        )
