#include "preload/capture_state.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

#include "preload/collector_link.h"
#include "preload/host_filter.h"
#include "preload/wire_format.h"

namespace llmtap::preload {
namespace {

struct Conn {
  std::uint64_t id = 0;
  bool capture = false;
  bool closed = false;
  std::uint32_t generation = 0;         // link generation the open record was sent under
  bool gap_pending[2] = {false, false};  // bytes of that direction were dropped since the last send
  std::string host;
  std::uint16_t port = 0;
};

// Heap objects that are never destroyed: hooks can run during exit (atexit handlers, other
// threads), after static destructors would have run.
struct State {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  bool enabled = false;
  CollectorLink* link = nullptr;
  HostFilter* filter = nullptr;
  std::unordered_map<const void*, Conn>* conns = nullptr;
  std::uint64_t next_id = 1;
  std::uint64_t pid = 0;
};

State* g_state = nullptr;

// Last inet peer this thread connected to (sockaddr_in or sockaddr_in6), for fd-less SSL objects.
__thread sockaddr_in6 t_last_peer __attribute__((tls_model("initial-exec")));
__thread bool t_last_peer_valid __attribute__((tls_model("initial-exec"))) = false;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

void atfork_prepare() { pthread_mutex_lock(&g_state->mu); }
void atfork_parent() { pthread_mutex_unlock(&g_state->mu); }
void atfork_child() {
  // The forking thread held the lock through fork(), so the child's copy is consistent.
  State& s = *g_state;
  s.link->reset_after_fork();
  s.conns->clear();
  s.next_id = 1;
  s.pid = static_cast<std::uint64_t>(getpid());
  pthread_mutex_unlock(&s.mu);
}

void init_state() {
  try {
    auto* s = new State;
    const char* path = std::getenv("LLMTAP_COLLECTOR_SOCKET");
    const char* hosts = std::getenv("LLMTAP_HOSTS");
    s->link = new CollectorLink(path ? path : "");
    s->filter = new HostFilter(hosts ? hosts : "");
    s->conns = new std::unordered_map<const void*, Conn>;
    s->pid = static_cast<std::uint64_t>(getpid());
    s->enabled = path != nullptr && path[0] != '\0';
    g_state = s;
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  } catch (...) {
    g_state = nullptr;  // out of memory at start: stay inert
  }
}

State* state() {
  pthread_once(&g_once, init_state);
  return (g_state != nullptr && g_state->enabled) ? g_state : nullptr;
}

// Peer address of the socket under SSL (the connect-time peer), "" when there is none (memory BIOs).
std::string peer_of(OpaqueSsl* ssl, std::uint16_t* port) {
  SslGetFdFn get_fd = real_ssl_get_fd();
  const int fd = get_fd != nullptr ? get_fd(ssl) : -1;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    if (!t_last_peer_valid) return "";
    std::memcpy(&ss, &t_last_peer, sizeof t_last_peer);
  }
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    *port = ntohs(a->sin_port);
    if (inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf) == nullptr) return "";
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    *port = ntohs(a->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      if (inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], buf, sizeof buf) == nullptr) return "";
    } else if (inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf) == nullptr) {
      return "";
    }
  } else {
    return "";
  }
  return buf;
}

// Looks SSL up, deciding on first sight whether it is captured.
Conn& lookup(State& s, OpaqueSsl* ssl) {
  auto [it, inserted] = s.conns->try_emplace(ssl);
  Conn& c = it->second;
  if (!inserted) return c;
  c.id = s.next_id++;
  SslIsServerFn is_server = real_ssl_is_server();
  if (is_server != nullptr && is_server(ssl) == 1) return c;  // we capture the client side only
  SslGetServernameFn get_sni = real_ssl_get_servername();
  const char* sni = get_sni ? get_sni(ssl, 0 /* TLSEXT_NAMETYPE_host_name */) : nullptr;
  std::uint16_t port = 0;
  const std::string peer = peer_of(ssl, &port);
  const std::string name = (sni != nullptr) ? sni : "";
  c.capture = s.filter->selected(name) || s.filter->selected(peer);
  c.host = name.empty() ? peer : name;
  c.port = port != 0 ? port : 443;
  return c;
}

// Announces C under the current link generation; false when the collector is unreachable.
bool ensure_open(State& s, Conn& c) {
  if (!s.link->ensure_connected()) return false;
  if (c.generation == s.link->generation()) return true;
  wire::OpenPayload open;
  open.pid = s.pid;
  open.port = c.port;
  open.host_len = static_cast<std::uint16_t>(c.host.size() > 1024 ? 1024 : c.host.size());
  open.tls = 1;
  if (!s.link->send(wire::RecordType::kOpen, 0, c.id, realtime_ns(), &open, sizeof open,
                    c.host.data(), open.host_len)) {
    return false;
  }
  c.generation = s.link->generation();
  return true;
}

void send_bytes(State& s, Conn& c, std::uint8_t dir, const char* p, std::size_t len) {
  const std::int64_t ts = realtime_ns();
  if (!ensure_open(s, c)) {
    c.gap_pending[dir] = true;
    return;
  }
  if (c.gap_pending[dir]) {
    if (!s.link->send(wire::RecordType::kGap, dir, c.id, ts, nullptr, 0)) return;
    c.gap_pending[dir] = false;
  }
  while (len > 0) {
    const std::size_t n = len < wire::kMaxPayload ? len : wire::kMaxPayload;
    if (!s.link->send(wire::RecordType::kData, dir, c.id, ts, p, n)) {
      c.gap_pending[dir] = true;
      return;
    }
    p += n;
    len -= n;
  }
}

}  // namespace

void capture_bytes(OpaqueSsl* ssl, std::uint8_t dir, const void* bytes, std::size_t len) noexcept {
  if (len == 0 || dir > 1) return;
  State* s = state();
  if (s == nullptr) return;
  pthread_mutex_lock(&s->mu);
  try {
    Conn& c = lookup(*s, ssl);
    if (c.capture && !c.closed) send_bytes(*s, c, dir, static_cast<const char*>(bytes), len);
  } catch (...) {
    // Out of memory: lose this record; the host call already succeeded.
  }
  pthread_mutex_unlock(&s->mu);
}

void remember_connect_peer(const void* addr, unsigned addr_len) noexcept {
  if (addr == nullptr || addr_len < sizeof(sa_family_t)) return;
  const auto family = static_cast<const sockaddr*>(addr)->sa_family;
  if (family == AF_INET && addr_len >= sizeof(sockaddr_in)) {
    std::memcpy(&t_last_peer, addr, sizeof(sockaddr_in));
    t_last_peer_valid = true;
  } else if (family == AF_INET6 && addr_len >= sizeof(sockaddr_in6)) {
    std::memcpy(&t_last_peer, addr, sizeof(sockaddr_in6));
    t_last_peer_valid = true;
  }
}

void capture_end(OpaqueSsl* ssl, bool freed) noexcept {
  State* s = state();
  if (s == nullptr) return;
  pthread_mutex_lock(&s->mu);
  try {
    auto it = s->conns->find(ssl);
    if (it != s->conns->end()) {
      Conn& c = it->second;
      if (c.capture && !c.closed && c.generation == s->link->generation()) {
        s->link->send(wire::RecordType::kClose, 0, c.id, realtime_ns(), nullptr, 0);
      }
      c.closed = true;
      if (freed) s->conns->erase(it);
    }
  } catch (...) {
  }
  pthread_mutex_unlock(&s->mu);
}

}  // namespace llmtap::preload
