// Per-lcore counters. Each worker writes only its own block (cache-line aligned, so no false
// sharing) with relaxed atomics, which compile to plain loads and stores on x86; the metrics
// thread sums the blocks when scraped. No lock and no shared write on the fast path.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

#include "pooledge/dataplane/frame/frame.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/ntp/packet.hpp"

namespace pooledge::dataplane {

using Counter = std::atomic<uint64_t>;

inline void bump(Counter& c, uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Bounded label sets: the first zones of the image by index, the common query types, the
// rcodes the engine sends.
inline constexpr size_t kZoneSlots = 8;  // zone index 0..6, then "other"; "none" separately
inline constexpr size_t kQtypeSlots = 9;
inline constexpr size_t kRcodeSlots = 9;

[[nodiscard]] size_t qtype_slot(uint16_t qtype) noexcept;
[[nodiscard]] const char* qtype_slot_name(size_t slot) noexcept;
[[nodiscard]] size_t rcode_slot(dns::Rcode rcode) noexcept;
[[nodiscard]] const char* rcode_slot_name(size_t slot) noexcept;

// What the DNS answer step did, by zone, query type and rcode.
struct DnsCounters {
    Counter queries{0};  // reaching the engine
    Counter truncated{0};
    // [zone slot + 1 (0 = no zone)][qtype slot][rcode slot]
    std::array<std::array<std::array<Counter, kRcodeSlots>, kQtypeSlots>, kZoneSlots + 1>
        responses{};

    void count_response(const engine::Response& r) noexcept {
        const size_t zone =
            r.zone < 0 ? 0 : std::min<size_t>(static_cast<size_t>(r.zone), kZoneSlots - 1) + 1;
        bump(responses[zone][qtype_slot(r.qtype)][rcode_slot(r.rcode)]);
        if (r.truncated) {
            bump(truncated);
        }
    }
};

// What the NTP answer step did: every request by version and mode, then its fate.
struct NtpCounters {
    std::array<std::array<Counter, 8>, 8> requests{};  // [version][mode], as received
    Counter answers{0};
    Counter to_kernel{0};  // mode 4: replies to the host's own client
    std::array<Counter, static_cast<size_t>(ntp::DropReason::Count)> drops{};

    void count(const ntp::Request& r) noexcept {
        bump(requests[r.version & 7][static_cast<size_t>(r.mode) & 7]);
        if (r.verdict == ntp::Verdict::Kernel) {
            bump(to_kernel);
        } else if (r.verdict == ntp::Verdict::Drop) {
            bump(drops[static_cast<size_t>(r.reason)]);
        }
    }
};

// What a rate limiter did (limit/rrl.hpp for DNS, limit/ntp_limit.hpp for NTP).
struct LimiterCounters {
    Counter limited{0};        // over the limit (in log-only mode: would have been)
    Counter dropped{0};        // limited and sent nothing
    Counter slipped{0};        // DNS: limited and sent TC=1
    Counter kod{0};            // NTP: limited and sent a KoD RATE
    Counter leaked{0};         // NTP: limited and answered anyway
    Counter cookie_bypass{0};  // DNS: limited, but the client's server cookie was valid
    Counter backstop{0};       // held back by the global backstop (counted in limited too)
    Counter new_sources{0};    // requests from sources the table had no account for
    Counter evictions{0};      // ... whose account was taken from an active one (pressure)
};

struct alignas(64) WorkerStats {
    // Frames, whatever their service.
    Counter rx_packets{0};
    Counter tx_packets{0};
    Counter tx_failed{0};  // answers the port would not take (ring full), freed
    // The exception path (exception.hpp): frames handed to the exception service, and the
    // kernel's frames this worker sent out for it (worker 0, where the service has no TX
    // queue of its own).
    Counter to_exception{0};
    Counter exception_ring_full{0};  // the service's ring was full: freed
    Counter from_kernel{0};
    Counter from_kernel_failed{0};  // the kernel's frames the port would not take, freed
    std::array<Counter, static_cast<size_t>(DropReason::Count)> drops{};
    Counter loops{0};  // main-loop iterations: shows a worker is alive
    // rte_eth_tx_burst calls on service ports (answers, and the kernel's frames): a PMD
    // kicks its NIC or socket at most once per call, so tx_packets / tx_bursts is the
    // batching the kicks get.
    Counter tx_bursts{0};
    // Per service.
    DnsCounters dns;
    NtpCounters ntp;
    LimiterCounters rrl;
    LimiterCounters ntp_limit;
};

}  // namespace pooledge::dataplane
