// read_csv: a strict reader for numeric tables with one label column.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "input_file.hpp"

namespace adakit::data {
namespace {

// A finite number in the C locale ("+1.5", "-2e3", " 7 " after trimming); false for anything else,
// including nan and inf.
bool parse_number(std::string_view s, double& out) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

bool is_number(std::string_view s) {
  double v = 0.0;
  return parse_number(s, v);
}

// Splits text into records of cells, tracking the 1-based line where each record starts.
class CsvCursor {
 public:
  CsvCursor(std::string_view text, char delimiter, std::string file)
      : text_(text), delim_(delimiter), file_(std::move(file)) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte-order mark
  }

  // False at the end of the text. Blank lines are skipped.
  bool next(std::vector<std::string>& cells, std::int64_t& record_line) {
    cells.clear();
    skip_blank_lines();
    if (pos_ >= text_.size()) return false;
    record_line = line_;
    std::string cell;
    for (;;) {
      cell.clear();
      skip_spaces();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        read_quoted(cell, record_line, cells.size());
        skip_spaces();
        if (pos_ < text_.size() && text_[pos_] != delim_ && !is_eol(text_[pos_]))
          throw Error("unexpected character '" + std::string(1, text_[pos_]) + "' after a closing quote",
                      {file_, record_line, "column " + std::to_string(cells.size() + 1)});
      } else {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != delim_ && !is_eol(text_[pos_])) ++pos_;
        std::size_t end = pos_;
        while (end > start && is_space(text_[end - 1])) --end;
        cell.assign(text_.substr(start, end - start));
      }
      cells.push_back(cell);
      if (pos_ < text_.size() && text_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      consume_eol();
      return true;
    }
  }

 private:
  static bool is_eol(char c) { return c == '\n' || c == '\r'; }
  bool is_space(char c) const { return (c == ' ' || c == '\t') && c != delim_; }
  void skip_spaces() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  void consume_eol() {
    if (pos_ >= text_.size()) return;
    if (text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }
  void skip_blank_lines() {
    for (;;) {
      std::size_t p = pos_;
      while (p < text_.size() && is_space(text_[p])) ++p;
      if (p < text_.size() && !is_eol(text_[p])) return;
      pos_ = p;
      if (pos_ >= text_.size()) return;
      consume_eol();
    }
  }
  void read_quoted(std::string& cell, std::int64_t record_line, std::size_t column) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= text_.size())
        throw Error("unterminated quoted field", {file_, record_line, "column " + std::to_string(column + 1)});
      const char c = text_[pos_++];
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          cell.push_back('"');
          ++pos_;
          continue;
        }
        return;
      }
      if (c == '\n' || (c == '\r' && (pos_ >= text_.size() || text_[pos_] != '\n'))) ++line_;
      cell.push_back(c);
    }
  }

  std::string_view text_;
  char delim_;
  std::string file_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
};

// The label column's index from the option, given the first row's cells.
// Sets `named` when the option matched a cell of the first row by name.
std::size_t label_index(const CsvOptions& options, const std::vector<std::string>& first, const std::string& file,
                        bool& named) {
  named = false;
  const auto ncols = static_cast<std::int64_t>(first.size());
  const std::string& want = options.label_column;
  if (want.empty()) return first.size() - 1;
  if (options.header != CsvOptions::Header::no) {
    const auto it = std::find(first.begin(), first.end(), want);
    if (it != first.end()) {
      named = true;
      return static_cast<std::size_t>(it - first.begin());
    }
  }
  std::int64_t index = 0;
  const auto [end, ec] = std::from_chars(want.data(), want.data() + want.size(), index);
  if (ec != std::errc() || end != want.data() + want.size()) {
    std::string columns;
    if (options.header != CsvOptions::Header::no)
      for (const auto& c : first) columns += (columns.empty() ? "" : ", ") + c;
    throw UsageError("label column '" + want + "' is not a column of this file" +
                         (columns.empty() ? std::string(" (it has no header)") : " (header: " + columns + ")"),
                     {file, 1, "label_column"});
  }
  if (index < 0) index += ncols;
  if (index < 0 || index >= ncols)
    throw UsageError("label column index " + want + " is out of range for " + std::to_string(ncols) + " columns",
                     {file, 1, "label_column"});
  return static_cast<std::size_t>(index);
}

std::string integer_text(double v) { return std::to_string(static_cast<long long>(v)); }

}  // namespace

Dataset read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  std::vector<unsigned char> bytes;
  {
    detail::InputFile in(path);
    bytes = in.read_rest();
  }
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string(), options);
}

