// Transfer functions: the controllable canonical realisation (hand-derived matrices) and step
// responses against partial-fraction closed forms.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "twind/model/linear.hpp"
#include "twind/model/model.hpp"

namespace twind::model {
namespace {

constexpr double kTol = 1e-12;

TEST(TransferFunction, FirstOrderLagRealisesAsScalarStateSpace) {
  const StateSpace sut = transfer_function_to_state_space({1.0}, {1.0, 1.0});

  EXPECT_EQ(sut.a, (Matrix{1, 1, {-1.0}}));
  EXPECT_EQ(sut.b, (Matrix{1, 1, {1.0}}));
  EXPECT_EQ(sut.c, (Matrix{1, 1, {1.0}}));
  EXPECT_EQ(sut.d, (Matrix{1, 1, {0.0}}));
}

TEST(TransferFunction, LeadingDenominatorCoefficientIsNormalisedAway) {
  const StateSpace sut = transfer_function_to_state_space({4.0}, {2.0, 2.0});

  EXPECT_EQ(sut.a, (Matrix{1, 1, {-1.0}}));
  EXPECT_EQ(sut.c, (Matrix{1, 1, {2.0}}));
}

TEST(TransferFunction, ThirdOrderRealisationIsCompanionForm) {
  // (2 s^2 + 3 s + 4) / (s^3 + 6 s^2 + 11 s + 6): -a in the first row of A, ones below the
  // diagonal, B = e1, C = the numerator's coefficients.
  const StateSpace sut = transfer_function_to_state_space({2.0, 3.0, 4.0}, {1.0, 6.0, 11.0, 6.0});

  EXPECT_EQ(sut.a, (Matrix{3, 3, {-6.0, -11.0, -6.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0}}));
  EXPECT_EQ(sut.b, (Matrix{3, 1, {1.0, 0.0, 0.0}}));
  EXPECT_EQ(sut.c, (Matrix{1, 3, {2.0, 3.0, 4.0}}));
  EXPECT_EQ(sut.d, (Matrix{1, 1, {0.0}}));
}

TEST(TransferFunction, LeadingZerosOfTheNumeratorAreIgnored) {
  EXPECT_EQ(transfer_function_to_state_space({0.0, 0.0, 1.0}, {1.0, 1.0}).c,
            transfer_function_to_state_space({1.0}, {1.0, 1.0}).c);
}

TEST(TransferFunction, FirstOrderLagModelMatchesEquivalentStateSpace) {
  const auto sut = make_transfer_function({"tf", "1"}, {1.0}, {1.0, 1.0});
  const auto reference =
      make_continuous_state_space({"ss", "1"}, Matrix{1, 1, {-1.0}}, Matrix{1, 1, {1.0}},
                                  Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}});
  std::array<double, 1> x{0.3};
  std::array<double, 1> x_ref{0.3};
  StepMemo memo;
  StepMemo memo_ref;

  ASSERT_TRUE(sut->advance(x, std::array{2.0}, 0.7, memo));
  ASSERT_TRUE(reference->advance(x_ref, std::array{2.0}, 0.7, memo_ref));

  EXPECT_EQ(sut->id(), (ModelId{"tf", "1"}));
  EXPECT_EQ(x, x_ref);
}

// Step response of a model from rest, sampled every dt, compared with a closed form.
template <typename ClosedForm>
void expect_step_response(const Model& sut, ClosedForm expected, double dt, int samples) {
  std::vector<double> x(sut.states(), 0.0);
  const std::array<double, 1> u{1.0};
  std::array<double, 1> y{};
  StepMemo memo;
  for (int i = 1; i <= samples; ++i) {
    ASSERT_TRUE(sut.advance(x, u, dt, memo));
    sut.output(x, u, y);
    const double t = dt * i;
    EXPECT_NEAR(y[0], expected(t), kTol) << "t " << t;
  }
}

TEST(TransferFunction, SecondOrderStepResponseMatchesPartialFractions) {
  // (s + 3) / ((s + 1)(s + 2)) / s = 1.5 / s - 2 / (s + 1) + 0.5 / (s + 2).
  const auto sut = make_transfer_function({"tf", "1"}, {1.0, 3.0}, {1.0, 3.0, 2.0});

  expect_step_response(
      *sut, [](double t) { return 1.5 - 2.0 * std::exp(-t) + 0.5 * std::exp(-2.0 * t); }, 0.05, 80);
}

TEST(TransferFunction, BiproperTransferFunctionHasFeedthrough) {
  // (2 s + 1) / (s + 1) = 2 - 1 / (s + 1): D = 2, step response 1 + e^{-t}.
  const StateSpace realisation = transfer_function_to_state_space({2.0, 1.0}, {1.0, 1.0});
  const auto sut = make_transfer_function({"tf", "1"}, {2.0, 1.0}, {1.0, 1.0});

  EXPECT_EQ(realisation.d, (Matrix{1, 1, {2.0}}));
  EXPECT_EQ(realisation.c, (Matrix{1, 1, {-1.0}}));
  expect_step_response(
      *sut, [](double t) { return 1.0 + std::exp(-t); }, 0.1, 30);
}

TEST(TransferFunction, ThirdOrderSettlesAtItsDcGain) {
  // G(0) = num(0) / den(0) = 4 / 6.
  const auto sut = make_transfer_function({"tf", "1"}, {2.0, 3.0, 4.0}, {1.0, 6.0, 11.0, 6.0});
  std::vector<double> x(3, 0.0);
  std::array<double, 1> y{};
  StepMemo memo;

  ASSERT_TRUE(sut->advance(x, std::array{3.0}, 100.0, memo));
  sut->output(x, std::array{3.0}, y);

  EXPECT_NEAR(y[0], 3.0 * 4.0 / 6.0, kTol);
}

TEST(TransferFunction, PureGainHasNoStatesAndScalesItsInput) {
  const auto sut = make_transfer_function({"gain", "1"}, {6.0}, {3.0});
  std::span<double> no_state;
  std::array<double, 1> y{};
  StepMemo memo;

  const bool advanced = sut->advance(no_state, std::array{5.0}, 0.5, memo);
  sut->initial_state(std::array{10.0}, std::array{5.0}, no_state);
  sut->output(no_state, std::array{5.0}, y);

  EXPECT_EQ(sut->states(), 0U);
  EXPECT_EQ(sut->inputs(), 1U);
  EXPECT_EQ(sut->outputs(), 1U);
  EXPECT_TRUE(advanced);
  EXPECT_DOUBLE_EQ(y[0], 10.0);
}

TEST(TransferFunction, PureGainRealisationIsFeedthroughOnly) {
  const StateSpace sut = transfer_function_to_state_space({6.0}, {3.0});

  EXPECT_EQ(sut.a, (Matrix{0, 0, {}}));
  EXPECT_EQ(sut.b, (Matrix{0, 1, {}}));
  EXPECT_EQ(sut.c, (Matrix{1, 0, {}}));
  EXPECT_EQ(sut.d, (Matrix{1, 1, {2.0}}));
  EXPECT_EQ(max_real_eigenvalue(sut.a), -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace twind::model
