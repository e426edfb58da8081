"""Synthetic multimodal data with known signal, redundancy, interaction and missingness.

Both generators share one latent model (described in the Notes of
:func:`make_multimodal_classification`): each modality shows a noisy random
rotation of its own latent factors, which mix factors *shared* by all
modalities with factors *private* to it; the first two modalities also show an
*interaction* latent whose product, and only the product, carries signal.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._modalities import check_modality_names, concat_modalities

__all__ = ["make_multimodal_classification", "make_multimodal_regression"]

_DEFAULT_WIDTHS = {"a": 5, "b": 5, "c": 5}


# ---------------------------------------------------------------- validation


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"`{name}` must be an int; got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; got {value}.")
    return int(value)


def _check_real(value, name, *, low=0.0, high=None, high_open=False):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}.")
    value = float(value)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or value < low or too_high:
        bound = "" if high is None else (f" and < {high}" if high_open else f" and <= {high}")
        raise ValueError(f"`{name}` must be >= {low}{bound}; got {value}.")
    return value


def _check_widths(widths):
    widths = dict(_DEFAULT_WIDTHS) if widths is None else widths
    check_modality_names(widths, param="widths")
    for name, width in widths.items():
        if isinstance(width, bool) or not isinstance(width, Integral):
            raise TypeError(
                f"`widths[{name!r}]` must be an int number of columns; "
                f"got {type(width).__name__}."
            )
        if width < 1:
            raise ValueError(f"`widths[{name!r}]` must be >= 1 column; got {width}.")
    return {name: int(width) for name, width in widths.items()}


def _check_signal(signal, names):
    """Per-modality signal strengths; modalities a dict leaves out get 1.0."""
    if not isinstance(signal, dict):
        strength = _check_real(signal, "signal")
        return {name: strength for name in names}
    unknown = [name for name in signal if name not in names]
    if unknown:
        raise ValueError(
            f"`signal` names unknown modality {unknown[0]!r}; the modalities "
            f"(keys of `widths`) are {list(names)}."
        )
    return {
        name: _check_real(signal.get(name, 1.0), f"signal[{name!r}]") for name in names
    }


def _check_common(n_samples, widths, n_informative, signal, shared, interaction,
                  noise, missing_rate):
    n_samples = _check_int(n_samples, "n_samples", 1)
    widths = _check_widths(widths)
    n_informative = _check_int(n_informative, "n_informative", 1)
    signal = _check_signal(signal, list(widths))
    shared = _check_real(shared, "shared", high=1.0)
    interaction = _check_real(interaction, "interaction")
    noise = _check_real(noise, "noise")
    missing_rate = _check_real(missing_rate, "missing_rate", high=1.0, high_open=True)
    if interaction > 0 and len(widths) < 2:
        raise ValueError(
            "`interaction` > 0 needs at least two modalities (it lies between the "
            f"first two); `widths` has {len(widths)}."
        )
    if missing_rate > 0 and len(widths) < 2:
        raise ValueError(
            "`missing_rate` > 0 needs at least two modalities, since a row never "
            f"loses all of them; `widths` has {len(widths)}."
        )
    return n_samples, widths, n_informative, signal, shared, interaction, noise, missing_rate


# ---------------------------------------------------------------- latent model


def _modality_latents(rng, n_samples, names, n_informative, shared):
    """z_m = sqrt(shared) * s + sqrt(1 - shared) * p_m: unit variance, shared fraction `shared`."""
    common = rng.standard_normal((n_samples, n_informative))
    return {
        name: np.sqrt(shared) * common
        + np.sqrt(1.0 - shared) * rng.standard_normal((n_samples, n_informative))
        for name in names
    }


def _orthonormal_embedding(rng, n_latent, width):
    """A random (n_latent, width) map with orthonormal rows (columns when width < n_latent).

    Orthonormal rows keep each latent's total variance across the modality's
    columns, so a modality's signal energy does not depend on its width.
    """
    if width >= n_latent:
        q, _ = np.linalg.qr(rng.standard_normal((width, n_latent)))
        return q.T
    q, _ = np.linalg.qr(rng.standard_normal((n_latent, width)))
    return q


def _observe(rng, latents, interaction_latents, widths, signal, interaction, noise, missing_rate):
    """Each modality's block: rotated [signal * z_m, interaction * u_m] plus Gaussian noise,
    then whole modalities blanked at ``missing_rate`` (:func:`_blank_modalities`)."""
    blocks = {}
    for name, width in widths.items():
        parts = [signal[name] * latents[name]]
        if name in interaction_latents:
            parts.append(interaction * interaction_latents[name])
        latent = np.hstack(parts)
        embedding = _orthonormal_embedding(rng, latent.shape[1], width)
        blocks[name] = latent @ embedding + noise * rng.standard_normal(
            (latent.shape[0], width)
        )
    if missing_rate > 0:
        blocks = _blank_modalities(rng, blocks, missing_rate)
    return blocks


def _blank_modalities(rng, blocks, missing_rate):
    """Set whole (row, modality) blocks to NaN; a row keeps at least one modality."""
    names = list(blocks)
    n_samples = next(iter(blocks.values())).shape[0]
    missing = rng.random_sample((n_samples, len(names))) < missing_rate
    all_missing = np.flatnonzero(missing.all(axis=1))
    # Give back one modality, chosen uniformly, to rows that lost them all.
    missing[all_missing, rng.randint(len(names), size=all_missing.size)] = False
    for j, name in enumerate(names):
        blocks[name][missing[:, j]] = np.nan
    return blocks


def _assemble(blocks, y, as_frame, target_names):
    X, modalities = concat_modalities(blocks, as_frame=as_frame)
    if as_frame:
        import pandas as pd

        if y.ndim == 1:
            y = pd.Series(y, name=target_names[0])
        else:
            y = pd.DataFrame(y, columns=target_names)
    return X, y, modalities


def _sample(rng, n_samples, widths, n_informative, shared, interaction, interaction_dim):
    """Latents z_m (per modality) and the interaction latents u_a, u_b of the first two."""
    latents = _modality_latents(rng, n_samples, list(widths), n_informative, shared)
    interaction_latents = {}
    if interaction > 0:
        for name in list(widths)[:2]:
            interaction_latents[name] = rng.standard_normal((n_samples, interaction_dim))
    return latents, interaction_latents


def _linear_score(latents, signal, directions):
    """sum_m signal_m * z_m @ directions: the part of the target each modality reveals."""
    return sum(signal[name] * z for name, z in latents.items()) @ directions


# ---------------------------------------------------------------- public API


_ROWS_AND_WIDTHS = """    n_samples : int, default=300
        Number of rows.
    widths : dict of str to int, default=None
        Number of columns of each modality, in column order. ``None`` means
        ``{"a": 5, "b": 5, "c": 5}``."""

_SEED_AND_X = """    random_state : int, RandomState instance or None, default=None
        Seed for every random draw; the same seed gives the same data.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, sum of widths)
        Modality blocks side by side, in the order of ``widths``."""


def _shared_docs(function):
    """Write the parameter texts both generators share into ``function``'s docstring."""
    function.__doc__ = function.__doc__.replace("{_ROWS_AND_WIDTHS}", _ROWS_AND_WIDTHS).replace(
        "{_SEED_AND_X}", _SEED_AND_X
    )
    return function


