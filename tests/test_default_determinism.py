"""Defaults are deterministic: two fits with default parameters give identical results.

Randomness enters only through ``random_state``, whose default is a fixed seed
on every public estimator that has one (None keeps scikit-learn's meaning: a
fresh draw each fit, asked for explicitly).
"""

import inspect

import numpy as np
import pytest

import skfusion
from _fusion_catalogue import ENTRIES, fit, make_data, output

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::skfusion.NoModalityPresentWarning"),
    pytest.mark.filterwarnings("ignore::skfusion.exceptions.SmallDataWarning"),
]


def _public_estimator_classes():
    modules = [skfusion]
    for name in ("nn", "tables"):
        try:
            modules.append(__import__(f"skfusion.{name}", fromlist=["_"]))
        except ImportError:
            pass
    return sorted(
        {
            obj
            for module in modules
            for obj in vars(module).values()
            if inspect.isclass(obj) and hasattr(obj, "get_params")
        },
        key=lambda cls: cls.__name__,
    )


def _default(cls, name):
    return inspect.signature(cls.__init__).parameters[name].default


SEEDABLE = [
    cls
    for cls in _public_estimator_classes()
    if "random_state" in inspect.signature(cls.__init__).parameters
]


def test_the_seedable_estimators_are_found():
    names = {cls.__name__ for cls in SEEDABLE}
    assert {"InteractionFusion", "SimilarityNetworkFusion"} <= names


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda cls: cls.__name__)
def test_random_state_defaults_to_a_fixed_seed(cls):
    assert _default(cls, "random_state") is not None


SEEDED = [entry for entry in ENTRIES if entry.random_state_param]


@pytest.mark.parametrize("entry", SEEDED, ids=[entry.id for entry in SEEDED])
def test_two_fits_with_the_default_seed_are_identical(entry):
    X, y, modalities = make_data(entry.task)
    default = _default(entry.estimator_class, entry.random_state_param)
    params = {entry.random_state_param: default}
    first = fit(entry.build(modalities, **params), X, y, entry.task)
    second = fit(entry.build(modalities, **params), X, y, entry.task)
    np.testing.assert_array_equal(
        np.asarray(output(first, X, entry.task)), np.asarray(output(second, X, entry.task))
    )
