// Compact, predict-only sparse linear model files: what `adakit export` writes, and what `adakit predict`
// and `adakit serve` (without --learn) read through io::read_linear_model, which tells the formats apart.
//
// What export does to a model (compact_model):
//   prune          drop every feature whose weights are all |w| <= prune
//   prune_weights  set each single weight |w| <= prune_weights to 0 (a feature left with no weight is
//                  dropped, so features go at max(prune, prune_weights))
//   quantize int8  symmetric, one float32 scale per group: s = max|w| / 127 over the group,
//                  q = round(w / s) (half away from zero) in [-127, 127]; a prediction uses w' = s * q,
//                  and |w - w'| <= s / 2. The group is an output column (scale_by output, the default:
//                  one scale per class) or a feature's row (scale_by feature). A feature whose int8
//                  weights are all 0 is dropped too. Why per output column: on the Debian descriptions
//                  task (35 classes, docs/performance.md "Compact models") it predicts as well as per-row
//                  scales (0.7777 against 0.7773 at prune 1.25) and its small weights round to 0 (48% of
//                  them against 1%), which the compression below turns into half the weight bytes; a
//                  one-output model (logistic, squared) gets a single scale, where per-row scales would
//                  cost more than the float32 weight itself.
//   quantize none  the weights as float32, exactly.
//   vocabulary     a vocabulary text model keeps only the terms of the features kept, renumbered in their
//                  order (keep_vocabulary: every term stays). With tf-idf the l2 norm of a document is
//                  then taken over the kept terms only; keep_vocabulary keeps it exact. A hashed model
//                  keeps its vectorizer whole (its idf table, so norms stay exact) and the kept buckets.
//   retrain        (compact_model_retrained; adakit export --retrain-data, fastText's `quantize -retrain`)
//                  between the pruning and the quantization, the kept features train on: a few more epochs
//                  from their weights on the training data, read through the pruned model (its cut
//                  vocabulary: tf-idf norms over the kept terms, as predictions take them), a pruned
//                  feature held at 0. What pruning took from the other weights is learnt back: on the
//                  Debian descriptions 9,961 of 120,469 features score -0.11 points against the full model
//                  retrained, -0.82 not (docs/performance.md, "Compact models").
// Predictions read the dequantized weights as a LinearModel, so every route that predicts with a
// LinearModelFile predicts with an exported one. With quantize none, prune 0 and either keep_vocabulary,
// no weighting but tf-idf, or no all-zero feature, predictions are bit-identical to the source model's.
//
// File ("adakit.linear.compact.v1"): a safetensors file (io/safetensors.hpp), so it carries the same
// header and payload FNV-1a checksums, strict header parsing and atomic writes as every adakit file.
// Every tensor is U8 [n]: an 8-byte little-endian length of the decoded bytes, then a zlib (deflate)
// stream of them. Deflate because it halves what matters: on the Debian task the int8 weights compress
// about 3x (most are small and many 0) and the vocabulary about 2x (numbers in the docs). The tables,
// decoded:
//   "weight.rows"    the kept features, increasing: unsigned LEB128 varints of the gaps f[i] - f[i-1] - 1
//                    (f[-1] = -1; a cut vocabulary's rows are 0..K-1, all gaps 0)
//   "weight.values"  int8 [K, outputs] (quantize int8) or float32 [K, outputs] (quantize none), row-major
//   "weight.scales"  float32 [outputs] (scale_by output) or [K] (scale_by feature); int8 only
//   "bias"           float32 [outputs]
//   text models, always all four (empty where they do not apply; files before "vectorizer.df" have three):
//   "vectorizer.terms"        the vocabulary front-coded in column order: per term, varint length of the
//                             prefix it shares with the previous term, varint length of the rest, the rest
//   "vectorizer.idf"          float64, as TextVectorizer::idf(); empty when "vectorizer.df" holds it
//   "vectorizer.df"           the idf as document counts: a varint df in [1, num_documents] per idf
//                             entry, read back as data::idf_from_df(df, num_documents, smooth_idf), which
//                             the writer checked gives every value bit for bit (else this table is empty
//                             and "vectorizer.idf" has them). Half the bytes of the float64 table on the
//                             Debian task (7.4 KB against 14.8 KB at 9,955 terms). Files written before
//                             this table have none, and read as before.
//   "vectorizer.idf_columns"  varint gaps of TextVectorizer::idf_columns() (hashed tf-idf)
// Metadata: "format", "adakit.architecture" (LinearModel::config of the model it predicts as: dim is
// the cut vocabulary's size), "adakit.input" ("text" | "libsvm"), "adakit.vectorizer" (text models:
// TextVectorizer::to_json(false)), "adakit.export" (JSON: quantize, scale_by, prune, prune_weights,
// keep_vocabulary, features (K), source_dim, source_features).
// Reading is strict: every truncation and changed byte is an Error naming the file (the checksums),
// and, checksums aside, every table must decode to exactly its declared size (no trailing bytes, no
// overlong varint, q = -128 refused), scales finite and >= 0, weights finite. Allocation: a model of
// the declared dim x outputs (as read_linear_model), decoded tables of at most 1032x their compressed
// bytes (deflate's largest ratio) and a vocabulary of at most 256x its encoded bytes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adakit/data/text.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"

