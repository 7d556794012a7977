// The tables come from the examples of OASIS MQTT 3.1.1, sections 4.7.1-4.7.3 and 1.5.3.
#include "twind/mqtt/topic.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace twind::mqtt {
namespace {

struct MatchCase {
  std::string filter;
  std::string topic;
  bool matches;
  friend std::ostream& operator<<(std::ostream& os, const MatchCase& c) {
    return os << '"' << c.filter << "\" ~ \"" << c.topic << "\" -> " << c.matches;
  }
};

class TopicMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(TopicMatch, FilterMatchesTopicAsTheSpecificationSays) {
  const MatchCase& c = GetParam();

  const bool result = topic_matches(c.filter, c.topic);

  EXPECT_EQ(result, c.matches);
}

INSTANTIATE_TEST_SUITE_P(
    Spec, TopicMatch,
    ::testing::Values(
        // 4.7.1.2 multi-level wildcard
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1", true},
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        MatchCase{"sport/#", "sport", true}, MatchCase{"#", "sport/tennis/player1", true},
        MatchCase{"#", "/", true}, MatchCase{"sport/tennis/player1/#", "sport/tennis", false},
        // 4.7.1.3 single-level wildcard
        MatchCase{"sport/tennis/+", "sport/tennis/player1", true},
        MatchCase{"sport/tennis/+", "sport/tennis/player2", true},
        MatchCase{"sport/tennis/+", "sport/tennis/player1/ranking", false},
        MatchCase{"sport/+", "sport", false}, MatchCase{"sport/+", "sport/", true},
        MatchCase{"+/+", "/finance", true}, MatchCase{"/+", "/finance", true},
        MatchCase{"+", "/finance", false}, MatchCase{"+/tennis/#", "sport/tennis/x/y", true},
        MatchCase{"+", "a", true},
        // 4.7.2 topics beginning with $
        MatchCase{"#", "$SYS/broker/uptime", false},
        MatchCase{"+/monitor/Clients", "$SYS/monitor/Clients", false},
        MatchCase{"$SYS/#", "$SYS/monitor/Clients", true},
        MatchCase{"$SYS/monitor/+", "$SYS/monitor/Clients", true}, MatchCase{"a/#", "a/$b", true},
        // 4.7.3 case-sensitive, spaces allowed, empty levels are levels
        MatchCase{"ACCOUNTS", "Accounts", false},
        MatchCase{"Accounts payable", "Accounts payable", true}, MatchCase{"a/b", "a/b/", false},
        MatchCase{"a/b/", "a/b", false}, MatchCase{"a/+/b", "a//b", true},
        MatchCase{"a//b", "a//b", true}, MatchCase{"a/b", "a/bc", false},
        MatchCase{"a/bc", "a/b", false},
        // twind's fleet filters
        MatchCase{"plant/+/u", "plant/p1/u", true}, MatchCase{"plant/+/u", "plant/p1/y", false},
        MatchCase{"plant/+/u", "plant/u", false}, MatchCase{"plant/+/u", "plant/a/b/u", false},
        // invalid arguments never match
        MatchCase{"sport+", "sport+", false}, MatchCase{"a/#/b", "a/x/b", false},
        MatchCase{"a/+", "a/+", false}, MatchCase{"", "", false}, MatchCase{"#", "", false}));

class ValidFilter : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidFilter, IsAccepted) {
  EXPECT_TRUE(valid_topic_filter(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Spec, ValidFilter,
                         ::testing::Values("#", "+", "+/tennis/#", "sport/+/player1", "/", "//",
                                           "a//b", "$SYS/#", "+/+", "/+", "sport/tennis/#",
                                           "Accounts payable", "caf\xC3\xA9/+",
                                           std::string(65535, 'a')));

class InvalidFilter : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidFilter, IsRefused) {
  EXPECT_FALSE(valid_topic_filter(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Spec, InvalidFilter,
                         ::testing::Values("", "sport/tennis#", "sport/tennis/#/ranking", "sport+",
                                           "+a", "a+/b", "a/#b", "##", "#/", std::string("a\0b", 3),
                                           "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                           "\xFF", std::string(65536, 'a')));

class ValidName : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidName, IsAccepted) {
  EXPECT_TRUE(valid_topic_name(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Spec, ValidName,
                         ::testing::Values("a", "/", "a//b", "$SYS/x", "twin/plant/state",
                                           "\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x98\x80",
                                           std::string(65535, 'a')));

class InvalidName : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidName, IsRefused) {
  EXPECT_FALSE(valid_topic_name(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Spec, InvalidName,
                         ::testing::Values("", "a/+", "#", "a/#", "a+b", "a#", std::string(1, '\0'),
                                           "\xC3\x28", "\xE0\x80\xAF", "\xED\xBF\xBF",
                                           std::string(65536, 'a')));

}  // namespace
}  // namespace twind::mqtt
