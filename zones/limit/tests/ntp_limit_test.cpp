// NtpLimiter on a fixed clock: chrony's interval and burst, leak and KoD shares, prefixes.
#include "pooledge/limit/ntp_limit.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace pooledge::limit {
namespace {

constexpr uint64_t kSecond = 1000000000;

base::IpAddress addr(const char* text) {
    return *base::IpAddress::parse(text);
}

struct Tally {
    unsigned answer = 0, kod = 0, drop = 0, leaked = 0;
};

Tally run(NtpLimiter& l, const base::IpAddress& a, unsigned n, uint64_t from, uint64_t step,
          base::Rng& rng, base::TokenBucket& backstop) {
    Tally t;
    for (unsigned i = 0; i < n; ++i) {
        const NtpDecision d = l.decide(a, from + i * step, rng, backstop);
        t.answer += d.action == NtpAction::Answer;
        t.kod += d.action == NtpAction::Kod;
        t.drop += d.action == NtpAction::Drop;
        t.leaked += d.leaked;
    }
    return t;
}

NtpLimitConfig config() {
    NtpLimitConfig c;
    c.interval = 1;  // one per 2 s
    c.burst = 4;
    c.leak = 0;
    c.kod = 0;
    c.table_entries = 1024;
    c.backstop = 0;
    return c;
}

TEST(NtpLimitTest, BurstThenOnePerInterval) {
    NtpLimiter l(config(), 3, 0);
    base::Rng rng(1);
    auto backstop = backstop_share(0, 1);
    // 10 a second for 20 s: the burst of 4, then one per 2 s.
    const Tally t = run(l, addr("192.0.2.1"), 200, kSecond, kSecond / 10, rng, backstop);
    EXPECT_GE(t.answer, 4U + 9U);
    EXPECT_LE(t.answer, 4U + 10U);
    EXPECT_EQ(t.kod, 0U);
    EXPECT_EQ(t.answer + t.drop, 200U);
    // The next address is another client (/32 by default).
    EXPECT_EQ(run(l, addr("192.0.2.2"), 4, 21 * kSecond, 1, rng, backstop).answer, 4U);
}

TEST(NtpLimitTest, KodGoesToItsShareOfLimitedRequests) {
    NtpLimitConfig c = config();
    c.kod = 1;  // half of the limited ones
    NtpLimiter l(c, 3, 0);
    base::Rng rng(7);
    auto backstop = backstop_share(0, 1);
    const Tally t = run(l, addr("192.0.2.1"), 10004, kSecond, 1, rng, backstop);
    EXPECT_EQ(t.answer, 4U);
    EXPECT_NEAR(static_cast<double>(t.kod), 5000.0, 250.0);
    EXPECT_EQ(t.kod + t.drop, 10000U);
    EXPECT_EQ(l.kod_poll(), 1);
}

TEST(NtpLimitTest, LeakAnswersItsShareAnyway) {
    NtpLimitConfig c = config();
    c.leak = 2;  // a quarter
    NtpLimiter l(c, 3, 0);
    base::Rng rng(9);
    auto backstop = backstop_share(0, 1);
    const Tally t = run(l, addr("2001:db8::1"), 10004, kSecond, 1, rng, backstop);
    EXPECT_NEAR(static_cast<double>(t.leaked), 2500.0, 200.0);
    EXPECT_EQ(t.answer, 4U + t.leaked);
}

TEST(NtpLimitTest, IPv6ClientsAreTheirSlash64) {
    NtpLimiter l(config(), 3, 0);
    base::Rng rng(1);
    auto backstop = backstop_share(0, 1);
    EXPECT_EQ(run(l, addr("2001:db8:0:1::1"), 10, kSecond, 1, rng, backstop).answer, 4U);
    EXPECT_EQ(run(l, addr("2001:db8:0:1::2"), 10, kSecond, 1, rng, backstop).answer, 0U);
    EXPECT_EQ(run(l, addr("2001:db8:0:2::1"), 10, kSecond, 1, rng, backstop).answer, 4U);
}

TEST(NtpLimitTest, BackstopBoundsNewSources) {
    NtpLimitConfig c = config();
    c.table_entries = 64;
    c.backstop = 100;
    NtpLimiter l(c, 3, 0);
    base::Rng rng(1);
    auto backstop = backstop_share(c.backstop, 1);  // 100 a second, bursts of 10
    unsigned answered = 0;
    for (unsigned i = 0; i < 10000; ++i) {
        const auto a = base::IpAddress::v4(0x0B000000u + i);
        answered +=
            l.decide(a, kSecond + i * (kSecond / 10000), rng, backstop).action == NtpAction::Answer;
    }
    EXPECT_GE(answered, 100U);
    EXPECT_LE(answered, 111U);
}

TEST(NtpLimitTest, ExemptPrefixesAreNeverLimited) {
    NtpLimitConfig c = config();
    c.exempt = {*base::IpPrefix::parse("198.51.100.0/28")};
    NtpLimiter l(c, 3, 0);
    base::Rng rng(1);
    auto backstop = backstop_share(0, 1);
    EXPECT_EQ(run(l, addr("198.51.100.1"), 100, kSecond, 1, rng, backstop).answer, 100U);
    EXPECT_EQ(run(l, addr("198.51.100.17"), 100, kSecond, 1, rng, backstop).answer, 4U);
}

TEST(NtpLimitTest, BadConfigIsRefused) {
    NtpLimitConfig c = config();
    c.interval = 13;
    EXPECT_THROW(NtpLimiter(c, 1, 0), std::invalid_argument);
    c = config();
    c.burst = 0;
    EXPECT_THROW(NtpLimiter(c, 1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace pooledge::limit
