#include "http.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>
#include <vector>

namespace pooledge::dataplane {
namespace {

using Clock = std::chrono::steady_clock;

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 503:
            return "Service Unavailable";
        default:
            return "Error";
    }
}

// One client: reading its request head, then writing the whole response, then gone.
struct Connection {
    base::Fd fd;
    Clock::time_point head_deadline;
    Clock::time_point deadline;
    std::string in;
    std::string out;
    size_t sent = 0;
    bool writing = false;
};

bool head_complete(const std::string& s) {
    return s.find("\r\n\r\n") != std::string::npos || s.find("\n\n") != std::string::npos;
}

std::string respond(const std::string& req, const HttpHandler& handler) {
    HttpResponse r;
    const auto sp1 = req.find(' ');
    const auto sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
    const bool head = req.compare(0, 5, "HEAD ") == 0;
    if (sp2 == std::string::npos || !head_complete(req)) {
        r = {400, "text/plain", "bad request\n"};
    } else if (req.compare(0, 4, "GET ") != 0 && !head) {
        r = {405, "text/plain", "GET only\n"};
    } else {
        std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
        path = path.substr(0, path.find('?'));
        r = handler(path);
    }
    std::string out = "HTTP/1.0 " + std::to_string(r.status) + " " + reason(r.status) +
                      "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      "\r\nConnection: close\r\n\r\n";
    if (!head) {
        out += r.body;
    }
    return out;
}

// Reads what is there; false when the connection is done for (closed, error, oversized).
bool read_some(Connection& c, const HttpLimits& limits, const HttpHandler& handler) {
    char buf[2048];
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            if (head_complete(c.in) || c.in.size() >= limits.max_head) {
                c.out = respond(c.in, handler);
                c.writing = true;
                return true;
            }
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
}

// Writes what the socket takes; false once everything is sent or the peer is gone.
bool write_some(Connection& c) {
    while (c.sent < c.out.size()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.sent += static_cast<size_t>(n);
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    return false;
}

}  // namespace

HttpServer::HttpServer(const std::string& listen, HttpHandler handler, HttpLimits limits)
    : handler_(std::move(handler)), limits_(limits) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw std::runtime_error("metrics.listen: '" + listen + "' needs ADDRESS:PORT");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), listen.c_str() + colon + 1, &hints, &res);
        rc != 0) {
        throw std::runtime_error("metrics.listen: '" + listen + "': " + ::gai_strerror(rc));
    }
    listen_.reset(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const int one = 1;
    const bool ok = listen_.get() >= 0 &&
                    ::setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                    ::bind(listen_.get(), res->ai_addr, res->ai_addrlen) == 0 &&
                    ::listen(listen_.get(), 64) == 0;
    const int err = errno;
    ::freeaddrinfo(res);
    int pipe_fds[2] = {-1, -1};
    if (!ok || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("metrics.listen: '" + listen + "': " + std::strerror(err));
    }
    wake_read_.reset(pipe_fds[0]);
    wake_write_.reset(pipe_fds[1]);
    thread_ = std::thread([this] { run(); });
}

HttpServer::~HttpServer() {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &b, 1);
    thread_.join();
}

void HttpServer::run() {
    std::list<Connection> conns;  // oldest first
    Clock::time_point accept_paused_until{};
    std::vector<pollfd> fds;
    std::vector<Connection*> polled;
    for (;;) {
        const auto now = Clock::now();
        // Deadlines first: a connection past either one is closed unanswered.
        conns.remove_if([&](const Connection& c) {
            return now >= c.deadline || (!c.writing && now >= c.head_deadline);
        });
        Clock::time_point next = now + std::chrono::hours(1);
        // Out of descriptors, the listener stays readable: listen again a little later
        // rather than spin on accept failing.
        const bool accepting = now >= accept_paused_until;
        if (!accepting) {
            next = accept_paused_until;
        }
        fds.assign({{wake_read_.get(), POLLIN, 0}, {accepting ? listen_.get() : -1, POLLIN, 0}});
        polled.assign({nullptr, nullptr});
        for (Connection& c : conns) {
            next = std::min(next, c.writing ? c.deadline : std::min(c.deadline, c.head_deadline));
            fds.push_back({c.fd.get(), static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
            polled.push_back(&c);
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
        if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count()) + 1) < 0) {
            continue;  // EINTR
        }
        if (fds[0].revents != 0) {
            return;
        }
        for (size_t i = 2; i < fds.size(); ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            Connection& c = *polled[i];
            bool keep = false;
            if (c.writing) {
                keep = write_some(c);
            } else {
                keep = read_some(c, limits_, handler_);
                // A response just built is written at once: most fit the socket buffer.
                keep = keep && (!c.writing || write_some(c));
            }
            if (!keep) {
                c.fd.reset();
            }
        }
        conns.remove_if([](const Connection& c) { return c.fd.get() < 0; });
        if (fds[1].revents != 0) {
            for (;;) {
                const int fd =
                    ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
                    }
                    break;
                }
                if (conns.size() >= limits_.max_connections) {
                    conns.pop_front();  // the oldest makes room: no client can hold them all
                }
                const auto t = Clock::now();
                conns.push_back(Connection{base::Fd(fd),
                                           t + limits_.head_timeout,
                                           t + limits_.total_timeout,
                                           {},
                                           {},
                                           0,
                                           false});
            }
        }
    }
}

}  // namespace pooledge::dataplane
