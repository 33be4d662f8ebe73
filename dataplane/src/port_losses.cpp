#include "port_losses.hpp"

#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <rte_ethdev.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "pooledge/base/fd.hpp"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace pooledge::dataplane {
namespace {

void xstats(const Port& p, std::vector<LossSample>& out) {
    const int n = rte_eth_xstats_get(p.id, nullptr, 0);
    if (n <= 0) {
        return;
    }
    std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
    std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
    if (rte_eth_xstats_get(p.id, values.data(), static_cast<unsigned>(n)) != n ||
        rte_eth_xstats_get_names(p.id, names.data(), static_cast<unsigned>(n)) != n) {
        return;
    }
    for (const rte_eth_xstat& v : values) {
        if (v.id < names.size()) {
            out.push_back({p.device, "", "xstats", names[v.id].name, v.value});
        }
    }
}

// `ethtool -S interface`: SIOCETHTOOL with ETHTOOL_GSSET_INFO, GSTRINGS and GSTATS.
void read_ethtool(const std::string& port, const std::string& ifname,
                  std::vector<LossSample>& out) {
    base::Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        return;
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    // ethtool_sset_info ends in a flexible array: one 32-bit count follows it here.
    std::vector<uint8_t> info_buf(sizeof(ethtool_sset_info) + sizeof(uint32_t));
    auto* info = reinterpret_cast<ethtool_sset_info*>(info_buf.data());
    info->cmd = ETHTOOL_GSSET_INFO;
    info->sset_mask = uint64_t{1} << ETH_SS_STATS;
    ifr.ifr_data = reinterpret_cast<char*>(info);
    if (::ioctl(s.get(), SIOCETHTOOL, &ifr) != 0 || info->sset_mask == 0 || info->data[0] == 0) {
        return;
    }
    const uint32_t n = info->data[0];
    std::vector<uint8_t> strings(sizeof(ethtool_gstrings) + size_t{n} * ETH_GSTRING_LEN);
    auto* gs = reinterpret_cast<ethtool_gstrings*>(strings.data());
    gs->cmd = ETHTOOL_GSTRINGS;
    gs->string_set = ETH_SS_STATS;
    gs->len = n;
    ifr.ifr_data = reinterpret_cast<char*>(gs);
    if (::ioctl(s.get(), SIOCETHTOOL, &ifr) != 0) {
        return;
    }
    std::vector<uint8_t> stats(sizeof(struct ethtool_stats) + size_t{n} * sizeof(uint64_t));
    auto* st = reinterpret_cast<struct ethtool_stats*>(stats.data());
    st->cmd = ETHTOOL_GSTATS;
    st->n_stats = n;
    ifr.ifr_data = reinterpret_cast<char*>(st);
    if (::ioctl(s.get(), SIOCETHTOOL, &ifr) != 0) {
        return;
    }
    for (uint32_t i = 0; i < std::min(n, st->n_stats); ++i) {
        const char* name = reinterpret_cast<const char*>(gs->data + size_t{i} * ETH_GSTRING_LEN);
        std::string stat(name, strnlen(name, ETH_GSTRING_LEN));
        if (stat == "peer_ifindex") {
            continue;  // a veth's peer, not a count
        }
        out.push_back({port, ifname, "ethtool", std::move(stat), st->data[i]});
    }
}

// The interface's own drop and error counts (/sys/class/net/IF/statistics).
void sysfs_stats(const std::string& port, const std::string& ifname, std::vector<LossSample>& out) {
    for (const char* stat : {"rx_dropped", "rx_missed_errors", "rx_fifo_errors", "rx_errors",
                             "rx_over_errors", "tx_dropped", "tx_errors"}) {
        std::ifstream f("/sys/class/net/" + ifname + "/statistics/" + stat);
        uint64_t v = 0;
        if (f >> v) {
            out.push_back({port, ifname, "sysfs", stat, v});
        }
    }
}

}  // namespace

void PortLosses::sockets(const std::string& port, const std::string& ifname, unsigned if_index,
                         std::vector<LossSample>& out) {
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) {
        return;
    }
    PacketTotals packet{};
    bool any_packet = false;
    xdp_statistics xdp_sum{};
    bool any_xdp = false;
    while (const dirent* e = ::readdir(d)) {
        const int fd = std::atoi(e->d_name);
        struct stat sb {};
        if (fd <= 2 || ::fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
            continue;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
            continue;
        }
        if (ss.ss_family == AF_PACKET &&
            reinterpret_cast<const sockaddr_ll*>(&ss)->sll_ifindex == static_cast<int>(if_index)) {
            tpacket_stats_v3 st{};
            socklen_t sl = sizeof st;
            if (::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) != 0) {
                continue;
            }
            PacketTotals& t = packet_totals_[sb.st_ino];
            t.packets += st.tp_packets;
            t.drops += st.tp_drops;
            if (sl >= sizeof st) {
                t.freeze_queue += st.tp_freeze_q_cnt;
            }
            packet.packets += t.packets;
            packet.drops += t.drops;
            packet.freeze_queue += t.freeze_queue;
            any_packet = true;
        } else if (ss.ss_family == AF_XDP &&
                   reinterpret_cast<const sockaddr_xdp*>(&ss)->sxdp_ifindex == if_index) {
            xdp_statistics st{};
            socklen_t sl = sizeof st;
            if (::getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &sl) != 0) {
                continue;
            }
            xdp_sum.rx_dropped += st.rx_dropped;
            xdp_sum.rx_invalid_descs += st.rx_invalid_descs;
            xdp_sum.tx_invalid_descs += st.tx_invalid_descs;
            xdp_sum.rx_ring_full += st.rx_ring_full;
            xdp_sum.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
            xdp_sum.tx_ring_empty_descs += st.tx_ring_empty_descs;
            any_xdp = true;
        }
    }
    ::closedir(d);
    if (any_packet) {
        out.push_back({port, ifname, "af_packet", "packets", packet.packets});
        out.push_back({port, ifname, "af_packet", "drops", packet.drops});
        out.push_back({port, ifname, "af_packet", "freeze_queue", packet.freeze_queue});
    }
    if (any_xdp) {
        out.push_back({port, ifname, "af_xdp", "rx_dropped", xdp_sum.rx_dropped});
        out.push_back({port, ifname, "af_xdp", "rx_invalid_descs", xdp_sum.rx_invalid_descs});
        out.push_back({port, ifname, "af_xdp", "tx_invalid_descs", xdp_sum.tx_invalid_descs});
        out.push_back({port, ifname, "af_xdp", "rx_ring_full", xdp_sum.rx_ring_full});
        out.push_back(
            {port, ifname, "af_xdp", "rx_fill_ring_empty_descs", xdp_sum.rx_fill_ring_empty_descs});
        out.push_back({port, ifname, "af_xdp", "tx_ring_empty_descs", xdp_sum.tx_ring_empty_descs});
    }
}

std::vector<LossSample> PortLosses::sample(const std::vector<Port>& ports) {
    std::lock_guard lock(mu_);
    std::vector<LossSample> out;
    for (const Port& p : ports) {
        xstats(p, out);
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p.id, &info) != 0 || info.if_index == 0) {
            continue;  // a NIC of its own: no kernel interface under it
        }
        char name[IF_NAMESIZE] = {};
        if (::if_indextoname(info.if_index, name) == nullptr) {
            continue;
        }
        read_ethtool(p.device, name, out);
        sysfs_stats(p.device, name, out);
        sockets(p.device, name, info.if_index, out);
    }
    return out;
}

}  // namespace pooledge::dataplane
