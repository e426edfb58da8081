"""Early fusion's per-modality settings: ``transformers`` and ``weights``,
checked and resolved to one value per modality.

Their nested parameters (``<modality>__<param>``) come from
:class:`skfusion._utils.composition.NamedEstimatorsComposition`.
"""

from numbers import Real

import numpy as np

from .._utils.composition import by_name_if_labelled, named_items

__all__ = ["inner_transformers", "resolve_transformers", "resolve_weights", "restrict_setting"]

_STRING_TRANSFORMERS = ("passthrough", "drop")


def inner_transformers(transformers):
    """Every transformer object (not string) that a ``transformers`` setting holds."""
    if transformers is None or isinstance(transformers, str):
        return []
    if isinstance(transformers, (dict, list)):
        candidates = [t for _, t in named_items(transformers)]
    else:
        candidates = [transformers]
    return [t for t in candidates if not isinstance(t, str)]


def _check_named(transformers, names, param_names):
    named = named_items(transformers)
    if isinstance(transformers, list) and not all(
        isinstance(item, (tuple, list)) and len(item) == 2 for item in transformers
    ):
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
    """``{modality: float >= 0}`` from None, a dict (or Series) by name, or one value per
    modality."""
    weights = by_name_if_labelled(weights)
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


def restrict_setting(setting, kept, positions):
    """A per-modality setting (``weights``, ``transformers``) restricted to ``kept`` modalities.

    A dict or a list of ``(modality, value)`` pairs keeps the named modalities
    in ``kept``; an array-like of one value per modality keeps the values at
    ``positions`` (those of ``kept`` among the estimator's modalities); one
    value for every modality (None, a string, an estimator) stays as it is.
    """
    setting = by_name_if_labelled(setting)
    if isinstance(setting, dict):
        return {name: value for name, value in setting.items() if name in kept}
    if isinstance(setting, list) and named_items(setting):
        return [item for item in setting if item[0] in kept]
    if setting is None or isinstance(setting, str) or hasattr(setting, "fit"):
        return setting
    values = np.asarray(setting, dtype=object).ravel().tolist() if np.ndim(setting) else setting
    if not isinstance(values, list) or len(values) <= max(positions, default=-1):
        return setting  # malformed; fit says so
    return [values[i] for i in positions]
