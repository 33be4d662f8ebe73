// A worker lcore: run to completion over its queue pair of every port.
//
//   rx_burst(port) -> classify -> ACL -> fast path: the service's answer step in place, with
//                                         its rate limiter's say (RRL, NTP KoD) -> tx_burst(port)
//                              -> exception: the exception service's ring (exception.hpp)
//                              -> drop: free, count
//   the service's ring of the kernel's frames (worker 0) -> tx_burst(port)
//   rcu_quiescent_state()
//
// No allocation, lock, system call or exception per packet: the clock is read through the
// vDSO (once per loop for DNS; for NTP once per burst on receive and once before its TX
// burst), counters are per lcore, the image is read through RCU and the NTP clock state
// through its sequence counter (seq_slot.hpp), both without waiting.
// Worker::poll_once() is one pass of that loop without the quiescent state, so the process
// (worker_main), the tests and the loop benchmark drive the same code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "pooledge/base/rng.hpp"
#include "pooledge/dataplane/frame/dns_answer.hpp"
#include "pooledge/dataplane/frame/ntp_answer.hpp"
#include "pooledge/dataplane/worker/image_slot.hpp"
#include "pooledge/dataplane/worker/ports.hpp"
#include "pooledge/dataplane/worker/rcu_slot.hpp"
#include "pooledge/dataplane/worker/seq_slot.hpp"
#include "pooledge/dataplane/worker/stats.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/limit/acl.hpp"
#include "pooledge/limit/ntp_limit.hpp"
#include "pooledge/limit/rrl.hpp"
#include "pooledge/ntp/clock_state.hpp"

struct rte_mbuf;

namespace pooledge::dataplane {

// The clock state NTP answers carry, published a few times a second (dataplane/src/clock.hpp).
using ClockSlot = SeqSlot<ntp::ClockState>;

// The allow / deny lists of every service, replaced on SIGHUP (rare: RCU's grace period is
// fine here, unlike the clock state's four publishes a second).
using AclSlot = RcuSlot<limit::Acls>;

struct WorkerContext {
    unsigned queue = 0;  // the queue pair of every port this worker owns
    const std::vector<Port>* ports = nullptr;
    const ImageSlot* image = nullptr;
    const engine::Identity* identity = nullptr;
    WorkerStats* stats = nullptr;
    const std::atomic<bool>* stop = nullptr;  // worker_main returns once it is set
    uint64_t seed = 0;                        // of the answer draw's PRNG
    // NTP answers' clock state; while it is null (nothing published yet) NTP requests are
    // dropped as unsynchronised.
    const ClockSlot* clock = nullptr;
    // Abuse protection; null: off. The limiters' tables are shared by every worker (their
    // accounts are updated without locks); each worker keeps its share of the backstops.
    const AclSlot* acls = nullptr;
    limit::Rrl* rrl = nullptr;
    limit::NtpLimiter* ntp_limit = nullptr;
    unsigned workers = 1;  // the backstops' share per worker
};

class Worker {
  public:
    static constexpr uint16_t kBurst = 32;

    explicit Worker(const WorkerContext& context) noexcept;

    // One pass over every port: a burst received, classified, answered or forwarded, sent;
    // then the kernel's frames out. Returns the frames received (ports and kernel).
    // The caller is a registered RCU (QSBR) reader and announces a quiescent state between
    // calls: the image pointer taken here is not used after the call returns.
    unsigned poll_once() noexcept;

  private:
    // What one pass hands each port's service: the image, the clock state, the lists and
    // the limiters' clock.
    struct Pass {
        engine::AnswerContext actx;
        const ntp::ClockState* clock = nullptr;
        const limit::Acls* acls = nullptr;
        DnsLimits limits;
    };
    unsigned service_port(const Port& port, Pass& pass) noexcept;
    // The NTP rate limit's say over an answerable request: false = drop it.
    bool admit_ntp(const FrameLayout& layout, std::span<uint8_t> buffer, const FrameLayout& reply,
                   uint64_t now_ns) noexcept;
    void count_rrl(const DnsAnswered& a) noexcept;

    // A fast-path frame between the burst's stages (prepared, resolved, answered). Kept
    // here, built once, rather than on the stack of every poll, empty ones included.
    struct BurstSlot {
        ::rte_mbuf* m = nullptr;
        DnsPrepared p;
    };

    WorkerContext ctx_;
    base::Rng rng_;
    std::array<BurstSlot, kBurst> burst_;
    struct NtpSlot {
        ::rte_mbuf* m = nullptr;
        FrameLayout reply;
    };
    std::array<NtpSlot, kBurst> ntp_;
    // This worker's copy of the published clock state, and the count it was taken at.
    ntp::ClockState clock_{};
    uint64_t clock_seen_ = 0;
    // This worker's share of the limiters' state.
    limit::RrlWorker rrl_state_;
    base::TokenBucket ntp_backstop_;
};

// The rate limiters' clock: CLOCK_MONOTONIC_COARSE through the vDSO, read by each worker
// once per pass (its few milliseconds of resolution are well inside any burst window) and
// by the process for the limiters' epoch, so both read one clock.
[[nodiscard]] uint64_t limiter_clock_ns() noexcept;

// The lcore entry point (rte_eal_remote_launch); `arg` is a WorkerContext. Registers with
// RCU, loops poll_once() and rcu_quiescent_state() until *stop, unregisters.
int worker_main(void* arg);

}  // namespace pooledge::dataplane
