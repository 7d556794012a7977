#include "broker_reader.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scalars.hpp"

namespace twind::config::detail {
namespace {

// One URI, as a string or as an item of the list.
std::optional<std::string> read_uri(Reader& r, const Value& v) {
  const auto s = r.as_string(v);
  if (!s) return std::nullopt;
  if (const auto problem = uri_problem(*s)) {
    r.expected(v, *problem);
    return std::nullopt;
  }
  return s;
}

// `uri`: one broker, or the nodes of a cluster in the order they are tried.
void read_uris(Reader& r, const Value& v, BrokerSpec& b) {
  if (!v.node.IsSequence()) {
    if (const auto s = read_uri(r, v)) b.uri = *s;
    return;
  }
  if (v.node.size() == 0) {
    r.expected(v, "a broker URI, or a list of at least one (the nodes of a cluster)");
    return;
  }
  std::vector<std::string> uris;
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    const Value item = element(v, i);
    const auto s = read_uri(r, item);
    if (!s) return;
    if (i > 0 && is_tls_uri(*s) != is_tls_uri(uris.front())) {
      r.expected(item, std::string(is_tls_uri(uris.front()) ? "an ssl://, mqtts:// or wss://"
                                                            : "a tcp://, mqtt:// or ws://") +
                           " uri like the first (a fail-over never changes between TLS and "
                           "plaintext)");
      return;
    }
    uris.push_back(*s);
  }
  b.uri = uris.front();
  b.failover_uris.assign(uris.begin() + 1, uris.end());
}

void read_connection(Reader& r, const Fields& f, BrokerSpec& b) {
  if (const Value* e = find(f, "uri")) read_uris(r, *e, b);
  if (const Value* e = find(f, "client_id")) {
    if (const auto s = r.as_nonempty_string(*e)) b.client_id = *s;
  }
  if (const Value* e = find(f, "keepalive")) {
    if (const auto d = r.as_duration(*e)) {
      if (*d < 1.0 || *d > 65535.0 || *d != std::floor(*d)) {
        r.expected(*e,
                   "whole seconds from 1s to 65535s (MQTT counts the keep-alive in seconds, in "
                   "16 bits)");
      } else {
        b.keepalive = *d;
      }
    }
  }
  if (const Value* e = find(f, "clean_session")) {
    if (const auto x = r.as_bool(*e)) b.clean_session = *x;
  }
  if (const Value* e = find(f, "check_publish")) {
    if (const auto x = r.as_bool(*e)) b.check_publish = *x;
  }
  if (const Value* e = find(f, "client")) {
    if (const auto c =
            r.as_enum<BrokerSpec::Client>(*e, {{"threaded", BrokerSpec::Client::threaded},
                                               {"driven", BrokerSpec::Client::driven},
                                               {"native", BrokerSpec::Client::native}})) {
      b.client = *c;
    }
  }
}

// username, and the password from one place: a file or an environment variable.
void read_credentials(Reader& r, const Fields& f, BrokerSpec& b) {
  if (const Value* e = find(f, "username")) {
    if (const auto s = r.as_string(*e)) b.username = *s;
  }
  const Value* file = find(f, "password_file");
  const Value* env = find(f, "password_env");
  if (file != nullptr) {
    if (const auto s = r.as_string(*file)) b.password_file = *s;
  }
  if (env != nullptr) {
    if (const auto s = r.as_string(*env)) {
      if (!s->empty() && !is_env_name(*s)) {
        r.expected(*env, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      } else {
        b.password_env = *s;
      }
    }
  }
  if (!b.password_file.empty() && !b.password_env.empty()) {
    // Point at whichever comes second: the first one was fine until then.
    const bool env_last = file->key_pos < env->key_pos;
    const Value& last = env_last ? *env : *file;
    r.expected(last, std::string("no ") + (env_last ? "password_env" : "password_file") + " when " +
                         (env_last ? "password_file" : "password_env") +
                         " is set (the password comes from one place)");
  } else if (b.username.empty() && (!b.password_file.empty() || !b.password_env.empty())) {
    const Value& given = !b.password_file.empty() ? *file : *env;
    r.expected(given, "a username as well (MQTT sends a password only with a user name)");
  }
}

void read_tls(Reader& r, const Value& v, BrokerSpec& b) {
  if (!r.expect_map(v, "a mapping (ca_file, cert_file, key_file)")) return;
  const Fields f = r.fields(v, "broker.tls");
  TlsSpec tls;
  if (const Value* e = find(f, "ca_file")) {
    if (const auto s = r.as_nonempty_string(*e)) tls.ca_file = *s;
  }
  const Value* cert = find(f, "cert_file");
  const Value* key = find(f, "key_file");
  if (cert != nullptr) {
    if (const auto s = r.as_nonempty_string(*cert)) tls.cert_file = *s;
  }
  if (key != nullptr) {
    if (const auto s = r.as_nonempty_string(*key)) tls.key_file = *s;
  }
  if ((cert == nullptr) != (key == nullptr)) {
    const Value& given = cert != nullptr ? *cert : *key;
    r.error(given.key_pos, given.path,
            std::string("got ") +
                (cert != nullptr ? "cert_file without key_file" : "key_file without cert_file") +
                ", expected both or neither (a client certificate needs its private key)");
  }
  b.tls = std::move(tls);
}

}  // namespace

void read_broker(Reader& r, const Value& v, BrokerSpec& b) {
  if (!r.expect_map(v, "a mapping (uri, client_id, ...)")) return;
  const Fields f = r.fields(v, "broker");
  read_connection(r, f, b);
  read_credentials(r, f, b);
  const Value* tls = find(f, "tls");
  if (tls == nullptr) return;
  read_tls(r, *tls, b);
  if (!is_tls_uri(b.uri)) {
    // Never plaintext when TLS was asked for: the default URI or a tcp:// one is an error.
    const Value* u = find(f, "uri");
    r.error(
        u != nullptr ? u->pos : tls->key_pos, u != nullptr ? u->path : tls->path,
        (u != nullptr ? "got " + b.uri + " with tls" : "got tls with the default uri " + b.uri) +
            ", expected an ssl://, mqtts:// or wss:// uri (twind never falls back to "
            "plaintext when TLS is configured)");
  }
}

}  // namespace twind::config::detail
