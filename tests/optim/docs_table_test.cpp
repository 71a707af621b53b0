// The optimizer tables of README.md and docs/optimizers.md list exactly the registries' names: a new
// optimizer cannot ship undocumented, nor a removed one stay in the docs.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace {

std::string read_text(const std::string& relative) {
  std::ifstream in(std::string(ADAKIT_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The names in the first column of the markdown table that follows the first line starting with
// `after` (a heading), whose header row starts with `header`. A cell may name several optimizers,
// separated by " / " or ", " (`adam`, `adamw`). Every name once: a repeated one is a failure.
std::multiset<std::string> first_column(const std::string& text, std::string_view after, std::string_view header) {
  const auto lines = lines_of(text);
  auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(after); });
  EXPECT_NE(it, lines.end()) << "no line starting with '" << after << "'";
  it = std::find_if(it, lines.end(), [&](const std::string& l) { return l.starts_with(header); });
  EXPECT_NE(it, lines.end()) << "no table header '" << header << "' after '" << after << "'";
  std::multiset<std::string> names;
  if (it == lines.end() || ++it == lines.end()) return names;
  EXPECT_TRUE(it->starts_with("|---")) << *it;  // the separator row
  for (++it; it != lines.end() && it->starts_with("|"); ++it) {
    const std::string_view row(*it);
    const auto end = row.find('|', 1);
    std::string_view cell = row.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
    while (!cell.empty()) {
      const auto sep = std::min(cell.find(" / "), cell.find(", "));
      names.insert(std::string(trim(cell.substr(0, sep))));
      cell = sep == std::string_view::npos ? std::string_view{} : cell.substr(sep + 2);
    }
  }
  return names;
}

template <class Infos>
std::multiset<std::string> registry_names(const Infos& infos) {
  std::multiset<std::string> names;
  for (const auto& info : infos) names.insert(std::string(info.name));
  return names;
}

TEST(OptimizerDocs, FirstColumnParsesCellsNamingSeveralOptimizers) {
  const std::string md = "# t\n## Section\n| name | x |\n|---|---|\n| `a`, `b` | 1 |\n| c / d | 2 |\n| e | 3 |\ntext\n| f | 4 |\n";
  EXPECT_EQ(first_column(md, "## Section", "| name"), (std::multiset<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(OptimizerDocs, ReadmeTableListsExactlyTheDenseRegistry) {
  const auto names = first_column(read_text("README.md"), "## The library", "| optimizer | reference |");
  EXPECT_EQ(names, registry_names(adakit::optim::optimizers()));
  EXPECT_EQ(names.size(), 11u);
}

TEST(OptimizerDocs, OptimizersMdTablesListExactlyTheDenseAndTheLinearRegistry) {
  const std::string doc = read_text("docs/optimizers.md");
  const auto dense = first_column(doc, "## Dense optimizers", "| name | update rule");
  EXPECT_EQ(dense, registry_names(adakit::optim::optimizers()));
  EXPECT_EQ(dense.size(), 11u);
  const auto linear = first_column(doc, "## Sparse linear models", "| name | update rule");
  EXPECT_EQ(linear, registry_names(adakit::linear::linear_optimizers()));
  EXPECT_EQ(linear.size(), 5u);
}

}  // namespace
