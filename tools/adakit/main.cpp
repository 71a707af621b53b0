// adakit: the command-line tool. It parses flags and calls the library, nothing more.
// Exit codes: 0 success, 1 error (bad data, I/O), 2 usage (bad flag or value).
#include <CLI/CLI.hpp>
#include <iostream>

#include "adakit/adakit.hpp"
#include "common.hpp"
#include "subcommands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"adakit " + std::string(adakit::version) +
               ": AdaGrad and its family (SGD, Adam/AdamW, RMSProp, Adadelta) as exact, fast kernels"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(adakit::version));
  int threads = 0;
  adakit::cli::add_threads_flag(app, threads);
  std::function<int()> action;
  adakit::cli::add_minimize(app, action);
  adakit::cli::add_train(app, action);
  adakit::cli::add_predict(app, action);
  adakit::cli::add_rl(app, action);
  adakit::cli::add_demo(app, action);
  adakit::cli::add_compare(app, action);
  adakit::cli::add_embed(app, action);
  adakit::cli::add_serve(app, action);
  adakit::cli::add_explain(app, action);
  adakit::cli::add_export(app, action);
  for (auto* sub : app.get_subcommands({})) adakit::cli::add_threads_flag(*sub, threads);
  try {
    app.parse(argc, argv);
    adakit::set_num_threads(threads);
    return action ? action() : 0;
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "adakit: " << e.what() << "\n";
    std::cerr << "Run 'adakit --help' or 'adakit SUBCOMMAND --help' for the flags.\n";
    return 2;
  } catch (const adakit::UsageError& e) {
    std::cerr << "adakit: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // adakit::Error and the rest
    std::cerr << "adakit: error: " << e.what() << "\n";
    return 1;
  }
}
