// DPDK ports: the service port (a NIC, or af_packet / af_xdp / pcap in development) and its
// exception port (net_tap: a kernel interface with the service port's MAC), each with one
// RX/TX queue pair per worker.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pooledge/dataplane/config.hpp"
#include "pooledge/dataplane/packet.hpp"

struct rte_mempool;

namespace pooledge::dataplane {

struct Port {
    std::string device;
    uint16_t id = 0;
    std::array<uint8_t, 6> mac{};
    bool rx_checksum = false;  // the NIC validates IP/L4 checksums on receive
    bool tx_udp_checksum = false;
    bool tx_ip_checksum = false;
    ServiceAddresses services;  // this port's MAC and the node's addresses, for classify()
    std::string exception_name;
    uint16_t exception_id = 0;
};

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
