"""IntermediateFusionClassifier's constructor is the regressor's plus ``class_weight``
(spelled out again, as scikit-learn reads parameters from the signature: the two must agree)."""

import inspect

import pytest
from sklearn.base import clone

from skfusion.nn import IntermediateFusionClassifier, IntermediateFusionRegressor


def test_classifier_parameters_are_the_regressors_and_class_weight():
    classifier = inspect.signature(IntermediateFusionClassifier).parameters
    regressor = inspect.signature(IntermediateFusionRegressor).parameters
    assert list(classifier) == [*regressor, "class_weight"]
    assert all(classifier[name].default == regressor[name].default for name in regressor)
    assert classifier["class_weight"].default is None
    assert set(IntermediateFusionClassifier().get_params()) == {
        *IntermediateFusionRegressor().get_params(), "class_weight"
    }


def test_classifier_constructor_sets_every_parameter_and_refuses_unknown_ones():
    clf = IntermediateFusionClassifier({"a": [0]}, fusion="sum", lr=0.01, class_weight="balanced")
    assert (clf.modalities, clf.fusion, clf.lr, clf.class_weight) == ({"a": [0]}, "sum", 0.01, "balanced")
    assert clone(clf).get_params() == clf.get_params()
    with pytest.raises(TypeError, match="unexpected keyword argument 'fusoin'"):
        IntermediateFusionClassifier(fusoin="sum")
