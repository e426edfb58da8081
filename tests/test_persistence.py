"""Storage round trips (pickle, joblib, skops) and the refusal of untrusted files."""

import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from _fusion_catalogue import ENTRIES, fit, make_data

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

def _is_network(entry):
    return entry.estimator_class.__module__.startswith("skfusion.nn")


def _fitted(entry):
    X, y, modalities = make_data(entry.task, missing_rate=0.1 if entry.allows_missing else 0.0)
    estimator = fit(entry.build(modalities), X, y, entry.task)
    return estimator, X


def _all_outputs(estimator, X):
    """Every prediction method the fitted estimator has, on X."""
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function", "transform"]
    return {m: getattr(estimator, m)(X) for m in methods if hasattr(estimator, m)}


def assert_bit_identical(restored, original, X):
    expected = _all_outputs(original, X)
    got = _all_outputs(restored, X)
    assert got.keys() == expected.keys()
    for method, values in expected.items():
        assert np.asarray(got[method]).dtype == np.asarray(values).dtype, method
        np.testing.assert_array_equal(got[method], values, err_msg=method, strict=True)


# ------------------------------------------------------------------ pickle and joblib


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_pickle_round_trip_is_bit_identical(entry):
    estimator, X = _fitted(entry)
    restored = pickle.loads(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(restored) is type(estimator)
    assert_bit_identical(restored, estimator, X)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_joblib_round_trip_is_bit_identical(entry, tmp_path):
    estimator, X = _fitted(entry)
    path = tmp_path / "model.joblib"
    joblib.dump(estimator, path, compress=3)
    assert_bit_identical(joblib.load(path), estimator, X)


# ------------------------------------------------------------------ skops


SKOPS_ENTRIES = [e for e in ENTRIES if not _is_network(e)]
NETWORK_ENTRIES = [e for e in ENTRIES if _is_network(e)]


@pytest.mark.parametrize("entry", SKOPS_ENTRIES, ids=lambda e: e.id)
def test_skops_round_trip_with_documented_trusted_types(entry, tmp_path):
    pytest.importorskip("skops")
    from skfusion.persistence import dump, load, untrusted_types

    estimator, X = _fitted(entry)
    path = tmp_path / "model.skops"
    dump(estimator, path)
    # every type the file needs is either trusted by skops or documented by skfusion
    assert untrusted_types(path) == []
    assert_bit_identical(load(path), estimator, X)
    assert_bit_identical(load(str(path)), estimator, X)


@pytest.mark.parametrize("entry", NETWORK_ENTRIES, ids=lambda e: e.id)
def test_skops_never_writes_or_reads_torch_models(entry, tmp_path):
    """A skorch net's saved state is an embedded pickle that loading runs once its type
    is trusted (and untrusted_types listed only harmless-looking class names): dump and
    load refuse it, whatever `trusted` says."""
    skops_io = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfusion.persistence import dump, load, untrusted_types

    estimator, _ = _fitted(entry)
    for model in (estimator, make_pipeline(StandardScaler(), estimator)):
        with pytest.raises(ValueError, match="holds a torch network .*embedded pickle"):
            dump(model, tmp_path / "net.skops")
    assert not (tmp_path / "net.skops").exists()
    path = tmp_path / "written_by_skops.skops"
    path.write_bytes(skops_io.dumps(estimator))
    with pytest.raises(ValueError, match="The file holds a torch network"):
        load(path, trusted=untrusted_types(path))


def test_trusted_types_lists_every_public_estimator():
    import skfusion
    from skfusion.persistence import trusted_types

    trusted = trusted_types()
    assert trusted == sorted(set(trusted))
    for name in skfusion.__all__:
        obj = getattr(skfusion, name)
        if isinstance(obj, type) and hasattr(obj, "fit"):
            assert f"{obj.__module__}.{obj.__name__}" in trusted


class Tripwire:
    """A type nobody trusts; records whether loading ever built one."""

    built = False

    def __new__(cls):
        Tripwire.built = True  # loaders create instances with cls.__new__
        return super().__new__(cls)


def test_untrusted_type_in_a_file_is_refused_before_anything_is_built():
    pytest.importorskip("skops")
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    from skfusion.persistence import load, untrusted_types

    entry = next(e for e in ENTRIES if e.task == "classification")
    estimator, _ = _fitted(entry)
    estimator.smuggled_ = Tripwire()
    data = skops.io.dumps(estimator)
    name = f"{Tripwire.__module__}.Tripwire"
    assert untrusted_types(data) == [name]
    Tripwire.built = False
    with pytest.raises(UntrustedTypesFoundException, match="Tripwire"):
        load(io.BytesIO(data))
    assert not Tripwire.built
    # the user may trust it explicitly, after review
    restored = load(io.BytesIO(data), trusted=[name])
    assert isinstance(restored.smuggled_, Tripwire) and Tripwire.built


def test_a_file_that_would_run_a_shell_command_is_refused(tmp_path):
    """A branch wrapping ``os.system``: skops refuses the function; pickle would run it."""
    pytest.importorskip("skops")
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    from skfusion.persistence import load

    entry = next(e for e in ENTRIES if e.task == "classification")
    X, y, modalities = make_data(entry.task)
    evil = make_pipeline(FunctionTransformer(os.system), entry.build(modalities))
    path = tmp_path / "evil.skops"
    skops.io.dump(evil, path)
    system = f"{os.system.__module__}.system"  # posix.system / nt.system
    assert system in skops.io.get_untrusted_types(file=path)
    with pytest.raises(UntrustedTypesFoundException, match="system"):
        load(path)


def test_trusted_must_be_a_list_of_names():
    pytest.importorskip("skops")
    from skfusion.persistence import load

    with pytest.raises(TypeError, match="trusted"):
        load(io.BytesIO(b""), trusted="fractions.Fraction")
    with pytest.raises(TypeError, match="trusted"):
        load(io.BytesIO(b""), trusted=[int])


def test_importing_persistence_imports_neither_skops_nor_torch():
    code = (
        "import sys, skfusion.persistence as p; p.trusted_types(); "
        "print('skops' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
