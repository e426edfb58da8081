"""TableFusion: a fusion estimator fitted on a raw table, through a TableEncoder."""

from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .._fit_context import fit_context, fitting
from .._modalities import presence_mask
from .._utils.docstrings import fill_doc
from .._utils.modality_protocol import with_modalities
from ._docs import (
    ENCODER_NOTES,
    ENCODER_PARAMETERS,
    FITTED_INPUT,
    X_RAW_TABLE,
    X_SEEN_TABLE,
)
from ._encoder import TableEncoder

__all__ = ["TableFusion"]


def _estimator_has(attribute):
    """available_if check: the fitted estimator (before fit, ``estimator``) has ``attribute``."""

    def check(self):
        inner = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return hasattr(inner, attribute)

    return check


class TableFusion(MetaEstimatorMixin, BaseEstimator):
    __doc__ = f"""A fusion estimator fitted on a raw table: encode each modality, then fuse.

    Fits a :class:`TableEncoder` on the table (``modalities="auto"``: the
    modalities :func:`infer_modalities` proposes), then a clone of
    ``estimator`` on the encoded table, with the ``modalities`` of every
    fusion estimator in it (``estimator`` itself, a Pipeline step, a
    search's estimator) set to the encoder's output modalities. Predictions
    go through both. The estimator type, ``classes_`` and the prediction
    methods are those of ``estimator``.

    Parameters
    ----------
    estimator : estimator object
        What learns from the encoded table, typically a fusion estimator
        (:class:`~skfusion.StackingLateFusion`,
        :class:`~skfusion.WeightedVoteFusion`, a Pipeline starting with
        :class:`~skfusion.FeatureFusion`) whose ``modalities`` are set here;
        its per-modality settings name the output modalities. Searchable as
        ``estimator`` (the fusion choice itself) and ``estimator__<param>``.{ENCODER_PARAMETERS}

    Attributes
    ----------
    encoder_ : TableEncoder
        The fitted encoder.
    estimator_ : estimator object
        The fitted clone of ``estimator``, reading ``encoder_.modalities_out_``.
    plan_ : ModalityPlan
        The modalities of the input (``encoder_.plan_``).
    classes_ : ndarray of shape (n_classes,)
        Class labels (classification).{FITTED_INPUT}

    See Also
    --------
    TableEncoder : The encoder alone.
    infer_modalities : The plan of ``modalities="auto"``.
    skrub.tabular_pipeline : One table vectorizer and one model, no modalities.

    Notes
    -----{ENCODER_NOTES}

    A row where some modality is missing reaches ``estimator`` with NaN in
    that modality's block: the late-fusion estimators and
    ``FeatureFusion(missing="zero")`` handle it; when an estimator refuses
    NaN, its ValueError is completed with the modalities missing and in how
    many rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion import StackingLateFusion
    >>> from skfusion.tables import TableFusion
    >>> table = pd.DataFrame({{
    ...     "review": ["fresh tasty tea", "stale bitter tea", "fresh tasty biscuits",
    ...                "stale dry biscuits"] * 10,
    ...     "price": [3.0, 2.0, 3.5, 1.5] * 10,
    ... }})
    >>> y = [1, 0, 1, 0] * 10
    >>> model = TableFusion(StackingLateFusion(LogisticRegression(), cv=3), text=["review"])
    >>> model.fit(table, y).predict(table.head(2))
    array([1, 0])
    >>> model.estimator_.modalities == model.encoder_.modalities_out_
    True
    >>> model.encoder_.modalities_out_["tabular"]
    [14]
    """

    _parameter_constraints = {
        **TableEncoder._parameter_constraints,
        "estimator": [HasMethods(["fit"])],
    }

    def __init__(
        self,
        estimator,
        *,
        modalities="auto",
        text=None,
        groups=None,
        exclude=None,
        text_representation="tfidf",
        text_vectorizer=None,
        tabular_transformer=None,
        embedding_model="auto",
        device="auto",
        memory=None,
    ):
        self.estimator = estimator
        self.modalities = modalities
        self.text = text
        self.groups = groups
        self.exclude = exclude
        self.text_representation = text_representation
        self.text_vectorizer = text_vectorizer
        self.tabular_transformer = tabular_transformer
        self.embedding_model = embedding_model
        self.device = device
        self.memory = memory

    def _make_encoder(self):
        params = self.get_params(deep=False)
        return TableEncoder(**{name: params[name] for name in TableEncoder._parameter_constraints})

    def _missing_modalities(self, Xt):
        """``{output modality: rows where it is missing}`` for those missing somewhere."""
        modalities = {
            name: np.asarray(columns) for name, columns in self.encoder_.modalities_out_.items()
        }
        counts = (~presence_mask(Xt, modalities)).sum(axis=0)
        return {name: int(count) for name, count in zip(modalities, counts) if count}

    @contextmanager
    def _explaining_nan(self, Xt):
        """An estimator's complaint about NaN, with the modalities missing in rows and what to do."""
        try:
            yield
        except ValueError as exc:
            missing = self._missing_modalities(Xt) if "NaN" in str(exc) else {}
            if not missing:
                raise
            where = ", ".join(f"{name!r} in {count}" for name, count in missing.items())
            raise ValueError(
                f"{exc} The encoded table has modalities missing (every cell empty, NaN in "
                f"their block) in some of its {Xt.shape[0]} rows: {where}. Use a fusion "
                "estimator that handles missing modalities (StackingLateFusion, "
                "WeightedVoteFusion, FeatureFusion(missing='zero')), or drop or fill those rows."
            ) from exc

    @fit_context(prefer_skip_nested_validation=False)
    @fill_doc(x_raw_table=X_RAW_TABLE)
    def fit(self, X, y=None, **fit_params):
        """Fit the encoder on the table, then the estimator on the encoded table.

        Parameters
        ----------
        %(x_raw_table)s
        y : array-like of shape (n_samples,), default=None
            Target, for the estimator (and the encoders, which mostly ignore it).
        **fit_params : dict
            Passed to the estimator's ``fit`` (e.g. ``sample_weight``); with
            metadata routing enabled, those its ``fit`` requests.

        Returns
        -------
        self : TableFusion
            The fitted estimator.
        """
        self._fit(X, y, fit_params, "fit")
        return self

    def _fit(self, X, y, fit_params, method):
        if y is not None:
            check_consistent_length(X, y)
        self.encoder_ = self._make_encoder()
        Xt = self.encoder_.fit_transform(X, y)
        estimator = with_modalities(self.estimator, self.encoder_.modalities_out_)
        fit_params = self._routed(method="fit", params=fit_params)
        with self._explaining_nan(Xt), fitting(f"estimator ({type(estimator).__name__})"):
            out = getattr(estimator, method)(Xt, y, **fit_params)
        self.estimator_ = estimator
        return out

    @available_if(_estimator_has("transform"))
    @fit_context(prefer_skip_nested_validation=False)
    @fill_doc(x_raw_table=X_RAW_TABLE)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then the estimator's transform of the encoded training table.

        Parameters
        ----------
        %(x_raw_table)s
        y : array-like of shape (n_samples,), default=None
            Target.
        **fit_params : dict
            Passed to the estimator's ``fit_transform``.

        Returns
        -------
        X_out : ndarray or sparse matrix
            The estimator's ``fit_transform`` of the encoded table (its
            ``fit`` then ``transform`` when it has no ``fit_transform``).
        """
        if hasattr(self.estimator, "fit_transform"):
            return self._fit(X, y, fit_params, "fit_transform")
        self._fit(X, y, fit_params, "fit")
        return self.transform(X)

    def _encode(self, X):
        check_is_fitted(self)
        return self.encoder_.transform(X)

    def _routed(self, *, method, params):
        """``params`` for the estimator's ``method``: all of them, or with metadata
        routing enabled those it requests (an error for one nobody requests)."""
        if not _routing_enabled():
            return params
        return dict(process_routing(self, method, **params).estimator[method])

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit``, ``predict`` and ``score`` metadata reach the estimator's method
        of the same name (``fit`` for ``fit_transform`` too), as requested.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        return MetadataRouter(owner=self).add(
            estimator=self.estimator,
            method_mapping=MethodMapping()
            .add(caller="fit", callee="fit")
            .add(caller="predict", callee="predict")
            .add(caller="score", callee="score"),
        )

    def _delegate(self, method, X, *args, **params):
        """The estimator's ``method`` on the encoded ``X`` (a refusal of NaN explained)."""
        if method in ("predict", "score"):
            params = self._routed(method=method, params=params)
        Xt = self._encode(X)
        with self._explaining_nan(Xt):
            return getattr(self.estimator_, method)(Xt, *args, **params)

    @property
    def plan_(self):
        check_is_fitted(self)
        return self.encoder_.plan_

    @property
    def n_features_in_(self):
        return self.encoder_.n_features_in_

    @property
    def feature_names_in_(self):
        return self.encoder_.feature_names_in_

    @property
    def classes_(self):
        return self.estimator_.classes_

    @available_if(_estimator_has("predict"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def predict(self, X, **predict_params):
        """The estimator's prediction for the encoded table.

        Parameters
        ----------
        %(x_seen_table)s
        **predict_params : dict
            Passed to the estimator's ``predict`` (e.g. ``return_std``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._delegate("predict", X, **predict_params)

    @available_if(_estimator_has("predict_proba"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def predict_proba(self, X):
        """The estimator's class probabilities for the encoded table.

        Parameters
        ----------
        %(x_seen_table)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._delegate("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def predict_log_proba(self, X):
        """The estimator's log class probabilities for the encoded table.

        Parameters
        ----------
        %(x_seen_table)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return self._delegate("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def decision_function(self, X):
        """The estimator's decision function for the encoded table.

        Parameters
        ----------
        %(x_seen_table)s

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return self._delegate("decision_function", X)

    @available_if(_estimator_has("transform"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def transform(self, X):
        """The estimator's transform of the encoded table.

        Parameters
        ----------
        %(x_seen_table)s

        Returns
        -------
        X_out : ndarray or sparse matrix
        """
        return self._delegate("transform", X)

    @available_if(_estimator_has("score"))
    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def score(self, X, y, **score_params):
        """The estimator's score on the encoded table.

        Parameters
        ----------
        %(x_seen_table)s
        y : array-like of shape (n_samples,)
            True targets.
        **score_params : dict
            Passed to the estimator's ``score`` (e.g. ``sample_weight``).

        Returns
        -------
        score : float
        """
        return self._delegate("score", X, y, **score_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        # The type and the target follow the estimator, as a Pipeline follows its last step.
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.transformer_tags = inner.transformer_tags
        if tags.transformer_tags is not None:
            # the encoder's output is float64 whatever X was (a float32 column is a
            # column of the table): float32 does not come through
            tags.transformer_tags.preserves_dtype = ["float64"]
        tags.target_tags = inner.target_tags
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        # Empty cells are imputed; a whole modality missing in a row is the
        # estimator's to handle (an error naming the modality when it cannot).
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        return tags
