#include "tcp_dns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <stdexcept>

#include "pooledge/base/log.hpp"

namespace pooledge::dataplane {
namespace {

constexpr size_t kMaxPending = 256 * 1024;  // unsent answers per connection before we stop reading

using Clock = std::chrono::steady_clock;

// Descriptors kept free for everything else the process opens (ports, TAPs, the image file,
// management and HTTP connections) when checking tcp.max_connections against the limit.
constexpr rlim_t kOtherFds = 128;

// The network a connection counts against for tcp.max_per_prefix: a /24 or a /56.
using PrefixKey = std::pair<uint64_t, uint64_t>;

PrefixKey prefix_of(const base::IpAddress& a) {
    if (a.family == 4) {
        return {4, a.v4_host() & 0xFFFFFF00u};
    }
    return {6, a.v6_hi() & ~uint64_t{0xFF}};
}

struct Conn {
    base::Fd fd;
    std::vector<uint8_t> in;
    std::vector<uint8_t> out;
    size_t out_sent = 0;
    // The idle timer runs from the accept or the last complete query, not from any byte: a
    // client sending one byte every few seconds must not hold a slot for ever.
    Clock::time_point last;
    Clock::time_point message_start;  // first byte of the query in `in`, if any
    base::IpAddress peer;
};

// A listening socket on port 53 of `addr`; throws naming the step that failed.
base::Fd listen_tcp(const void* addr, int family, const std::string& text) {
    auto fail = [&](const char* step) {
        return std::runtime_error("TCP DNS: [" + text + "]:53: " + step + ": " +
                                  std::strerror(errno));
    };
    base::Fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        throw fail("socket");
    }
    const int one = 1;
    auto set = [&](int level, int option, const char* name) {
        if (::setsockopt(fd.get(), level, option, &one, sizeof one) != 0) {
            throw fail(name);
        }
    };
    set(SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
    // An IPv6 service address may still be in DAD on the exception interface.
    if (family == AF_INET) {
        set(IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND");
    } else {
        set(IPPROTO_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND");
        set(IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
    }
    int rc;
    if (family == AF_INET) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(53);
        std::memcpy(&sa.sin_addr, addr, 4);
        rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    } else {
        sockaddr_in6 sa{};
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(53);
        std::memcpy(&sa.sin6_addr, addr, 16);
        rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    }
    if (rc != 0) {
        throw fail("bind");
    }
    if (::listen(fd.get(), 512) != 0) {
        throw fail("listen");
    }
    return fd;
}

}  // namespace

TcpDns::TcpDns(const DataplaneConfig& config, const ImageSlot& slot,
               const engine::Identity& identity, TcpStats& stats, const AclSlot* acls)
    : config_(config), slot_(slot), identity_(identity), acls_(acls), stats_(stats) {}

TcpDns::~TcpDns() {
    if (thread_.joinable()) {
        const char b = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &b, 1);
        thread_.join();
    }
}

void TcpDns::start() {
    // Each connection is a descriptor: make sure the limit allows tcp.max_connections, raising
    // the soft limit as far as the hard one allows, rather than failing accepts under load.
    rlimit rl{};
    const rlim_t need = rlim_t{config_.tcp_max_connections} + kOtherFds;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
        if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
            throw std::runtime_error(
                "TCP DNS: tcp.max_connections " + std::to_string(config_.tcp_max_connections) +
                " needs about " + std::to_string(need) + " open files, but the limit is " +
                std::to_string(rl.rlim_cur) +
                " (raise it with ulimit -n or LimitNOFILE=, or lower tcp.max_connections)");
        }
    }
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    int wake[2];
    if (epoll_.get() < 0 || ::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error(std::string("TCP DNS: ") + std::strerror(errno));
    }
    wake_read_.reset(wake[0]);
    wake_write_.reset(wake[1]);
    auto watch = [&](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            throw std::runtime_error("TCP DNS: epoll: " + std::string(std::strerror(errno)));
        }
    };
    auto add = [&](const void* addr, int family, const std::string& text) {
        listeners_.push_back(listen_tcp(addr, family, text));
        watch(listeners_.back().get());
    };
    for (const auto& a : config_.service_v4) {
        char t[INET_ADDRSTRLEN];
        add(a.data(), AF_INET, ::inet_ntop(AF_INET, a.data(), t, sizeof t));
    }
    for (const auto& a : config_.service_v6) {
        char t[INET6_ADDRSTRLEN];
        add(a.data(), AF_INET6, ::inet_ntop(AF_INET6, a.data(), t, sizeof t));
    }
    watch(wake_read_.get());
    thread_ = std::thread([this] { run(); });
}

