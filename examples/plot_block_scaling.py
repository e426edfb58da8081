"""
====================================================
Block scaling: a wide weak modality and a narrow one
====================================================

Early fusion concatenates the modalities and fits one model. When one modality
has four strong columns and another has hundreds of weak ones, standardising
every column and concatenating lets the wide modality dominate an L2-penalised
model: each block's total variance is its number of columns.
:class:`~skfusion.FeatureFusion` scales every block to the same total variance
(``block_scaling="variance"``) or the same first-eigenvalue
(``block_scaling="mfa"``, as in multiple factor analysis).

This example widens the weak modality from 10 to 800 columns and measures the
cross-validated accuracy of each way of fusing. See
:ref:`user_guide_early_fusion`.
"""

# %%
# Data: a 4-column modality with strong signal and a wide one with weak signal
# -----------------------------------------------------------------------------
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import FeatureFusion
from skfusion.datasets import make_multimodal_classification

# One BLAS thread: on problems this small more threads only compete for the
# cores (called after NumPy and SciPy are loaded, so that it applies to them).
threadpool_limits(1)

cv = StratifiedKFold(5, shuffle=True, random_state=0)
widths = [10, 50, 100, 200, 400, 800]


def models(modalities):
    """The ways of fusing compared, all ending in the same logistic regression."""
    return {
        "narrow modality alone": make_pipeline(
            FeatureFusion({"narrow": modalities["narrow"]}), LogisticRegression()
        ),
        "standardise + concatenate": make_pipeline(StandardScaler(), LogisticRegression()),
        'FeatureFusion, block_scaling="mfa"': make_pipeline(
            FeatureFusion(modalities, block_scaling="mfa"), LogisticRegression()
        ),
        'FeatureFusion, block_scaling="variance"': make_pipeline(
            FeatureFusion(modalities), LogisticRegression()
        ),
        "... and weights={'narrow': 2}": make_pipeline(
            FeatureFusion(modalities, weights={"narrow": 2.0}), LogisticRegression()
        ),
    }


# %%
# Cross-validated accuracy as the weak modality widens
# ----------------------------------------------------
scores = {}
for width in widths:
    X, y, modalities = make_multimodal_classification(
        n_samples=300,
        widths={"narrow": 4, "wide": width},
        signal={"narrow": 1.5, "wide": 0.5},
        random_state=0,
    )
    for name, model in models(modalities).items():
        scores.setdefault(name, []).append(cross_val_score(model, X, y, cv=cv).mean())

print("wide columns:".ljust(42) + "".join(f"{w:>7}" for w in widths))
for name, values in scores.items():
    print(f"{name:42}" + "".join(f"{v:7.3f}" for v in values))

# %%
# Standardising and concatenating loses more the wider the weak modality gets;
# block scaling keeps the fused model within about a point of the narrow
# modality's own accuracy (or above it), whatever the width. ``"mfa"`` equalises each block's *first*
# principal axis only: a wide block of nearly independent columns keeps a large
# total variance, so it protects less here.
fig, ax = plt.subplots(figsize=(7, 4))
for name, values in scores.items():
    style = "--" if name == "narrow modality alone" else "-o"
    ax.plot(widths, values, style, label=name)
ax.set_xscale("log")
ax.set_xticks(widths, [str(w) for w in widths])
ax.set_xlabel("columns of the weak modality")
ax.set_ylabel("5-fold accuracy")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
