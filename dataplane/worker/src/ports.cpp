#include "pooledge/dataplane/worker/ports.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <rte_bus.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pooledge/base/fd.hpp"
#include "pooledge/base/log.hpp"

namespace pooledge::dataplane {
namespace {

constexpr uint16_t kRxRing = 1024;
constexpr uint16_t kTxRing = 1024;
// Between a worker and the exception service: a few bursts of the kernel's share of traffic.
constexpr unsigned kExceptionRing = 1024;
constexpr const char* kVhostNet = "/dev/vhost-net";

[[noreturn]] void fail(const std::string& device, const std::string& what, int rc) {
    throw std::runtime_error(device + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

std::string mac_text(const std::array<uint8_t, 6>& m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    return buf;
}

}  // namespace

bool start_port(uint16_t id, const std::string& name, unsigned queues, rte_mempool* pool,
                bool offloads, unsigned extra_tx) {
    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
        fail(name, "cannot read device info", rc);
    }
    if (info.max_rx_queues < queues || info.max_tx_queues < queues + extra_tx) {
        throw std::runtime_error(name + ": has " + std::to_string(info.max_rx_queues) +
                                 " RX queues, " + std::to_string(queues) +
                                 " workers need one each (lower `workers`, or create the "
                                 "device with more queues)");
    }
    rte_eth_conf conf{};
    if (queues > 1) {
        const uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
        if (hf != 0) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = hf;
            base::log::info(name + ": RSS over " + std::to_string(queues) + " queues");
        } else {
            base::log::warn(name +
                            ": the port reports no RSS: unless its driver spreads "
                            "flows itself (af_packet qpairs: a fanout group), queries "
                            "arrive on queue 0 only");
        }
    }
    bool tx_udp_checksum = false;
    if (offloads) {
        // The IPv4 header checksum is computed in software (20 bytes, already in cache), so
        // only the UDP checksum is offloaded on TX. RX validation shows in the mbuf flags.
        tx_udp_checksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
        const bool rx_checksum =
            (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) == RTE_ETH_RX_OFFLOAD_CHECKSUM;
        if (tx_udp_checksum) {
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
        }
        if (rx_checksum) {
            conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
        }
        base::log::info(name + ": checksum offload: rx " + (rx_checksum ? "yes" : "no (software)") +
                        ", tx udp " + (tx_udp_checksum ? "yes" : "no (software)"));
    }
    if (const int rc = rte_eth_dev_configure(id, static_cast<uint16_t>(queues),
                                             static_cast<uint16_t>(queues + extra_tx), &conf);
        rc != 0) {
        fail(name, "configure", rc);
    }
    // The ring sizes, fitted to what the device allows (a PMD's minimum, maximum, alignment).
    uint16_t nb_rx = kRxRing, nb_tx = kTxRing;
    if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rx, &nb_tx); rc != 0) {
        fail(name, "ring sizes", rc);
    }
    const int socket_id = rte_eth_dev_socket_id(id);
    const auto socket = static_cast<unsigned>(socket_id < 0 ? 0 : socket_id);
    // Queue pairs 0..queues-1, then the extra TX queues (no RX queue beside them).
    for (unsigned q = 0; q < queues + extra_tx; ++q) {
        if (q < queues) {
            rte_eth_rxconf rxc = info.default_rxconf;
            rxc.offloads = conf.rxmode.offloads;
            if (const int rc =
                    rte_eth_rx_queue_setup(id, static_cast<uint16_t>(q), nb_rx, socket, &rxc, pool);
                rc != 0) {
                fail(name, "RX queue " + std::to_string(q), rc);
            }
        }
        rte_eth_txconf txc = info.default_txconf;
        txc.offloads = conf.txmode.offloads;
        if (const int rc =
                rte_eth_tx_queue_setup(id, static_cast<uint16_t>(q), nb_tx, socket, &txc);
            rc != 0) {
            fail(name, "TX queue " + std::to_string(q), rc);
        }
    }
    if (const int rc = rte_eth_dev_start(id); rc != 0) {
        fail(name, "start", rc);
    }
    return tx_udp_checksum;
}

