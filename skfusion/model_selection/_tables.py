"""compare_fusion on a raw table: the built-in strategies behind a TableEncoder.

When the modalities hold columns a numeric matrix cannot (text, categories,
datetimes) or are ``"auto"``, every built-in strategy is wrapped in a
:class:`~skfusion.tables.TableFusion` following one :class:`~skfusion.tables.ModalityPlan`:
each fold's training rows fit the encoder (TF-IDF vocabulary, categories,
scalers: nothing is learnt from the test rows), and the strategy then sees
one numeric block per modality, as on a numeric table.
"""

import numpy as np

from .._modalities import resolve_modalities
from ._strategies import resolve_strategies

__all__ = ["raw_table", "RawTable"]


def raw_table(X, modalities):
    """A :class:`RawTable` when ``X`` needs encoding for ``modalities``, else None."""
    if isinstance(modalities, str):
        if modalities != "auto":
            raise ValueError(
                f"`modalities` must be a dict, a ModalityPlan or 'auto'; got {modalities!r}."
            )
        return RawTable(X, modalities)
    if not hasattr(X, "dtypes"):  # an array: numeric, validated as such
        return None
    tables = _tables()
    if isinstance(modalities, tables.ModalityPlan):
        return RawTable(X, modalities)
    spec = resolve_modalities(modalities, X)
    used = np.unique(np.concatenate(list(spec.values())))
    if all(X.dtypes.iloc[int(i)].kind in "biuf" for i in used):
        return None
    return RawTable(X, modalities)


def _tables():
    try:
        from .. import tables
    except ImportError as exc:
        raise ImportError(
            "This table has columns that need encoding (text, categories, datetimes); "
            'that needs the "tables" extra: pip install "skfusion[tables]".'
        ) from exc
    return tables


class RawTable:
    """A raw table's modality plan, and the built-in strategies behind its encoder."""

    def __init__(self, X, modalities):
        tables = _tables()
        if isinstance(modalities, tables.ModalityPlan):
            self.plan = modalities
        elif isinstance(modalities, str):  # "auto"
            self.plan = tables.infer_modalities(X)
        else:  # a dict over the raw columns: those modalities, nothing else
            named = {name for columns in _column_names(X, modalities).values() for name in columns}
            self.plan = tables.infer_modalities(
                X, groups=modalities, exclude=[c for c in X.columns if c not in named]
            )
        self._tables = tables

    def strategies(self, strategies, task, random_state):
        """Like :func:`resolve_strategies`, the built-in ones wrapped in a TableFusion."""
        names = list(self.plan.modalities)
        # positions of the encoded blocks are known once the encoder is fitted (a
        # TF-IDF vocabulary's width); TableFusion sets the real ones at fit
        placeholder = {name: [i] for i, name in enumerate(names)}
        text = [name for name, kind in self.plan.kinds.items() if kind == "text"]
        skipped = {}
        if text and strategies == "default":
            strategies = [name for name in _default_names() if name != "intermediate"]
            skipped["intermediate"] = (
                f"the text modality {text[0]!r} is sparse TF-IDF, which the network would "
                "densify; compare it on sentence embeddings with your own TableFusion"
            )
        if text and _asks_for(strategies, "intermediate"):
            raise ValueError(
                f"The network needs dense input and the text modality {text[0]!r} is sparse "
                "TF-IDF: leave 'intermediate' out, or compare a TableFusion with "
                "text_representation='embedding' as your own strategy."
            )
        entries, more_skipped = resolve_strategies(
            strategies, placeholder, task, random_state, scale=False
        )
        wrapped = [
            (label, kind, estimator if kind == "custom" else self._wrap(estimator))
            for label, kind, estimator in entries
        ]
        return wrapped, {**skipped, **more_skipped}

    def _wrap(self, estimator):
        return self._tables.TableFusion(estimator, modalities=self.plan)


def _default_names():
    from ._strategies import STRATEGY_NAMES

    return list(STRATEGY_NAMES)


def _asks_for(strategies, name):
    if isinstance(strategies, str):
        return strategies == name
    if isinstance(strategies, dict):
        return False
    return any(isinstance(item, str) and item == name for item in strategies)


def _column_names(X, modalities):
    """``{modality: [column names]}`` of a specification over ``X``'s columns."""
    spec = resolve_modalities(modalities, X)
    return {name: [X.columns[int(i)] for i in columns] for name, columns in spec.items()}
