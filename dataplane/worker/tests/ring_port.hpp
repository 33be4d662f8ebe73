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
    rte_ring* tx2 = nullptr;  // a second TX queue's ring, when asked for
    uint16_t id = 0;
};

// Single-producer, single-consumer rings of `size` slots; nothing (and the reason) when a
// ring or the port cannot be made. With `second_tx`, the port has two TX queues.
inline std::optional<RingPort> make_ring_port(const std::string& name, unsigned size,
                                              std::string* why, bool second_tx = false) {
    RingPort p;
    p.rx =
        rte_ring_create((name + "_rx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx =
        rte_ring_create((name + "_tx").c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (second_tx) {
        p.tx2 = rte_ring_create((name + "_tx2").c_str(), size, SOCKET_ID_ANY,
                                RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    if (p.rx == nullptr || p.tx == nullptr || (second_tx && p.tx2 == nullptr)) {
        *why = "ring " + name + ": " + rte_strerror(rte_errno);
        return std::nullopt;
    }
    rte_ring* txs[2] = {p.tx, p.tx2};
    const int id =
        rte_eth_from_rings(name.c_str(), &p.rx, 1, txs, second_tx ? 2 : 1, SOCKET_ID_ANY);
    if (id < 0) {
        *why = "port " + name + ": " + rte_strerror(rte_errno);
        return std::nullopt;
    }
    p.id = static_cast<uint16_t>(id);
    return p;
}

}  // namespace pooledge::dataplane::test
