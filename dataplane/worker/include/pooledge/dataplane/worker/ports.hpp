// DPDK ports: the service port (a NIC, or af_packet / af_xdp / pcap in development) and its
// exception port (net_tap: a kernel interface with the service port's MAC), each with one
// RX/TX queue pair per worker.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/dataplane/worker/config.hpp"

struct rte_mempool;

namespace pooledge::dataplane {

struct Port {
    std::string device;
    uint16_t id = 0;
    std::array<uint8_t, 6> mac{};
    bool tx_udp_checksum = false;  // the NIC completes the UDP checksum of replies
    ServiceAddresses services;     // this port's MAC and the node's addresses, for classify()
    std::string exception_name;
    uint16_t exception_id = 0;
};

// Configures `id` with `queues` queue pairs (RSS where there are several) and starts it.
// With `offloads`, RX checksum validation and TX UDP checksums are enabled where the port
// offers them; returns whether the port completes UDP checksums. Throws std::runtime_error.
bool start_port(uint16_t id, const std::string& name, unsigned queues, rte_mempool* pool,
                bool offloads);

// Configures and starts every port and its exception port with `queues` queue pairs.
// Throws std::runtime_error with the device name and DPDK's reason.
[[nodiscard]] std::vector<Port> start_ports(const DataplaneConfig& config, unsigned queues,
                                            rte_mempool* pool);

void stop_ports(const std::vector<Port>& ports);

// Whether every service port reports its link up.
[[nodiscard]] bool links_up(const std::vector<Port>& ports);

// Gives the exception interface its addresses and brings it up (ioctl on the kernel side),
// so ARP, ND, ping and TCP are answered by the kernel. Throws std::runtime_error.
void configure_kernel_interface(const std::string& name, const DataplaneConfig& config);

}  // namespace pooledge::dataplane
