#include "pooledge/limit/rate_table.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace pooledge::limit {
namespace {

constexpr uint64_t kTimeMask = (uint64_t{1} << 48) - 1;

uint64_t mum(uint64_t a, uint64_t b) noexcept {
    const auto r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r >> 64) ^ static_cast<uint64_t>(r);
}

}  // namespace

RateTable::Limit RateTable::limit(double per_second, double burst) noexcept {
    const double unit = static_cast<double>(uint64_t{1} << kUnitShift) * 1e-9;  // seconds
    Limit l;
    l.interval = std::max<uint64_t>(1, static_cast<uint64_t>(1.0 / (per_second * unit)));
    l.tolerance =
        static_cast<uint64_t>((std::max(burst, 1.0) - 1.0) * static_cast<double>(l.interval));
    return l;
}

RateTable::RateTable(size_t entries, uint64_t epoch_ns) : epoch_ns_(epoch_ns) {
    size_t buckets = 1;
    while (buckets * kWays < entries) {
        buckets <<= 1;
    }
    buckets_ = static_cast<Bucket*>(std::aligned_alloc(alignof(Bucket), buckets * sizeof(Bucket)));
    if (buckets_ == nullptr) {
        throw std::bad_alloc();
    }
    for (size_t i = 0; i < buckets; ++i) {
        new (&buckets_[i]) Bucket{};
    }
    mask_ = buckets - 1;
}

RateTable::~RateTable() {
    std::free(buckets_);
}

RateTable::Probe RateTable::probe(uint64_t bucket_hash, uint16_t tag, uint64_t now,
                                  const Limit& limit) noexcept {
    const uint64_t key = static_cast<uint64_t>(tag == 0 ? 1 : tag) << 48;
    Bucket* b = bucket(bucket_hash);
    Probe p;
    unsigned victim = 0;
    uint64_t victim_time = ~uint64_t{0};
    for (unsigned i = 0; i < kWays; ++i) {
        const uint64_t w = b->word[i].load(std::memory_order_relaxed);
        if ((w & ~kTimeMask) == key) {
            p.slot = &b->word[i];
            p.seen = w;
            break;
        }
        if ((w & kTimeMask) < victim_time) {
            victim_time = w & kTimeMask;
            victim = i;
        }
    }
    uint64_t tat = p.seen & kTimeMask;
    if (p.slot == nullptr) {
        p.slot = &b->word[victim];
        p.seen = b->word[victim].load(std::memory_order_relaxed);
        p.fresh = true;
        p.evicted = p.seen != 0 && victim_time > now;
        tat = 0;
    }
    const uint64_t start = std::max(tat, now);
    p.conforming = start - now <= limit.tolerance;
    p.next = key | ((start + limit.interval) & kTimeMask);
    return p;
}

void RateTable::commit(const Probe& p) noexcept {
    uint64_t expected = p.seen;
    // A lost race: another worker charged this account (or took it) meanwhile; its request
    // was counted, ours is let through on the state it saw.
    p.slot->compare_exchange_strong(expected, p.next, std::memory_order_relaxed);
}

uint64_t keyed_hash(uint64_t seed, uint64_t hi, uint64_t lo, uint64_t context) noexcept {
    const uint64_t a = mum(hi ^ seed ^ 0xA0761D6478BD642Full, lo ^ 0xE7037ED1A0B428DBull);
    return mum(a ^ context ^ 0x8EBC6AF09C88C6E3ull, seed ^ 0x589965CC75374CC3ull);
}

base::TokenBucket backstop_share(double per_second, unsigned workers) noexcept {
    const double share = per_second / std::max(workers, 1U);
    return base::TokenBucket(static_cast<uint64_t>(share),
                             std::max<uint64_t>(1, static_cast<uint64_t>(share / 10)));
}

uint64_t prefix_hash(uint64_t seed, const base::IpAddress& a, unsigned len,
                     uint64_t context) noexcept {
    uint64_t hi = 0;
    uint64_t lo = 0;
    if (a.family == 4) {
        lo = len == 0 ? 0 : a.v4_host() & (~uint32_t{0} << (32 - std::min(len, 32U)));
    } else {
        hi = a.v6_hi();
        lo = a.v6_lo();
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
