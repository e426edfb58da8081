"""
===================================================
Comparing fusion strategies on the digits
===================================================

:func:`~skfusion.model_selection.compare_fusion` cross-validates fusion
strategies on the same folds and reports, for each, the score, the fit time,
the predict latency and the gain over the best single modality. Here: the six
modalities of the UCI Multiple Features digits (Fourier coefficients, profile
correlations, Karhunen-Loève coefficients, pixel averages, Zernike moments,
morphological features), on a stratified sample of 600 of the 2,000 digits to
keep the example fast. ``python -m skfusion`` runs the full comparison, neural
network included. See :ref:`user_guide_choosing` and :ref:`which_fusion`.
"""

# %%
# The comparison
# --------------
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skfusion.datasets import load_mfeat
from skfusion.model_selection import compare_fusion

threadpool_limits(1)  # compare_fusion pins BLAS too; this covers the rest

mfeat = load_mfeat()
X, _, y, _ = train_test_split(
    mfeat.data, mfeat.target, train_size=600, stratify=mfeat.target, random_state=0
)
result = compare_fusion(
    X,
    y,
    mfeat.modalities,
    strategies=["single", "early", "stacking", "vote", "hybrid"],
    cv=3,
    random_state=0,
)
print(result)

# %%
# The ``gain`` column is each strategy's accuracy minus that of the best
# modality alone: the six feature extractors see different aspects of the same
# digits, and fusing them removes a good part of the best modality's errors,
# even when that modality is already above 95%. Fit time is the other side of
# the choice: late fusion fits one model per modality on every inner fold, so
# it costs tens of times more than fitting one model on everything.
# ``result.plot()`` draws the score against the fit time
# (:class:`~skfusion.inspection.FusionComparisonDisplay`).
display = result.plot()
display.figure_.set_size_inches(7, 4.5)
display.figure_.tight_layout()
plt.show()

# %%
# The same numbers as a DataFrame, for further analysis:
frame = result.to_frame()
print(frame[["kind", "accuracy_mean", "fit_time_mean", "gain"]].round(3))
