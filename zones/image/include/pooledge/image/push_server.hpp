// The receiving side of the push protocol as a server: listening sockets, an accept thread,
// and one thread per connection, so no single peer (one dripping bytes, one asking for
// Status every few seconds, a pile of idle connections) holds up anybody else's push.
// Shared by the dataplane's management thread and the test push-receiver.
//
// The handler runs on connection threads, concurrently: it must serialise what must be
// serialised itself (the dataplane installs one image at a time, and answers Status without
// waiting for an install).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pooledge/base/fd.hpp"
#include "pooledge/base/ip.hpp"
#include "pooledge/image/push.hpp"

namespace pooledge::image::push {

struct ServerOptions {
    ServeLimits limits;
    // Connections served at once. When all are taken, a new one replaces the oldest that is
    // waiting for a request header; when every one is busy transferring, it is closed.
    size_t max_connections = 16;
    // TCP peers allowed to connect (empty: any). Unix-socket peers are always allowed: the
    // socket file's permissions guard them.
    std::vector<base::IpPrefix> allow;
};

struct ServerStats {
    std::atomic<uint64_t> connections{0};
    std::atomic<uint64_t> refused_peer{0};  // not in `allow`
    std::atomic<uint64_t> refused_busy{0};  // every slot transferring
    std::atomic<uint64_t> evicted_idle{0};  // an idle connection closed to make room
};

class Server {
  public:
    // Takes the listening sockets and starts serving.
    Server(std::vector<base::Fd> listeners, ServerOptions options, Handler handler);
    ~Server();  // stop(), then joins every thread
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] const ServerStats& stats() const noexcept { return stats_; }

  private:
    struct Connection {
        base::Fd fd;
        std::atomic<bool> waiting{true};
        std::atomic<bool> done{false};
        std::thread thread;
    };

    void accept_loop();
    void admit(int fd);
    void reap();

    ServerOptions options_;
    Handler handler_;
    std::vector<base::Fd> listeners_;
    base::Fd wake_read_, wake_write_;
    std::list<std::unique_ptr<Connection>> connections_;  // accept thread only
    ServerStats stats_;
    std::thread accept_thread_;
};

}  // namespace pooledge::image::push