void TcpDns::run() {
    rcu_register_thread();
    std::map<int, Conn> conns;
    std::map<PrefixKey, unsigned> per_prefix;
    base::Rng rng(static_cast<uint64_t>(std::time(nullptr)) ^ 0x7c9);
    std::vector<uint8_t> answer(65535);
    const auto idle = config_.tcp_idle_timeout;
    const auto message_timeout = config_.tcp_message_timeout;
    // Out of descriptors, a listener stays readable: stop watching the listeners for a moment
    // rather than spin on accept failing.
    Clock::time_point accept_paused_until{};
    auto watch_listeners = [&](uint32_t events) {
        for (const auto& l : listeners_) {
            epoll_event ev{};
            ev.events = events;
            ev.data.fd = l.get();
            if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, l.get(), &ev) != 0) {
                base::log::warn(std::string("TCP DNS: epoll: ") + std::strerror(errno));
            }
        }
    };
    auto close_conn = [&](int fd) {
        const auto it = conns.find(fd);
        if (it != conns.end()) {
            const auto p = per_prefix.find(prefix_of(it->second.peer));
            if (p != per_prefix.end() && --p->second == 0) {
                per_prefix.erase(p);
            }
            conns.erase(it);  // closes the socket
        }
        stats_.open.store(conns.size(), std::memory_order_relaxed);
    };
    auto flush = [&](int fd, Conn& c) -> bool {
        while (c.out_sent < c.out.size()) {
            const ssize_t n =
                ::send(fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            }
            if (n <= 0) {
                return false;
            }
            c.out_sent += static_cast<size_t>(n);
        }
        if (c.out_sent == c.out.size()) {
            c.out.clear();
            c.out_sent = 0;
        }
        epoll_event ev{};
        // A client that pipelines without reading has kMaxPending of answers waiting: stop
        // watching it for input until it reads (else epoll reports it ready, forever).
        ev.events = (c.out.size() < kMaxPending ? static_cast<uint32_t>(EPOLLIN) : 0u) |
                    (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
        ev.data.fd = fd;
        return ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
    };
    epoll_event events[64];
    for (;;) {
        rcu_thread_offline();  // blocking: must not hold up a grace period
        const bool paused = accept_paused_until != Clock::time_point{};
        const int n = ::epoll_wait(epoll_.get(), events, 64, paused ? 100 : 250);
        rcu_thread_online();
        const auto now = Clock::now();
        if (paused && now >= accept_paused_until) {
            accept_paused_until = {};
            watch_listeners(EPOLLIN);
        }
        bool stop = false;
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == wake_read_.get()) {
                stop = true;
                continue;
            }
            if (std::any_of(listeners_.begin(), listeners_.end(),
                            [fd](const base::Fd& l) { return l.get() == fd; })) {
                for (;;) {
                    sockaddr_storage ss{};
                    socklen_t len = sizeof ss;
                    base::Fd c(::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len,
                                         SOCK_NONBLOCK | SOCK_CLOEXEC));
                    if (c.get() < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM) {
                            accept_paused_until = now + std::chrono::milliseconds(100);
                            watch_listeners(0);
                        }
                        break;
                    }
                    if (conns.size() >= config_.tcp_max_connections) {
                        stats_.refused.fetch_add(1, std::memory_order_relaxed);
                        continue;
                    }
                    const base::IpAddress peer =
                        base::from_sockaddr(ss).value_or(base::IpAddress{});
                    // This thread is an online RCU reader here: the lists stay valid until
                    // its next quiescent state.
                    const limit::Acls* acls = acls_ != nullptr ? acls_->get() : nullptr;
                    if (acls != nullptr && !acls->dns.empty() &&
                        acls->dns.lookup(peer) == limit::kAclDeny) {
                        stats_.refused_acl.fetch_add(1, std::memory_order_relaxed);
                        continue;
                    }
                    const auto known = per_prefix.find(prefix_of(peer));
                    if (known != per_prefix.end() && known->second >= config_.tcp_max_per_prefix) {
                        stats_.refused_prefix.fetch_add(1, std::memory_order_relaxed);
                        continue;
                    }
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.fd = c.get();
                    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.get(), &ev) != 0) {
                        continue;
                    }
                    ++per_prefix[prefix_of(peer)];
                    stats_.connections.fetch_add(1, std::memory_order_relaxed);
                    const int key = c.get();
                    Conn& conn = conns[key];
                    conn.fd = std::move(c);
                    conn.last = now;
                    conn.peer = peer;
                    stats_.open.store(conns.size(), std::memory_order_relaxed);
                }
                continue;
            }
            auto it = conns.find(fd);
            if (it == conns.end()) {
                continue;
            }
            Conn& c = it->second;
            bool ok = true;
            if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 &&
                c.out.size() < kMaxPending) {
                uint8_t buf[16384];
                const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                    ok = false;
                } else if (r > 0) {
                    if (c.in.empty()) {
                        c.message_start = now;
                    }
                    c.in.insert(c.in.end(), buf, buf + r);
                }
            }
            // Every complete message, in order (pipelining, RFC 7766 6.2.1.1).
            const LoadedImage* img = slot_.get();
            const engine::AnswerContext actx{img != nullptr ? &*img->view : nullptr, &identity_,
                                             &rng, static_cast<uint32_t>(std::time(nullptr))};
            size_t off = 0;
            while (ok && c.in.size() - off >= 2) {
                const size_t len = static_cast<size_t>(c.in[off] << 8 | c.in[off + 1]);
                if (c.in.size() - off - 2 < len) {
                    break;
                }
                stats_.queries.fetch_add(1, std::memory_order_relaxed);
                const auto resp =
                    engine::answer(actx, engine::Client{c.peer, engine::Transport::Tcp},
                                   {c.in.data() + off + 2, len}, answer);
                off += 2 + len;
                c.last = now;
                if (resp.size == 0) {
                    ok = false;  // a query we drop over UDP closes the connection
                    break;
                }
                c.out.push_back(static_cast<uint8_t>(resp.size >> 8));
                c.out.push_back(static_cast<uint8_t>(resp.size));
                c.out.insert(c.out.end(), answer.begin(), answer.begin() + resp.size);
            }
            c.in.erase(c.in.begin(), c.in.begin() + static_cast<ptrdiff_t>(off));
            if (off > 0 && !c.in.empty()) {
                c.message_start = now;  // the next query began within this read
            }
            if (ok) {
                ok = flush(fd, c);
            }
            if (!ok) {
                close_conn(fd);
            }
        }
        rcu_quiescent_state();
        // Idle connections go (RFC 7766 6.2.3: the server may close them), and so do those
        // whose query has not arrived whole in time.
        for (auto it = conns.begin(); it != conns.end();) {
            const int fd = it->first;
            const Conn& c = it->second;
            ++it;
            if (c.in.empty() ? now - c.last > idle : now - c.message_start > message_timeout) {
                stats_.timed_out.fetch_add(1, std::memory_order_relaxed);
                close_conn(fd);
            }
        }
        if (stop) {
            break;
        }
    }
    conns.clear();  // closes every connection
    rcu_unregister_thread();
}

}  // namespace pooledge::dataplane
