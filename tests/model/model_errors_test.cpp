// The factories refuse inconsistent models with a message naming the culprit and what was
// expected; the smallest valid models are accepted.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "twind/model/linear.hpp"

namespace twind::model {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

const Matrix kA{1, 1, {-1.0}};
const Matrix kB{1, 1, {1.0}};
const Matrix kC{1, 1, {1.0}};
const Matrix kD{1, 1, {0.0}};

struct BadModel {
  const char* name;
  std::function<void()> build;
  const char* expected_message;
};

void PrintTo(const BadModel& bad, std::ostream* out) {
  *out << bad.name;
}

std::function<void()> continuous(Matrix a, Matrix b, Matrix c, Matrix d) {
  return [=] { (void)make_continuous_state_space({"bad", "1"}, a, b, c, d); };
}

std::function<void()> discrete(double dt) {
  return [=] { (void)make_discrete_state_space({"bad", "1"}, kA, kB, kC, kD, dt); };
}

std::function<void()> transfer(std::vector<double> num, std::vector<double> den) {
  return [=] { (void)make_transfer_function({"bad", "1"}, num, den); };
}

class BadModelIsRefused : public ::testing::TestWithParam<BadModel> {};

TEST_P(BadModelIsRefused, FactoryThrowsModelErrorNamingTheProblem) {
  const BadModel& bad = GetParam();
  try {
    bad.build();
    FAIL() << "no ModelError for " << bad.name;
  } catch (const ModelError& error) {
    EXPECT_EQ(std::string(error.what()), bad.expected_message);
  }
}

const BadModel kBadModels[] = {
    {"NonSquareA", continuous(Matrix{1, 2, {1.0, 2.0}}, kB, kC, kD),
     "A has 1 row and 2 columns, expected a square matrix"},
    {"ValueCountOfA", continuous(Matrix{2, 2, {1.0, 2.0, 3.0}}, kB, kC, kD),
     "A has 3 values, expected 4 (2 rows x 2 columns)"},
    {"RowsOfB", continuous(kA, Matrix{2, 1, {1.0, 1.0}}, kC, kD),
     "B has 2 rows, expected 1 (rows of A)"},
    {"NoInputs", continuous(kA, Matrix{1, 0, {}}, kC, Matrix{1, 0, {}}),
     "B has 0 columns, expected at least 1 (one per input)"},
    {"ColumnsOfC", continuous(kA, kB, Matrix{1, 2, {1.0, 1.0}}, kD),
     "C has 2 columns, expected 1 (columns of A)"},
    {"NoOutputs", continuous(kA, kB, Matrix{0, 1, {}}, Matrix{0, 1, {}}),
     "C has 0 rows, expected at least 1 (one per output)"},
    {"ValueCountOfC", continuous(kA, kB, Matrix{1, 1, {}}, kD),
     "C has 0 values, expected 1 (1 row x 1 column)"},
    {"RowsOfD", continuous(kA, kB, kC, Matrix{2, 1, {0.0, 0.0}}),
     "D has 2 rows, expected 1 (rows of C)"},
    {"ColumnsOfD", continuous(kA, kB, kC, Matrix{1, 2, {0.0, 0.0}}),
     "D has 2 columns, expected 1 (columns of B)"},
    {"DOnlyModelWithStatefulC", continuous(Matrix{}, Matrix{0, 1, {}}, kC, kD),
     "C has 1 column, expected 0 (columns of A)"},
    {"NanInA",
     continuous(Matrix{2, 2, {-1.0, 0.0, kNan, -1.0}}, Matrix{2, 1, {1.0, 1.0}},
                Matrix{1, 2, {1.0, 0.0}}, kD),
     "A row 2, column 1 is nan, expected a finite number"},
    {"InfinityInB", continuous(kA, Matrix{1, 1, {kInf}}, kC, kD),
     "B row 1, column 1 is inf, expected a finite number"},
    {"NanInC", continuous(kA, kB, Matrix{1, 1, {kNan}}, kD),
     "C row 1, column 1 is nan, expected a finite number"},
    {"InfinityInD", continuous(kA, kB, kC, Matrix{1, 1, {-kInf}}),
     "D row 1, column 1 is -inf, expected a finite number"},
    {"ZeroSampleTime", discrete(0.0),
     "sample time dt is 0, expected a positive finite number of seconds"},
    {"NegativeSampleTime", discrete(-0.5),
     "sample time dt is -0.5, expected a positive finite number of seconds"},
    {"NanSampleTime", discrete(kNan),
     "sample time dt is nan, expected a positive finite number of seconds"},
    {"InfiniteSampleTime", discrete(kInf),
     "sample time dt is inf, expected a positive finite number of seconds"},
    {"EmptyDenominator", transfer({1.0}, {}), "den is empty, expected at least one coefficient"},
    {"EmptyNumerator", transfer({}, {1.0}), "num is empty, expected at least one coefficient"},
    {"ZeroLeadingDenominator", transfer({1.0}, {0.0, 1.0}),
     "den[0] is 0, expected a non-zero leading coefficient"},
    {"ImproperTransferFunction", transfer({1.0, 0.0, 0.0}, {1.0, 1.0}),
     "num has degree 2, expected at most 1 (degree of den)"},
    {"NanInNumerator", transfer({1.0, kNan}, {1.0, 1.0}),
     "num[1] is nan, expected a finite number"},
    {"InfinityInDenominator", transfer({1.0}, {1.0, kInf}),
     "den[1] is inf, expected a finite number"},
};

INSTANTIATE_TEST_SUITE_P(Table, BadModelIsRefused, ::testing::ValuesIn(kBadModels),
                         [](const ::testing::TestParamInfo<BadModel>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(ModelFactories, FeedthroughOnlyModelIsAccepted) {
  const auto sut = make_continuous_state_space({"gain", "1"}, Matrix{}, Matrix{0, 2, {}},
                                               Matrix{1, 0, {}}, Matrix{1, 2, {1.0, -1.0}});

  EXPECT_EQ(sut->states(), 0U);
  EXPECT_EQ(sut->inputs(), 2U);
  EXPECT_EQ(sut->outputs(), 1U);
}

TEST(ModelFactories, ImproperLookingNumeratorWithLeadingZerosIsAccepted) {
  EXPECT_NO_THROW((void)make_transfer_function({"tf", "1"}, {0.0, 0.0, 1.0}, {1.0, 1.0}));
}

}  // namespace
}  // namespace twind::model