std::vector<Port> start_ports(const DataplaneConfig& config, unsigned queues, rte_mempool* pool) {
    std::vector<Port> ports;
    for (const PortConfig& pc : config.ports) {
        Port p;
        p.device = pc.device;
        p.exception_name = pc.exception;
        if (const int rc = rte_eth_dev_get_port_by_name(pc.device.c_str(), &p.id); rc != 0) {
            throw std::runtime_error(
                pc.device +
                ": no such DPDK port (name it with --vdev or a PCI address in the "
                "EAL arguments; " +
                std::to_string(rte_eth_dev_count_avail()) + " ports probed)");
        }
        rte_ether_addr mac{};
        if (const int rc = rte_eth_macaddr_get(p.id, &mac); rc != 0) {
            fail(pc.device, "MAC address", rc);
        }
        std::memcpy(p.mac.data(), mac.addr_bytes, 6);
        p.services =
            ServiceAddresses{p.mac, config.service_v4, config.service_v6, config.ntp.enabled};
        const bool service_queue = can_add_tx_queue(p.id, queues);
        p.tx_udp_checksum = start_port(p.id, pc.device, queues, pool, true, service_queue ? 1 : 0);
        p.service_tx_queue = service_queue ? static_cast<uint16_t>(queues) : kNoServiceQueue;

        // The exception port: a kernel interface with the service port's MAC, so the
        // kernel's ARP and ND answers name the right address. virtio-user (vhost-net) moves
        // frames without a system call per frame on our side; TAP costs a readv/writev each.
        // Either way only the exception service's thread touches it.
        const bool virtio = config.exception.backend == ExceptionConfig::Backend::VirtioUser ||
                            (config.exception.backend == ExceptionConfig::Backend::Auto &&
                             ::access(kVhostNet, R_OK | W_OK) == 0);
        const std::string vdev = (virtio ? "virtio_user_" : "net_tap_") + pc.exception;
        const std::string args =
            (virtio ? std::string("path=") + kVhostNet + ",queues=1,queue_size=1024,iface="
                    : std::string("iface=")) +
            pc.exception + ",mac=" + mac_text(p.mac);
        if (const int rc = rte_vdev_init(vdev.c_str(), args.c_str()); rc != 0) {
            fail(vdev,
                 "cannot create the exception interface (" + args + ")" +
                     (virtio ? std::string("; exception.backend: tap needs no ") + kVhostNet
                             : std::string()),
                 rc);
        }
        if (const int rc = rte_eth_dev_get_port_by_name(vdev.c_str(), &p.exception_id); rc != 0) {
            fail(vdev, "exception port not found", rc);
        }
        (void)start_port(p.exception_id, vdev, 1, pool, false);
        configure_kernel_interface(pc.exception, config);
        create_exception_rings(p, queues);
        base::log::info(
            pc.device + ": port " + std::to_string(p.id) + ", MAC " + mac_text(p.mac) + ", " +
            std::to_string(queues) + " queue pairs; exception interface " + pc.exception + " (" +
            (virtio ? "virtio-user over vhost-net" : "TAP: no usable /dev/vhost-net") +
            "), the kernel's frames out through " +
            (service_queue
                 ? "the exception service's own TX queue " + std::to_string(p.service_tx_queue)
                 : std::string("worker 0's TX queue")));
        ports.push_back(p);
    }
    return ports;
}

PortKinds port_kinds(const std::vector<PortConfig>& ports) {
    PortKinds kinds;
    for (const PortConfig& pc : ports) {
        uint16_t id = 0;
        rte_eth_dev_info info{};
        if (rte_eth_dev_get_port_by_name(pc.device.c_str(), &id) != 0 ||
            rte_eth_dev_info_get(id, &info) != 0) {
            continue;
        }
        kinds.af_xdp |=
            info.driver_name != nullptr && std::string(info.driver_name) == "net_af_xdp";
        const char* bus = info.device != nullptr ? rte_bus_name(rte_dev_bus(info.device)) : nullptr;
        kinds.dma |= bus != nullptr && std::string(bus) == "pci";
    }
    return kinds;
}

bool can_add_tx_queue(uint16_t id, unsigned queues) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(id, &info) != 0 || info.max_tx_queues <= queues) {
        return false;
    }
    const std::string driver = info.driver_name != nullptr ? info.driver_name : "";
    return driver != "net_af_packet" && driver != "net_af_xdp";
}

