// ethernet_loopback COMMAND [ARG]...: runs COMMAND in a network namespace of its own whose
// loopback has Ethernet's MTU (1500 bytes) instead of 65536. TCP sizes a connection's send buffer
// from its segment size, so a connection on this loopback gets the send buffer of a connection
// over a real network (about 70 KB where the host's loopback gives about 4 MB): live tests run
// under it see what twind sees beside a broker on another host or in another container.
//
// Needs CAP_SYS_ADMIN (root) for the namespace; without it, exits 77 (skipped under CTest).
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

constexpr int kSkipped = 77;
constexpr int kEthernetMtu = 1500;

bool loopback_up_with_mtu(int mtu) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  req.ifr_mtu = mtu;
  bool ok = ::ioctl(s, SIOCSIFMTU, &req) == 0;
  if (ok) ok = ::ioctl(s, SIOCGIFFLAGS, &req) == 0;
  if (ok) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);  // NOLINT: the C interface
    ok = ::ioctl(s, SIOCSIFFLAGS, &req) == 0;
  }
  const int saved = errno;
  ::close(s);
  errno = saved;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ethernet_loopback COMMAND [ARG]...\n");
    return 2;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "SKIP: no network namespace of its own (%s): needs root\n",
                 std::strerror(errno));
    return kSkipped;
  }
  if (!loopback_up_with_mtu(kEthernetMtu)) {
    std::fprintf(stderr, "ethernet_loopback: cannot set up the namespace's loopback: %s\n",
                 std::strerror(errno));
    return 1;
  }
  ::execvp(argv[1], argv + 1);
  std::fprintf(stderr, "ethernet_loopback: cannot run %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
