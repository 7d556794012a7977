// The support code's promise to every test that starts children: a sanitizer report in a child's
// stderr, or a child that has to be SIGKILLed because it ignores SIGTERM, fails the test that
// started it, naming the child and showing the report.
#include "support/process.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>

namespace twind::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAsanReport =
    "twind: [info] connected to the broker\n"
    "\n"
    "=================================================================\n"
    "==4242==ERROR: LeakSanitizer: detected memory leaks\n"
    "\n"
    "Direct leak of 64 byte(s) in 1 object(s) allocated from:\n"
    "    #0 0x7f in malloc\n"
    "\n"
    "SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).\n"
    "twind: after the summary\n";

ProcessOptions named(const std::string& name, const std::string& dir = "") {
  ProcessOptions o;
  o.name = name;
  o.dir = dir;
  return o;
}

// A shell child that writes `text` to its stderr and exits 0.
std::vector<std::string> printing(const std::string& text) {
  return {"/bin/sh", "-c", "printf '%s' \"$1\" >&2", "sh", text};
}

TEST(SanitizerReport, RunsFromTheLineWithTheMarkerToTheSummary) {
  const auto report = sanitizer_report(kAsanReport);

  ASSERT_TRUE(report);
  EXPECT_EQ(report->rfind("==4242==ERROR: LeakSanitizer", 0), 0U) << *report;
  EXPECT_NE(report->find("Direct leak of 64 byte(s)"), std::string::npos) << *report;
  EXPECT_NE(report->find("SUMMARY: AddressSanitizer"), std::string::npos) << *report;
  EXPECT_EQ(report->find("after the summary"), std::string::npos) << *report;
}

TEST(SanitizerReport, FindsUbsanThreadSanitizerAndAddressSanitizerReports) {
  EXPECT_TRUE(sanitizer_report("x.cpp:3:12: runtime error: signed integer overflow\n"));
  EXPECT_TRUE(sanitizer_report("WARNING: ThreadSanitizer: data race (pid=7)\n"));
  EXPECT_TRUE(sanitizer_report("==1==ERROR: AddressSanitizer: heap-use-after-free\n"));
  EXPECT_TRUE(
      sanitizer_report("==1==ERROR: UndefinedBehaviorSanitizer: SEGV on unknown address\n"));
}

TEST(SanitizerReport, NoneInAnOrdinaryLog) {
  EXPECT_FALSE(sanitizer_report(""));
  EXPECT_FALSE(
      sanitizer_report("twind: [error] cannot reach the broker: connection refused\n"
                       "twind: [info] ALERT: divergence = 0.2 > 0.15 (plant/y)\n"));
}

TEST(ProcessScan, AReportInAChildsStderrFailsTheTestNamingTheChild) {
  EXPECT_NONFATAL_FAILURE(
      {
        Process child(printing(kAsanReport), named("leaky-child"));
        child.wait_exit(10s);
      },
      "leaky-child (sh, pid");
  EXPECT_NONFATAL_FAILURE(
      {
        Process child(printing(kAsanReport), named("leaky-child"));
        child.wait_exit(10s);
      },
      "Direct leak of 64 byte(s)");
}

TEST(ProcessScan, AReportFoundWhenTheDestructorEndsTheChild) {
  EXPECT_NONFATAL_FAILURE(
      {
        // Reports when SIGTERM ends it, as a leak check at exit would.
        Process child({"/bin/sh", "-c",
                       "trap 'echo \"==9==ERROR: LeakSanitizer: detected memory leaks\" >&2; "
                       "exit 0' TERM; echo ready; while :; do sleep 0.05; done"},
                      named("terminated-child"));
        ASSERT_TRUE(child.wait_for_line("ready", 10s));
      },
      "terminated-child");
}

ProcessOptions stubborn() {
  ProcessOptions o = named("stubborn-child");
  o.stop_grace = 300ms;
  return o;
}

TEST(ProcessScan, AChildIgnoringSigtermIsKilledAndFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        Process child({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"}, stubborn());
        ASSERT_TRUE(child.wait_for_line("ready", 10s));
      },
      "stubborn-child (sh, pid");
}

TEST(ProcessScan, AQuietChildEndedBySigtermPasses) {
  Process child({"/bin/sh", "-c", "echo ready; exec sleep 30"}, named("quiet-child"));
  ASSERT_TRUE(child.wait_for_line("ready", 10s));
  const ExitStatus st = child.terminate();
  EXPECT_EQ(st.signal, SIGTERM);
}

TEST(ProcessScan, AnAppendingSuccessorIsNotBlamedForItsPredecessorsReport) {
  TempDir dir;
  EXPECT_NONFATAL_FAILURE(
      {
        Process first(printing(kAsanReport), named("log", dir.path()));
        first.wait_exit(10s);
      },
      "LeakSanitizer");
  ProcessOptions append = named("log", dir.path());
  append.append = true;
  Process second(printing("a clean run\n"), append);
  ASSERT_TRUE(second.wait_exit(10s));
  EXPECT_NE(second.stderr_text().find("LeakSanitizer"), std::string::npos);  // same file
}

// In a sanitizer build: real reports of this build's sanitizers, made by sanitizer_canary.
#ifdef TWIND_SANITIZER_CANARY
bool enabled(const std::string& sanitizer) {
  return std::string(TWIND_SANITIZERS_ENABLED).find(sanitizer) != std::string::npos;
}

TEST(ProcessScanSanitizers, ALeakAtExitFailsTheTest) {
  if (!enabled("address")) GTEST_SKIP() << "LeakSanitizer comes with -fsanitize=address";
  EXPECT_NONFATAL_FAILURE(
      {
        Process canary({TWIND_SANITIZER_CANARY, "--leak"}, named("canary"));
        canary.wait_exit(30s);
      },
      "ERROR: LeakSanitizer");
}

TEST(ProcessScanSanitizers, ALeakFoundAfterTheDestructorsSigterm) {
  if (!enabled("address")) GTEST_SKIP() << "LeakSanitizer comes with -fsanitize=address";
  EXPECT_NONFATAL_FAILURE(
      {
        Process canary({TWIND_SANITIZER_CANARY, "--leak-on-sigterm"}, named("canary"));
        ASSERT_TRUE(canary.wait_for_line("waiting", 30s)) << canary.stderr_text();
      },
      "ERROR: LeakSanitizer");
}

TEST(ProcessScanSanitizers, UndefinedBehaviourFailsTheTest) {
  if (!enabled("undefined")) GTEST_SKIP() << "not built with -fsanitize=undefined";
  EXPECT_NONFATAL_FAILURE(
      {
        Process canary({TWIND_SANITIZER_CANARY, "--undefined"}, named("canary"));
        canary.wait_exit(30s);
      },
      "runtime error: signed integer overflow");
}

TEST(ProcessScanSanitizers, ADataRaceFailsTheTest) {
  if (!enabled("thread")) GTEST_SKIP() << "not built with -fsanitize=thread";
  EXPECT_NONFATAL_FAILURE(
      {
        Process canary({TWIND_SANITIZER_CANARY, "--race"}, named("canary"));
        canary.wait_exit(30s);
      },
      "WARNING: ThreadSanitizer: data race");
}
#endif

}  // namespace
}  // namespace twind::testing
