#include "adakit/report/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"

extern char** environ;

namespace adakit::report {
namespace fs = std::filesystem;

namespace {
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return out.empty() ? "series" : out;
}
std::string quote_gp(const std::string& s) {  // a gnuplot single-quoted string
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return (fs::path(dir) / "gnuplot").string();
  return "";
}
int run(const std::string& prog, const std::string& script) {
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string a0 = prog, a1 = script;
  char* argv[] = {a0.data(), a1.data(), nullptr};
  const int rc = posix_spawn(&pid, prog.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

bool gnuplot_available() { return !find_gnuplot().empty(); }

PlotFiles write_plot(const PlotSpec& spec, const fs::path& dir, const std::string& stem) {
  fs::create_directories(dir);
  PlotFiles files;
  for (const auto& s : spec.series) {
    if (s.x.size() != s.y.size()) throw UsageError("plot series '" + s.label + "': x and y differ in length");
    std::ostringstream csv;
    csv << "x,y\n";
    csv.precision(9);
    for (std::size_t i = 0; i < s.x.size(); ++i) csv << s.x[i] << ',' << s.y[i] << '\n';
    const fs::path p = dir / (stem + "." + slug(s.label) + ".csv");
    io::write_file_atomic(p, csv.str());
    files.csv.push_back(p);
  }
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    files.message = "gnuplot is not installed: CSVs written, no image (apt-get install gnuplot-nox)";
    return files;
  }
  // gnuplot reads the CSVs; points that are not finite (or <= 0 on a log axis) are skipped.
  std::ostringstream gp;
  gp << "set datafile separator ','\nset key below\nset grid\n";
  gp << "set title " << quote_gp(spec.title) << "\nset xlabel " << quote_gp(spec.xlabel) << "\nset ylabel "
     << quote_gp(spec.ylabel) << "\n";
  if (spec.logx) gp << "set logscale x\n";
  if (spec.logy) gp << "set logscale y\nset format y '%.0e'\n";
  std::ostringstream plot;
  plot << "plot ";
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    plot << (i ? ", " : "") << quote_gp(files.csv[i].filename().string()) << " skip 1 using 1:"
         << (spec.logy ? "(($2 > 0) ? $2 : 1/0)" : "2") << " with lines lw 2 title " << quote_gp(spec.series[i].label);
  }
  plot << "\n";
  const fs::path png = dir / (stem + ".png"), svg = dir / (stem + ".svg");
  gp << "cd " << quote_gp(dir.string()) << "\n";
  gp << "set terminal pngcairo size 900,540 noenhanced\nset output " << quote_gp(png.filename().string()) << "\n" << plot.str();
  gp << "set terminal svg size 900,540 noenhanced\nset output " << quote_gp(svg.filename().string()) << "\n" << plot.str();
  gp << "set output\n";
  const fs::path script = dir / (stem + ".gp");
  io::write_file_atomic(script, gp.str());
  if (run(gnuplot, script.string()) == 0 && fs::exists(png)) {
    files.png = png;
    files.svg = svg;
  } else {
    files.message = "gnuplot failed on " + script.string() + " (CSVs are written)";
  }
  return files;
}

}  // namespace adakit::report
