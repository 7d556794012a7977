#include "nodelay.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <vector>

namespace twind::mqtt::detail {

std::vector<int> sockets_to_port(int port) {
  std::vector<int> found;
  if (port <= 0) return found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    const int s = static_cast<int>(fd);
    // Paho's threads may close (and the process reuse) any of these descriptors meanwhile, and
    // nothing can order this scan with that. So the scan asks socket options only, which fail
    // harmlessly on a closed descriptor (EBADF) or a file that is no socket (ENOTSOCK), and
    // takes a reused descriptor only if it too is a TCP stream to the broker's port.
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    if (::getpeername(s, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) continue;
    int peer_port = 0;
    if (peer.ss_family == AF_INET) {
      peer_port = ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      peer_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
    }
    if (peer_port == port) found.push_back(s);
  }
  ::closedir(dir);
  return found;
}

bool disable_nagle(int fd) noexcept {
  const int on = 1;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0;
}

int disable_nagle_to_port(int port) noexcept {
  int set = 0;
  try {
    for (const int fd : sockets_to_port(port)) set += disable_nagle(fd) ? 1 : 0;
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory; latency, not safety
  }
  return set;
}

}  // namespace twind::mqtt::detail
