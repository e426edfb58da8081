"""
===============================================
Aligning two modalities in a shared space
===============================================

Two modalities of the handwritten digits describe the same images with
different feature extractors: 76 Fourier coefficients (``fou``) and 64
Karhunen-Loève coefficients (``kar``). Alignment maps both into one space where
the two descriptions of the same image land close together. We compare

- :class:`~skfusion.MultiviewCCA`: regularised multi-set CCA, linear and in
  closed form;
- :class:`skfusion.nn.ContrastiveAlignment`: a small projection head per
  modality trained with CLIP's symmetric InfoNCE loss (torch);
- principal components of each modality on its own (no alignment), as a
  baseline,

by cross-modal retrieval on 500 held-out digits: for each ``fou`` embedding, is
the ``kar`` embedding of the *same image* among its ``k`` nearest?
(:func:`~skfusion.metrics.recall_at_k`; chance is ``k / 500``.) See
:ref:`user_guide_alignment`.
"""

# %%
# Fit the alignments on 1,500 digits
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import MultiviewCCA
from skfusion.datasets import load_mfeat
from skfusion.metrics import recall_at_k
from skfusion.nn import ContrastiveAlignment

threadpool_limits(1)  # one BLAS thread
torch.set_num_threads(1)

mfeat = load_mfeat()
two = {"fou": mfeat.modalities["fou"], "kar": mfeat.modalities["kar"]}
X_train, X_test, y_train, y_test = train_test_split(
    mfeat.data, mfeat.target, test_size=500, random_state=0, stratify=mfeat.target
)
k = 10  # dimension of every shared space

mcca = MultiviewCCA(two, n_components=k, output="concat").fit(X_train)
contrastive = ContrastiveAlignment(
    two, latent_dim=k, max_epochs=100, output="concat", random_state=0
).fit(X_train)


def pca_pair(X_fit, X_eval):
    """Each modality's own first k principal components: no alignment."""
    blocks = []
    for columns in two.values():
        pca = make_pipeline(StandardScaler(), PCA(k)).fit(X_fit[:, columns])
        blocks.append(pca.transform(X_eval[:, columns]))
    return np.hstack(blocks)


embeddings = {
    "multi-view CCA": mcca.transform(X_test),
    "contrastive (InfoNCE)": contrastive.transform(X_test),
    "PCA per modality (unaligned)": pca_pair(X_train, X_test),
}

# %%
# Cross-modal retrieval
# ---------------------
ks = [1, 2, 5, 10, 20, 50, 100]
recalls = {
    name: [recall_at_k(Z[:, :k], Z[:, k:], k=top) for top in ks] for name, Z in embeddings.items()
}
print("k:".ljust(30) + "".join(f"{top:7d}" for top in ks))
for name, values in recalls.items():
    print(f"{name:30}" + "".join(f"{v:7.3f}" for v in values))
print("chance".ljust(30) + "".join(f"{top / len(X_test):7.3f}" for top in ks))

# %%
# Both alignments find an image's partner far above chance; the unaligned
# principal components do not (each modality's components are computed
# without looking at the other). Left: recall@k. Right: the first two
# canonical components of the test digits, seen through each modality
# (circles: ``fou``, crosses: ``kar``), coloured by digit: the two descriptions
# of each digit class overlap.
fig, (ax_recall, ax_space) = plt.subplots(1, 2, figsize=(10, 4))
for name, values in recalls.items():
    ax_recall.plot(ks, values, "-o", label=name)
ax_recall.plot(ks, np.array(ks) / len(X_test), "k:", label="chance")
ax_recall.set_xscale("log")
ax_recall.set_xlabel("k")
ax_recall.set_ylabel("recall@k, fou -> kar")
ax_recall.legend(fontsize="small")

Z = embeddings["multi-view CCA"]
for start, marker in [(0, "o"), (k, "x")]:
    ax_space.scatter(
        Z[:, start], Z[:, start + 1], c=y_test, cmap="tab10", marker=marker, s=12, alpha=0.6
    )
ax_space.set_xlabel("canonical component 1")
ax_space.set_ylabel("canonical component 2")
ax_space.set_title("multi-view CCA: fou (o) and kar (x)")
fig.tight_layout()
plt.show()

# %%
# The canonical correlations of the training digits say how much the two
# modalities share along each direction:
print(mcca.canonical_correlations_.round(2))
