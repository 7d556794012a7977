#include "nodelay.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace twind::mqtt::detail {
namespace {

int nodelay(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
  return v;
}

TEST(DisableNagle, SetsNodelayOnTheSocketConnectedToThatPortOnly) {
  // A loopback listener and a client connected to it.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int accepted = accept(listener, nullptr, nullptr);
  ASSERT_EQ(nodelay(client), 0);

  EXPECT_GE(disable_nagle_to_port(port), 1);

  EXPECT_NE(nodelay(client), 0);
  EXPECT_EQ(nodelay(accepted), 0);  // its peer port is the client's ephemeral one
  close(accepted);
  close(client);
  close(listener);
}

}  // namespace
}  // namespace twind::mqtt::detail
