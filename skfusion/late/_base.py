"""What both late-fusion estimators share: the ``estimators`` parameter
(nested parameters, ``"drop"``), an estimator type that follows the branches,
input and target validation, and the fit/predict plumbing around
:mod:`skfusion.late._branches`.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.base import MetaEstimatorMixin, TransformerMixin, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods
from sklearn.utils._tags import ClassifierTags, RegressorTags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._modalities import (
    branch_modalities,
    check_modality_names,
    fill_modality_nan_cells,
    modality_nan_cell_means,
    presence_mask,
    validate_modal_data,
)
from .._utils.composition import NamedEstimatorsComposition
from .._utils.modality_protocol import (
    ModalityProtocolMixin,
    ModalitySubsetError,
    restrict_to_modalities,
)
from .._utils.splits import make_splits
from .._warnings import predict_present_rows
from ._branches import (
    DROP,
    branch_presence,
    branch_task,
    branches_accept_sparse,
    check_estimators_spec,
    fit_branches,
    is_dropped,
    iter_branch_specs,
    parse_branches,
    predict_branches,
    prefit_branches,
)


@dataclass
class _FitData:
    """The validated training data, as every branch and the combiner need it."""

    X: object  # what branches read (the DataFrame itself, or the validated array)
    X_valid: object  # validated array (presence, passthrough)
    y: np.ndarray  # targets as the branches see them (original labels)
    y_encoded: np.ndarray  # class indices (classification) or y (regression)
    sample_weight: object
    presence: np.ndarray  # (n_samples, n_branches), active branches only
    branch_params: list  # fit params per active branch
    final_params: dict  # fit params of a final estimator
    split_params: dict  # e.g. groups, for the CV splitter (metadata routing only)
    task: str


class _BaseLateFusion(
    ModalityProtocolMixin, TransformerMixin, MetaEstimatorMixin, NamedEstimatorsComposition
):
    """Base class of the late-fusion estimators. Not for direct use."""

    _named_estimators_param = "estimators"
    # fit uses sample_weight itself (the class prior or target mean, the final
    # estimator, the vote's loss), as a scikit-learn ensemble does without being
    # asked: requested by default, so that a search or a pipeline routing it needs no
    # set_fit_request on the fusion itself, only on the branches that should get it
    __metadata_request__fit = {"sample_weight": True}
    _parameter_constraints: dict = {
        "estimators": [list, HasMethods("fit")],
        "modalities": [dict, None],
        "n_jobs": [None, Integral],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------ parameters

    def _modality_names(self):
        return list(check_modality_names(self.modalities))

    def _named_specs(self):
        """(name, estimator) of every branch, from the parameters (before fit)."""
        return [
            (name, estimator)
            for name, estimator, _ in iter_branch_specs(self.estimators, self._modality_names())
        ]

    @property
    def named_estimators(self):
        """Branch estimators (unfitted, or ``"drop"``) by branch name.

        Returns
        -------
        :class:`~sklearn.utils.Bunch`
        """
        return Bunch(**dict(self._named_specs()))

    # ------------------------------------------------------------ modality protocol

    def _per_modality_params(self, kept, modalities):
        """Branches (and the weights given per branch) restricted to the modalities ``kept``.

        A branch over several modalities keeps those in ``kept``, with its own
        fusion estimator restricted to them; a branch left with none is removed.
        """
        if not isinstance(self.estimators, list):  # one estimator cloned per modality
            return self._kept_weights(kept, self._kept_positions(kept))
        estimators, entries = [], []
        for position, item in enumerate(self.estimators):
            name, estimator = item[0], item[1]
            read = [name] if len(item) == 2 else _as_list(item[2])
            branch_kept = [m for m in read if m in kept]
            if not branch_kept:
                continue
            entries.append(position)
            if len(item) == 3 and branch_kept != read and not _is_drop(estimator):
                # The branch now receives only the kept modalities' columns.
                estimator = restrict_to_modalities(
                    estimator, branch_modalities(modalities, branch_kept)
                )
            estimators.append(item if len(item) == 2 else (name, estimator, branch_kept))
        if all(_is_drop(item[1]) for item in estimators):
            raise ModalitySubsetError(
                f"No branch of {type(self).__name__} reads any of the modalities {kept}."
            )
        return {"estimators": estimators, **self._kept_weights([e[0] for e in estimators], entries)}

    def _kept_weights(self, kept_branches, positions):
        """Hook for estimators with per-branch weights (the vote)."""
        return {}

    def _predicts_with_masked_modalities(self):
        # A branch missing one of its modalities is left out of the vote or the
        # stack (masked meta-features): what these estimators were built for.
        return True

    # ------------------------------------------------------------ tags

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A modality missing in a row (all NaN there) is what these estimators handle;
        # a NaN cell is set to its column's training mean before a branch sees it.
        tags.input_tags.allow_nan = True
        try:
            named = [(n, e) for n, e in self._named_specs() if not _is_drop(e)]
            task = branch_task(named, strict=False)
            tags.input_tags.sparse = bool(named) and branches_accept_sparse(named)
        except Exception:  # malformed `estimators`: fit raises the clear error
            task = None
        # The estimator type follows the branches, as Pipeline follows its last step.
        if task == "classifier":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_label=False)
            tags.target_tags.required = True
        elif task == "regressor":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.required = True
        return tags

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Every branch's ``fit`` receives the metadata of ``fit`` (e.g.
        ``sample_weight``), restricted to that branch's rows; the CV splitter
        receives what it requests (e.g. ``groups`` for ``GroupKFold``).

        Returns
        -------
        routing : MetadataRouter
        """
        # sample_weight is also used by the estimator itself (class prior, target
        # mean, the vote's weights): passing it is never "routed to no object".
        router = MetadataRouter(owner=self).add_self_request(self)
        for name, estimator in self._named_specs():
            if not _is_drop(estimator):
                router.add(
                    **{name: estimator},
                    method_mapping=MethodMapping().add(caller="fit", callee="fit"),
                )
        if not (isinstance(self.cv, str) and self.cv == "prefit"):
            router.add(
                splitter=check_cv(self.cv, classifier=is_classifier(self)),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router

    # ------------------------------------------------------------ fit plumbing

    def _validate_fit_data(self, X, y, sample_weight, fit_params):
        """Validate X, y and metadata; set modalities_, classes_ and the priors."""
        if not _routing_enabled():
            # how fit was called, whatever the parameters and data: said first, as in
            # scikit-learn's ensembles
            _raise_for_params(fit_params, self, "fit")
        check_estimators_spec(self.estimators, reserved=self.get_params(deep=False))
        named = [(n, e) for n, e in self._named_specs() if not _is_drop(e)]
        if not named:
            raise ValueError("All branches are 'drop'; at least one must be an estimator.")
        task = branch_task(named)
        X_valid, y = validate_modal_data(
            self,
            X,
            y,
            reset=True,
            dtype=None,
            accept_sparse=["csr", "csc"],
            y_numeric=task == "regressor",
        )
        branches = parse_branches(
            self.estimators, self.modalities_, reserved=self.get_params(deep=False)
        )
        self._all_branches = branches
        self._branches = [b for b in branches if not is_dropped(b)]
        self.branch_modalities_ = {b.name: list(b.modalities) for b in self._branches}
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_valid, ensure_non_negative=True)
        y_encoded = self._encode_target(y, task, sample_weight)
        branch_params, final_params, split_params = self._route_fit_params(
            sample_weight, fit_params
        )
        mask = presence_mask(X_valid, self.modalities_)
        presence = branch_presence(mask, self.modalities_, self._branches)
        X_branch = X if hasattr(X, "iloc") else X_valid
        self.fill_values_ = modality_nan_cell_means(X_branch, self.modalities_, mask)
        X_branch, X_valid = self._fill_nan_cells(X_branch, X_valid, mask)
        return _FitData(
            X_branch,
            X_valid,
            y,
            y_encoded,
            sample_weight,
            presence,
            branch_params,
            final_params,
            split_params,
            task,
        )

    def _fill_nan_cells(self, X_branch, X_valid, mask):
        """What the branches read and the validated array (passed-through columns),
        each with its NaN cells set to ``fill_values_``: the objects themselves when
        there is none, so a branch with no NaN cell gets exactly the data it was given."""
        filled = fill_modality_nan_cells(X_branch, self.modalities_, mask, self.fill_values_)
        if X_branch is X_valid:
            return filled, filled
        return filled, fill_modality_nan_cells(X_valid, self.modalities_, mask, self.fill_values_)

    def _encode_target(self, y, task, sample_weight):
        if task == "regressor":
            y = y.astype(np.float64, copy=False)
            self.target_mean_ = float(np.average(y, weights=sample_weight))
            return y
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets; got "
                f"a {y_type} target."
            )
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.size < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}); classification needs "
                "samples of at least 2 classes (got one class)."
            )
        y_encoded = encoder.transform(y)
        counts = np.bincount(y_encoded, weights=sample_weight, minlength=self.classes_.size)
        self.class_prior_ = counts / counts.sum()
        return y_encoded

    def _route_fit_params(self, sample_weight, fit_params):
        """Per-branch and final-estimator fit parameters, as sklearn's Stacking routes them.

        The final estimator gets ``sample_weight`` whenever ``fit`` does, with or
        without metadata routing and whatever its requests: scikit-learn's stacking
        fits its final estimator with ``fit``'s metadata without asking it, so a
        default final estimator (built inside, where no one can set its requests)
        takes the weights as well.
        """
        names = [b.name for b in self._branches]
        final = {} if sample_weight is None else {"sample_weight": sample_weight}
        if _routing_enabled():
            if sample_weight is not None:
                fit_params = {**fit_params, "sample_weight": sample_weight}
            routed = process_routing(self, "fit", **fit_params)
            # `get`, not `in`: without metadata, process_routing answers an object with
            # `get` and `[]` only, through which `in` would iterate forever
            split = routed.get("splitter", {}).get("split", {})
            return [dict(routed[name]["fit"]) for name in names], final, dict(split)
        return [dict(final) for _ in names], final, {}

    def _fit_branches(self, data, methods, *, out_of_fold, while_refitting=None):
        """Fit (or, for cv='prefit', check) the active branches; set estimators_.

        ``while_refitting(fitted)`` runs as soon as the out-of-fold predictions
        are in (see :func:`fit_branches`).
        """
        classes = getattr(self, "classes_", None) if data.task == "classifier" else None
        if isinstance(self.cv, str) and self.cv == "prefit":
            if not isinstance(self.estimators, list) and len(self._branches) > 1:
                raise ValueError(
                    "cv='prefit' needs one fitted estimator per branch, given as a list "
                    f"of (name, estimator) tuples; got one estimator for "
                    f"{len(self._branches)} modalities."
                )
            fitted = prefit_branches(
                self._branches, data.X, data.presence, methods=methods, classes=classes
            )
            reused_seconds = 0.0
            if while_refitting is not None:
                while_refitting(fitted)
        else:
            splits = None
            if out_of_fold:
                splits = make_splits(
                    self.cv,
                    data.X_valid,
                    data.y_encoded,
                    classifier=data.task == "classifier",
                    partition=True,
                    **data.split_params,
                )
            fitted, reused_seconds = fit_branches(
                self._branches,
                data.X,
                data.y,
                data.presence,
                splits=splits,
                methods=methods,
                classes=classes,
                task=data.task,
                fit_params=data.branch_params,
                n_jobs=self.n_jobs,
                memory=self.memory,
                verbose=self.verbose,
                while_refitting=while_refitting,
            )
        self.estimators_ = [item.estimator for item in fitted]
        # CPU seconds of branch fits loaded from `memory` rather than run: what this
        # fit would have cost alone on top of its own time (compare_fusion reports it)
        self._reused_fit_seconds = reused_seconds
        self.named_estimators_ = Bunch()
        fitted_by_name = {item.branch.name: item.estimator for item in fitted}
        for branch in self._all_branches:
            self.named_estimators_[branch.name] = fitted_by_name.get(branch.name, DROP)
        return fitted

    # ------------------------------------------------------------ predict plumbing

    def _branch_outputs(self, X, methods):
        """Validate X; each branch's outputs on its present rows, and the presence."""
        check_is_fitted(self)
        X_valid = validate_modal_data(
            self, X, reset=False, dtype=None, accept_sparse=["csr", "csc"]
        )
        mask = presence_mask(X_valid, self.modalities_)
        presence = branch_presence(mask, self.modalities_, self._branches)
        X_branch, X_valid = self._fill_nan_cells(
            X if hasattr(X, "iloc") else X_valid, X_valid, mask
        )
        outputs = predict_branches(
            self._branches,
            self.estimators_,
            X_branch,
            presence,
            methods=methods,
            classes=getattr(self, "classes_", None),
        )
        return X_valid, presence, outputs

    def _predict_present_rows(self, predict, present, fallback, extra=""):
        """``predict`` on the rows with a branch present; the prior or mean on the others."""
        return predict_present_rows(
            predict,
            present,
            fallback,
            absent_rows="have no branch present (every branch misses one of its "
            f"modalities there{extra})",
            fallback_name="class prior" if hasattr(self, "classes_") else "target mean",
        )

    def _branch_feature_names(self, widths):
        """Names of the branches' output columns, ``widths[k]`` for branch ``k``:
        ``<estimator>_<branch>`` (one column) or ``<estimator>_<branch><i>``."""
        prefix = type(self).__name__.lower()
        names = []
        for branch, width in zip(self._branches, widths):
            if width == 1:
                names.append(f"{prefix}_{branch.name}")
            else:
                names.extend(f"{prefix}_{branch.name}{i}" for i in range(width))
        return names

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R² (regression) of ``predict(X)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input samples.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        if is_classifier(self):
            return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
        return r2_score(y, self.predict(X), sample_weight=sample_weight)


def _as_list(modalities):
    return [modalities] if isinstance(modalities, str) else list(modalities)


def _is_drop(estimator):
    return isinstance(estimator, str) and estimator == DROP


def _is_classification(estimator):
    """available_if check: classification, from the fitted state or the branches."""
    return hasattr(estimator, "classes_") or is_classifier(estimator)
