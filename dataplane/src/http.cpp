#include "http.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace pooledge::dataplane {
namespace {

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
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

void write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        off += static_cast<size_t>(n);
    }
}

}  // namespace

HttpServer::HttpServer(const std::string& listen, HttpHandler handler)
    : handler_(std::move(handler)) {
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
    fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    const bool ok = fd_ >= 0 &&
                    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                    ::bind(fd_, res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd_, 64) == 0;
    const int err = errno;
    ::freeaddrinfo(res);
    if (!ok || ::pipe2(wake_, O_CLOEXEC) != 0) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw std::runtime_error("metrics.listen: '" + listen + "': " + std::strerror(err));
    }
    thread_ = std::thread([this] { run(); });
}

HttpServer::~HttpServer() {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_[1], &b, 1);
    thread_.join();
    ::close(fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void HttpServer::run() {
    for (;;) {
        pollfd fds[2] = {{wake_[0], POLLIN, 0}, {fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            continue;
        }
        if (fds[0].revents != 0) {
            return;
        }
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        // Read the request head (bounded: 8 KiB, 2 s).
        std::string req;
        char buf[2048];
        while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos &&
               req.size() < 8192) {
            pollfd p{c, POLLIN, 0};
            if (::poll(&p, 1, 2000) != 1) {
                break;
            }
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            req.append(buf, static_cast<size_t>(n));
        }
        HttpResponse r;
        const auto sp1 = req.find(' ');
        const auto sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
        if (sp2 == std::string::npos) {
            r = {400, "text/plain", "bad request\n"};
        } else if (req.compare(0, sp1, "GET") != 0 && req.compare(0, sp1, "HEAD") != 0) {
            r = {405, "text/plain", "GET only\n"};
        } else {
            std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
            path = path.substr(0, path.find('?'));
            r = handler_(path);
        }
        std::string out = "HTTP/1.0 " + std::to_string(r.status) + " " + reason(r.status) +
                          "\r\nContent-Type: " + r.content_type +
                          "\r\nContent-Length: " + std::to_string(r.body.size()) +
                          "\r\nConnection: close\r\n\r\n";
        if (req.compare(0, 4, "HEAD") != 0) {
            out += r.body;
        }
        write_all(c, out);
        ::close(c);
    }
}

}  // namespace pooledge::dataplane
