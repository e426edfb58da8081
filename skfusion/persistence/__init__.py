"""Saving and loading fitted skfusion models, safely.

:func:`dump` and :func:`load` are thin wrappers over :mod:`skops.io` (the
``skops`` extra: ``pip install "skfusion[skops]"``); :func:`trusted_types`
lists the types skfusion's own estimators are made of, so that ``load`` can
refuse anything else.

Security
--------
**Never load a pickle (``pickle.load``, ``joblib.load``, ``torch.load`` with
``weights_only=False``) that comes from a source you do not trust.** Unpickling
is not reading data: a pickle is a small program that the loader runs, and it
can call any function in any importable module (``os.system``,
``subprocess.run``, ...) with arguments of its author's choosing, *while it is
being loaded*, before you can inspect the object. A model file shared on a hub,
sent by a colleague or read from a bucket someone else can write to must be
treated like an executable.

``skops.io`` stores a model as data (a JSON schema plus numpy arrays) and, when
loading, builds only objects whose types are in an explicit list of trusted
types. :func:`load` trusts scikit-learn's and numpy's types that skops trusts by
default plus :func:`trusted_types` (skfusion's estimators and the helper types
they hold). A file that needs any other type is refused with
``skops.io.exceptions.UntrustedTypesFoundException`` *before* any object is
built. Use :func:`untrusted_types` to see which types a file needs, review
them, and pass the ones you accept as ``load(file, trusted=[...])``; a branch
estimator from another library (e.g. XGBoost) is the usual reason.

Pickle and joblib remain fine for files you wrote yourself (caches, checkpoints
on your own disk): fitted skfusion estimators round-trip through both with
bit-identical predictions.

Models from :mod:`skfusion.nn` hold torch networks trained through skorch,
whose saved state is itself a pickle (skorch's ``NeuralNet`` pickles its
module, optimiser and criterion into one bytes entry, which loading unpickles
without restriction once the net's type is trusted): :func:`dump` refuses to
write them and :func:`load` refuses to read them, whatever ``trusted`` says.
Keep fitted networks in pickle/joblib files inside a boundary you
control, or share only their weights (the ``state_dict()`` of ``net_.module_``
or ``module_``, read back with ``torch.load(..., weights_only=True)``) together
with the code that rebuilds the estimator.

Examples
--------
>>> from skfusion.persistence import trusted_types
>>> "skfusion.late._stacking.StackingLateFusion" in trusted_types()
True
"""

from ._skops import dump, load, trusted_types, untrusted_types

__all__ = ["trusted_types", "dump", "load", "untrusted_types"]
