"""
=====================================================
A small intermediate-fusion network, inspected
=====================================================

:class:`skfusion.nn.IntermediateFusionClassifier` gives each modality its own
encoder, fuses the encoders' outputs and predicts with a small head, all
trained together (torch, through skorch). With ``fusion="attention"`` the
network weighs the modalities *per row*, and
:meth:`~skfusion.nn.IntermediateFusionClassifier.attention_weights` shows those
weights. With ``early_stopping=True`` it holds out part of the training rows
and keeps the epoch with the best validation loss.

Three modalities: two carry signal, the third is noise. See
:ref:`user_guide_intermediate_fusion`.
"""

# %%
# Train with early stopping
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skfusion.datasets import make_multimodal_classification
from skfusion.nn import IntermediateFusionClassifier

threadpool_limits(1)  # one BLAS thread and one torch thread: the data are small
torch.set_num_threads(1)

X, y, modalities = make_multimodal_classification(
    n_samples=1000,
    widths={"audio": 8, "video": 12, "noise": 10},
    signal={"audio": 1.0, "video": 1.0, "noise": 0.0},
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)

net = IntermediateFusionClassifier(
    modalities,
    fusion="attention",
    latent_dim=16,
    early_stopping=True,
    max_epochs=200,
    n_iter_no_change=10,
    device="cpu",
    random_state=0,
).fit(X_train, y_train)

history = net.net_.history
print(f"stopped after {len(history)} epochs; test accuracy {net.score(X_test, y_test):.3f}")

# %%
# Attention weights per modality
# ------------------------------
# The weights of each test row sum to one over its modalities. When a modality
# is missing (all its columns NaN), it gets no weight at all.
weights = net.attention_weights(X_test)
X_no_audio = X_test.copy()
X_no_audio[:, modalities["audio"]] = np.nan
weights_no_audio = net.attention_weights(X_no_audio)
names = list(modalities)
print("mean attention, all modalities:", dict(zip(names, weights.mean(axis=0).round(3).tolist())))
print("mean attention, audio missing: ", dict(zip(names, weights_no_audio.mean(axis=0).round(3).tolist())))
print(f"test accuracy with audio missing: {net.score(X_no_audio, y_test):.3f}")

# %%
# Left: the training and validation losses per epoch; training stops once the
# validation loss has not improved for ``n_iter_no_change`` epochs and the best
# epoch's weights are restored. Right: the distribution of the attention
# weights over the test rows.
fig, (ax_loss, ax_attention) = plt.subplots(1, 2, figsize=(10, 3.8))
ax_loss.plot(history[:, "train_loss"], label="training loss")
ax_loss.plot(history[:, "valid_loss"], label="validation loss")
ax_loss.set_xlabel("epoch")
ax_loss.legend()
ax_attention.boxplot([weights[:, j] for j in range(len(names))], tick_labels=names)
ax_attention.set_ylabel("attention weight per test row")
fig.tight_layout()
plt.show()
