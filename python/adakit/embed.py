"""GloVe word vectors (include/adakit/embed/): the whole pipeline in one call, as ``adakit embed all``,
and the queries of ``adakit embed nearest`` / ``analogy``::

    summary, vectors = adakit.embed.run_pipeline("corpus.txt", "out", vector_size=50, iterations=25)
    vectors.nearest("king", k=8)            # [(word, cosine), ...]
    vectors.analogy("man", "king", "woman")  # man : king :: woman : ?
    v = adakit.embed.read_vectors("out/vectors.txt")   # or ("out/vectors.bin", vocab="out/vocab.txt")

``run_pipeline``'s keyword arguments mirror embed::PipelineOptions (VocabOptions, CooccurOptions,
GloveOptions, TextVectorsOptions) under the CLI's names; it writes vocab.txt, cooccurrence.bin,
vectors.txt, vectors.bin, cost.csv and summary.json into `out` and returns (summary, WordVectors).
"""

from ._adakit import WordVectors, read_vectors
from ._adakit import embed_pipeline as run_pipeline

__all__ = ["run_pipeline", "WordVectors", "read_vectors", "nearest", "analogy"]


def nearest(vectors, word, k=10):
    """The k words most similar to `word` by cosine: [(word, similarity)] (embed::nearest)."""
    return vectors.nearest(word, k)


def analogy(vectors, a, b, c, k=10):
    """a : b :: c : ? — the k best answers, [(word, similarity)] (embed::analogy)."""
    return vectors.analogy(a, b, c, k)
