#include "tls_probe.hpp"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

namespace twind::mqtt::detail {
namespace {

struct Closer {
  int fd;
  ~Closer() {
    if (fd >= 0) ::close(fd);
  }
};

int connect_to(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // Bounds the connect (SO_SNDTIMEO) and every read and write of the handshake.
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    ::close(fd);
  }
  return -1;
}

// The reason of the oldest error in this thread's OpenSSL error queue ("" if none); clears it.
std::string queued_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return {};
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(e);
}

}  // namespace

std::string diagnose_tls(const TlsProbe& p, std::chrono::milliseconds timeout) noexcept {
  try {
    ERR_clear_error();
    const std::unique_ptr<SSL_CTX, decltype(&::SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                                  &::SSL_CTX_free);
    if (!ctx) return {};
    const bool trust = p.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                         : SSL_CTX_load_verify_locations(
                                               ctx.get(), p.ca_file.c_str(), nullptr) == 1;
    if (!trust) return "cannot load the trust store " + p.ca_file + ": " + queued_reason();
    if (!p.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx.get(), p.cert_file.c_str()) != 1) {
        return "cannot load the client certificate " + p.cert_file + ": " + queued_reason();
      }
      if (SSL_CTX_use_PrivateKey_file(ctx.get(), p.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return "cannot load the client key " + p.key_file + ": " + queued_reason();
      }
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const std::unique_ptr<SSL, decltype(&::SSL_free)> ssl(SSL_new(ctx.get()), &::SSL_free);
    if (!ssl) return {};
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (X509_VERIFY_PARAM_set1_ip_asc(param, p.host.c_str()) != 1) {
      ERR_clear_error();  // not an IP address: a host name, checked and sent as SNI
      X509_VERIFY_PARAM_set1_host(param, p.host.c_str(), 0);
      // SSL_set_tlsext_host_name(), without the macro's C cast.
      SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(p.host.c_str()));
    }
    const Closer sock{connect_to(p.host, p.port, timeout)};
    if (sock.fd < 0) return {};
    SSL_set_fd(ssl.get(), sock.fd);
    if (SSL_connect(ssl.get()) != 1) {
      const long verify = SSL_get_verify_result(ssl.get());
      if (verify != X509_V_OK) {
        ERR_clear_error();
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
      }
      const std::string reason = queued_reason();
      if (!reason.empty()) return reason;
      // No TLS alert, no error: the peer closed the socket on a ClientHello it could not read.
      return "the broker closed the connection during the handshake";
    }
    // Under TLS 1.3 the broker checks the client certificate after the client's side of the
    // handshake: its refusal arrives as an alert on the first read. Silence is success.
    char byte = 0;
    if (SSL_read(ssl.get(), &byte, 1) <= 0) {
      const std::string reason = queued_reason();
      if (!reason.empty()) return reason;
    }
    return {};
  } catch (...) {
    return {};
  }
}

std::string diagnose_broker_tls(const BrokerUri& uri, const std::optional<Tls>& tls) {
  TlsProbe p;
  p.host = uri.host();
  p.port = uri.port();
  if (tls) {
    p.ca_file = tls->ca_file;
    p.cert_file = tls->cert_file;
    p.key_file = tls->key_file;
  }
  std::string reason = diagnose_tls(p, std::chrono::milliseconds(1000));
  if (reason.find("wrong version number") != std::string::npos ||
      reason.find("packet length too long") != std::string::npos ||
      reason.find("closed the connection during the handshake") != std::string::npos) {
    reason += " (a plaintext listener?)";
  }
  return reason;
}

}  // namespace twind::mqtt::detail