@_shared_docs
def make_multimodal_classification(
    n_samples=300,
    widths=None,
    *,
    n_classes=2,
    n_informative=2,
    signal=1.0,
    shared=0.0,
    interaction=0.0,
    noise=1.0,
    missing_rate=0.0,
    as_frame=False,
    random_state=None,
):
    """Generate a multimodal classification problem with controlled fusion effects.

    Every modality shows a noisy random rotation of its own latent factors.
    Each knob isolates one effect fusion methods should exploit or resist:
    per-modality ``signal`` (0 makes a pure-noise modality), redundancy between
    modalities (``shared``), a cross-modal ``interaction`` that no single
    modality reveals, feature ``noise`` and whole modalities missing at random
    (``missing_rate``). The exact generative model is in the Notes.

    Parameters
    ----------
{_ROWS_AND_WIDTHS}
    n_classes : int, default=2
        Number of classes, labelled ``0 .. n_classes - 1``; balanced in
        expectation.
    n_informative : int, default=2
        Number of latent factors per modality, all of which enter the label.
        Must be at least 2 when ``n_classes > 2`` (the label is then an angle
        in a plane of the latent space).
    signal : float or dict of str to float, default=1.0
        Signal strength of each modality (one value for all, or a dict by
        modality name; modalities the dict leaves out get 1.0). It scales the
        modality's latent factors both in its features and in the label, so
        ``0`` makes a modality pure noise, independent of ``y``.
    shared : float in [0, 1], default=0.0
        Fraction of the variance of each modality's latent factors that comes
        from factors shared by all modalities; the rest is private to the
        modality. ``0``: modalities carry complementary information; ``1``:
        redundant information (the same factors seen through different noise).
    interaction : float >= 0, default=0.0
        Strength of a cross-modal interaction between the first two
        modalities: the label depends on the product of a latent of the first
        and a latent of the second, each of which alone is independent of the
        label. With ``signal=0``, any model that sees one modality only is at
        chance, while a model of both (products of their features, trees,
        neural nets) can learn the label.
    noise : float >= 0, default=1.0
        Standard deviation of the Gaussian noise added to every feature.
    missing_rate : float in [0, 1), default=0.0
        Probability that a whole modality is missing (all NaN) in a row,
        independently per (row, modality); a row that would lose every
        modality keeps one, chosen at random, so the realised rate is slightly
        lower (by ``missing_rate ** n_modalities / n_modalities``).
    as_frame : bool, default=False
        Return ``X`` as a pandas DataFrame with columns ``"<name>_<i>"`` and
        ``y`` as a Series named ``"target"``.
{_SEED_AND_X}
    y : ndarray or Series of shape (n_samples,)
        Integer class labels.
    modalities : dict of str to list
        Column positions (array) or column names (DataFrame) of each modality,
        ready to pass as the ``modalities`` parameter of skfusion estimators.

    See Also
    --------
    make_multimodal_regression : The same latent model with a continuous target.
    sklearn.datasets.make_classification : Single-modality counterpart.

    Notes
    -----
    Write ``k = n_informative``, ``sigma_m`` for ``signal[m]``, ``rho`` for
    ``shared`` and ``lam`` for ``interaction``. For each row, with all draws
    standard normal and independent:

    1. shared factors ``s`` and, per modality, private factors ``p_m`` in
       ``R^k``; the modality latent is
       ``z_m = sqrt(rho) * s + sqrt(1 - rho) * p_m`` (unit variance);
    2. if ``lam > 0``, interaction latents ``u_a`` and ``u_b`` in ``R^r`` for
       the first two modalities, with ``r = 1`` for two classes and ``r = 2``
       (read as a complex number) for more;
    3. features ``X_m = [sigma_m * z_m, lam * u_m] @ W_m + noise * E_m``,
       where ``W_m`` is a random map with orthonormal rows (so a modality's
       signal energy does not grow with its width; when the modality is
       narrower than its latent, it has orthonormal columns and shows only a
       projection);
    4. the label score ``t = sum_m sigma_m * z_m @ B + lam * u_a * u_b``, with
       ``B`` a random ``(k, r)`` matrix with orthonormal columns (so every
       factor enters ``t``) and the product real for ``r = 1``, complex for
       ``r = 2``;
    5. two classes: ``y = 1`` where ``t > 0`` (for the interaction: where the
       signs of ``u_a`` and ``u_b`` agree); ``C > 2`` classes: ``y = c`` where
       the angle of the complex ``t`` is nearest to ``2 * pi * c / C``.

    ``t`` is isotropic, so classes are balanced in expectation, and the
    optimal decision from all latents is linear in ``z_m`` and in the products
    of ``u_a`` and ``u_b``. Given ``u_a`` alone, ``u_a * u_b`` is symmetric
    (two classes) or circularly symmetric (more), so the interaction carries
    no information in either modality by itself. The features, not the
    latents, are noisy, so the Bayes accuracy drops as ``noise`` grows.
    Missing modalities are blanked after ``y`` is drawn (missing completely
    at random). When every ``signal`` and ``interaction`` are 0, ``y`` is drawn
    uniformly at random, independently of ``X`` (a null problem).

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=6, widths={"image": 3, "text": 2}, random_state=0)
    >>> X.shape
    (6, 5)
    >>> modalities
    {'image': [0, 1, 2], 'text': [3, 4]}
    >>> sorted(set(y.tolist()))
    [0, 1]
    """
    (n_samples, widths, n_informative, signal, shared, interaction, noise,
     missing_rate) = _check_common(n_samples, widths, n_informative, signal, shared,
                                   interaction, noise, missing_rate)
    n_classes = _check_int(n_classes, "n_classes", 2)
    if n_classes > 2 and n_informative < 2:
        raise ValueError(
            f"`n_informative` must be >= 2 when n_classes > 2 (the label is an "
            f"angle in a plane of the latent space); got n_informative={n_informative} "
            f"with n_classes={n_classes}."
        )
    rng = check_random_state(random_state)
    label_dim = 1 if n_classes == 2 else 2
    latents, interaction_latents = _sample(
        rng, n_samples, widths, n_informative, shared, interaction, label_dim
    )
    directions = _orthonormal_embedding(rng, label_dim, n_informative).T
    score = _linear_score(latents, signal, directions)
    if interaction > 0:
        u_a, u_b = interaction_latents.values()
        score = score + interaction * _product(u_a, u_b)
    if interaction == 0 and not any(signal.values()):
        # No latent carries signal: the label is pure chance, independent of X.
        y = rng.randint(n_classes, size=n_samples).astype(np.int64)
    else:
        y = _score_to_class(score, n_classes)
    blocks = _observe(rng, latents, interaction_latents, widths, signal, interaction, noise,
                      missing_rate)
    return _assemble(blocks, y, as_frame, ["target"])