namespace adakit::io {

inline constexpr const char* kCompactModelFormat = "adakit.linear.compact.v1";

enum class Quantize { none, int8 };
enum class QuantizeScale { output, feature };  // int8: one scale per output column, or per feature row
std::string_view to_string(Quantize q);
std::string_view to_string(QuantizeScale s);
Quantize quantize_from_string(std::string_view text);             // "none" | "int8"; UsageError naming "quantize"
QuantizeScale quantize_scale_from_string(std::string_view text);  // "output" | "feature"; UsageError naming "scale-by"

struct CompactOptions {
  double prune = 0.0;          // drop features whose weights are all |w| <= prune
  double prune_weights = 0.0;  // set single weights |w| <= prune_weights to 0 (0: none)
  Quantize quantize = Quantize::int8;
  QuantizeScale scale_by = QuantizeScale::output;
  bool keep_vocabulary = false;  // text vocabulary models: keep every term (exact tf-idf norms)
  // UsageError naming "prune" / "prune-weights" (the CLI's flags) unless finite and >= 0.
  void validate() const;
};

// Symmetric int8 (see the top): the scale of a group whose largest |w| is max_abs (max_abs / 127 in
// float32; 0 for an all-zero group), one value's q, and its dequantized value.
float int8_scale(float max_abs);
std::int8_t quantize_int8(float w, float scale);  // round(w / scale) in [-127, 127]; 0 when scale is 0
inline float dequantize_int8(std::int8_t q, float scale) { return scale * static_cast<float>(q); }

// A compact model in memory (what the file holds, decoded).
struct CompactModel {
  nlohmann::json config;  // LinearModel::config() of the model it predicts as
  std::string input = "libsvm";  // "libsvm" | "text"
  CompactOptions options;
  std::vector<std::int64_t> rows;       // kept features (columns of config's model), increasing
  std::vector<float> values;            // quantize none: rows.size() x outputs
  std::vector<std::int8_t> quantized;   // quantize int8: rows.size() x outputs
  std::vector<float> scales;            // int8: outputs (scale_by output) or rows.size() (scale_by feature)
  std::vector<float> bias;              // outputs
  std::optional<data::TextVectorizer> vectorizer;  // text models
  std::optional<linear::Calibrator> calibrator;    // a calibrated model's (metadata "adakit.calibration", JSON)
  std::int64_t source_dim = 0, source_features = 0;  // the model it was made from: dim, features with a weight

  std::int64_t outputs() const { return static_cast<std::int64_t>(bias.size()); }
  // Row i's weights as a prediction reads them (dequantized): rows.size() x outputs.
  std::vector<float> weights() const;
  // The model to predict with: a LinearModel of config with these weights, the vectorizer, and
  // predict_only set. Error naming "weight.values" / "vectorizer" on a model that does not hold together.
  LinearModelFile to_model_file() const;
};

// What compact_model did.
struct CompactStats {
  std::int64_t source_dim = 0, source_features = 0;  // the source's features, those with a nonzero weight
  std::int64_t pruned = 0;          // features with a weight dropped by prune / prune_weights
  std::int64_t quantized_away = 0;  // features dropped because their int8 weights are all 0
  std::int64_t kept = 0;
  std::int64_t weights_zeroed = 0;  // single weights of kept features set to 0 by prune_weights
  std::int64_t terms_before = 0, terms_after = 0;  // vocabulary terms (0 for hashed and LIBSVM models)
  double max_abs_error = 0.0;  // largest |w - w'| over the kept features' weights
};

// The compact model of `file` (its weights as read for predictions). UsageError on bad options, naming
// "prune" when the thresholds leave no feature, "model" when the model has no nonzero weight.
CompactModel compact_model(const LinearModelFile& file, const CompactOptions& options, CompactStats* stats = nullptr);

// Retraining after pruning (see the top): compact_model at prune = max(prune, prune_weights) with the
// weights kept as float32 (and the vocabulary cut unless keep_vocabulary); then linear::fit of the kept
// features, from their weights, with `optimizer` and `fit`, on read_train(the pruned model) with every
// column outside the kept features dropped from its rows (so a pruned feature stays 0); then
// compact_model of the result with prune 0 and the other options as given (prune_weights, quantize,
// scale_by). The result's options and stats name the source model and the prune given (stats: pruned,
// terms_before from the first pass; kept, quantized_away, weights_zeroed, terms_after, max_abs_error —
// against the retrained weights — from the second). UsageError naming "retrain-data" on a calibrated
// model (its calibration was fitted on the weights retraining changes) or training data with no row.
CompactModel compact_model_retrained(const LinearModelFile& file, const CompactOptions& options,
                                     const std::function<data::SparseDataset(const LinearModelFile&)>& read_train,
                                     linear::LinearOptimizer& optimizer, const linear::FitOptions& fit,
                                     CompactStats* stats = nullptr, linear::FitResult* result = nullptr);

// The file's bytes, and the file written atomically.
std::string compact_model_bytes(const CompactModel& model);
void write_compact_model(const std::filesystem::path& path, const CompactModel& model);

// Reads a compact file (`source` names it in errors; verify_checksums = false for the fuzzers).
CompactModel parse_compact_model(std::string_view bytes, const std::string& source, bool verify_checksums = true);
// The same from a parsed safetensors view whose payload checksum the caller checks (parse_linear_model).
CompactModel parse_compact_model(const SafetensorsView& view, const std::string& source);

// One table's encoding (see the top): the 8-byte decoded length and the zlib stream of `raw`, and back.
// decode: Error naming `source` and `field` unless the stream decodes to exactly its declared length
// with nothing after it.
std::string encode_compact_table(std::string_view raw);
std::string decode_compact_table(std::string_view bytes, const std::string& source, const std::string& field);

}  // namespace adakit::io
