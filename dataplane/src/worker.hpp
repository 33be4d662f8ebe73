// A worker lcore: run to completion over its queue pair of every port.
//
//   rx_burst(port) -> classify -> fast path: answer in place -> tx_burst(port)
//                              -> exception: tx_burst(kernel interface)
//                              -> drop: free, count
//   rx_burst(kernel interface) -> tx_burst(port)        (what the kernel sends out)
//   rcu_quiescent_state()
//
// No allocation, lock, system call or exception per packet: the clock is read once per
// burst, counters are per lcore, the image is read through RCU.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "image_slot.hpp"
#include "pooledge/engine/answer.hpp"
#include "ports.hpp"
#include "stats.hpp"

namespace pooledge::dataplane {

struct WorkerContext {
    unsigned queue = 0;
    const std::vector<Port>* ports = nullptr;
    const ImageSlot* image = nullptr;
    const engine::Identity* identity = nullptr;
    WorkerStats* stats = nullptr;
    const std::atomic<bool>* stop = nullptr;
    uint64_t seed = 0;
};

// The lcore entry point (rte_eal_remote_launch); `arg` is a WorkerContext.
int worker_main(void* arg);

}  // namespace pooledge::dataplane
