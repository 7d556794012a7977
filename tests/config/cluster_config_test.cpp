// The `cluster` section: a replica's partitions, name and announcement topic, and what it asks of
// the assets (templates discovered on partitioned topics).
#include <gtest/gtest.h>

#include <string>

#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

std::string replica(const std::string& cluster, const std::string& frame,
                    const std::string& discover = "    discover: true\n") {
  return cluster + R"(
assets:
  - template: plant
)" + discover +
         R"(    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input}
      - {name: y, role: output}
    frames:
      - )" +
         frame + "\n";
}

// The one error of `text`, as file:line:col: message.
std::string error_of(const std::string& text) {
  const LoadResult r = load_string(text, "c.yaml");
  if (r.ok()) return "accepted";
  if (r.diagnostics.size() != 1) {
    std::string all = std::to_string(r.diagnostics.size()) + " errors:";
    for (const Diagnostic& d : r.diagnostics) all += "\n" + d.str();
    return all;
  }
  return r.diagnostics.front().str();
}

TEST(ClusterConfig, AReplicaReadsItsPartitionsNameAndAnnouncementTopic) {
  const LoadResult r = load_string(
      replica("cluster:\n  partitions: 30\n  member: replica-1\n  members: plant/twind/{member}\n",
              "twin_in/{partition}/plant/{asset}/frame"),
      "c.yaml");
  ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics.front().str());
  ASSERT_TRUE(r.config->cluster.has_value());
  EXPECT_EQ(r.config->cluster->partitions, 30u);
  EXPECT_EQ(r.config->cluster->member, "replica-1");
  EXPECT_EQ(r.config->cluster->members, "plant/twind/{member}");
  EXPECT_EQ(r.config->assets.at(0).frame_topics.at(0), "twin_in/{partition}/plant/{asset}/frame");
}

TEST(ClusterConfig, DefaultsAreTheHostNameAndTwinMembers) {
  const LoadResult r = load_string(
      replica("cluster:\n  partitions: 3\n", "twin_in/{partition}/plant/{asset}/frame"), "c.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->cluster->member, "");
  EXPECT_EQ(r.config->cluster->members, "twin/members/{member}");
  EXPECT_EQ(r.config->cluster->active_alerts, "twin/active_alerts/{partition}/{asset}");
  EXPECT_FALSE(load_string(replica("", "plant/{asset}/frame"), "c.yaml").config->cluster);
}

TEST(ClusterConfig, EachMistakeIsRefusedWhereItIs) {
  const std::string part = "twin_in/{partition}/plant/{asset}/frame";
  EXPECT_EQ(error_of(replica("cluster:\n  member: r1\n", part)),
            "c.yaml:2:3: cluster.partitions: missing required key (integer)");
  EXPECT_EQ(error_of(replica("cluster:\n  partitions: 0\n", part)),
            "c.yaml:2:15: cluster.partitions: got 0, expected an integer from 1 to 4096");
  EXPECT_NE(error_of(replica("cluster:\n  partitions: 3\n  member: a.b\n", part))
                .find("c.yaml:3:11: cluster.member: got \"a.b\", expected a name"),
            std::string::npos);
  EXPECT_NE(error_of(replica("cluster:\n  partitions: 3\n  members: twin/members\n", part))
                .find("c.yaml:3:12: cluster.members: got \"twin/members\", expected a topic with "
                      "{member} once"),
            std::string::npos);
  EXPECT_EQ(
      error_of(replica("cluster:\n  partitions: 3\n  active_alerts: twin/alerts/{asset}\n", part)),
      "c.yaml:3:18: cluster.active_alerts: got \"twin/alerts/{asset}\", expected a topic with "
      "{partition} and then {asset}, each once as a whole level, like "
      "twin/active_alerts/{partition}/{asset}");
  EXPECT_EQ(error_of(replica("cluster:\n  partitions: 3\n  active_alerts: a/{partition}/{asset}\n",
                             part)),
            "accepted");
  // The broker puts the partition in the topic: a replica's topics must take it.
  EXPECT_NE(error_of(replica("cluster:\n  partitions: 3\n", "plant/{asset}/frame"))
                .find("assets[0].frames[0]: got \"plant/{asset}/frame\", expected a topic with "
                      "{partition} and then {asset}"),
            std::string::npos);
  EXPECT_NE(error_of(replica("cluster:\n  partitions: 3\n", "plant/{asset}/{partition}/frame"))
                .find("expected a topic with {partition} and then {asset}"),
            std::string::npos);
  // Without a cluster, {partition} means nothing.
  EXPECT_NE(error_of(replica("", part)).find("{partition} needs a cluster section"),
            std::string::npos);
  // A replica's assets are discovered.
  EXPECT_NE(error_of(replica("cluster:\n  partitions: 3\n", part, "    discover: false\n"))
                .find("assets[0].discover: got \"false\", expected true"),
            std::string::npos);
  EXPECT_NE(error_of(R"(
cluster: {partitions: 3}
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)")
                .find("c.yaml:4:5: assets[0].id: not with cluster"),
            std::string::npos);
}

}  // namespace
}  // namespace twind::config
