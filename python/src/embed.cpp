// adakit._adakit embeddings: the GloVe pipeline in one call (embed::run_pipeline, `adakit embed all`)
// and word vectors with their queries (embed::WordVectors, nearest, analogy: `adakit embed nearest |
// analogy`). The GIL is released while the pipeline runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/embed/pipeline.hpp"
#include "adakit/embed/vectors.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

using embed::WordVectors;

py::list neighbours_list(const std::vector<embed::Neighbour>& ns) {
  py::list out;
  for (const auto& n : ns) out.append(py::make_tuple(n.word, n.similarity));
  return out;
}

}  // namespace

void bind_embed(py::module_& m) {
  py::class_<WordVectors>(m, "WordVectors", "embed::WordVectors: words and their float32 vectors, for queries")
      .def(py::init([](std::vector<std::string> words, const py::array_t<float, py::array::c_style | py::array::forcecast>& values) {
             if (values.ndim() != 2) throw py::value_error("vectors: expected an array [words, dim]");
             return WordVectors(std::move(words), values.shape(1),
                                std::vector<float>(values.data(), values.data() + values.size()));
           }),
           py::arg("words"), py::arg("vectors"))
      .def_property_readonly("words", &WordVectors::words)
      .def_property_readonly("dim", &WordVectors::dim)
      .def("__len__", &WordVectors::size)
      .def("index", &WordVectors::index, py::arg("word"), "0-based row of the word, -1 when absent")
      .def_property_readonly("vectors",
                             [](const WordVectors& v) {
                               py::array_t<float> out({v.size(), v.dim()});
                               for (std::int64_t i = 0; i < v.size(); ++i) {
                                 const auto r = v.row(i);
                                 std::copy(r.begin(), r.end(), out.mutable_data() + i * v.dim());
                               }
                               return out;
                             },
                             "a copy [words, dim]")
      .def("nearest", [](const WordVectors& v, const std::string& word, std::int64_t k) { return neighbours_list(embed::nearest(v, word, k)); },
           py::arg("word"), py::arg("k") = 10, "embed::nearest: [(word, cosine)] of the k most similar words")
      .def("analogy",
           [](const WordVectors& v, const std::string& a, const std::string& b, const std::string& c, std::int64_t k) {
             return neighbours_list(embed::analogy(v, a, b, c, k));
           },
           py::arg("a"), py::arg("b"), py::arg("c"), py::arg("k") = 10, "embed::analogy: a : b :: c : ?, [(word, cosine)]");

  m.def(
      "read_vectors",
      [](const std::filesystem::path& path, const std::string& vocab, const std::string& format,
         const std::string& model) {
        std::string fmt = format;
        if (fmt == "auto") fmt = path.extension() == ".bin" ? "binary" : "text";
        py::gil_scoped_release nogil;
        if (fmt == "text") return embed::read_vectors_text(path);
        if (fmt != "binary") throw UsageError("format must be auto, text or binary, not '" + format + "'", {"", 0, "format"});
        if (vocab.empty()) throw UsageError("a binary vectors file needs its vocabulary file", {"", 0, "vocab"});
        return embed::read_vectors_binary_words(path, vocab, embed::vectors_model_from_string(model));
      },
      py::arg("path"), py::arg("vocab") = "", py::arg("format") = "auto", py::arg("model") = "sum",
      "A text vectors file, or GloVe's binary parameters with their vocabulary file (format auto: binary for .bin)");

  m.def(
      "embed_pipeline",
      [](const std::filesystem::path& corpus, const std::filesystem::path& out, std::int64_t min_count, std::int64_t max_vocab,
         const std::string& tokenizer, std::int32_t window, bool symmetric, bool distance_weighting, double memory_gb,
         std::int64_t max_product, std::int64_t overflow_length, const std::string& temp_dir,
         std::optional<std::int32_t> vector_size, std::int32_t iterations, double eta, double x_max, double alpha, double grad_clip,
         const std::string& convention, double eps, std::optional<double> initial_accumulator, const std::string& shuffle,
         std::uint64_t seed, std::int32_t threads, const std::string& init, const std::string& model, bool header,
         bool unk_vector, const std::vector<std::string>& show) {
        embed::PipelineOptions o;
        o.corpus = corpus;
        o.out = out;
        o.vocab.min_count = min_count;
        o.vocab.max_vocab = max_vocab;
        o.vocab.tokenizer = embed::tokenizer_from_string(tokenizer);
        o.cooccur.window = window;
        o.cooccur.symmetric = symmetric;
        o.cooccur.distance_weighting = distance_weighting;
        o.cooccur.memory_gb = memory_gb;
        o.cooccur.max_product = max_product;
        o.cooccur.overflow_length = overflow_length;
        o.cooccur.temp_dir = temp_dir;
        o.cooccur.tokenizer = o.vocab.tokenizer;
        if (vector_size) o.glove.vector_size = *vector_size;
        o.glove.iterations = iterations;
        o.glove.step.eta = eta;
        o.glove.x_max = x_max;
        o.glove.alpha = alpha;
        o.glove.step.grad_clip = grad_clip;
        o.glove.step.convention = embed::glove_convention_from_string(convention);
        o.glove.step.eps = eps;
        o.glove.initial_accumulator = initial_accumulator;
        o.glove.shuffle = embed::shuffle_mode_from_string(shuffle);
        o.glove.seed = seed;
        o.glove.threads = threads;
        o.start.init = init;
        o.start.vector_size_given = vector_size.has_value();  // with init: must match the file's d
        o.text.model = embed::vectors_model_from_string(model);
        o.text.header = header;
        o.text.unk_vector = unk_vector;
        o.show = show;
        embed::PipelineResult r;
        {
          py::gil_scoped_release nogil;
          r = embed::run_pipeline(o);
        }
        return py::make_tuple(json_to_py(r.summary), embed::word_vectors(r.run.model, r.vocab, o.text.model == embed::VectorsModel::all
                                                                                                    ? embed::VectorsModel::sum
                                                                                                    : o.text.model));
      },
      py::arg("corpus"), py::arg("out"), py::arg("min_count") = 1, py::arg("max_vocab") = 0,
      py::arg("tokenizer") = "whitespace", py::arg("window") = 15, py::arg("symmetric") = true,
      py::arg("distance_weighting") = true, py::arg("memory_gb") = 4.0, py::arg("max_product") = 0,
      py::arg("overflow_length") = 0, py::arg("temp_dir") = "", py::arg("vector_size") = py::none(),
      py::arg("iterations") = 25, py::arg("eta") = 0.05, py::arg("x_max") = 100.0, py::arg("alpha") = 0.75,
      py::arg("grad_clip") = 100.0, py::arg("convention") = "reference", py::arg("eps") = 1e-10,
      py::arg("initial_accumulator") = py::none(), py::arg("shuffle") = "once", py::arg("seed") = 0, py::arg("threads") = 0,
      py::arg("init") = "", py::arg("model") = "sum", py::arg("header") = false,
      py::arg("unk_vector") = true, py::arg("show") = std::vector<std::string>{},
      "embed::run_pipeline: vocabulary, co-occurrences, GloVe training and the files in `out`; returns "
      "(summary, WordVectors of the trained model)");
}

}  // namespace adakit::python
