"""Shared set-up of the skfusion.tables tests: no hub access, and a tiny sentence model.

The tiny model (a one-layer BERT of width 16 over a 40-word vocabulary, mean
pooled) is built and saved inside the test session, so that embedding tests
run in seconds and nothing is downloaded.
"""

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from _tables import VOCABULARY


def build_tiny_sentence_model(folder, seed=0):
    """Save a tiny sentence-transformers model (BERT, hidden size 16) under ``folder``."""
    pytest.importorskip("sentence_transformers")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    bert = folder / "bert"
    bert.mkdir(parents=True)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    (bert / "vocab.txt").write_text("\n".join(special + VOCABULARY) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(bert / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(special) + len(VOCABULARY),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(bert)
    tokenizer.save_pretrained(bert)
    word = Transformer(str(bert), max_seq_length=32)
    pooling = Pooling(16, "mean")
    model_folder = folder / "sentence_model"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(model_folder))
    return model_folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Folder of a tiny sentence-transformers model (16 dimensions), built once per worker."""
    return build_tiny_sentence_model(tmp_path_factory.mktemp("tiny_model"))
