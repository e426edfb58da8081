"""Nested parameters for named sub-estimators: one mechanism for every fusion
estimator, built on scikit-learn's ``_BaseComposition``.

scikit-learn's ``_BaseComposition`` gives ``<name>`` and ``<name>__<param>``
(settable with ``set_params``, hence searchable by GridSearchCV) for a
parameter holding a list of ``(name, estimator)`` pairs. skfusion's
estimators hold their named sub-estimators in richer forms: late fusion's
``estimators`` may have ``(name, estimator, [modality, ...])`` triples, and
early fusion's ``transformers`` may be a dict ``{modality: transformer}``.
:class:`NamedEstimatorsComposition` shows ``_BaseComposition`` those as
``(name, estimator)`` pairs (as ColumnTransformer does with its triples) and
writes replacements back in the user's form.
"""

from sklearn.utils.metaestimators import _BaseComposition

__all__ = ["NamedEstimatorsComposition", "by_name_if_labelled", "named_items"]


def by_name_if_labelled(value):
    """A pandas Series indexed by names (``{"text": 2.0, ...}`` as a Series) as a dict.

    A per-modality or per-branch setting given so means its labels, not its order:
    read as an array it was applied by position, silently to the wrong modality.
    Anything else (a Series with a numeric index included) comes back as it is.
    """
    index = getattr(value, "index", None)
    if hasattr(value, "to_dict") and index is not None and getattr(value, "ndim", 0) == 1:
        if len(index) and all(isinstance(label, str) for label in index):
            return value.to_dict()
    return value


def named_items(value):
    """``(name, estimator)`` pairs of a dict, or of a list of 2- or 3-tuples; [] otherwise."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list) and all(
        isinstance(item, (tuple, list)) and len(item) in (2, 3) for item in value
    ):
        return [(item[0], item[1]) for item in value]
    return []


class NamedEstimatorsComposition(_BaseComposition):
    """``<name>`` and ``<name>__<param>`` for the named estimators of one parameter.

    Subclasses set ``_named_estimators_param`` to the name of that parameter
    (``"estimators"``, ``"transformers"``). When the parameter holds a single
    estimator (cloned per modality), its parameters are the usual
    ``<parameter>__<param>`` of scikit-learn.
    """

    _named_estimators_param = None

    @property
    def _named_estimators(self):
        return named_items(getattr(self, self._named_estimators_param))

    @_named_estimators.setter
    def _named_estimators(self, pairs):
        # _BaseComposition replaces one estimator by writing back (name, estimator)
        # pairs; keep the user's form (dict, list, extra tuple elements).
        replacement = dict(pairs)
        current = getattr(self, self._named_estimators_param)
        if isinstance(current, dict):
            updated = {name: replacement.get(name, value) for name, value in current.items()}
        else:
            updated = [
                type(item)((item[0], replacement.get(item[0], item[1]), *item[2:]))
                for item in current
            ]
        setattr(self, self._named_estimators_param, updated)

    def get_params(self, deep=True):
        """Get parameters, including each named sub-estimator and its parameters.

        Parameters
        ----------
        deep : bool, default=True
            Also return each named sub-estimator (as ``<name>``) and its
            parameters (as ``<name>__<param>``).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("_named_estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including a named sub-estimator or its parameters.

        Parameters
        ----------
        **params : dict
            Constructor parameters; ``<name>`` to replace a named
            sub-estimator (the user's list or dict is not edited: a new one
            is stored); ``<name>__<param>`` to set one of its parameters.

        Returns
        -------
        self : estimator
            This estimator.
        """
        # The whole collection first, so that `<name>` replaces an entry of the new one.
        if self._named_estimators_param in params:
            setattr(self, self._named_estimators_param, params.pop(self._named_estimators_param))
        return self._set_params("_named_estimators", **params)
