"""The modality protocol: what the tools ask a fusion estimator about its
modalities, so that no tool looks at an estimator's class.

A fusion estimator (one with a ``modalities`` parameter) answers two questions
through :class:`ModalityProtocolMixin`:

- ``_restricted_to_modalities(modalities)``: an unfitted copy of itself that
  reads only ``modalities`` (a specification over the columns it will then
  receive), with its per-modality settings (weights, transformers, branches)
  restricted to them. It raises :class:`ModalitySubsetError` when it cannot
  work with only those (an alignment needs two modalities; no branch reads
  them).
- ``_predicts_with_masked_modalities()``: whether, once fitted, it predicts for
  rows where some modalities are missing (all NaN) as it was built to, so that
  a modality's contribution can be measured by masking it instead of
  refitting.

The tools call :func:`restrict_to_modalities` and
:func:`predicts_with_masked_modalities`, which also reach fusion estimators
nested in other estimators (a Pipeline's steps, a late-fusion branch) through
``get_params``. :func:`with_modalities` hands a whole specification to an
estimator the same way (what the table encoders of floor 3 produce).
"""

from sklearn.base import clone

from .._modalities import check_modality_names

__all__ = [
    "ModalityProtocolMixin",
    "ModalitySubsetError",
    "estimators_in",
    "predicts_with_masked_modalities",
    "restrict_to_modalities",
    "with_modalities",
]


class ModalitySubsetError(ValueError):
    """An estimator cannot be restricted to the requested modalities.

    The message says why; the tools then score the subset with the
    uninformed model (the class prior or the mean), which is what the
    estimator predicts from those modalities: nothing.
    """


class ModalityProtocolMixin:
    """Default answers of the modality protocol for an estimator with ``modalities``.

    An estimator overrides :meth:`_per_modality_params` when it has settings
    per modality, :meth:`_check_restriction` when it needs more than one
    modality, and :meth:`_predicts_with_masked_modalities` when it handles
    missing modalities.
    """

    def _restricted_to_modalities(self, modalities):
        """An unfitted copy reading only ``modalities`` ({name: columns of its new input})."""
        if self.modalities is None:  # one modality: every column it receives
            return clone(self)
        own = list(check_modality_names(self.modalities))
        unknown = [name for name in modalities if name not in own]
        if unknown:
            raise ValueError(
                f"Cannot restrict {type(self).__name__} to modality {unknown[0]!r}: its "
                f"modalities are {own}. Pass the same modality names to the tool."
            )
        kept = [name for name in own if name in modalities]  # in the estimator's order
        self._check_restriction(kept)
        restricted = clone(self)
        restricted.set_params(
            modalities={name: modalities[name] for name in kept},
            **self._per_modality_params(kept, modalities),
        )
        return restricted

    def _check_restriction(self, kept):
        """Raise :class:`ModalitySubsetError` when the estimator cannot use only ``kept``."""

    def _per_modality_params(self, kept, modalities):
        """Parameter updates restricting per-modality settings to ``kept`` (names, in order).

        ``modalities`` is the new specification, for settings that hold
        column positions (a branch's own fusion estimator).
        """
        return {}

    def _predicts_with_masked_modalities(self):
        return False

    def _own_modality_names(self):
        return list(check_modality_names(self.modalities))

    def _kept_positions(self, kept):
        """Positions of ``kept`` among the estimator's own modalities (for per-modality lists)."""
        own = self._own_modality_names()
        return [own.index(name) for name in kept]


