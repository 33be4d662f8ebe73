// DNS over TCP (RFC 7766) on kernel sockets: the exception path brings TCP to the kernel,
// and this thread answers on the service addresses from the same RCU-protected image as the
// workers. Two-byte length framing, pipelined queries answered in order, an idle timeout and
// a connection limit; one epoll loop, non-blocking sockets.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "metrics.hpp"
#include "pooledge/base/fd.hpp"
#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/image_slot.hpp"
#include "pooledge/dataplane/worker/worker.hpp"
#include "pooledge/engine/answer.hpp"

namespace pooledge::dataplane {

class TcpDns {
  public:
    // `acls` (may be null): acl.dns applies to TCP clients too, checked at accept.
    TcpDns(const DataplaneConfig& config, const ImageSlot& slot, const engine::Identity& identity,
           TcpStats& stats, const AclSlot* acls = nullptr);
    ~TcpDns();
    TcpDns(const TcpDns&) = delete;
    TcpDns& operator=(const TcpDns&) = delete;

    // Binds every service address on port 53 (IP_FREEBIND: an IPv6 address still in DAD
    // binds too) and starts the thread. Throws std::runtime_error.
    void start();

  private:
    void run();

    const DataplaneConfig& config_;
    const ImageSlot& slot_;
    const engine::Identity& identity_;
    const AclSlot* acls_;
    TcpStats& stats_;
    std::vector<base::Fd> listeners_;
    base::Fd epoll_;
    base::Fd wake_read_, wake_write_;
    std::thread thread_;
};

}  // namespace pooledge::dataplane
