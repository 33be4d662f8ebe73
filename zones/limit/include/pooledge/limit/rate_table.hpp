// The rate limiters' memory: a fixed-size table of accounts that every worker reads and
// updates at once, without locks, whatever the number of sources.
//
// Each account is one 64-bit word: a 16-bit tag (which key owns it) and the key's
// theoretical arrival time, 48 bits in units of 1024 ns from the table's epoch (9 years).
// That is GCRA, the generic cell rate algorithm (ATM's leaky bucket as a virtual scheduling
// time): a request conforms when the account's time runs at most `tolerance` ahead of now,
// and a conforming request moves it `interval` further on. One word per key is why the
// accounting needs no decay pass, no per-second reset and no lock: an update is one relaxed
// load and one relaxed store of a word (atomic, never torn), and two workers charging one
// account at the same instant lose one of the two charges (see commit()).
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
    // against several accounts commits to all or none). Filled whole by probe(), so it has
    // no initialisers: a caller's array of them costs nothing to set up.
    struct Probe {
        std::atomic<uint64_t>* slot;
        uint64_t seen;  // the word as read
        uint64_t next;  // the word if the request is let through
        bool conforming;
        bool fresh;    // the key had no account: it takes one
        bool evicted;  // ... from a key still active (table pressure)
    };
    // `tag`: 16 bits naming the key within its bucket (0 is taken as 1). Inline, as
    // commit(): the worker calls them for every answer.
    void probe(uint64_t bucket_hash, uint16_t tag, uint64_t now, const Limit& limit,
               Probe& out) noexcept;
    // Charges a conforming request to its account.
    static void commit(const Probe& p) noexcept;

    static constexpr uint64_t kTimeMask = (uint64_t{1} << 48) - 1;

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
[[nodiscard]] inline uint64_t keyed_hash(uint64_t seed, uint64_t hi, uint64_t lo,
                                         uint64_t context) noexcept;

// One worker's share of a global backstop of `per_second` for the node (a tenth of a second
// of it as the burst): per worker, so the workers share nothing for it.
[[nodiscard]] base::TokenBucket backstop_share(double per_second, unsigned workers) noexcept;

// Whether the global backstop holds back a request that conforms but comes from a source
// the table had no account for: its worker's share (backstop_share) has no token left.
// `per_second` 0: no backstop.
[[nodiscard]] inline bool backstop_holds(bool fresh, double per_second, base::TokenBucket& share,
                                         uint64_t now_ns) noexcept {
    return fresh && per_second > 0 && share.take(1, now_ns) == 0;
}

// keyed_hash of the first `len` bits of `a` (the rest zero) and `context`.
[[nodiscard]] inline uint64_t prefix_hash(uint64_t seed, const base::IpAddress& a, unsigned len,
                                          uint64_t context) noexcept;

inline void RateTable::probe(uint64_t bucket_hash, uint16_t tag, uint64_t now, const Limit& limit,
                             Probe& p) noexcept {
    const uint64_t key = static_cast<uint64_t>(tag == 0 ? 1 : tag) << 48;
    Bucket* b = bucket(bucket_hash);
    // The key's way, if it has one: a compare per way folded into a mask, no branch on
    // which way matched (that is random). Only a key without an account (rare once the
    // table is warm) looks for the way least in debt.
    unsigned match = 0;
#pragma GCC unroll 8
    for (unsigned i = 0; i < kWays; ++i) {
        const uint64_t w = b->word[i].load(std::memory_order_relaxed);
        match |= static_cast<unsigned>((w & ~kTimeMask) == key) << i;
    }
    unsigned found = match != 0 ? static_cast<unsigned>(__builtin_ctz(match)) : kWays;
    uint64_t victim_time = 0;
    if (found == kWays) {
        victim_time = ~uint64_t{0};
        unsigned victim = 0;
        for (unsigned i = 0; i < kWays; ++i) {
            const uint64_t t = b->word[i].load(std::memory_order_relaxed) & kTimeMask;
            const bool older = t < victim_time;
            victim = older ? i : victim;
            victim_time = older ? t : victim_time;
        }
        found = kWays + victim;
    }
    p.fresh = found >= kWays;
    const unsigned way = p.fresh ? found - kWays : found;
    p.slot = &b->word[way];
    p.seen = b->word[way].load(std::memory_order_relaxed);
    p.evicted = p.fresh && p.seen != 0 && victim_time > now;
    const uint64_t tat = p.fresh ? 0 : p.seen & kTimeMask;
    const uint64_t start = tat > now ? tat : now;
    p.conforming = start - now <= limit.tolerance;
    p.next = key | ((start + limit.interval) & kTimeMask);
}

inline void RateTable::commit(const Probe& p) noexcept {
    // A plain store, not a compare-and-swap: a locked instruction per answer is a full
    // barrier on the worker that serialises the burst's memory accesses. The price is a
    // lost update when two workers charge one account within the same few nanoseconds:
    // that request goes uncounted, so a flood spread over W workers may get a little more
    // than its rate (the flood test measures it within the bound).
    p.slot->store(p.next, std::memory_order_relaxed);
}

inline uint64_t keyed_hash(uint64_t seed, uint64_t hi, uint64_t lo, uint64_t context) noexcept {
    const auto mum = [](uint64_t a, uint64_t b) {
        const auto r = static_cast<unsigned __int128>(a) * b;
        return static_cast<uint64_t>(r >> 64) ^ static_cast<uint64_t>(r);
    };
    const uint64_t a = mum(hi ^ seed ^ 0xA0761D6478BD642Full, lo ^ 0xE7037ED1A0B428DBull);
    return mum(a ^ context ^ 0x8EBC6AF09C88C6E3ull, seed ^ 0x589965CC75374CC3ull);
}

inline uint64_t prefix_hash(uint64_t seed, const base::IpAddress& a, unsigned len,
                            uint64_t context) noexcept {
    // The address's words in host order, straight from its network-order bytes.
    const auto word = [&a](size_t at) {
        uint64_t v;
        __builtin_memcpy(&v, a.bytes.data() + at, 8);
        return __builtin_bswap64(v);
    };
    uint64_t hi = 0;
    uint64_t lo = 0;
    if (a.family == 4) {
        uint32_t v;
        __builtin_memcpy(&v, a.bytes.data(), 4);
        lo = len == 0 ? 0 : __builtin_bswap32(v) & (~uint32_t{0} << (32 - (len < 32 ? len : 32)));
    } else {
        hi = word(0);
        lo = word(8);
        if (len <= 64) {
            hi = len == 0 ? 0 : hi & (~uint64_t{0} << (64 - len));
            lo = 0;
        } else if (len < 128) {
            lo &= ~uint64_t{0} << (128 - len);
        }
    }
    return keyed_hash(seed, hi, lo, context);
}

}  // namespace pooledge::limit
