#include "pooledge/image/push.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "pooledge/base/fd.hpp"

namespace pooledge::image::push {
namespace {

void put_be(uint8_t* p, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

uint64_t get_be(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

using Clock = std::chrono::steady_clock;

// How often a wait looks at its cancel flag.
constexpr Timeout kCancelSlice{200};

// Waits for `events` on fd for at most `timeout`; false on timeout, error or cancel.
bool wait_for(int fd, short events, Timeout timeout, const std::atomic<bool>* cancel = nullptr) {
    pollfd p{fd, events, 0};
    const auto until = Clock::now() + timeout;
    for (;;) {
        if (cancel != nullptr && cancel->load()) {
            return false;
        }
        const auto left = std::chrono::duration_cast<Timeout>(until - Clock::now());
        const Timeout slice = cancel != nullptr ? std::min(left, kCancelSlice) : left;
        const int n = ::poll(&p, 1, static_cast<int>(std::max(Timeout{0}, slice).count()));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0 && cancel != nullptr && Clock::now() < until) {
            continue;  // a slice ran out, not the timeout
        }
        return n == 1 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
}

// What is left of `timeout` before `deadline` (never negative).
Timeout bounded(Timeout timeout, Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<Timeout>(deadline - Clock::now());
    return std::max(Timeout{0}, std::min(timeout, left));
}

// Moves exactly `len` bytes with `step(offset, remaining)` (one recv or send), each wait
// bounded by `timeout` and the whole by `deadline`: a peer dripping a byte just inside each
// timeout still runs out of time.
template <typename Step>
bool move_exact(int fd, short events, size_t len, Timeout timeout, Clock::time_point deadline,
                const std::atomic<bool>* cancel, Step step) {
    size_t done = 0;
    while (done < len) {
        const Timeout t = bounded(timeout, deadline);
        if (t.count() == 0 || !wait_for(fd, events, t, cancel)) {
            return false;
        }
        const ssize_t n = step(done, len - done);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

bool read_exact(int fd, uint8_t* buf, size_t len, Timeout timeout,
                Clock::time_point deadline = Clock::time_point::max(),
                const std::atomic<bool>* cancel = nullptr) {
    return move_exact(fd, POLLIN, len, timeout, deadline, cancel,
                      [&](size_t at, size_t n) { return ::recv(fd, buf + at, n, 0); });
}

bool write_exact(int fd, const uint8_t* buf, size_t len, Timeout timeout,
                 Clock::time_point deadline = Clock::time_point::max(),
                 const std::atomic<bool>* cancel = nullptr) {
    return move_exact(fd, POLLOUT, len, timeout, deadline, cancel,
                      [&](size_t at, size_t n) { return ::send(fd, buf + at, n, MSG_NOSIGNAL); });
}

// A connected, non-blocking socket, or -1 with a reason. Non-blocking so that connect() and
// every transfer obey the timeout: a dead remote node must not stall its pusher thread.
int connect_to(const Endpoint& to, Timeout timeout, std::string* why,
               const std::atomic<bool>* cancel = nullptr) {
    if (to.kind == Endpoint::Kind::Unix) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, to.path.data(), to.path.size());
        base::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            base::set_why(why, to.to_string() + ": " + std::strerror(errno));
            return -1;
        }
        return fd.release();
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(to.port);
    if (const int rc = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        base::set_why(why, to.to_string() + ": " + ::gai_strerror(rc));
        return -1;
    }
    std::string last = "no address";
    int result = -1;
    for (addrinfo* ai = res; ai != nullptr && result < 0; ai = ai->ai_next) {
        base::Fd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.get() < 0) {
            last = std::strerror(errno);
            continue;
        }
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last = std::strerror(errno);
            continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (!wait_for(fd.get(), POLLOUT, timeout, cancel)) {
            last = "connect timed out";
            continue;
        }
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            last = std::strerror(err != 0 ? err : errno);
            continue;
        }
        // Latency only (the reply follows the body's last segment): a failure changes nothing
        // else, so it is not one.
        const int one = 1;
        (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        result = fd.release();
    }
    ::freeaddrinfo(res);
    if (result < 0) {
        base::set_why(why, to.to_string() + ": " + last);
    }
    return result;
}

std::optional<Reply> exchange(const Endpoint& to, RequestType type, std::span<const uint8_t> body,
                              const ClientOptions& o, std::string* why) {
    const Timeout timeout = o.timeout;
    const auto deadline = Clock::now() + o.deadline;
    const std::atomic<bool>* cancel = o.cancel;
    base::Fd fd(connect_to(to, timeout, why, cancel));
    if (fd.get() < 0) {
        return std::nullopt;
    }
    const auto header = encode_request(type, body.size());
    if (!write_exact(fd.get(), header.data(), header.size(), timeout, deadline, cancel) ||
        !write_exact(fd.get(), body.data(), body.size(), timeout, deadline, cancel)) {
        if (cancel != nullptr && cancel->load()) {
            base::set_why(why, to.to_string() + ": cancelled");
            return std::nullopt;
        }
        // The receiver may have refused early (TooLarge) and closed; its reply still counts.
        std::array<uint8_t, kHeaderSize> rh{};
        if (!read_exact(fd.get(), rh.data(), rh.size(), timeout, deadline, cancel)) {
            base::set_why(why, to.to_string() + ": sending failed: " + std::strerror(errno));
            return std::nullopt;
        }
        const auto d = decode_reply(rh);
        if (!d) {
            base::set_why(why, to.to_string() + ": sending failed");
            return std::nullopt;
        }
        return Reply{d->status, d->serial, "(reason lost: connection closed)"};
    }
    std::array<uint8_t, kHeaderSize> rh{};
    if (!read_exact(fd.get(), rh.data(), rh.size(), timeout, deadline, cancel)) {
        base::set_why(why, to.to_string() + ": no reply (timeout, deadline, cancel or closed)");
        return std::nullopt;
    }
    const auto d = decode_reply(rh);
    if (!d) {
        base::set_why(why, to.to_string() + ": malformed reply header");
        return std::nullopt;
    }
    std::string reason(d->reason_length, '\0');
    if (!read_exact(fd.get(), reinterpret_cast<uint8_t*>(reason.data()), reason.size(), timeout)) {
        base::set_why(why, to.to_string() + ": truncated reply");
        return std::nullopt;
    }
    return Reply{d->status, d->serial, std::move(reason)};
}

}  // namespace

const char* to_string(Status s) noexcept {
    switch (s) {
        case Status::Accepted:
            return "accepted";
        case Status::Current:
            return "current";
        case Status::Refused:
            return "refused";
        case Status::Stale:
            return "stale";
        case Status::TooLarge:
            return "too_large";
        case Status::BadRequest:
            return "bad_request";
        case Status::Failed:
            return "failed";
    }
    return "unknown";
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::string* why) {
    Endpoint e;
    if (text.starts_with("unix:")) {
        e.kind = Kind::Unix;
        e.path = std::string(text.substr(5));
        if (e.path.empty() || e.path.size() >= sizeof(sockaddr_un::sun_path)) {
            base::set_why(why, "unix socket path is empty or longer than " +
                                   std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
            return std::nullopt;
        }
        return e;
    }
    if (!text.starts_with("tcp:")) {
        base::set_why(why, "expected unix:PATH or tcp:HOST:PORT, got '" + std::string(text) + "'");
        return std::nullopt;
    }
    e.kind = Kind::Tcp;
    std::string_view rest = text.substr(4);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
        base::set_why(why, "'" + std::string(text) + "' has no port");
        return std::nullopt;
    }
    std::string_view host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
        base::set_why(why, "'" + std::string(text) + "' needs a host and a port in 1..65535");
        return std::nullopt;
    }
    e.host = std::string(host);
    e.port = static_cast<uint16_t>(value);
    return e;
}

std::string Endpoint::to_string() const {
    if (kind == Kind::Unix) {
        return "unix:" + path;
    }
    // Built with append: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
    const bool v6 = host.find(':') != std::string::npos;
    std::string out = "tcp:";
    out.append(v6 ? "[" : "").append(host).append(v6 ? "]:" : ":").append(std::to_string(port));
    return out;
}

std::array<uint8_t, kHeaderSize> encode_request(RequestType type, uint64_t length) {
    std::array<uint8_t, kHeaderSize> h{};
    std::memcpy(h.data(), kRequestMagic.data(), 4);
    h[4] = kVersion;
    h[5] = static_cast<uint8_t>(type);
    put_be(&h[8], length, 8);
    return h;
}

std::optional<RequestHeader> decode_request(std::span<const uint8_t, kHeaderSize> h) {
    if (std::memcmp(h.data(), kRequestMagic.data(), 4) != 0 || h[4] != kVersion ||
        (h[5] != static_cast<uint8_t>(RequestType::Image) &&
         h[5] != static_cast<uint8_t>(RequestType::Status)) ||
        h[6] != 0 || h[7] != 0) {
        return std::nullopt;
    }
    return RequestHeader{static_cast<RequestType>(h[5]), get_be(&h[8], 8)};
}

std::vector<uint8_t> encode_reply(const Reply& r) {
    const size_t reason = std::min(r.reason.size(), kMaxReason);
    std::vector<uint8_t> out(kHeaderSize + reason);
    std::memcpy(out.data(), kReplyMagic.data(), 4);
    out[4] = kVersion;
    out[5] = static_cast<uint8_t>(r.status);
    put_be(&out[6], reason, 2);
    put_be(&out[8], r.serial, 8);
    std::memcpy(out.data() + kHeaderSize, r.reason.data(), reason);
    return out;
}

std::optional<ReplyHeader> decode_reply(std::span<const uint8_t, kHeaderSize> h) {
    const uint64_t reason = get_be(&h[6], 2);
    if (std::memcmp(h.data(), kReplyMagic.data(), 4) != 0 || h[4] != kVersion ||
        h[5] > static_cast<uint8_t>(Status::Failed) || reason > kMaxReason) {
        return std::nullopt;
    }
    return ReplyHeader{static_cast<Status>(h[5]), get_be(&h[8], 8), static_cast<uint16_t>(reason)};
}

std::optional<Reply> send_image(const Endpoint& to, std::span<const uint8_t> image,
                                const ClientOptions& options, std::string* why) {
    return exchange(to, RequestType::Image, image, options, why);
}

std::optional<Reply> send_image(const Endpoint& to, std::span<const uint8_t> image, Timeout timeout,
                                std::string* why) {
    return send_image(to, image, ClientOptions{timeout}, why);
}

std::optional<Reply> query_status(const Endpoint& to, Timeout timeout, std::string* why) {
    return query_status(to, ClientOptions{timeout}, why);
}

std::optional<Reply> query_status(const Endpoint& to, const ClientOptions& options,
                                  std::string* why) {
    return exchange(to, RequestType::Status, {}, options, why);
}

int listen_on(const Endpoint& at, std::string* why) {
    if (at.kind == Endpoint::Kind::Unix) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, at.path.data(), at.path.size());
        // A socket file left by a previous run would make bind() fail; anything else at that
        // path is not ours to delete, and neither is a socket another process still serves
        // (a second instance must not steal a running one's pushes).
        struct stat st {};
        if (::lstat(at.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            base::Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            if (probe.get() >= 0 &&
                ::connect(probe.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
                base::set_why(why, at.to_string() +
                                       ": another process is listening there (a second instance?)");
                return -1;
            }
            ::unlink(at.path.c_str());
        }
        base::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
            ::listen(fd.get(), 16) != 0) {
            base::set_why(why, at.to_string() + ": " + std::strerror(errno));
            return -1;
        }
        // Only root (or the socket's group) may push to a local dataplane.
        ::chmod(at.path.c_str(), 0660);
        return fd.release();
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(at.port);
    if (const int rc = ::getaddrinfo(at.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        base::set_why(
            why, at.to_string() + ": " + ::gai_strerror(rc) + " (listen needs a numeric address)");
        return -1;
    }
    base::Fd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    const bool ok =
        fd.get() >= 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        ::bind(fd.get(), res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd.get(), 16) == 0;
    const int err = errno;
    ::freeaddrinfo(res);
    if (!ok) {
        base::set_why(why, at.to_string() + ": " + std::strerror(err));
        return -1;
    }
    return fd.release();
}

void serve_connection(int fd, const ServeLimits& limits, const Handler& handler,
                      std::atomic<bool>* waiting) {
    std::vector<uint8_t> body;
    const auto connection_deadline = Clock::now() + limits.connection_timeout;
    for (unsigned served = 0; served < limits.max_requests; ++served) {
        std::array<uint8_t, kHeaderSize> h{};
        if (waiting != nullptr) {
            waiting->store(true);
        }
        const bool got_header =
            read_exact(fd, h.data(), h.size(), limits.io_timeout, connection_deadline);
        if (waiting != nullptr) {
            waiting->store(false);
        }
        if (!got_header) {
            return;  // peer closed or stalled between requests, or out of time
        }
        // From the header on, the whole request has one deadline, within the connection's.
        const auto deadline = std::min(connection_deadline, Clock::now() + limits.transfer_timeout);
        const auto req = decode_request(h);
        // Header problems are answered without reading a body.
        std::optional<Reply> early;
        if (!req) {
            early = Reply{Status::BadRequest, 0, "bad magic, version or request type"};
        } else if (req->type == RequestType::Status && req->length != 0) {
            early = Reply{Status::BadRequest, 0, "a status request has no body"};
        } else if (req->length > limits.max_image_size) {
            early =
                Reply{Status::TooLarge, 0,
                      "image of " + std::to_string(req->length) + " bytes exceeds the limit of " +
                          std::to_string(limits.max_image_size)};
        }
        Reply reply;
        if (early) {
            reply = std::move(*early);
        } else {
            // Room for the announced size, which is within max_image_size: reserved once, so
            // the buffer never doubles past it (a 600 MB image would otherwise peak at 1.5 GB
            // while it arrives). Pages are only touched as bytes arrive, so a peer announcing
            // a gigabyte and sending nothing still costs nothing resident.
            body.clear();
            body.reserve(req->length);
            bool complete = true;
            while (body.size() < req->length) {
                const size_t chunk = std::min<uint64_t>(req->length - body.size(), size_t{1} << 20);
                const size_t at = body.size();
                body.resize(at + chunk);
                if (!read_exact(fd, body.data() + at, chunk, limits.io_timeout, deadline)) {
                    complete = false;
                    break;
                }
            }
            if (!complete) {
                return;  // truncated or too slow: nothing to answer, nothing changes
            }
            reply = handler(req->type, body);
            // Freed, unless the handler took it: no image's worth of memory stays pinned
            // between pushes.
            body = std::vector<uint8_t>();
        }
        const auto out = encode_reply(reply);
        if (!write_exact(fd, out.data(), out.size(), limits.io_timeout) || early) {
            return;  // the stream is out of step after a bad header: close it
        }
    }
}

}  // namespace pooledge::image::push
