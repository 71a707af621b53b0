// io/linear_model.hpp's optional bucket terms (adakit train --keep-bucket-names): kept by both encodings
// as saved, absent from files written without them (as every file before), refused where they do not
// belong, and a damaged entry is an Error naming it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"

namespace {
using namespace adakit;

struct Hashed {
  data::PreparedSparseData d;
  data::BucketTerms terms;
  linear::LinearModel model{linear::LinearTask::logistic, 1};
};

Hashed hashed_model(std::int32_t hash_bits = 6) {
  data::PrepareOptions o;
  o.data = "sentiment-tiny";
  o.test_split = 0.3;
  o.keep_train_texts = true;
  data::TextVectorizerOptions t;
  t.ngram_max = 2;
  t.hash_bits = hash_bits;
  o.text = t;
  Hashed h;
  h.d = data::prepare_sparse_data(o);
  EXPECT_EQ(static_cast<std::int64_t>(h.d.train_texts.size()), h.d.train.size());
  h.terms = data::BucketTerms::collect(*h.d.vectorizer, h.d.train_texts);
  h.model = linear::LinearModel::for_dataset(h.d.train, h.d.train.features.cols);
  for (std::int64_t j = 0; j < h.model.dim(); ++j) h.model.weight_row(j)[0] = 0.01f * static_cast<float>(j % 7);
  return h;
}

std::string error_field(const std::filesystem::path& p) {
  try {
    io::read_linear_model(p);
  } catch (const Error& e) {
    return e.context().field;
  }
  return "(read)";
}

TEST(LinearModelBucketTerms, KeptByBothEncodings) {
  adakit::test::TempDir dir;
  const Hashed h = hashed_model();
  ASSERT_GT(h.terms.num_buckets(), 0);
  for (const char* name : {"m.bin", "m.json"}) {
    SCOPED_TRACE(name);
    io::save_linear_model(dir / name, h.model, &*h.d.vectorizer, nullptr, &h.terms);
    const auto back = io::read_linear_model(dir / name);
    ASSERT_TRUE(back.bucket_terms.has_value());
    EXPECT_EQ(back.bucket_terms->to_json(), h.terms.to_json());
    EXPECT_EQ(back.model.config(), h.model.config());
  }
  // Without them: a file as every file before, read with none.
  io::save_linear_model(dir / "plain.bin", h.model, &*h.d.vectorizer);
  io::save_linear_model(dir / "plain.json", h.model, &*h.d.vectorizer);
  EXPECT_FALSE(io::read_linear_model(dir / "plain.bin").bucket_terms.has_value());
  EXPECT_FALSE(io::read_linear_model(dir / "plain.json").bucket_terms.has_value());
  EXPECT_FALSE(io::read_safetensors(dir / "plain.bin").metadata.contains("adakit.bucket_terms"));
}

TEST(LinearModelBucketTerms, RefusedWhereTheyDoNotBelong) {
  adakit::test::TempDir dir;
  const Hashed h = hashed_model();
  // A model without a hashing vectorizer: saving refuses them.
  EXPECT_THROW(io::save_linear_model(dir / "m.bin", h.model, nullptr, nullptr, &h.terms), UsageError);
  data::TextVectorizer vocabulary{data::TextVectorizerOptions{}};
  vocabulary.fit(h.d.train_texts);
  EXPECT_THROW(io::save_linear_model(dir / "m.json", h.model, &vocabulary, nullptr, &h.terms), UsageError);
  // A JSON LIBSVM model carrying them.
  io::save_linear_model(dir / "libsvm.json", h.model);
  auto doc = nlohmann::json::parse(read_file_bytes(dir / "libsvm.json"));
  doc["bucket_terms"] = h.terms.to_json();
  write_file_atomic(dir / "libsvm.json", doc.dump());
  EXPECT_EQ(error_field(dir / "libsvm.json"), "bucket_terms");
  // A JSON text model whose term does not hash to its column.
  io::save_linear_model(dir / "bad.json", h.model, &*h.d.vectorizer, nullptr, &h.terms);
  doc = nlohmann::json::parse(read_file_bytes(dir / "bad.json"));
  doc["bucket_terms"]["terms"][0][0] = "zzzz-not-here";
  write_file_atomic(dir / "bad.json", doc.dump());
  const std::string field = error_field(dir / "bad.json");
  EXPECT_TRUE(field == "bucket_terms.terms" || field == "bucket_terms.counts") << field;
}

TEST(LinearModelBucketTerms, DamagedBinaryEntriesAreNamed) {
  adakit::test::TempDir dir;
  const Hashed h = hashed_model();
  io::save_linear_model(dir / "m.bin", h.model, &*h.d.vectorizer, nullptr, &h.terms);
  const io::TensorFile good = io::read_safetensors(dir / "m.bin");
  const auto damaged = [&](auto&& change) {
    io::TensorFile f = good;
    change(f);
    io::write_safetensors(dir / "d.bin", f);  // fresh checksums: the reader's own checks must catch it
    return error_field(dir / "d.bin");
  };
  // The tensors without their metadata entry (and the reverse).
  EXPECT_EQ(damaged([](io::TensorFile& f) { f.metadata.erase("adakit.bucket_terms"); }), "bucket_terms.columns");
  EXPECT_EQ(damaged([](io::TensorFile& f) { f.raw.erase("bucket_terms.counts"); }), "bucket_terms.counts");
  EXPECT_EQ(damaged([](io::TensorFile& f) { f.metadata["adakit.bucket_terms"] = "{\"per_bucket\": 0}"; }),
            "adakit.bucket_terms.per_bucket");
  EXPECT_EQ(damaged([](io::TensorFile& f) { f.metadata["adakit.bucket_terms"] = "[]"; }), "adakit.bucket_terms");
  EXPECT_EQ(damaged([](io::TensorFile& f) {
              auto v = f.raw["bucket_terms.columns"].values<std::int32_t>();
              v.back() = 1 << 20;  // beyond the 2^6 columns
              f.raw["bucket_terms.columns"] = io::RawTensor::of<std::int32_t>(v);
            }),
            "bucket_terms.columns");
  EXPECT_EQ(damaged([](io::TensorFile& f) {
              auto v = f.raw["bucket_terms.counts"].values<std::int64_t>();
              f.raw["bucket_terms.counts"] = io::RawTensor::of<double>(std::vector<double>(v.size(), 1.0));
            }),
            "bucket_terms.counts");
  EXPECT_EQ(damaged([](io::TensorFile& f) {
              auto v = f.raw["bucket_terms.term_offsets"].values<std::int64_t>();
              v.pop_back();
              f.raw["bucket_terms.term_offsets"] = io::RawTensor::of<std::int64_t>(v);
            }),
            "bucket_terms.term_offsets");
  // A LIBSVM model's file with them.
  EXPECT_EQ(damaged([&](io::TensorFile& f) {
              f.metadata["adakit.input"] = "libsvm";
              f.metadata.erase("adakit.vectorizer");
              for (const char* t : {"vectorizer.terms", "vectorizer.term_offsets", "vectorizer.idf", "vectorizer.idf_columns"})
                f.raw.erase(t);
            }),
            "adakit.bucket_terms");
}

}  // namespace
