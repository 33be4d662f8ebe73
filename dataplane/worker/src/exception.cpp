#include "pooledge/dataplane/worker/exception.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <ctime>

#include "pooledge/dataplane/frame/classify.hpp"

namespace pooledge::dataplane {
namespace {

// Empty passes before the thread sleeps, and how long: a frame waits at most this long
// once the path has gone quiet; under load the loop never sleeps.
constexpr unsigned kSpinPasses = 64;
constexpr long kIdleSleepNs = 100000;

uint64_t monotonic_ns() noexcept {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000U + static_cast<uint64_t>(t.tv_nsec);
}

void free_and_count(rte_mbuf** pkts, unsigned n, Counter& c) noexcept {
    if (n > 0) {
        rte_pktmbuf_free_bulk(pkts, n);
        bump(c, n);
    }
}

}  // namespace

ExceptionService::ExceptionService(const std::vector<Port>& ports, const ExceptionConfig& config,
                                   ExceptionStats& stats)
    : ports_(ports), stats_(stats) {
    buckets_.reserve(ports.size());
    for (size_t i = 0; i < ports.size(); ++i) {
        buckets_.push_back({base::TokenBucket(config.rate, config.burst),
                            base::TokenBucket(config.rate, config.burst)});
    }
}

unsigned ExceptionService::to_kernel(const Port& port, Buckets& buckets, uint64_t now_ns) noexcept {
    unsigned moved = 0;
    rte_mbuf* pkts[kBurst];
    for (const ExceptionRings& x : port.exception_rings) {
        const unsigned n =
            rte_ring_sc_dequeue_burst(x.to_kernel, reinterpret_cast<void**>(pkts), kBurst, nullptr);
        if (n == 0) {
            continue;
        }
        moved += n;
        // Neighbour discovery to the front, for a bucket of its own; each part keeps its
        // order. Then what each bucket grants, side by side, ahead of what they refuse.
        unsigned nd = 0;
        for (unsigned i = 0; i < n; ++i) {
            const rte_mbuf* m = pkts[i];
            if (is_neighbour_discovery({rte_pktmbuf_mtod(m, const uint8_t*), m->data_len})) {
                std::rotate(pkts + nd, pkts + i, pkts + i + 1);
                ++nd;
            }
        }
        const auto nd_granted = static_cast<unsigned>(buckets.neighbour.take(nd, now_ns));
        const auto rest_granted = static_cast<unsigned>(buckets.other.take(n - nd, now_ns));
        std::rotate(pkts + nd_granted, pkts + nd, pkts + nd + rest_granted);
        bump(stats_.neighbour, nd_granted);
        const auto granted = static_cast<uint16_t>(nd_granted + rest_granted);
        const uint16_t sent = rte_eth_tx_burst(port.exception_id, 0, pkts, granted);
        bump(stats_.to_kernel, sent);
        free_and_count(pkts + sent, granted - sent, stats_.to_kernel_failed);
        free_and_count(pkts + granted, n - granted, stats_.rate_limited);
    }
    return moved;
}

unsigned ExceptionService::from_kernel(const Port& port) noexcept {
    rte_mbuf* pkts[kBurst];
    const uint16_t n = rte_eth_rx_burst(port.exception_id, 0, pkts, kBurst);
    if (n == 0) {
        return 0;
    }
    for (uint16_t i = 0; i < n; ++i) {
        pkts[i]->ol_flags = 0;  // the kernel's offload requests mean nothing to the port
    }
    unsigned sent = 0;
    if (port.service_tx_queue != kNoServiceQueue) {
        sent = rte_eth_tx_burst(port.id, port.service_tx_queue, pkts, n);
    } else {
        sent = rte_ring_sp_enqueue_burst(port.exception_rings[0].from_kernel,
                                         reinterpret_cast<void**>(pkts), n, nullptr);
    }
    bump(stats_.from_kernel, sent);
    free_and_count(pkts + sent, n - sent, stats_.from_kernel_failed);
    return n;
}

unsigned ExceptionService::poll_once(uint64_t now_ns) noexcept {
    unsigned moved = 0;
    for (size_t i = 0; i < ports_.size(); ++i) {
        moved += to_kernel(ports_[i], buckets_[i], now_ns);
        moved += from_kernel(ports_[i]);
    }
    bump(stats_.passes);
    return moved;
}

void ExceptionService::run(const std::atomic<bool>& stop) noexcept {
    unsigned idle = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        if (poll_once(monotonic_ns()) > 0) {
            idle = 0;
            continue;
        }
        if (++idle >= kSpinPasses) {
            const timespec pause{0, kIdleSleepNs};
            nanosleep(&pause, nullptr);
        }
    }
}

}  // namespace pooledge::dataplane
