// Labelled texts: the `label<TAB>text` reader and the bundled text datasets.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/readers.hpp"
#include "adakit/data/text.hpp"
#include "input_file.hpp"

namespace adakit::data {
namespace fs = std::filesystem;
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string stem(const fs::path& path) {
  std::string name = path.filename().string();
  for (const char* ext : {".gz", ".tsv", ".txt"})
    if (name.size() > std::string_view(ext).size() && name.ends_with(ext))
      name.resize(name.size() - std::string_view(ext).size());
  return name;
}

struct TextBuiltin {
  std::string_view name;
  std::string_view file;
};
constexpr auto kTextBuiltins = std::to_array<TextBuiltin>({{"sentiment-tiny", "sentiment-tiny.tsv"}});
static_assert(kTextBuiltins.size() == 1, "a new text dataset needs its file in data/, its tests (tests/data) and docs");
// text_builtin_names() hands out this list; it must list the table's names, in order.
constexpr std::array<std::string_view, kTextBuiltins.size()> kTextBuiltinNames = {"sentiment-tiny"};
constexpr bool names_match() {
  for (std::size_t i = 0; i < kTextBuiltins.size(); ++i)
    if (kTextBuiltins[i].name != kTextBuiltinNames[i]) return false;
  return true;
}
static_assert(names_match(), "kTextBuiltinNames lists kTextBuiltins' names, in order");
constexpr Registry<TextBuiltin> kTextRegistry{
    kTextBuiltins, {"unknown text dataset '{name}' (built-in text datasets: {names})", "dataset"}};
static_assert(kTextRegistry.names_are_unique(), "two text datasets share a name");

}  // namespace

TextDataset parse_text_tsv(std::string_view text, const std::string& source, bool weight_column, bool multilabel) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  std::vector<std::string> raw_labels;
  std::vector<std::size_t> label_ends;  // multilabel: raw_labels[label_ends[i-1] .. label_ends[i]) are line i's
  TextDataset d;
  std::int64_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::string_view line = detail::take_line(text);
    if (trim(line).empty()) continue;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) throw Error("no tab: expected 'label<TAB>text'", {source, line_no, "column 1"});
    const std::string_view label = trim(line.substr(0, tab));
    if (label.empty()) throw Error("empty label before the tab", {source, line_no, "column 1"});
    if (multilabel) {  // a,b,c: each class once, spaces around each trimmed
      for (std::size_t at = 0; at <= label.size();) {
        const std::size_t comma = std::min(label.find(',', at), label.size());
        const std::string_view one = trim(label.substr(at, comma - at));
        if (one.empty())
          throw Error("empty label in '" + std::string(label) + "' (multilabel: comma-separated names)",
                      {source, line_no, "column 1"});
        raw_labels.emplace_back(one);
        at = comma + 1;
      }
      label_ends.push_back(raw_labels.size());
    } else {
      raw_labels.emplace_back(label);
    }
    std::string_view rest = line.substr(tab + 1);
    if (weight_column) {
      const std::size_t tab2 = rest.find('\t');
      if (tab2 == std::string_view::npos)
        throw Error("no second tab: expected 'label<TAB>weight<TAB>text'", {source, line_no, "weight"});
      const std::string_view w = trim(rest.substr(0, tab2));
      double value = 0.0;
      const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), value);
      if (w.empty() || ec != std::errc() || end != w.data() + w.size() || !std::isfinite(value) || value < 0.0 ||
          !std::isfinite(static_cast<float>(value)))
        throw Error("weight '" + std::string(w) + "' is not a finite number >= 0", {source, line_no, "weight"});
      d.weights.push_back(static_cast<float>(value));
      rest = rest.substr(tab2 + 1);
    }
    d.texts.emplace_back(rest);
  }
  if (d.texts.empty()) throw Error("no 'label<TAB>text' line", {source, 0, ""});
  std::map<std::string, std::int32_t> classes;
  for (const auto& l : raw_labels) classes.emplace(l, 0);
  for (auto& [name, id] : classes) {
    id = static_cast<std::int32_t>(d.class_names.size());
    d.class_names.push_back(name);
  }
  if (!multilabel) {
    d.labels.reserve(raw_labels.size());
    for (const auto& l : raw_labels) d.labels.push_back(classes.at(l));
    return d;
  }
  std::vector<std::int32_t> ids;
  ids.reserve(raw_labels.size());
  for (const auto& l : raw_labels) ids.push_back(classes.at(l));
  d.label_sets.add_rows(ids, label_ends, d.labels);
  return d;
}

TextDataset read_text_tsv(const fs::path& path, bool weight_column, bool multilabel) {
  std::vector<unsigned char> bytes;
  {
    detail::InputFile in(path);
    bytes = in.read_rest();
  }
  TextDataset d =
      parse_text_tsv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string(),
                     weight_column, multilabel);
  d.name = stem(path);
  return d;
}

std::span<const std::string_view> text_builtin_names() { return kTextBuiltinNames; }

TextDataset load_text_builtin(std::string_view name, const fs::path& data_dir) {
  if (const TextBuiltin* found = kTextRegistry.find(name)) {
    const TextBuiltin& b = *found;
    const auto dirs = data_search_path(data_dir);
    for (const auto& dir : dirs) {
      std::error_code ec;
      if (!fs::is_regular_file(dir / b.file, ec)) continue;
      TextDataset d = read_text_tsv(dir / b.file);
      d.name = std::string(b.name);
      return d;
    }
    std::string looked;
    for (const auto& dir : dirs) looked += (looked.empty() ? "" : ", ") + dir.string();
    throw MissingDataError(std::string(name) + ": " + std::string(b.file) + " not found (looked in: " + looked +
                           "). It is bundled with adakit (data/" + std::string(b.file) +
                           "); or set ADAKIT_DATA to a directory holding it");
  }
  kTextRegistry.throw_unknown(name);
}

TextDataset TextDataset::subset(std::span<const std::int64_t> rows) const {
  TextDataset out;
  out.name = name;
  out.class_names = class_names;
  out.texts.reserve(rows.size());
  out.labels.reserve(rows.size());
  for (auto r : rows) {
    if (r < 0 || r >= size())
      throw UsageError("TextDataset::subset: row " + std::to_string(r) + " is outside [0, " + std::to_string(size()) + ")");
    out.texts.push_back(texts[static_cast<std::size_t>(r)]);
    if (!labels.empty()) out.labels.push_back(labels[static_cast<std::size_t>(r)]);
    if (!weights.empty()) out.weights.push_back(weights[static_cast<std::size_t>(r)]);
  }
  if (!label_sets.empty()) out.label_sets = label_sets.subset(rows);
  return out;
}

}  // namespace adakit::data
