// DPDK ports: the service port (a NIC, or af_packet / af_xdp / pcap in development), with one
// RX/TX queue pair per worker (and a TX queue for the exception service where the PMD can
// add one), and its exception port: a kernel interface with the service port's MAC
// (virtio-user over vhost-net, or TAP), one queue pair that only the exception service
// (exception.hpp) touches, reached from the workers through rings.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/dataplane/worker/config.hpp"

struct rte_mempool;
struct rte_ring;

namespace pooledge::dataplane {

// One worker's side of a port's exception path (exception.hpp): the frames it hands the
// kernel, and the kernel's frames it sends out. Single producer, single consumer rings.
struct ExceptionRings {
    rte_ring* to_kernel = nullptr;
    // Only worker 0's, and only where the port has no TX queue for the service; else null.
    rte_ring* from_kernel = nullptr;
};

inline constexpr uint16_t kNoServiceQueue = 0xFFFF;

struct Port {
    std::string device;
    uint16_t id = 0;
    std::array<uint8_t, 6> mac{};
    bool tx_udp_checksum = false;  // the NIC completes the UDP checksum of replies
    ServiceAddresses services;     // this port's MAC and the node's addresses, for classify()
    std::string exception_name;
    uint16_t exception_id = 0;
    std::vector<ExceptionRings> exception_rings;  // by worker (queue)
    // The service port's TX queue of the exception service's own, or kNoServiceQueue: then
    // the kernel's frames go out through worker 0's from_kernel ring and TX queue.
    uint16_t service_tx_queue = kNoServiceQueue;
};

// Configures `id` with `queues` queue pairs (RSS where there are several) and starts it.
// With `offloads`, RX checksum validation and TX UDP checksums are enabled where the port
// offers them; returns whether the port completes UDP checksums. Throws std::runtime_error.
// `extra_tx` more TX queues than RX queues (numbered from `queues`) for other senders.
bool start_port(uint16_t id, const std::string& name, unsigned queues, rte_mempool* pool,
                bool offloads, unsigned extra_tx = 0);

// Whether `id` can take a TX queue beyond its `queues` queue pairs without harm. Not where
// queues come in pairs that all receive: net_af_packet joins every queue pair's socket to
// one fanout group and net_af_xdp binds each to a NIC queue, so the extra pair's RX would
// take a share of the traffic that no worker polls.
[[nodiscard]] bool can_add_tx_queue(uint16_t id, unsigned queues);

// What the mbuf pool must suit (mbuf_pool.hpp), from the ports EAL probed: whether any is
// net_af_xdp, and whether any sits on a bus that DMAs (PCI). Ports EAL does not know are
// skipped: start_ports reports them.
struct PortKinds {
    bool af_xdp = false;
    bool dma = false;
};
[[nodiscard]] PortKinds port_kinds(const std::vector<PortConfig>& ports);

// The rings between `queues` workers and the exception service (named after the port id),
// given the port's service_tx_queue. Throws std::runtime_error.
void create_exception_rings(Port& port, unsigned queues);
// Frees the rings and any frames still in them.
void free_exception_rings(Port& port) noexcept;

// Configures and starts every port and its exception port with `queues` queue pairs.
// Throws std::runtime_error with the device name and DPDK's reason.
[[nodiscard]] std::vector<Port> start_ports(const DataplaneConfig& config, unsigned queues,
                                            rte_mempool* pool);

void stop_ports(std::vector<Port>& ports);

// Whether every service port reports its link up.
[[nodiscard]] bool links_up(const std::vector<Port>& ports);

// Gives the exception interface its addresses and brings it up (ioctl on the kernel side),
// so ARP, ND, ping and TCP are answered by the kernel. Throws std::runtime_error.
void configure_kernel_interface(const std::string& name, const DataplaneConfig& config);

}  // namespace pooledge::dataplane
