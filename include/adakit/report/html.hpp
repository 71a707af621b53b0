// report.html: one self-contained page (no network: images are files beside it) showing every
// section's text result, metrics and figures.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace adakit::report {

struct Section {
  std::string id, title;
  std::string status;   // "ok" | "skipped" | "failed"
  std::string summary;  // one paragraph of plain text (escaped when written)
  std::vector<std::pair<std::string, std::string>> metrics;  // name, value
  std::vector<std::filesystem::path> images;                 // relative to the report's directory
  std::string note;     // e.g. how to get missing data
};

// Writes <path> atomically.
void write_html_report(const std::filesystem::path& path, const std::string& title, const std::string& intro,
                       const std::vector<Section>& sections);

std::string html_escape(const std::string& text);

}  // namespace adakit::report
