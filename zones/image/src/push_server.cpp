#include "pooledge/image/push_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pooledge::image::push {
namespace {

// The peer of an accepted TCP connection; nothing for unix sockets.
std::optional<base::IpAddress> tcp_peer(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return std::nullopt;
    }
    return base::from_sockaddr(ss);
}

}  // namespace

Server::Server(std::vector<base::Fd> listeners, ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)), listeners_(std::move(listeners)) {
    int p[2] = {-1, -1};
    if (::pipe2(p, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("push server: pipe: ") + std::strerror(errno));
    }
    wake_read_.reset(p[0]);
    wake_write_.reset(p[1]);
    accept_thread_ = std::thread([this] { accept_loop(); });
}

Server::~Server() {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_write_.get(), &b, 1);
    accept_thread_.join();
}

void Server::reap() {
    connections_.remove_if([](const std::unique_ptr<Connection>& c) {
        if (!c->done.load()) {
            return false;
        }
        c->thread.join();
        return true;
    });
}

void Server::admit(int raw) {
    base::Fd fd(raw);
    if (!options_.allow.empty()) {
        if (const auto peer = tcp_peer(fd.get())) {
            const bool allowed =
                std::any_of(options_.allow.begin(), options_.allow.end(),
                            [&](const base::IpPrefix& p) { return p.contains(*peer); });
            if (!allowed) {
                stats_.refused_peer.fetch_add(1, std::memory_order_relaxed);
                return;  // closed unanswered
            }
        }
    }
    reap();
    if (connections_.size() >= options_.max_connections) {
        // Make room by cutting off the oldest connection that is only waiting: a transfer in
        // progress is never the one sacrificed.
        const auto idle =
            std::find_if(connections_.begin(), connections_.end(),
                         [](const std::unique_ptr<Connection>& c) { return c->waiting.load(); });
        if (idle == connections_.end()) {
            stats_.refused_busy.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        ::shutdown((*idle)->fd.get(), SHUT_RDWR);
        (*idle)->thread.join();
        connections_.erase(idle);
        stats_.evicted_idle.fetch_add(1, std::memory_order_relaxed);
    }
    stats_.connections.fetch_add(1, std::memory_order_relaxed);
    auto c = std::make_unique<Connection>();
    c->fd = std::move(fd);
    Connection* conn = c.get();
    c->thread = std::thread([this, conn] {
        serve_connection(conn->fd.get(), options_.limits, handler_, &conn->waiting);
        conn->done.store(true);
    });
    connections_.push_back(std::move(c));
}

void Server::accept_loop() {
    std::vector<pollfd> fds;
    for (;;) {
        fds.assign({{wake_read_.get(), POLLIN, 0}});
        for (const base::Fd& l : listeners_) {
            fds.push_back({l.get(), POLLIN, 0});
        }
        // Wakes now and then to reap finished connections.
        if (::poll(fds.data(), fds.size(), 1000) < 0) {
            continue;
        }
        if (fds[0].revents != 0) {
            break;
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if ((fds[i].revents & POLLIN) == 0) {
                continue;
            }
            const int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) {
                admit(c);
            } else if (errno == EMFILE || errno == ENFILE) {
                ::poll(nullptr, 0, 100);  // out of descriptors: do not spin
            }
        }
        reap();
    }
    // Stop: every connection is cut off (an install in progress finishes first, since the
    // handler is not interrupted), then joined.
    for (const auto& c : connections_) {
        ::shutdown(c->fd.get(), SHUT_RDWR);
    }
    for (const auto& c : connections_) {
        c->thread.join();
    }
    connections_.clear();
}

}  // namespace pooledge::image::push
