// RateTable on a fixed clock: GCRA's burst then rate, exactly; eviction under churn counted;
// constant memory whatever the number of keys.
#include "pooledge/limit/rate_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace pooledge::limit {
namespace {

constexpr uint64_t kSecond = 1000000000;

// Requests let through for one key at `per_second` requests over [from, to).
unsigned passed(RateTable& t, uint64_t key, const RateTable::Limit& l, uint64_t from, uint64_t to,
                uint64_t step) {
    unsigned n = 0;
    for (uint64_t now = from; now < to; now += step) {
        RateTable::Probe p;
        t.probe(key, static_cast<uint16_t>(key >> 48), t.units(now), l, p);
        if (p.conforming) {
            RateTable::commit(p);
            ++n;
        }
    }
    return n;
}

TEST(RateTableTest, BurstAtOnceThenTheRate) {
    const auto l = RateTable::limit(10, 5);
    // 5 at once from a quiet start...
    RateTable t2(1024, 0);
    unsigned at_once = 0;
    for (int i = 0; i < 100; ++i) {
        RateTable::Probe p;
        t2.probe(7, 0, t2.units(kSecond), l, p);  // passed()'s tag for key 7
        if (p.conforming) {
            RateTable::commit(p);
            ++at_once;
        }
    }
    EXPECT_EQ(at_once, 5U);
    // ...then 10 a second under a flood of 1000 a second: 100 over 10 s (+-1 for the units).
    const unsigned n = passed(t2, 7, l, kSecond + kSecond / 1000, 11 * kSecond, kSecond / 1000);
    EXPECT_GE(n, 99U);
    EXPECT_LE(n, 101U);
}

TEST(RateTableTest, AQuietKeyRegainsItsBurstNotMore) {
    RateTable t(1024, 0);
    const auto l = RateTable::limit(100, 20);
    EXPECT_EQ(passed(t, 9, l, 0, kSecond / 200, kSecond / 100000), 20U);  // the burst
    // An hour of silence buys the burst again, not an hour of rate.
    unsigned at_once = 0;
    for (int i = 0; i < 1000; ++i) {
        RateTable::Probe p;
        t.probe(9, 9, t.units(3600 * kSecond), l, p);
        if (p.conforming) {
            RateTable::commit(p);
            ++at_once;
        }
    }
    EXPECT_EQ(at_once, 20U);
}

TEST(RateTableTest, KeysSharingABucketKeepTheirOwnAccounts) {
    RateTable t(8, 0);  // one bucket: every key shares it
    ASSERT_EQ(t.entries(), 8U);
    const auto l = RateTable::limit(1, 2);
    for (uint16_t tag = 1; tag <= 8; ++tag) {
        for (int i = 0; i < 2; ++i) {
            RateTable::Probe p;
            t.probe(0, tag, t.units(kSecond), l, p);
            ASSERT_TRUE(p.conforming);
            EXPECT_EQ(p.fresh, i == 0);
            EXPECT_FALSE(p.evicted);
            RateTable::commit(p);
        }
        RateTable::Probe again;
        t.probe(0, tag, t.units(kSecond), l, again);
        EXPECT_FALSE(again.conforming);
    }
}

TEST(RateTableTest, ChurnEvictsActiveAccountsAndSaysSo) {
    RateTable t(64, 0);
    const auto l = RateTable::limit(1, 4);
    unsigned evicted = 0;
    unsigned fresh = 0;
    for (uint64_t key = 1; key <= 10000; ++key) {
        const uint64_t h = key * 0x9E3779B97F4A7C15ull;
        RateTable::Probe p;
        t.probe(h, static_cast<uint16_t>(h >> 48), t.units(kSecond), l, p);
        EXPECT_TRUE(p.conforming);  // a key without an account always gets its burst
        fresh += p.fresh;
        evicted += p.evicted;
        RateTable::commit(p);
    }
    EXPECT_EQ(fresh, 10000U);
    EXPECT_GE(evicted, 10000U - 64U);
    EXPECT_EQ(t.bytes(), 64U * 8U);  // constant memory: still 64 accounts
}

TEST(RateTableTest, ABackstopShareBelowOneIsOneNotUnlimited) {
    auto b = backstop_share(1, 4);  // a quarter a second each: one a second, burst 1
    EXPECT_EQ(b.take(100, kSecond), 1U);
    EXPECT_EQ(b.take(100, kSecond + 1), 0U);
    auto off = backstop_share(0, 4);  // 0: no backstop
    EXPECT_EQ(off.take(100, kSecond), 100U);
}

TEST(RateTableTest, LimitConversion) {
    const auto l = RateTable::limit(1000, 1);
    EXPECT_EQ(l.interval, 977U);  // 1 ms in 1024 ns units, rounded to the nearest
    EXPECT_EQ(l.tolerance, 0U);
    const auto b = RateTable::limit(1, 10);
    EXPECT_EQ(b.tolerance, 9 * b.interval);
}

}  // namespace
}  // namespace pooledge::limit