void create_exception_rings(Port& port, unsigned queues) {
    port.exception_rings.assign(queues, ExceptionRings{});
    const int socket = rte_eth_dev_socket_id(port.id);
    auto ring = [&](const std::string& name) {
        rte_ring* r = rte_ring_create(name.c_str(), kExceptionRing, socket < 0 ? 0 : socket,
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr) {
            fail(port.device, "exception ring " + name, rte_errno);
        }
        return r;
    };
    for (unsigned q = 0; q < queues; ++q) {
        const std::string tag = std::to_string(port.id) + "_" + std::to_string(q);
        port.exception_rings[q].to_kernel = ring("exc_in_" + tag);
        if (q == 0 && port.service_tx_queue == kNoServiceQueue) {
            port.exception_rings[q].from_kernel = ring("exc_out_" + tag);
        }
    }
}

void free_exception_rings(Port& port) noexcept {
    for (ExceptionRings& x : port.exception_rings) {
        for (rte_ring* r : {x.to_kernel, x.from_kernel}) {
            void* m = nullptr;
            while (r != nullptr && rte_ring_dequeue(r, &m) == 0) {
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            }
            rte_ring_free(r);
        }
    }
    port.exception_rings.clear();
}

void stop_ports(std::vector<Port>& ports) {
    for (Port& p : ports) {
        for (const uint16_t id : {p.id, p.exception_id}) {
            rte_eth_dev_stop(id);
            rte_eth_dev_close(id);
        }
        free_exception_rings(p);
    }
}

bool links_up(const std::vector<Port>& ports) {
    for (const Port& p : ports) {
        rte_eth_link link{};
        if (rte_eth_link_get_nowait(p.id, &link) != 0 || link.link_status != RTE_ETH_LINK_UP) {
            return false;
        }
    }
    return !ports.empty();
}

void configure_kernel_interface(const std::string& name, const DataplaneConfig& config) {
    const base::Fd fd4(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const base::Fd fd6(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto fail_step = [&](const std::string& what) {
        throw std::runtime_error(name + ": " + what + ": " + std::strerror(errno));
    };
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (fd4.get() < 0 || ::ioctl(fd4.get(), SIOCGIFINDEX, &ifr) != 0) {
        fail_step("no such kernel interface");
    }
    const int index = ifr.ifr_ifindex;
    bool first = true;
    for (const auto& a : config.service_v4) {
        ifreq r{};
        std::strncpy(r.ifr_name, name.c_str(), IFNAMSIZ - 1);
        auto* sin = reinterpret_cast<sockaddr_in*>(&r.ifr_addr);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, a.data(), 4);
        // The first address replaces the interface's primary address; further ones are
        // labelled aliases (name:N), the ioctl interface's way to add addresses.
        if (!first) {
            std::snprintf(r.ifr_name, IFNAMSIZ, "%.12s:%zu", name.c_str(),
                          static_cast<size_t>(&a - config.service_v4.data()));
        }
        if (::ioctl(fd4.get(), SIOCSIFADDR, &r) != 0 && errno != EEXIST) {
            fail_step("cannot add an IPv4 address");
        }
        const unsigned len =
            config.service_v4_len[static_cast<size_t>(&a - config.service_v4.data())];
        r.ifr_netmask.sa_family = AF_INET;
        reinterpret_cast<sockaddr_in*>(&r.ifr_netmask)->sin_addr.s_addr =
            htonl(len == 0 ? 0 : 0xFFFFFFFFu << (32 - len));
        // Without its netmask the address is a /8, /16 or /24 by class, and the kernel
        // would route (and answer ARP for) the wrong neighbours.
        if (::ioctl(fd4.get(), SIOCSIFNETMASK, &r) != 0) {
            fail_step("cannot set the netmask of an IPv4 address");
        }
        first = false;
    }
    for (const auto& a : config.service_v6) {
        struct {
            in6_addr addr;
            uint32_t prefixlen;
            int ifindex;
        } req{};
        std::memcpy(&req.addr, a.data(), 16);
        req.prefixlen = config.service_v6_len[static_cast<size_t>(&a - config.service_v6.data())];
        req.ifindex = index;
        if (fd6.get() < 0 || (::ioctl(fd6.get(), SIOCSIFADDR, &req) != 0 && errno != EEXIST)) {
            fail_step("cannot add an IPv6 address");
        }
    }
    // Down, the interface would take no ARP, ND or TCP at all: the exception path is dead.
    if (::ioctl(fd4.get(), SIOCGIFFLAGS, &ifr) != 0) {
        fail_step("cannot read the interface flags");
    }
    ifr.ifr_flags |= IFF_UP;
    if (::ioctl(fd4.get(), SIOCSIFFLAGS, &ifr) != 0) {
        fail_step("cannot bring the interface up");
    }
}

}  // namespace pooledge::dataplane
