"""Faults inside a fit: errors that say where, and no half-fitted models.

A branch that raises names its branch and modality; a branch whose
probabilities are NaN is caught; a network whose loss becomes NaN stops with a
clear error; and a fit interrupted midway leaves an estimator that still
refuses to predict (NotFittedError), never one that half works.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge

import skfusion
from _fusion_catalogue import ENTRIES, fit, make_data, predict

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------------ faulty branches


class ExplodingClassifier(ClassifierMixin, BaseEstimator):
    """Raises in fit, like a branch hitting a bug or running out of memory."""

    def fit(self, X, y):
        raise RuntimeError("exploded while fitting")

    def predict_proba(self, X):  # pragma: no cover - never fitted
        raise AssertionError("not fitted")


class ExplodingRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("exploded while fitting")


class NaNProbaClassifier(ClassifierMixin, BaseEstimator):
    """Fits, then answers NaN probabilities (``after_fit``: only on new rows)."""

    def __init__(self, after_fit=False):
        self.after_fit = after_fit

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_train_ = X.shape[0]
        return self

    def predict_proba(self, X):
        proba = np.full((X.shape[0], self.classes_.size), 1.0 / self.classes_.size)
        if not self.after_fit or X.shape[0] != self.n_train_:
            proba[0] = np.nan
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(np.nan_to_num(self.predict_proba(X)), axis=1)]


class NaNRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        out = np.zeros(X.shape[0])
        out[0] = np.nan
        return out


def _late_fusion_classes():
    return tuple(
        getattr(skfusion, name)
        for name in ("StackingLateFusion", "WeightedVoteFusion")
        if hasattr(skfusion, name)
    )


LATE = _late_fusion_classes()


def _healthy(task):
    return LogisticRegression() if task == "classification" else Ridge()


def _exploding(task):
    return ExplodingClassifier() if task == "classification" else ExplodingRegressor()


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("Fusion", LATE, ids=lambda cls: cls.__name__)
def test_branch_raising_in_fit_names_branch_and_modality(Fusion, task):
    X, y, modalities = make_data(task)
    branches = [("a", _healthy(task)), ("text_model", _exploding(task), ["b"])]
    fusion = Fusion(branches, modalities=modalities, cv=3)
    with pytest.raises(RuntimeError) as info:
        fusion.fit(X, y)
    message = str(info.value)
    assert "text_model" in message and "'b'" in message, message
    assert "exploded while fitting" in message  # the cause is kept
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("Fusion", LATE, ids=lambda cls: cls.__name__)
def test_nan_probabilities_out_of_fold_are_refused(Fusion):
    X, y, modalities = make_data("classification")
    fusion = Fusion([("a", LogisticRegression()), ("b", NaNProbaClassifier())],
                    modalities=modalities, cv=3)
    with pytest.raises(ValueError, match=r"branch 'b'.*non-finite"):
        fusion.fit(X, y)


@pytest.mark.parametrize("Fusion", LATE, ids=lambda cls: cls.__name__)
def test_nan_probabilities_at_predict_are_refused(Fusion):
    X, y, modalities = make_data("classification")
    fusion = Fusion([("a", LogisticRegression()), ("b", NaNProbaClassifier(after_fit=True))],
                    modalities=modalities, cv="prefit")
    fusion.estimators = [
        ("a", LogisticRegression().fit(X[:, modalities["a"]], y)),
        ("b", NaNProbaClassifier(after_fit=True).fit(X[:, modalities["b"]], y)),
    ]
    fusion.fit(X, y)
    with pytest.raises(ValueError, match=r"branch 'b'.*non-finite"):
        fusion.predict_proba(X[:10])
    with pytest.raises(ValueError, match=r"branch 'b'.*non-finite"):
        fusion.predict(X[:10])


@pytest.mark.parametrize("Fusion", LATE, ids=lambda cls: cls.__name__)
def test_nan_regression_predictions_are_refused(Fusion):
    X, y, modalities = make_data("regression")
    fusion = Fusion([("a", Ridge()), ("b", NaNRegressor())], modalities=modalities, cv=3)
    with pytest.raises(ValueError, match=r"branch 'b'.*non-finite"):
        fusion.fit(X, y)


# ------------------------------------------------------------------ networks


def _nn():
    return pytest.importorskip("skfusion.nn")


_NET = dict(latent_dim=4, encoder_hidden_sizes=(8,), head_hidden_sizes=(8,), batch_size=32,
            max_epochs=3, device="cpu", random_state=0)


@pytest.mark.parametrize("kind", ["IntermediateFusionClassifier", "IntermediateFusionRegressor"])
def test_diverging_network_stops_with_a_clear_error(kind):
    nn = _nn()
    task = "classification" if kind.endswith("Classifier") else "regression"
    X, y, modalities = make_data(task)
    net = getattr(nn, kind)(modalities, lr=1e30, **_NET)
    with pytest.raises(FloatingPointError, match=r"loss became nan.*`lr`"):
        net.fit(X, y)


def test_contrastive_alignment_with_nan_loss_stops_with_a_clear_error(monkeypatch):
    nn = _nn()
    import torch

    import skfusion.nn._training as training

    def nan_loss(za, zb, temperature):
        return (za * torch.nan).sum() + (zb * 0).sum()  # keeps the graph: backward runs

    monkeypatch.setattr(training, "info_nce_loss", nan_loss)
    X, _, modalities = make_data("transform")
    aligner = nn.ContrastiveAlignment(modalities, latent_dim=2, encoder_hidden_sizes=(8,),
                                      max_epochs=2, batch_size=32, device="cpu", random_state=0)
    with pytest.raises(FloatingPointError, match=r"training loss became nan at epoch 1.*`lr`"):
        aligner.fit(X)
    with pytest.raises(NotFittedError):
        aligner.transform(X)


def test_regression_network_with_overflowing_target_is_not_broken():
    """A target whose variance overflows: a clear error, not NaN predictions."""
    nn = _nn()
    X, y, modalities = make_data("regression")
    net = nn.IntermediateFusionRegressor(modalities, **_NET)
    try:
        net.fit(X, y * 1e200)
    except (ValueError, FloatingPointError) as exc:
        assert "y" in str(exc) or "target" in str(exc), str(exc)
        return
    assert np.all(np.isfinite(net.predict(X)))


# ------------------------------------------------------------------ interrupted fits


class ExplodingTransformer(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        raise RuntimeError("exploded while fitting")

    def transform(self, X):  # pragma: no cover - never fitted
        raise AssertionError("not fitted")


@pytest.mark.skipif(not hasattr(skfusion, "FeatureFusion"), reason="no FeatureFusion")
def test_per_modality_transformer_raising_in_fit_names_its_modality():
    X, _, modalities = make_data("transform")
    fusion = skfusion.FeatureFusion(modalities, transformers={"b": ExplodingTransformer()})
    with pytest.raises(RuntimeError) as info:
        fusion.fit(X)
    assert "exploded while fitting" in str(info.value)
    assert "'b'" in str(info.value), str(info.value)


def _nan_cell(X):
    X = X.copy()
    X[2, 0] = np.nan  # one cell: not a missing modality; CooperativeFusion refuses it after validation
    return X


# How to make each estimator fail midway through fit, after its input is validated:
# class name -> function(entry, modalities, X) -> (params for set_params, X to fit on).
INTERRUPTIONS = {
    "StackingLateFusion": lambda entry, m, X: (
        {"estimators": [("a", _healthy(entry.task)), ("b", _exploding(entry.task))]}, X),
    "WeightedVoteFusion": lambda entry, m, X: (
        {"estimators": [("a", _healthy(entry.task)), ("b", _exploding(entry.task))]}, X),
    # a per-modality transformer that fails
    "FeatureFusion": lambda entry, m, X: ({"transformers": {"b": ExplodingTransformer()}}, X),
    # the output-width check comes after the pairs are resolved
    "InteractionFusion": lambda entry, m, X: ({"max_features": 1}, X),
    # more shared directions than the data has: found after the per-modality SVDs
    "MultiviewCCA": lambda entry, m, X: ({"n_components": 50}, X),
    # NaN inside a modality is found when the design matrix is built
    "CooperativeFusion": lambda entry, m, X: ({}, _nan_cell(X)),
    # the training loss becomes NaN at the first batches
    "IntermediateFusionClassifier": lambda entry, m, X: ({"lr": 1e30}, X),
    "IntermediateFusionRegressor": lambda entry, m, X: ({"lr": 1e30}, X),
    "ContrastiveAlignment": lambda entry, m, X: ({"lr": 1e30}, X),
    # more embedding dimensions than rows: found once the graphs are fused
    "SimilarityNetworkFusion": lambda entry, m, X: ({"n_components": 10_000}, X),
    # more clusters than rows: found by the spectral clustering of the fused graph
    "SimilarityNetworkClustering": lambda entry, m, X: ({"n_clusters": 10_000}, X),
}

def _interruption_params():
    return [
        pytest.param(entry, INTERRUPTIONS[entry.estimator_class.__name__], id=entry.id)
        for entry in ENTRIES
        if entry.estimator_class.__name__ in INTERRUPTIONS
    ]


def test_every_estimator_has_an_interruption():
    names = {entry.estimator_class.__name__ for entry in ENTRIES}
    assert names <= set(INTERRUPTIONS), sorted(names - set(INTERRUPTIONS))


@pytest.mark.parametrize("entry, interruption", _interruption_params())
def test_interrupted_fit_leaves_estimator_unfitted(entry, interruption):
    X, y, modalities = make_data(entry.task)
    params, X_fit = interruption(entry, modalities, X)
    estimator = entry.build(modalities, **params)
    with pytest.raises(Exception):  # noqa: B017 - any failure; the state is what matters
        fit(estimator, X_fit, y, entry.task)
    with pytest.raises(NotFittedError):
        predict(estimator, X, entry.task)
