// The key table: complete, rendered faithfully, the source of the validator's key lists, and
// the exact content of docs/configuration.md's table (so the docs cannot drift).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED: key_table_markdown() -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED -->";

TEST(KeyTable, DocsContainExactlyTheGeneratedTable) {
  std::ifstream in(std::string(TWIND_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string doc = buf.str();
  const auto begin = doc.find(kBegin);
  const auto end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << "no BEGIN marker";
  ASSERT_NE(end, std::string::npos) << "no END marker";
  ASSERT_LT(begin, end);

  const std::string sut = key_table_markdown();

  EXPECT_EQ(doc.substr(begin + kBegin.size(), end - begin - kBegin.size()), sut)
      << "docs/configuration.md is out of date; replace the text between the markers with "
         "`twind check --keys` (key_table_markdown()).";
}

TEST(KeyTable, EveryRowIsFilledAndEveryPathIsUnique) {
  std::set<std::string> paths;
  for (const KeyDoc& k : key_table()) {
    EXPECT_FALSE(k.type.empty()) << k.path;
    EXPECT_FALSE(k.default_value.empty()) << k.path;
    EXPECT_FALSE(k.meaning.empty()) << k.path;
    EXPECT_TRUE(paths.insert(k.path).second) << "twice: " << k.path;
  }
}

TEST(KeyTable, EveryNestedKeyHasItsParentInTheTable) {
  std::set<std::string> paths;
  for (const KeyDoc& k : key_table()) paths.insert(k.path);
  for (const KeyDoc& k : key_table()) {
    const auto dot = k.path.rfind('.');
    if (dot == std::string::npos) continue;
    std::string parent = k.path.substr(0, dot);
    if (parent.size() > 2 && parent.compare(parent.size() - 2, 2, "[]") == 0) {
      parent.resize(parent.size() - 2);  // assets[] is documented as assets
    }
    EXPECT_TRUE(paths.count(parent) == 1) << k.path << " has no row for " << parent;
  }
}

TEST(KeyTable, MarkdownHasAHeaderAndOneRowPerKeyWithPipesEscaped) {
  const std::string sut = key_table_markdown();

  const auto lines = static_cast<std::size_t>(std::count(sut.begin(), sut.end(), '\n'));
  EXPECT_EQ(lines, key_table().size() + 2);
  EXPECT_EQ(sut.rfind("| Key | Type | Default | Meaning | Rule |\n| --- |", 0), 0U);
  EXPECT_THAT(sut, HasSubstr("| `assets[].signals[].threshold` | number |"));
  // |measured - predicted| inside a cell must not end the cell.
  EXPECT_THAT(sut, HasSubstr("\\|measured - predicted\\|"));
}

TEST(KeyTable, UnknownKeyMessageListsTheTableKeysOfThatMapping) {
  std::string expected_list;
  for (const KeyDoc& k : key_table()) {
    constexpr std::string_view prefix = "assets[].detector.";
    if (k.path.rfind(prefix, 0) == 0) {
      expected_list += (expected_list.empty() ? "" : ", ") + k.path.substr(prefix.size());
    }
  }

  const LoadResult sut = load_string(R"(assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    detector: {raise_afer: 2}
)",
                                     "t.yaml");

  ASSERT_EQ(sut.diagnostics.size(), 1U);
  EXPECT_EQ(sut.diagnostics[0].message,
            "assets[0].detector.raise_afer: unknown key, expected one of: " + expected_list +
                " (did you mean raise_after?)");
}

}  // namespace
}  // namespace twind::config
