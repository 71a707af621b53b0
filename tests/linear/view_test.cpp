// Views of CSR arrays owned elsewhere (data::CsrView, data::SparseDataView — what the Python bindings
// build over scipy.sparse's arrays): validation, int32 indptr, and training / scoring over a view
// giving bit for bit what the same data give as a CsrMatrix.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {

using adakit::UsageError;
using adakit::data::CsrView;
using adakit::data::SparseDataView;
namespace linear = adakit::linear;

TEST(CsrView, ReadsRowsThroughEitherIndptrWidth) {
  // [[0, 2, 0], [0, 0, 0], [1, 0, 3]]
  const std::vector<std::int32_t> ptr32{0, 1, 1, 3}, idx{1, 0, 2};
  const std::vector<std::int64_t> ptr64{0, 1, 1, 3};
  const std::vector<float> val{2, 1, 3};
  CsrView a{}, b{};
  a.rows = b.rows = 3;
  a.cols = b.cols = 3;
  a.indptr32 = ptr32;
  b.indptr = ptr64;
  a.indices = b.indices = idx;
  a.values = b.values = val;
  for (const CsrView* v : {&a, &b}) {
    EXPECT_NO_THROW(v->validate());
    EXPECT_EQ(v->nnz(), 3);
    EXPECT_EQ(v->row_indices(1).size(), 0u);
    ASSERT_EQ(v->row_indices(2).size(), 2u);
    EXPECT_EQ(v->row_indices(2)[1], 2);
    EXPECT_EQ(v->row_values(2)[1], 3.0f);
    EXPECT_EQ(v->row_indices(2).data(), idx.data() + 1);  // the caller's memory, not a copy
  }
}

TEST(CsrView, ValidateNamesTheBrokenInvariant) {
  const std::vector<std::int64_t> ok{0, 1, 2}, bad_start{1, 1, 2}, decreasing{0, 2, 1}, short_end{0, 1, 1};
  const std::vector<std::int32_t> idx{0, 5};
  const std::vector<float> val{1, 1};
  auto view = [&](const std::vector<std::int64_t>& ptr, std::int64_t cols) {
    CsrView v{};
    v.rows = 2;
    v.cols = cols;
    v.indptr = ptr;
    v.indices = idx;
    v.values = val;
    return v;
  };
  auto message = [](const CsrView& v) {
    try {
      v.validate();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(view(ok, 6)), "no error");
  EXPECT_NE(message(view(ok, 5)).find("column 5"), std::string::npos);
  EXPECT_NE(message(view(bad_start, 6)).find("indptr[0]"), std::string::npos);
  EXPECT_NE(message(view(decreasing, 6)).find("decreases"), std::string::npos);
  EXPECT_NE(message(view(short_end, 6)).find("ends at"), std::string::npos);
  CsrView too_few = view(ok, 6);
  too_few.rows = 3;
  EXPECT_NE(message(too_few).find("rows + 1"), std::string::npos);
  CsrView both = view(ok, 6);
  const std::vector<std::int32_t> p32{0, 1, 2};
  both.indptr32 = p32;
  EXPECT_THROW(both.validate(), UsageError);
}

TEST(SparseDataView, TrainingOverAViewEqualsTrainingOverTheDataset) {
  adakit::linear_test::Spec spec;
  spec.dim = 2000;
  spec.classes = 3;
  const auto d = adakit::linear_test::make_dataset(spec, 300, 5);
  // The same arrays seen through an int32 indptr, as scipy.sparse hands them over.
  std::vector<std::int32_t> ptr32(d.features.indptr.begin(), d.features.indptr.end());
  SparseDataView view;
  view.name = "view";
  view.features.rows = d.features.rows;
  view.features.cols = d.features.cols;
  view.features.indptr32 = ptr32;
  view.features.indices = d.features.indices;
  view.features.values = d.features.values;
  view.labels = d.labels;
  view.features.validate();

  for (const char* name : {"adagrad", "ftrl"}) {
    SCOPED_TRACE(name);
    auto a = linear::LinearModel::for_dataset(d), b = linear::LinearModel::for_dataset(d);
    auto oa = linear::make_linear_optimizer(name), ob = linear::make_linear_optimizer(name);
    const linear::FitOptions fo{.epochs = 2, .batch_size = 4, .seed = 3};
    const auto ra = linear::fit(a, *oa, d, fo);
    const auto rb = linear::fit(b, *ob, view, fo);
    EXPECT_EQ(ra.history.back().train.loss, rb.history.back().train.loss);
    ASSERT_EQ(a.weights().size(), b.weights().size());
    for (std::size_t i = 0; i < a.weights().size(); ++i) ASSERT_EQ(a.weights()[i], b.weights()[i]) << i;
    const auto pa = linear::predict_proba(a, d.features), pb = linear::predict_proba(b, view.features);
    for (std::int64_t i = 0; i < pa.numel(); ++i) ASSERT_EQ(pa[i], pb[i]);
    EXPECT_EQ(linear::evaluate(a, d).accuracy, linear::evaluate(b, view).accuracy);
  }
}

}  // namespace
