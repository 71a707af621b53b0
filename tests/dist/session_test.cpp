// dist::TrainSession: one rank's data-parallel session as `mpirun adakit train` uses it (run under
// mpirun with the other dist tests).
#include <gtest/gtest.h>

#include "adakit/dist/session.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/registry.hpp"

namespace {
using namespace adakit;

TEST(DistTrainSession, AttachReportsAndDetaches) {
  dist::TrainSession session(train::DataParallelChoice{"sharded", 64});
  const int k = session.size();
  EXPECT_EQ(session.rank(), dist::Comm::world().rank());
  EXPECT_EQ(session.report(), (nlohmann::json{{"ranks", k}, {"mode", "sharded"}}));  // before attach
  EXPECT_EQ(session.state_bytes(), 0);
  auto model = nn::mlp(3, {4}, 2, "tanh", "", 1);  // 3*4+4+4*2+2 = 26 parameters
  auto opt = optim::make_optimizer("adagrad", model.parameters(), {{"lr", "0.1"}});
  train::Replicas* replicas = session.attach(model, *opt);
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->size(), k);
  const nlohmann::json r = session.report();
  EXPECT_EQ(r["parameters"], 26);
  EXPECT_EQ(r["steps"], 0);
  EXPECT_DOUBLE_EQ(r["min_sent_bytes_per_step"].get<double>(), 2.0 * (k - 1.0) / k * 26 * 4.0);
  EXPECT_FALSE(r.contains("buckets"));  // replicated only
  EXPECT_EQ(session.checkpoints_written(), 0);
  session.detach();
  EXPECT_EQ(session.state_bytes(), 0);
  EXPECT_EQ(session.report().size(), 2u);
}

}  // namespace
