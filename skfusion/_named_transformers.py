"""Per-modality transformers addressed by modality name, as nested parameters.

:class:`NamedTransformersMixin` makes ``<modality>__<param>`` (and
``<modality>`` itself) settable through ``set_params``, hence searchable by
GridSearchCV, for a ``transformers`` parameter given as a dict or as a list of
``(modality, transformer)`` pairs. scikit-learn's ``_BaseComposition`` does the
same for lists of pairs only.
"""

from numbers import Real

import numpy as np

__all__ = ["NamedTransformersMixin", "resolve_transformers", "resolve_weights"]

_STRING_TRANSFORMERS = ("passthrough", "drop")


def named_transformers(transformers):
    """``(modality, transformer)`` pairs of a dict or list of pairs; [] otherwise."""
    if isinstance(transformers, dict):
        return list(transformers.items())
    if isinstance(transformers, list) and all(
        isinstance(item, tuple) and len(item) == 2 for item in transformers
    ):
        return list(transformers)
    return []


class NamedTransformersMixin:
    """Nested parameters for the named transformers of ``self.transformers``."""

    def get_params(self, deep=True):
        """Get parameters, including ``<modality>__<param>`` of named transformers.

        Parameters
        ----------
        deep : bool, default=True
            Also return each named per-modality transformer (as ``<modality>``)
            and its parameters (as ``<modality>__<param>``).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            for name, transformer in named_transformers(self.transformers):
                params[name] = transformer
                if hasattr(transformer, "get_params"):
                    for key, value in transformer.get_params(deep=True).items():
                        params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters, including a named transformer or its parameters.

        Parameters
        ----------
        **params : dict
            ``transformers``; ``<modality>`` to replace that modality's
            transformer (the user's dict or list is not edited: a new one is
            stored); ``<modality>__<param>``; or any other parameter.

        Returns
        -------
        self : estimator
            This estimator.
        """
        if "transformers" in params:
            self.transformers = params.pop("transformers")
        named = dict(named_transformers(self.transformers))
        replaced = {key: params.pop(key) for key in list(params) if key in named}
        if replaced:
            named.update(replaced)
            self.transformers = (
                named if isinstance(self.transformers, dict) else list(named.items())
            )
        return super().set_params(**params)

    def _inner_transformers(self):
        """Every transformer object (not string) that ``transformers`` holds."""
        transformers = self.transformers
        if transformers is None or isinstance(transformers, str):
            return []
        if isinstance(transformers, (dict, list)):
            candidates = [t for _, t in named_transformers(transformers)]
        else:
            candidates = [transformers]
        return [t for t in candidates if not isinstance(t, str)]


def _check_named(transformers, names, param_names):
    named = named_transformers(transformers)
    if isinstance(transformers, list) and len(named) != len(transformers):
        raise TypeError(
            "`transformers` as a list must hold (modality, transformer) pairs; "
            f"got {transformers!r}."
        )
    keys = [key for key, _ in named]
    if len(set(keys)) != len(keys):
        raise ValueError(f"`transformers` names a modality more than once: {keys}.")
    clashes = sorted(set(keys) & set(param_names))
    if clashes:
        # `<name>` would be both a parameter and a transformer in get_params.
        raise ValueError(
            f"Modality name(s) {clashes} in `transformers` clash with parameter names; "
            "rename the modalities."
        )
    for key, transformer in named:
        if key not in names:
            raise ValueError(
                f"`transformers` names an unknown modality {key!r}; the modalities are {names}."
            )
        if isinstance(transformer, str) and transformer not in _STRING_TRANSFORMERS:
            raise ValueError(
                f"Transformer of modality {key!r} must be an estimator, 'passthrough' or "
                f"'drop'; got {transformer!r}."
            )
        if not isinstance(transformer, str) and not (
            hasattr(transformer, "fit") and hasattr(transformer, "transform")
        ):
            raise TypeError(
                f"Transformer of modality {key!r} must implement fit and transform; "
                f"got {type(transformer).__name__}."
            )
    return named


def resolve_transformers(transformers, names, param_names):
    """``{modality: transformer, "passthrough" or "drop"}`` for every modality.

    ``transformers`` is None, "passthrough", one estimator (for every
    modality; the caller clones it), or a dict / list of pairs by name
    (modalities left out pass through).
    """
    if transformers is None or isinstance(transformers, str):
        return dict.fromkeys(names, "passthrough")
    if not isinstance(transformers, (dict, list)):
        return dict.fromkeys(names, transformers)
    resolved = dict.fromkeys(names, "passthrough")
    resolved.update(_check_named(transformers, names, param_names))
    return resolved


def resolve_weights(weights, names):
    """``{modality: float >= 0}`` from None, a dict by name, or one value per modality."""
    if weights is None:
        resolved = dict.fromkeys(names, 1.0)
    elif isinstance(weights, dict):
        unknown = [key for key in weights if key not in names]
        if unknown:
            raise ValueError(
                f"`weights` names an unknown modality {unknown[0]!r}; the modalities "
                f"are {names}."
            )
        resolved = {name: weights.get(name, 1.0) for name in names}
    else:
        values = np.asarray(weights)
        if values.ndim != 1 or values.shape[0] != len(names):
            raise ValueError(
                f"`weights` must hold one value per modality ({len(names)}: {names}); "
                f"got shape {values.shape}."
            )
        resolved = dict(zip(names, values.tolist()))
    for name, value in resolved.items():
        if not isinstance(value, (Real, np.number)) or not np.isfinite(value) or value < 0:
            raise ValueError(
                f"Weight of modality {name!r} must be a finite number >= 0; got {value!r}."
            )
    return {name: float(value) for name, value in resolved.items()}
