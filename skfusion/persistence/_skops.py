"""skops-based dump/load with skfusion's trusted types (see :mod:`skfusion.persistence`)."""

from pathlib import Path

from .._utils.optional import import_optional

__all__ = ["trusted_types", "dump", "load", "untrusted_types"]

# Types that fitted skfusion estimators hold besides estimators, arrays and
# containers, and that skops does not trust by default. Kept explicit (not
# "everything under skfusion") so the trusted surface is reviewable;
# tests/test_persistence.py fails when a fitted estimator needs a type missing here.
_HELPER_TYPES = (
    "skfusion.late._branches.Branch",  # a branch: name, estimator, modalities, columns
    "sklearn.utils._bunch.Bunch",  # named_estimators_
    "scipy.sparse._csr.csr_matrix",  # SimilarityNetworkFusion's sparse graphs
)


# Types whose saved state carries a pickle: skorch's NeuralNet (skfusion.nn's nets
# are skorch nets) keeps its module, optimiser and criterion as pickled bytes in
# __getstate__, which skops stores as a bytes entry and which __setstate__
# unpickles with no restriction. Trusting such a type runs whatever that pickle
# says: no file holding one is written or read.
_PICKLE_CARRYING_PREFIXES = ("skorch.", "torch.", "skfusion.nn.")


def _pickle_carrying(type_names):
    return sorted(name for name in type_names if name.startswith(_PICKLE_CARRYING_PREFIXES))


def _refuse_pickle_carrying(type_names, what):
    carrying = _pickle_carrying(type_names)
    if carrying:
        raise ValueError(
            f"{what} holds a torch network ({', '.join(carrying[:3])}), whose state skops "
            "can only keep as an embedded pickle that loading would run, whatever types "
            "are trusted. Keep fitted networks in joblib files inside a boundary you "
            "control, or share the weights (the state_dict of net_.module_, read back "
            "with torch.load(..., weights_only=True)) with the code that rebuilds the "
            "estimator."
        )


def _type_name(cls):
    """The dotted name skops uses for a type: ``<module>.<name>``."""
    return f"{cls.__module__}.{cls.__name__}"


def _estimator_types():
    """skfusion's public estimator classes (top-level ``skfusion`` namespace).

    Read from ``skfusion.__all__`` so that a new estimator is trusted once it
    is exported; ``skfusion.nn`` is not imported (see the module's Security
    section on torch models).
    """
    from sklearn.base import BaseEstimator

    import skfusion

    types = []
    for name in skfusion.__all__:
        obj = getattr(skfusion, name, None)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            types.append(_type_name(obj))
    return types


def trusted_types():
    """Types that a saved skfusion model may need and that skops does not trust by default.

    The list holds skfusion's public estimator classes and the helper types
    their fitted state contains. :func:`load` trusts them in addition to the
    scikit-learn, numpy and scipy types that :mod:`skops.io` trusts by
    default. Nothing here needs skops.

    Returns
    -------
    types : list of str
        Dotted type names (``"<module>.<class>"``), sorted, as
        ``skops.io.load(..., trusted=...)`` expects them.

    See Also
    --------
    load : Load a model, trusting these types.
    untrusted_types : Types a file needs beyond these.

    Notes
    -----
    Trusting a type lets skops create instances of it and set their
    attributes; the attribute values are themselves checked, so trusting
    skfusion's classes does not make an arbitrary function callable. The list
    is deliberately explicit so it can be reviewed.

    Examples
    --------
    >>> from skfusion.persistence import trusted_types
    >>> types = trusted_types()
    >>> "skfusion.late._voting.WeightedVoteFusion" in types
    True
    >>> all(name.count(".") >= 1 for name in types)
    True
    """
    return sorted(set(_estimator_types()) | set(_HELPER_TYPES))


def _skops_io():
    return import_optional("skops.io", needed_by="skfusion.persistence", extra="skops")


def _check_trusted(trusted):
    if trusted is None:
        return []
    if isinstance(trusted, str) or not all(isinstance(name, str) for name in trusted):
        raise TypeError(
            "`trusted` must be a list of dotted type names (str), e.g. "
            "['xgboost.sklearn.XGBClassifier']; got "
            f"{trusted!r}."
        )
    return list(trusted)


