// Where frames are lost below the DPDK port, read off the fast path at scrape time, so a
// run where a generator's count and ours disagree can be explained from /metrics alone:
//
//   - the PMD's extended statistics (rte_eth_xstats: per-queue counts, the PMD's own
//     drops), as pooledge_port_xstats_total;
//   - the kernel interface under a software PMD (net_af_packet, net_af_xdp: the port's
//     if_index): its `ethtool -S` counters (for a veth, rx_queue_N_drops, where frames the
//     socket could not take are counted) and its /sys statistics (rx_dropped, ...), as
//     pooledge_port_interface_stat_total;
//   - the PMD's sockets themselves, which the PMDs do not read: an AF_PACKET socket's
//     PACKET_STATISTICS (frames in, frames dropped because its ring was full) and an
//     AF_XDP socket's XDP_STATISTICS, as pooledge_port_socket_*_total. The sockets are found
//     among the process's descriptors by family and interface index. PACKET_STATISTICS
//     clears on read, so this object keeps the running totals, and nothing else may read
//     them (DPDK 22.11's net_af_packet does not; a later PMD that did would share the
//     counts with us).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pooledge/dataplane/worker/ports.hpp"

namespace pooledge::dataplane {

struct LossSample {
    std::string port;       // the DPDK device name
    std::string interface;  // kernel interface, where there is one
    std::string source;     // "xstats", "ethtool", "sysfs", "af_packet", "af_xdp"
    std::string stat;       // the counter's own name
    uint64_t value = 0;
};

class PortLosses {
  public:
    // Every counter of every service port now. Called by the metrics thread; serialised.
    [[nodiscard]] std::vector<LossSample> sample(const std::vector<Port>& ports);

  private:
    void sockets(const std::string& port, const std::string& ifname, unsigned if_index,
                 std::vector<LossSample>& out);

    std::mutex mu_;
    // PACKET_STATISTICS totals by socket inode, as read-and-clear leaves them to us.
    struct PacketTotals {
        uint64_t packets = 0;
        uint64_t drops = 0;
        uint64_t freeze_queue = 0;
    };
    std::map<uint64_t, PacketTotals> packet_totals_;
};

}  // namespace pooledge::dataplane