Dataset parse_csv(std::string_view text, const std::string& file, const CsvOptions& options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r')
    throw UsageError("delimiter cannot be a quote or a line break", {file, 0, "delimiter"});
  CsvCursor cursor(text, options.delimiter, file);

  std::vector<std::string> cells;
  std::int64_t line = 0;
  if (!cursor.next(cells, line)) throw Error("empty file: no rows", {file, 0, ""});
  const std::size_t ncols = cells.size();
  if (ncols < 2)
    throw Error("needs at least 2 columns (features and a label), found 1; is the delimiter '" +
                    std::string(1, options.delimiter) + "' right?",
                {file, line, ""});

  bool named = false;
  const std::size_t label_col = label_index(options, cells, file, named);
  bool header = options.header == CsvOptions::Header::yes || named;
  if (options.header == CsvOptions::Header::auto_detect && !header)
    for (std::size_t j = 0; j < ncols; ++j)
      if (j != label_col && !is_number(cells[j])) header = true;

  std::vector<std::string> column_names(ncols);
  for (std::size_t j = 0; j < ncols; ++j)
    column_names[j] = header && !cells[j].empty() ? cells[j] : "column " + std::to_string(j + 1);

  Dataset d;
  d.name = std::filesystem::path(file).filename().string();
  for (const char* ext : {".gz", ".csv", ".tsv", ".txt"})
    if (d.name.size() > std::string_view(ext).size() && d.name.ends_with(ext))
      d.name.resize(d.name.size() - std::string_view(ext).size());
  if (header)
    for (std::size_t j = 0; j < ncols; ++j)
      if (j != label_col) d.feature_names.push_back(column_names[j]);

  std::vector<float> values;
  std::vector<std::string> label_text;
  std::vector<std::int64_t> row_lines;
  const std::size_t nfeat = ncols - 1;
  bool have_row = !header;  // the first record is data when there is no header
  while (have_row || cursor.next(cells, line)) {
    have_row = false;
    if (cells.size() != ncols)
      throw Error("expected " + std::to_string(ncols) + " cells, found " + std::to_string(cells.size()), {file, line, ""});
    for (std::size_t j = 0; j < ncols; ++j) {
      if (j == label_col) continue;
      const std::string& c = cells[j];
      if (c.empty()) throw Error("missing value (empty cell)", {file, line, column_names[j]});
      double v = 0.0;
      if (!parse_number(c, v)) throw Error("not a finite number: '" + c + "'", {file, line, column_names[j]});
      if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
        throw Error("value " + c + " is out of float32 range", {file, line, column_names[j]});
      values.push_back(static_cast<float>(v));
    }
    if (cells[label_col].empty()) throw Error("missing label (empty cell)", {file, line, column_names[label_col]});
    label_text.push_back(std::move(cells[label_col]));
    row_lines.push_back(line);
  }
  const auto n = static_cast<std::int64_t>(label_text.size());
  if (n == 0) throw Error("no data rows after the header", {file, line, ""});
  d.features = Tensor({n, static_cast<std::int64_t>(nfeat)}, values);

  // Labels: numeric values where every label is a number.
  std::vector<double> label_value(label_text.size(), 0.0);
  bool all_numeric = true;
  bool all_integer = true;
  for (std::size_t i = 0; i < label_text.size(); ++i) {
    if (!parse_number(label_text[i], label_value[i])) {
      all_numeric = false;
      all_integer = false;
      break;
    }
    if (label_value[i] != std::floor(label_value[i]) || std::fabs(label_value[i]) > 9.0e15) all_integer = false;
  }
  CsvOptions::Task task = options.task;
  if (task == CsvOptions::Task::auto_detect) {
    task = CsvOptions::Task::regression;
    if (!all_numeric) {
      task = CsvOptions::Task::classification;
    } else if (all_integer) {
      std::set<double> distinct;
      for (double v : label_value) {
        distinct.insert(v);
        if (static_cast<std::int64_t>(distinct.size()) > kCsvMaxAutoClasses) break;
      }
      if (static_cast<std::int64_t>(distinct.size()) <= kCsvMaxAutoClasses) task = CsvOptions::Task::classification;
    }
  }

  if (task == CsvOptions::Task::regression) {
    std::vector<float> targets(label_text.size());
    for (std::size_t i = 0; i < label_text.size(); ++i) {
      double v = 0.0;
      if (!parse_number(label_text[i], v))
        throw Error("regression target is not a finite number: '" + label_text[i] + "'",
                    {file, row_lines[i], column_names[label_col]});
      if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
        throw Error("target " + label_text[i] + " is out of float32 range", {file, row_lines[i], column_names[label_col]});
      targets[i] = static_cast<float>(v);
    }
    d.targets = Tensor({n}, targets);
    return d;
  }

  d.labels.resize(label_text.size());
  if (all_numeric) {
    std::map<double, std::string> classes;  // value -> name, sorted by value
    for (std::size_t i = 0; i < label_text.size(); ++i)
      classes.emplace(label_value[i], label_value[i] == std::floor(label_value[i]) && std::fabs(label_value[i]) < 9.0e15
                                          ? integer_text(label_value[i])
                                          : label_text[i]);
    std::map<double, std::int32_t> id;
    for (const auto& [value, class_name] : classes) {
      id.emplace(value, static_cast<std::int32_t>(d.class_names.size()));
      d.class_names.push_back(class_name);
    }
    for (std::size_t i = 0; i < label_text.size(); ++i) d.labels[i] = id.at(label_value[i]);
  } else {
    std::map<std::string, std::int32_t> id;
    for (const auto& t : label_text) id.emplace(t, 0);
    for (auto& [class_name, k] : id) {
      k = static_cast<std::int32_t>(d.class_names.size());
      d.class_names.push_back(class_name);
    }
    for (std::size_t i = 0; i < label_text.size(); ++i) d.labels[i] = id.at(label_text[i]);
  }
  if (d.class_names.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error("too many classes", {file, 0, column_names[label_col]});
  return d;
}

}  // namespace adakit::data
