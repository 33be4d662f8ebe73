// A DPDK net_ring port for the worker's tests and the worker-loop benchmark: the caller
// enqueues on `rx` what the port receives and dequeues from `tx` what it sent, as a NIC's
// wire would.
#pragma once

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include <cstdint>
#include <optional>
#include <string>

namespace pooledge::dataplane::test {

struct RingPort {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t id = 0;
};

// Single-producer, single-consumer rings of `size` slots; nothing (and the reason) when a
// ring or the port cannot be made.
inline std::optional<RingPort> make_ring_port(const std::string& name, unsigned size,
                                              std::string* why) {
    RingPort p;
    p.rx =
        rte_ring_create((name + "_rx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx =
        rte_ring_create((name + "_tx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (p.rx == nullptr || p.tx == nullptr) {
        *why = "ring " + name + ": " + rte_strerror(rte_errno);
        return std::nullopt;
    }
    const int id = rte_eth_from_rings(name.c_str(), &p.rx, 1, &p.tx, 1, SOCKET_ID_ANY);
    if (id < 0) {
        *why = "port " + name + ": " + rte_strerror(rte_errno);
        return std::nullopt;
    }
    p.id = static_cast<uint16_t>(id);
    return p;
}

}  // namespace pooledge::dataplane::test
