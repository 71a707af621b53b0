"""Datasets as adakit's models take them (include/adakit/data/).

``prepare_data("iris", seed=0)`` loads a built-in dataset or a CSV file, holds out a seeded, stratified
test split (and a validation split), and fits the standard scaler on the training split only, exactly
as ``adakit train`` does (data::prepare_data). ``prepare_sparse_data`` does the same for LIBSVM files
and text-tsv sources (bag of words through a TextVectorizer fitted on the training split). Arrays come
back as NumPy views of the dataset's memory::

    d = adakit.data.prepare_data("iris", test_split=0.2, seed=0)
    d.train.features, d.train.labels, d.train.class_names, d.scaler_mean
    s = adakit.data.prepare_sparse_data("sentiment-tiny", text=adakit.data.TextVectorizer(ngram_max=2))
    s.train.X            # (rows, cols, indptr, indices, data): what adakit.sklearn and linear_fit take
"""

from ._adakit import (Dataset, PreparedData, PreparedSparseData, SparseDataset, TextVectorizer, builtin_datasets,
                      guess_format, load_data, prepare_data, prepare_sparse_data)

__all__ = ["Dataset", "PreparedData", "SparseDataset", "PreparedSparseData", "TextVectorizer", "prepare_data",
           "prepare_sparse_data", "load_data", "builtin_datasets", "guess_format"]
