// The exception service: the one thread that touches the kernel interfaces, so that no
// worker makes a system call for a frame the kernel gets (ARP, ND, ICMP, TCP, BGP, junk).
//
//   worker q --to_kernel ring--> service --token bucket--> exception port, queue 0 (kernel)
//   exception port, queue 0 --> service --> service port, the service's own TX queue
//                                       or  worker 0's from_kernel ring --> worker 0's TX
//
// The bucket (exception.rate, exception.burst per port) bounds what a flood of junk can cost
// the kernel; what it refuses is freed and counted, never queued. ARP and on-link ND
// (is_neighbour_discovery) have a bucket of their own at the same rate: a flood of junk must
// not starve them and cut the node off its link, and a storm of them on the link is bounded
// too. The kernel's
// own frames are not limited: the kernel paces what it sends. Worker 0 alone carries them where the
// service has no TX queue, so a TCP stream keeps its order.
//
// The service polls while there is work and sleeps 100 us after a run of empty passes: the
// kernel's share of traffic is light, and the thread must not take a core from the workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "pooledge/base/token_bucket.hpp"
#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/ports.hpp"
#include "pooledge/dataplane/worker/stats.hpp"

namespace pooledge::dataplane {

struct alignas(64) ExceptionStats {
    Counter to_kernel{0};           // frames the kernel interface took
    Counter rate_limited{0};        // over exception.rate: freed
    Counter neighbour{0};           // ARP and on-link ND the kernel got (their own bucket)
    Counter to_kernel_failed{0};    // the kernel interface would not take them: freed
    Counter from_kernel{0};         // the kernel's frames passed on towards the port
    Counter from_kernel_failed{0};  // the port's queue or worker 0's ring was full: freed
    Counter passes{0};              // poll passes: shows the thread is alive
};

class ExceptionService {
  public:
    static constexpr uint16_t kBurst = 32;

    ExceptionService(const std::vector<Port>& ports, const ExceptionConfig& config,
                     ExceptionStats& stats);

    // One pass over every port and worker ring. `now_ns` is CLOCK_MONOTONIC, for the
    // buckets. Returns the frames moved (either way).
    unsigned poll_once(uint64_t now_ns) noexcept;

    // The thread's body: polls until `stop` is set.
    void run(const std::atomic<bool>& stop) noexcept;

  private:
    struct Buckets {
        base::TokenBucket other;      // everything but neighbour discovery
        base::TokenBucket neighbour;  // ARP and on-link ND
    };
    unsigned to_kernel(const Port& port, Buckets& buckets, uint64_t now_ns) noexcept;
    unsigned from_kernel(const Port& port) noexcept;

    const std::vector<Port>& ports_;
    std::vector<Buckets> buckets_;  // by port
    ExceptionStats& stats_;
};

}  // namespace pooledge::dataplane
