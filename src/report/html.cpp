#include "adakit/report/html.hpp"

#include <sstream>

#include "adakit/io/safetensors.hpp"

namespace adakit::report {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_html_report(const std::filesystem::path& path, const std::string& title, const std::string& intro,
                       const std::vector<Section>& sections) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(title)
    << "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
       "section{border-top:1px solid #ccc;padding:1em 0}h2{margin:.2em 0}.status{font-size:.8em;padding:.1em .5em;"
       "border-radius:.3em;margin-left:.5em}.ok{background:#d4f4d4}.skipped{background:#f4ecc4}.failed{background:#f4c4c4}"
       "table{border-collapse:collapse}td{padding:.15em .8em;border-bottom:1px solid #eee}img{max-width:100%}"
       "nav a{margin-right:.8em}</style></head>\n<body>\n<h1>"
    << html_escape(title) << "</h1>\n<p>" << html_escape(intro) << "</p>\n<nav>";
  for (const auto& s : sections) h << "<a href=\"#" << html_escape(s.id) << "\">" << html_escape(s.title) << "</a>";
  h << "</nav>\n";
  for (const auto& s : sections) {
    h << "<section id=\"" << html_escape(s.id) << "\"><h2>" << html_escape(s.title) << "<span class=\"status "
      << html_escape(s.status) << "\">" << html_escape(s.status) << "</span></h2>\n<p>" << html_escape(s.summary) << "</p>\n";
    if (!s.note.empty()) h << "<p><em>" << html_escape(s.note) << "</em></p>\n";
    if (!s.metrics.empty()) {
      h << "<table>";
      for (const auto& [k, v] : s.metrics) h << "<tr><td>" << html_escape(k) << "</td><td>" << html_escape(v) << "</td></tr>";
      h << "</table>\n";
    }
    for (const auto& img : s.images)
      h << "<p><img src=\"" << html_escape(img.generic_string()) << "\" alt=\"" << html_escape(s.title) << "\"></p>\n";
    h << "</section>\n";
  }
  h << "</body></html>\n";
  io::write_file_atomic(path, h.str());
}

}  // namespace adakit::report
