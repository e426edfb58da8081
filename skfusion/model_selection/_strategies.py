"""The built-in strategies of :func:`~skfusion.model_selection.compare_fusion`."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .._modalities import branch_modalities
from ..early import FeatureFusion
from ..late import StackingLateFusion, WeightedVoteFusion

__all__ = ["STRATEGY_NAMES", "resolve_strategies", "torch_available"]

#: Names of the built-in strategies, in the order ``"default"`` runs them.
#: ``"single"`` expands to one ``"single:<modality>"`` strategy per modality.
STRATEGY_NAMES = ("single", "early", "stacking", "vote", "intermediate", "hybrid")

# Settings of the built-in strategies, measured so that `python -m skfusion`
# (load_mfeat, 2,000 rows x 649 columns, 5 folds) stays quick on one core:
# lbfgs fits take tens of milliseconds, so the late-fusion estimators keep
# their 5 inner folds. The network runs with its own defaults (early stopping
# on a held-out split), the model a user gets from IntermediateFusionClassifier().
INNER_CV = 5
_MAX_ITER = 300


def _linear_model(task):
    """The linear model every built-in strategy ends with."""
    if task == "classification":
        # lbfgs on standardised features converges in a few dozen iterations.
        return LogisticRegression(max_iter=_MAX_ITER)

    return Ridge()


def _branch_model(task, scale):
    """One modality's branch: StandardScaler (``scale``) + the linear model.

    An encoded table's blocks are already scaled for a linear model (skrub's
    SquashingScaler) or are TF-IDF rows, which standardising would spoil (rare
    n-grams blown up) and cannot be centred (sparse): ``scale=False`` there.
    """
    if scale:
        return make_pipeline(StandardScaler(), _linear_model(task))
    return _linear_model(task)


def _early_fusion(spec, task, scale, block_scaling="variance"):
    """FeatureFusion (columns standardised when ``scale``, blocks scaled to unit variance)
    + a linear model."""
    # missing="zero": a modality missing in a row contributes nothing there, so
    # early fusion and the single-modality baselines run on incomplete data too.
    fusion = FeatureFusion(
        modalities=spec,
        standardize=scale,
        block_scaling=block_scaling,
        missing="zero",
    )
    return Pipeline([("fusion", fusion), ("model", _linear_model(task))])


def _intermediate(spec, task, random_state):
    """The fusion network: one encoder per modality, concatenated, then a head."""
    from ..nn import IntermediateFusionClassifier, IntermediateFusionRegressor

    net = IntermediateFusionClassifier if task == "classification" else IntermediateFusionRegressor
    # The network's defaults (it standardises its input itself), so that the
    # comparison shows the model a user gets; its seed is the comparison's, else
    # the network's own fixed default (results are reproducible).
    params = {} if random_state is None else {"random_state": random_state}
    return net(modalities=spec, **params)


def torch_available():
    """Whether the intermediate network can run: torch and skorch import (not only exist)."""
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _builtin_strategy(name, spec, task, random_state, scale):
    """``[(label, kind, estimator)]`` for one built-in strategy name."""
    if name == "single":
        return [
            entry
            for modality in spec
            for entry in _builtin_strategy(f"single:{modality}", spec, task, random_state, scale)
        ]
    if name.startswith("single:"):
        modality = name[len("single:") :]
        if modality not in spec:
            raise ValueError(
                f"Strategy {name!r} names an unknown modality {modality!r}; "
                f"the modalities are {list(spec)}."
            )
        # StandardScaler + the linear model on the modality's columns, as a one-branch
        # vote: exactly the branch that stacking, the vote and the hybrid refit, so a
        # comparison fits it once; rows without the modality get the prior.
        branch = _free_name(modality, set(WeightedVoteFusion(None).get_params(deep=False)))
        single = WeightedVoteFusion(
            [(branch, _branch_model(task, scale), [modality])], modalities=spec, weights=None
        )
        return [(name, "single", single)]
    if name == "early":
        return [(name, "early", _early_fusion(spec, task, scale))]
    if name == "stacking":
        est = StackingLateFusion(
            _branch_model(task, scale), modalities=spec, cv=INNER_CV
        )
        return [(name, "late", est)]
    if name == "vote":
        est = WeightedVoteFusion(
            _branch_model(task, scale), modalities=spec, weights="learn", cv=INNER_CV
        )
        return [(name, "late", est)]
    if name == "intermediate":
        return [(name, "intermediate", _intermediate(spec, task, random_state))]
    if name == "hybrid":
        names = list(spec)
        # a branch per modality, named after it unless that name is taken (by a
        # parameter of StackingLateFusion, say a modality named "cv")
        taken = set(StackingLateFusion(None).get_params(deep=False))
        branches = []
        for modality in names:
            branch = _free_name(modality, taken)
            taken.add(branch)
            branches.append((branch, _branch_model(task, scale), [modality]))
        fused = _free_name("fused", taken | set(names))
        branches.append((fused, _early_fusion(branch_modalities(spec, names), task, scale), names))
        hybrid = StackingLateFusion(branches, modalities=spec, cv=INNER_CV)
        return [(name, "hybrid", hybrid)]
    raise ValueError(
        f"Unknown strategy {name!r}; the built-in strategies are "
        f"{', '.join(STRATEGY_NAMES)} and single:<modality>."
    )


def _free_name(name, taken):
    """``name``, or ``name`` with underscores in front until no name in ``taken`` is the same."""
    while name in taken:
        name = "_" + name
    return name


def _default_names():
    """The built-in strategies that can run here, and those skipped with the reason."""
    if torch_available():
        return list(STRATEGY_NAMES), {}
    names = [name for name in STRATEGY_NAMES if name != "intermediate"]
    reason = 'torch and skorch are not installed (pip install "skfusion[torch]")'
    return names, {"intermediate": reason}


def resolve_strategies(strategies, spec, task, random_state, *, scale=True):
    """Turn the ``strategies`` argument into ``[(label, kind, estimator)]``, and the
    default strategies that cannot run here into ``{name: reason}``."""
    skipped = {}
    if isinstance(strategies, str):
        if strategies == "default":
            strategies, skipped = _default_names()
        else:
            strategies = [strategies]
    if isinstance(strategies, dict):
        strategies = list(strategies.items())
    if not isinstance(strategies, (list, tuple)) or not strategies:
        raise TypeError(
            "`strategies` must be 'default', a non-empty list of strategy names and "
            f"(label, estimator) pairs, or a dict {{label: estimator}}; got {strategies!r}."
        )
    resolved = []
    for item in strategies:
        if isinstance(item, str):
            resolved.extend(_builtin_strategy(item, spec, task, random_state, scale))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            label, estimator = item
            if not hasattr(estimator, "fit"):
                raise TypeError(
                    f"Strategy {label!r} must be an estimator with `fit`; got {estimator!r}."
                )
            resolved.append((label, "custom", estimator))
        else:
            raise TypeError(
                "Each strategy must be a built-in name or a (label, estimator) pair; "
                f"got {item!r}."
            )
    labels = [label for label, _, _ in resolved]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise ValueError(f"Strategy labels must be unique; {duplicated} appear more than once.")
    return resolved, skipped