def restrict_to_modalities(estimator, modalities):
    """An unfitted clone of ``estimator`` for the columns of ``modalities`` only.

    Parameters
    ----------
    estimator : estimator object
        A fusion estimator (it answers itself; an estimator of another library
        with a ``modalities`` parameter gets that parameter restricted), or
        any estimator whose parameters may hold fusion estimators (a
        Pipeline's steps, a search's estimator), which are restricted in
        turn; others are cloned as they are.
    modalities : dict of str to list of int
        The kept modalities, as column positions in the input the estimator
        will receive (only their columns).

    Raises
    ------
    ModalitySubsetError
        When a fusion estimator inside cannot work with only these modalities.
    """
    if hasattr(estimator, "_restricted_to_modalities"):
        return estimator._restricted_to_modalities(modalities)
    if _modalities_param(estimator) is not None:
        # skfusion's convention without the protocol (another library's fusion
        # estimator): only its specification can be restricted.
        return clone(estimator).set_params(modalities=dict(modalities))
    restricted = clone(estimator)
    params = restricted.get_params(deep=False)
    updates = {}
    for key, value in params.items():
        new = _restrict_nested(value, modalities)
        if new is not value:
            updates[key] = new
    if updates and "estimator" in params:
        # a search: its candidates may set per-modality settings of the estimator too
        for key in ("param_grid", "param_distributions"):
            if key in params:
                updates[key] = _restricted_candidates(params["estimator"], params[key], modalities)
    return restricted.set_params(**updates) if updates else restricted


def _restricted_candidates(estimator, grid, modalities):
    """A search's grid with each candidate value restricted as the estimator restricts it.

    A candidate ``featurefusion__weights={"a": 2, "b": 1}`` is set on the whole
    estimator, which is restricted through its own protocol; the value read back
    at the same key is the candidate for the subset (``{"a": 2}``). A
    distribution to sample from stays as it is.
    """
    if isinstance(grid, (list, tuple)):
        return [_restricted_candidates(estimator, item, modalities) for item in grid]
    restricted = {}
    for key, candidates in grid.items():
        if not isinstance(candidates, (list, tuple)):
            restricted[key] = candidates
            continue
        restricted[key] = [
            restrict_to_modalities(clone(estimator).set_params(**{key: value}), modalities)
            .get_params()[key]
            for value in candidates
        ]
    return restricted


def _restrict_nested(value, modalities):
    """``value`` with the fusion estimators it holds restricted; ``value`` itself if none."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return restrict_to_modalities(value, modalities) if _holds_fusion(value) else value
    if isinstance(value, (list, tuple)):
        items = [_restrict_nested(item, modalities) for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return type(value)(items)
    return value


def _modalities_param(estimator):
    return estimator.get_params(deep=False).get("modalities")


def _holds_fusion(estimator):
    """Whether a fusion estimator is ``estimator`` or nested anywhere in its parameters."""
    if hasattr(estimator, "_restricted_to_modalities") or _modalities_param(estimator) is not None:
        return True
    return any(
        _holds_fusion(item)
        for value in estimator.get_params(deep=False).values()
        for item in estimators_in(value)
    )


def estimators_in(value):
    """The estimators in a parameter value: itself, or those in a (nested) list or tuple."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from estimators_in(item)


def with_modalities(estimator, modalities):
    """An unfitted clone of ``estimator`` whose fusion estimators read ``modalities``.

    Every estimator with a ``modalities`` parameter gets it set: ``estimator``
    itself, or the estimators nested in its parameters (a Pipeline's steps, a
    search's estimator, a list of them), found through ``get_params``; the
    search stops at an estimator that has the parameter (its branches read
    its modalities through it). No class is looked at.

    Parameters
    ----------
    estimator : estimator object
        Any estimator; one without fusion estimators comes back as a clone.
    modalities : dict of str to list
        The specification to set (each estimator gets its own copy).

    Returns
    -------
    estimator : estimator object
        The configured clone.
    """
    configured = clone(estimator)
    _set_modalities(configured, modalities)
    return configured


def _set_modalities(estimator, modalities):
    params = estimator.get_params(deep=False)
    if "modalities" in params:
        estimator.set_params(modalities={name: list(columns) for name, columns in modalities.items()})
        return
    for value in params.values():
        for nested in estimators_in(value):
            _set_modalities(nested, modalities)


def predicts_with_masked_modalities(estimator):
    """Whether the fitted ``estimator`` answers for rows with modalities masked (all NaN).

    Only a fusion estimator can say so for itself; for any other estimator
    (a Pipeline whose first step may impute NaN, say) the answer is False.
    """
    answer = getattr(estimator, "_predicts_with_masked_modalities", None)
    return bool(answer()) if answer is not None else False
