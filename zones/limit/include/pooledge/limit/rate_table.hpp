// The rate limiters' memory: a fixed-size table of accounts that every worker reads and
// updates at once, without locks, whatever the number of sources.
//
// Each account is one 64-bit word: a 16-bit tag (which key owns it) and the key's
// theoretical arrival time, 48 bits in units of 1024 ns from the table's epoch (9 years).
// That is GCRA, the generic cell rate algorithm (ATM's leaky bucket as a virtual scheduling
// time): a request conforms when the account's time runs at most `tolerance` ahead of now,
// and a conforming request moves it `interval` further on. One word per key is why the
// accounting needs no decay pass, no per-second reset and no lock: an update is one
// compare-and-swap, and a lost race only means the other worker's request was counted.
//
// Eight accounts share a 64-byte bucket (one cache line: one miss per lookup, prefetched by
// the worker a stage ahead). A key not in its bucket takes the account least in debt there;
// if that one was still active (its time ahead of now), the table is under pressure, which
// is counted: a spoofed flood churning through more sources than the table holds keeps
// evicting, and the limiters' global backstop (rrl.hpp) bounds what it gets out.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "pooledge/base/ip.hpp"
#include "pooledge/base/token_bucket.hpp"

namespace pooledge::limit {

class RateTable {
  public:
    static constexpr unsigned kWays = 8;
    static constexpr unsigned kUnitShift = 10;  // one time unit = 1024 ns

    // A rate in the table's units.
    struct Limit {
        uint64_t interval = 0;   // time units per request
        uint64_t tolerance = 0;  // how far ahead of now an account may run: the burst
    };
    // `per_second` in (0, 500000], `burst` >= 1 requests at once.
    [[nodiscard]] static Limit limit(double per_second, double burst) noexcept;

    // `entries` is rounded up to a power of two, at least one bucket. `epoch_ns`: the
    // monotonic clock's time of table unit 0 (now, in the process; fixed in tests).
    RateTable(size_t entries, uint64_t epoch_ns);
    ~RateTable();
    RateTable(const RateTable&) = delete;
    RateTable& operator=(const RateTable&) = delete;

    // A monotonic nanosecond clock reading in table units.
    [[nodiscard]] uint64_t units(uint64_t now_ns) const noexcept {
        return now_ns > epoch_ns_ ? (now_ns - epoch_ns_) >> kUnitShift : 0;
    }

    void prefetch(uint64_t bucket_hash) const noexcept {
        __builtin_prefetch(bucket(bucket_hash), 1, 3);
    }

    // What one request does to its account, before the caller decides (a request checked
    // against several accounts commits to all or none).
    struct Probe {
        std::atomic<uint64_t>* slot = nullptr;
        uint64_t seen = 0;  // the word as read
        uint64_t next = 0;  // the word if the request is let through
        bool conforming = false;
        bool fresh = false;    // the key had no account: it takes one
        bool evicted = false;  // ... from a key still active (table pressure)
    };
    // `tag`: 16 bits naming the key within its bucket (0 is taken as 1).
    [[nodiscard]] Probe probe(uint64_t bucket_hash, uint16_t tag, uint64_t now,
                              const Limit& limit) noexcept;
    // Charges a conforming request to its account.
    static void commit(const Probe& p) noexcept;

    [[nodiscard]] size_t entries() const noexcept { return (mask_ + 1) * kWays; }
    [[nodiscard]] size_t bytes() const noexcept { return entries() * sizeof(uint64_t); }

  private:
    struct alignas(64) Bucket {
        std::atomic<uint64_t> word[kWays];
    };
    [[nodiscard]] Bucket* bucket(uint64_t h) const noexcept { return &buckets_[h & mask_]; }

    Bucket* buckets_ = nullptr;
    uint64_t mask_ = 0;
    uint64_t epoch_ns_ = 0;
};

// A keyed hash of up to 128 bits of address and a few bits of context, for the tables'
// bucket choice: keyed, so nobody off the box can aim a flood at one bucket.
[[nodiscard]] uint64_t keyed_hash(uint64_t seed, uint64_t hi, uint64_t lo,
                                  uint64_t context) noexcept;

// One worker's share of a global backstop of `per_second` for the node (a tenth of a second
// of it as the burst): per worker, so the workers share nothing for it.
[[nodiscard]] base::TokenBucket backstop_share(double per_second, unsigned workers) noexcept;

// keyed_hash of the first `len` bits of `a` (the rest zero) and `context`.
[[nodiscard]] uint64_t prefix_hash(uint64_t seed, const base::IpAddress& a, unsigned len,
                                   uint64_t context) noexcept;

}  // namespace pooledge::limit
