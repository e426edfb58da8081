"""A parameter changed with ``set_params`` after fit never mixes with state fitted for
its old value: for every estimator of the catalogue and every parameter with another
valid value, predict time gives the fitted output, or refuses the change naming the
parameter, or (a documented few) applies a parameter that is read at predict time.

Uninitialised memory came out of FeatureFusion once add_indicator was switched on
after fit, and shape errors from deep inside the others."""

from numbers import Integral

import numpy as np
import pytest
import scipy.sparse as sp
from _fusion_catalogue import ENTRIES, fit, make_data, output
from sklearn.utils._param_validation import Interval, StrOptions

# Parameters documented as read at predict/transform time (they change the output
# on purpose, without a refit).
READ_AT_PREDICT_TIME = {
    "WeightedVoteFusion": {"voting"},
    "MultiviewCCA": {"output"},
}


def _other_values(estimator, name, value):
    """Up to three other values the parameter's constraints accept."""
    others = []
    for constraint in type(estimator)._parameter_constraints.get(name, []):
        if isinstance(constraint, StrOptions):
            others += sorted(option for option in constraint.options if option != value)
        elif constraint == "boolean" and isinstance(value, bool):
            others.append(not value)
        elif isinstance(constraint, Interval) and not isinstance(value, bool):
            if constraint.type is Integral and isinstance(value, int):
                others.append(value + 1)
            elif isinstance(value, float):
                others.append(value * 2 if value else 0.5)
    return others[:3]


def _dense(values):
    return values.toarray() if sp.issparse(values) else np.asarray(values, dtype=float)


FAST = [entry for entry in ENTRIES if not entry.slow]


@pytest.mark.parametrize("entry", FAST, ids=lambda e: e.id)
def test_a_parameter_changed_after_fit_is_refused_or_harmless(entry):
    X, y, modalities = make_data("classification" if entry.task == "transform" else entry.task)
    model = fit(entry.build(modalities), X, y, entry.task)
    fitted_output = _dense(output(model, X, entry.task))
    allowed = READ_AT_PREDICT_TIME.get(type(model).__name__, set())
    fixed = set(getattr(type(model), "_params_fixed_at_fit", ()))
    for name, value in model.get_params(deep=False).items():
        if name in allowed:
            continue
        for other in _other_values(model, name, value):
            model.set_params(**{name: other})
            if name in fixed:
                with pytest.raises(ValueError, match=rf"fitted with {name}=.*Fit it again"):
                    output(model, X, entry.task)
                if hasattr(model, "get_feature_names_out"):
                    with pytest.raises(ValueError, match=rf"fitted with {name}="):
                        model.get_feature_names_out()
            else:
                np.testing.assert_allclose(
                    _dense(output(model, X, entry.task)), fitted_output, rtol=1e-12, atol=1e-12,
                    err_msg=f"{name}={other!r} set after fit changed the output",
                )
            model.set_params(**{name: value})
        # set back, the fitted model answers as before
        np.testing.assert_allclose(_dense(output(model, X, entry.task)), fitted_output)


def test_a_refit_takes_the_new_value():
    from skfusion import FeatureFusion

    X, _, modalities = make_data("classification")
    fusion = FeatureFusion(modalities).fit(X)
    fusion.set_params(add_indicator=True)
    assert fusion.fit(X).transform(X).shape[1] == len(fusion.get_feature_names_out())
    assert list(fusion.get_feature_names_out()[-2:]) == ["presence__a", "presence__b"]