def dump(estimator, file):
    """Save a (fitted) estimator with :func:`skops.io.dump`, without pickle.

    Parameters
    ----------
    estimator : estimator
        The object to save, usually a fitted skfusion estimator.
    file : str, path-like or file object
        Where to write (conventionally with the ``.skops`` suffix). A file
        object must be opened in binary write mode.

    Raises
    ------
    ValueError
        When ``estimator`` holds a torch network (a :mod:`skfusion.nn`
        estimator, alone or inside a pipeline or a late-fusion branch): skops
        could keep its state only as an embedded pickle.

    See Also
    --------
    load : Load it back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion import WeightedVoteFusion
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.persistence import dump, load
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=60, widths={"a": 2, "b": 3}, random_state=0)
    >>> vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities, cv=3)
    >>> vote = vote.fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "vote.skops"
    ...     dump(vote, path)
    ...     restored = load(path)
    >>> bool((restored.predict_proba(X) == vote.predict_proba(X)).all())
    True
    """
    sio = _skops_io()
    data = sio.dumps(estimator)
    _refuse_pickle_carrying(sio.get_untrusted_types(data=data), f"{type(estimator).__name__}")
    if isinstance(file, (str, Path)):
        Path(file).write_bytes(data)
    else:
        file.write(data)


def untrusted_types(file):
    """Types a skops file needs that neither skops nor :func:`trusted_types` trust.

    Review them before passing them to ``load(file, trusted=...)``: each is
    code that loading will run (its constructor and ``__setstate__``).

    Parameters
    ----------
    file : str, path-like or bytes
        A file written by :func:`dump` (or :func:`skops.io.dump`), or its
        content.

    Returns
    -------
    types : list of str
        Sorted dotted type names; empty when :func:`load` will accept the file.

    See Also
    --------
    load : Load a file, trusting more types.

    Examples
    --------
    >>> import skops.io
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfusion.persistence import untrusted_types
    >>> untrusted_types(skops.io.dumps(StandardScaler()))
    []
    """
    sio = _skops_io()
    if isinstance(file, (bytes, bytearray)):
        found = sio.get_untrusted_types(data=bytes(file))
    else:
        found = sio.get_untrusted_types(file=file)
    trusted = set(trusted_types())
    return sorted(name for name in found if name not in trusted)


def load(file, trusted=None):
    """Load an estimator saved by :func:`dump`, building only trusted types.

    Parameters
    ----------
    file : str, path-like or file object
        The file to read (a file object in binary mode).
    trusted : list of str, default=None
        Dotted names of types to trust *in addition to* skops' defaults and
        :func:`trusted_types`, e.g. the class of a branch estimator from
        another library. Inspect a file's needs with :func:`untrusted_types`.

    Returns
    -------
    estimator : object
        The loaded estimator.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        When the file needs a type that is not trusted; nothing from the file
        has been built then.
    ValueError
        When the file holds a torch network (a skorch net, whose state is an
        embedded pickle), whatever ``trusted`` says.

    See Also
    --------
    dump : Save an estimator.
    trusted_types : What is trusted beyond skops' defaults.

    Examples
    --------
    >>> import io
    >>> import skops.io
    >>> from skops.io.exceptions import UntrustedTypesFoundException
    >>> from fractions import Fraction
    >>> from skfusion.persistence import load
    >>> data = skops.io.dumps(Fraction(1, 3))  # a type nobody said to trust
    >>> try:
    ...     load(io.BytesIO(data))
    ... except UntrustedTypesFoundException as exc:
    ...     print("refused")
    refused
    >>> load(io.BytesIO(data), trusted=["fractions.Fraction"])
    Fraction(1, 3)
    """
    sio = _skops_io()
    extra = _check_trusted(trusted)
    data = Path(file).read_bytes() if isinstance(file, (str, Path)) else file.read()
    _refuse_pickle_carrying(sio.get_untrusted_types(data=data), "The file")
    return sio.loads(data, trusted=trusted_types() + extra)
