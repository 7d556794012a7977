#include "twind/app/connection_report.hpp"

#include <gtest/gtest.h>

namespace twind::app {
namespace {

const std::string kRefused = "connect to tcp://127.0.0.1:1883 failed: connection refused";
const std::string kDenied = "connect to tcp://127.0.0.1:1883 failed: not authorized";

TEST(ConnectionReport, AFailureIsAnErrorInFullTheFirstTime) {
  ConnectionReport r;
  const auto line = r.disconnected(kRefused, 100.0);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->level, LogLevel::error);
  EXPECT_EQ(line->text, "cannot reach the broker: " + kRefused +
                            "; retrying with backoff (repeats are logged once a minute)");
}

TEST(ConnectionReport, ARepeatedFailureIsReportedOnceAMinuteWithItsCount) {
  ConnectionReport r;
  ASSERT_TRUE(r.disconnected(kRefused, 100.0));
  for (double t = 101.0; t < 160.0; t += 8.0) EXPECT_FALSE(r.disconnected(kRefused, t)) << t;
  const auto line = r.disconnected(kRefused, 160.5);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->level, LogLevel::warning);
  EXPECT_EQ(line->text,
            "still cannot reach the broker: " + kRefused +
                " (9 more failed attempts since the last report)");  // 8 held back, and this one
}

TEST(ConnectionReport, EachCauseIsReportedOnItsOwn) {
  ConnectionReport r;
  ASSERT_TRUE(r.disconnected(kRefused, 100.0));
  const auto other = r.disconnected(kDenied, 101.0);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->level, LogLevel::error);
}

TEST(ConnectionReport, ALossAfterAConnectionIsAWarningAndTheNextFailureIsReportedInFullAgain) {
  ConnectionReport r;
  ASSERT_TRUE(r.disconnected(kRefused, 100.0));
  const ReportLine up = r.connected(4);
  EXPECT_EQ(up.text, "connected to the broker; subscribed to 4 topics");
  EXPECT_TRUE(r.is_connected());
  EXPECT_EQ(r.connected(4, "tcp://10.0.0.2:1883").text,
            "connected to the broker at tcp://10.0.0.2:1883; subscribed to 4 topics");

  const auto lost = r.disconnected("connection to tcp://127.0.0.1:1883 lost", 102.0);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->level, LogLevel::warning);
  EXPECT_EQ(lost->text,
            "lost the broker: connection to tcp://127.0.0.1:1883 lost; reconnecting with backoff");
  EXPECT_FALSE(r.is_connected());

  const auto again = r.disconnected(kRefused, 103.0);  // within the minute of the first
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->level, LogLevel::error);
}

}  // namespace
}  // namespace twind::app
