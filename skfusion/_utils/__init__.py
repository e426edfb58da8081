"""Helpers that several of skfusion's packages share (floor 1, beside
:mod:`skfusion._modalities` and :mod:`skfusion._fit_context`).

- :mod:`.composition`: nested parameters ``<name>__<param>`` for named
  sub-estimators, on scikit-learn's ``_BaseComposition``;
- :mod:`.modality_protocol`: what the tools ask a fusion estimator about its
  modalities (restrict to a subset, predict with some masked);
- :mod:`.splits`: cross-validation splits made once and checked;
- :mod:`.text_table`: the plain-text tables the result objects print;
- :mod:`.devices`: the one rule for a `device` parameter (torch imported inside);
- :mod:`.docstrings`: docstring sections several estimators share (``fill_doc``);
- :mod:`.modal_transformers`: the input and output names of the transformers
  over several modalities;
- :mod:`.plotting`: the axes a display draws on (matplotlib imported inside);
- :mod:`.optional`, :mod:`.code`: optional imports; estimators as Python code.

Nothing here imports a strategy or a tool.
"""
