// The learning-rate schedule: the factor on the base rate at each step of a stage.
#include "vidcolor/train/lr_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "vidcolor/core/error.hpp"

namespace vidcolor {
namespace {

TEST(LrSchedule, ConstantKeepsTheBaseRate) {
  for (int64_t t = 0; t < 7; ++t) EXPECT_EQ(lr_factor(LrSchedule::Constant, t, 7), 1.0);
}

// By hand: 0.5 (1 + cos(pi t / 4)) for t = 0..3 is 1, (2 + sqrt 2) / 4, 1/2, (2 - sqrt 2) / 4.
TEST(LrSchedule, CosineFallsFromTheBaseRateTowardsZero) {
  const double r2 = std::sqrt(2.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::Cosine, 0, 4), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::Cosine, 1, 4), (2 + r2) / 4);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::Cosine, 2, 4), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::Cosine, 3, 4), (2 - r2) / 4);
  // A one-step stage takes its one step at the base rate.
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::Cosine, 0, 1), 1.0);
  // Monotone and positive over a long stage; the last step is close to 0.
  double previous = 2;
  for (int64_t t = 0; t < 3000; ++t) {
    const double f = lr_factor(LrSchedule::Cosine, t, 3000);
    EXPECT_LT(f, previous);
    EXPECT_GT(f, 0);
    previous = f;
  }
  EXPECT_LT(previous, 1e-5);
}

TEST(LrSchedule, StepsOutsideTheStageAreRefused) {
  EXPECT_THROW(lr_factor(LrSchedule::Cosine, 4, 4), Error);
  EXPECT_THROW(lr_factor(LrSchedule::Cosine, -1, 4), Error);
  EXPECT_THROW(lr_factor(LrSchedule::Constant, 0, 0), Error);
}

TEST(LrSchedule, Names) {
  for (LrSchedule s : {LrSchedule::Constant, LrSchedule::Cosine})
    EXPECT_EQ(lr_schedule_from_name(lr_schedule_name(s)), s);
  EXPECT_THROW(lr_schedule_from_name("linear"), Error);
}

}  // namespace
}  // namespace vidcolor
