// Registry<Row>: lookup, listing and the unknown-name error in each registry's own wording; then every
// registry of the library, each pinned to its exact message (the CLI prints them: tests/cli/bad_input_test.sh).
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/tour/demos.hpp"
#include "adakit/train/minimize.hpp"

namespace {

using adakit::Registry;
using adakit::UsageError;

struct Fruit {
  std::string_view name;
  int calories;
};
constexpr auto kFruits = std::to_array<Fruit>({{"apple", 52}, {"banana", 89}, {"cherry", 50}});
constexpr Registry<Fruit> kFruitRegistry{kFruits, {"no fruit '{name}' here: try {names} ({name}?)", "fruit"}};
static_assert(kFruitRegistry.names_are_unique());
static_assert(kFruitRegistry.find("banana")->calories == 89);
static_assert(kFruitRegistry.find("durian") == nullptr);

struct Keyed {
  int id;
  std::string_view key;
};
constexpr auto kKeyed = std::to_array<Keyed>({{1, "a"}, {2, "b"}, {3, "a"}});
constexpr Registry<Keyed, &Keyed::key> kKeyedRegistry{kKeyed, {"unknown key '{name}'", "key"}};
static_assert(!kKeyedRegistry.names_are_unique());  // the tripwire fires on a repeated name
constexpr auto kEmptyName = std::to_array<Fruit>({{"apple", 52}, {"", 0}});
static_assert(!Registry<Fruit>(kEmptyName, {"", ""}).names_are_unique());  // and on an empty one

using Expected = std::pair<std::string, std::string>;

// The message and field of the UsageError fn throws ("no error" when it throws none).
Expected usage_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const UsageError& e) {
    return {e.message(), e.context().field};
  }
  return {"no error", ""};
}

TEST(Registry, FindsRowsByNameAndListsTheNamesInTableOrder) {
  EXPECT_EQ(&kFruitRegistry.at("cherry"), &kFruits[2]);
  EXPECT_EQ(kFruitRegistry.find("apple")->calories, 52);
  EXPECT_EQ(kFruitRegistry.names(), "apple, banana, cherry");
  EXPECT_EQ(kFruitRegistry.names("|"), "apple|banana|cherry");
  EXPECT_EQ(adakit::names_of(std::span<const Fruit>(kFruits)), "apple, banana, cherry");
  EXPECT_EQ(kFruitRegistry.rows().size(), 3u);
  EXPECT_EQ(&kKeyedRegistry.at("b"), &kKeyed[1]);
  EXPECT_EQ(kKeyedRegistry.at("a").id, 1);  // the first row of a name
  EXPECT_EQ(kKeyedRegistry.names(), "a, b, a");
}

TEST(Registry, UnknownNameIsAUsageErrorInTheRegistrysWording) {
  EXPECT_EQ(usage_error_of([] { (void)kFruitRegistry.at("durian"); }),
            Expected("no fruit 'durian' here: try apple, banana, cherry (durian?)", "fruit"));
  EXPECT_EQ(usage_error_of([] { (void)kKeyedRegistry.at("{names}"); }),
            Expected("unknown key '{names}'", "key"));  // the name is not re-read
  EXPECT_EQ(kFruitRegistry.unknown_message(""), "no fruit '' here: try apple, banana, cherry (?)");
}

// Every registry of the library keeps the wording it had before it became a Registry.
TEST(Registry, EveryLibraryRegistryKeepsItsExactMessage) {
  EXPECT_EQ(usage_error_of([] { (void)adakit::optim::find_optimizer("nope"); }),
            Expected("unknown optimizer 'nope' (adagrad, sgd, adam, adamw, rmsprop, adadelta, adagrad-norm, "
                     "adagrad-full, sm3, shampoo, adafactor)",
                     "optimizer"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::linear::find_linear_optimizer("adam"); }),
            Expected("unknown linear optimizer 'adam' (adagrad, adagrad-l1, adagrad-rda, ftrl, sgd)", "optimizer"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::train::make_test_function("nope"); }),
            Expected("unknown function 'nope' (quadratic, ill-conditioned, rosenbrock, beale, sparse)", "function"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::data::load_data({"no-such-data", {}, {}}); }),
            Expected("unknown dataset 'no-such-data': not a built-in (iris, iris-binary, digits, fashion-mnist, "
                     "cifar10) nor an existing CSV file",
                     "dataset"));
  EXPECT_EQ(adakit::data::find_builtin("no-such-data"), nullptr);
  EXPECT_EQ(usage_error_of([] { (void)adakit::data::load_text_builtin("nope"); }),
            Expected("unknown text dataset 'nope' (built-in text datasets: sentiment-tiny)", "dataset"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::rl::find_env("pong"); }),
            Expected("unknown environment 'pong' (cartpole, mountaincar)", "env"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::rl::recipe_for("pong"); }),
            Expected("unknown environment 'pong' (cartpole, mountaincar)", "env"));
  EXPECT_EQ(usage_error_of([] { (void)adakit::tour::find_demo("nope"); }),
            Expected("unknown demo 'nope' (basics, multi-param, lr-adaptation, iris-mlp, sgd-vs-adagrad, sentiment, "
                     "digits-cnn, optimizers, lr-decay, image-cnn, cartpole, embeddings, behaviour, all)",
                     "demo"));
  // And each finds its own rows.
  EXPECT_EQ(adakit::optim::find_optimizer("sm3").name, "sm3");
  EXPECT_EQ(adakit::linear::find_linear_optimizer("ftrl").name, "ftrl");
  EXPECT_EQ(adakit::data::find_builtin("digits")->name, "digits");
  EXPECT_EQ(adakit::rl::find_env("mountaincar").name, "mountaincar");
  EXPECT_EQ(adakit::rl::recipe_for("cartpole").env, "cartpole");
  EXPECT_EQ(adakit::tour::find_demo("cartpole").name, "cartpole");
  EXPECT_EQ(adakit::train::make_test_function("beale").dim, 2);
}

}  // namespace
