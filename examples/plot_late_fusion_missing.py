"""
==============================================
Late fusion when modalities go missing
==============================================

A modality is *missing* in a row when all its columns are NaN. Late fusion fits
one model per modality on the rows where that modality exists; at prediction
time the :class:`~skfusion.WeightedVoteFusion` renormalises its learned weights
over the modalities a row has, and :class:`~skfusion.StackingLateFusion`
predicts a row with the meta-learner of its pattern of present branches.

Here the training rows have gaps, and the test rows lose more and more of their
modalities. We compare both late-fusion estimators with early fusion whose
missing blocks are set to zero (:class:`~skfusion.FeatureFusion` with
``missing="zero"``). See :ref:`user_guide_missing` and
:ref:`user_guide_late_fusion`.
"""

# %%
# Three modalities of unequal strength, 30% missing in training
# --------------------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skfusion import FeatureFusion, StackingLateFusion, WeightedVoteFusion
from skfusion.datasets import make_multimodal_classification

threadpool_limits(1)  # one BLAS thread: these problems are small

X, y, modalities = make_multimodal_classification(
    n_samples=1200,
    widths={"clinical": 5, "imaging": 20, "notes": 10},
    signal={"clinical": 1.5, "imaging": 1.0, "notes": 0.5},
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
rng = np.random.default_rng(0)


def blank(X, rate):
    """Each modality missing with probability ``rate`` per row; every row keeps one."""
    X = X.copy()
    keep = rng.integers(0, len(modalities), len(X))
    for j, columns in enumerate(modalities.values()):
        rows = (rng.random(len(X)) < rate) & (keep != j)
        X[np.ix_(rows, columns)] = np.nan
    return X


X_train = blank(X_train, 0.3)
models = {
    "early fusion, missing='zero'": make_pipeline(
        FeatureFusion(modalities, missing="zero"), LogisticRegression()
    ),
    "weighted vote": WeightedVoteFusion(LogisticRegression(), modalities=modalities),
    "stacking": StackingLateFusion(LogisticRegression(), modalities=modalities),
}
for model in models.values():
    model.fit(X_train, y_train)

# %%
# The learned vote weights follow the modalities' strength
# --------------------------------------------------------
vote = models["weighted vote"]
print({name: round(weight, 3) for name, weight in vote.weights_.items()})

# %%
# Accuracy as test rows lose modalities
# -------------------------------------
rates = [0.0, 0.2, 0.4, 0.6, 0.8]
test_sets = [blank(X_test, rate) for rate in rates]
scores = {name: [] for name in models}
with warnings.catch_warnings():
    # the vote gives 'notes' weight 0: rows that keep only 'notes' get the class
    # prior, with a NoModalityPresentWarning, silenced here
    warnings.simplefilter("ignore")
    for X_gaps in test_sets:
        for name, model in models.items():
            scores[name].append(model.score(X_gaps, y_test))

print("missing rate:".ljust(30) + "".join(f"{r:7.1f}" for r in rates))
for name, values in scores.items():
    print(f"{name:30}" + "".join(f"{v:7.3f}" for v in values))

fig, (ax_weights, ax_scores) = plt.subplots(1, 2, figsize=(9, 3.5), width_ratios=[1, 2])
ax_weights.bar(list(vote.weights_), list(vote.weights_.values()))
ax_weights.set_title("learned vote weights")
for name, values in scores.items():
    ax_scores.plot(rates, values, "-o", label=name)
ax_scores.set_xlabel("probability that a test row misses each modality")
ax_scores.set_ylabel("test accuracy")
ax_scores.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Every model degrades as information disappears; none of them needs the rows
# to be complete, and none needs an imputation model. On this additive, linear
# problem the three stay close (the vote predicts the class prior for a row that
# keeps only 'notes', the modality it gave weight 0): which one degrades least
# depends on the data,
# so measure it with the pattern of gaps you expect (for example with
# :func:`~skfusion.model_selection.compare_fusion` on data with gaps).