def _product(u_a, u_b):
    """Real product (one column) or complex product (two columns as re, im)."""
    if u_a.shape[1] == 1:
        return u_a * u_b
    re = u_a[:, 0] * u_b[:, 0] - u_a[:, 1] * u_b[:, 1]
    im = u_a[:, 0] * u_b[:, 1] + u_a[:, 1] * u_b[:, 0]
    return np.column_stack([re, im])


def _score_to_class(score, n_classes):
    """Sign for two classes; nearest of n_classes equally spaced angles otherwise."""
    if n_classes == 2:
        return (score[:, 0] > 0).astype(np.int64)
    angle = np.arctan2(score[:, 1], score[:, 0])
    return (np.rint(angle * n_classes / (2 * np.pi)).astype(np.int64)) % n_classes


@_shared_docs
def make_multimodal_regression(
    n_samples=300,
    widths=None,
    *,
    n_targets=1,
    n_informative=2,
    signal=1.0,
    shared=0.0,
    interaction=0.0,
    noise=1.0,
    missing_rate=0.0,
    as_frame=False,
    random_state=None,
):
    """Generate a multimodal regression problem with controlled fusion effects.

    The latent model of :func:`make_multimodal_classification` with a
    continuous target: a linear function of every modality's latent factors
    (weighted by its ``signal``), plus a cross-modal product between the first
    two modalities (``interaction``), plus Gaussian noise.

    Parameters
    ----------
{_ROWS_AND_WIDTHS}
    n_targets : int, default=1
        Number of targets; ``y`` is 1-D when it is 1.
    n_informative : int, default=2
        Number of latent factors per modality, all of which enter the target.
    signal : float or dict of str to float, default=1.0
        Signal strength of each modality (one value for all, or a dict by
        modality name; modalities the dict leaves out get 1.0). It scales the
        modality's latent factors both in its features and in the target, so
        ``0`` makes a modality pure noise, independent of ``y``.
    shared : float in [0, 1], default=0.0
        Fraction of the variance of each modality's latent factors that comes
        from factors shared by all modalities (redundant information); the
        rest is private to the modality (complementary information).
    interaction : float >= 0, default=0.0
        Coefficient of the product ``u_a * u_b`` of one latent of each of the
        first two modalities in every target. Each latent alone is
        uncorrelated with the product, so no model of a single modality can
        predict that part of ``y``.
    noise : float >= 0, default=1.0
        Standard deviation of the Gaussian noise added to every feature and to
        every target.
    missing_rate : float in [0, 1), default=0.0
        Probability that a whole modality is missing (all NaN) in a row,
        independently per (row, modality); a row never loses all modalities.
    as_frame : bool, default=False
        Return ``X`` as a pandas DataFrame with columns ``"<name>_<i>"`` and
        ``y`` as a Series named ``"target"`` (a DataFrame with columns
        ``"target_<j>"`` for several targets).
{_SEED_AND_X}
    y : ndarray, Series or DataFrame of shape (n_samples,) or (n_samples, n_targets)
        The targets.
    modalities : dict of str to list
        Column positions (array) or column names (DataFrame) of each modality.

    See Also
    --------
    make_multimodal_classification : The same latent model with class labels.
    sklearn.datasets.make_regression : Single-modality counterpart.

    Notes
    -----
    With the notation of :func:`make_multimodal_classification` (latents
    ``z_m`` in ``R^k``, interaction latents ``u_a``, ``u_b`` now in ``R^1``,
    features ``X_m = [sigma_m * z_m, lam * u_m] @ W_m + noise * E_m``),

    ``y_j = sum_m sigma_m * z_m @ b_j + lam * g_j * u_a * u_b + noise * e_j``

    where each ``b_j`` is a random unit vector in ``R^k``, each ``g_j`` a
    random sign and ``e_j`` standard normal. With ``shared = 0`` the noiseless
    part of ``y_j`` has variance ``sum_m sigma_m ** 2 + lam ** 2``.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_regression
    >>> X, y, modalities = make_multimodal_regression(
    ...     n_samples=4, widths={"gene": 3, "scan": 2}, n_targets=2, random_state=0)
    >>> X.shape, y.shape
    ((4, 5), (4, 2))
    >>> modalities["scan"]
    [3, 4]
    """
    (n_samples, widths, n_informative, signal, shared, interaction, noise,
     missing_rate) = _check_common(n_samples, widths, n_informative, signal, shared,
                                   interaction, noise, missing_rate)
    n_targets = _check_int(n_targets, "n_targets", 1)
    rng = check_random_state(random_state)
    latents, interaction_latents = _sample(
        rng, n_samples, widths, n_informative, shared, interaction, 1
    )
    coefficients = rng.standard_normal((n_informative, n_targets))
    coefficients /= np.linalg.norm(coefficients, axis=0)
    y = _linear_score(latents, signal, coefficients)
    if interaction > 0:
        u_a, u_b = interaction_latents.values()
        signs = rng.choice([-1.0, 1.0], size=n_targets)
        y = y + interaction * (u_a * u_b) * signs
    y = y + noise * rng.standard_normal(y.shape)
    blocks = _observe(rng, latents, interaction_latents, widths, signal, interaction, noise,
                      missing_rate)
    if n_targets == 1:
        return _assemble(blocks, y[:, 0], as_frame, ["target"])
    return _assemble(blocks, y, as_frame, [f"target_{j}" for j in range(n_targets)])
