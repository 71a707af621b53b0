// Plots: every curve is written as a CSV (x,y), then drawn to PNG and SVG by gnuplot (Debian
// gnuplot-nox) when it is installed. Without gnuplot the CSVs are still written and the result says
// how to install it. gnuplot runs as a child process (no shell), its script kept beside the images.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace adakit::report {

struct Series {
  std::string label;
  std::vector<double> x, y;  // same length; non-finite points are left out of the plot
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::vector<Series> series;
};

struct PlotFiles {
  std::vector<std::filesystem::path> csv;  // one per series: <stem>.<label>.csv
  std::filesystem::path png, svg;          // empty when gnuplot is missing or failed
  std::string message;                     // empty on success; else why there is no image
};

bool gnuplot_available();
// Writes <dir>/<stem>.<label>.csv for every series, <stem>.gp, and <stem>.png / <stem>.svg.
PlotFiles write_plot(const PlotSpec& spec, const std::filesystem::path& dir, const std::string& stem);

}  // namespace adakit::report
