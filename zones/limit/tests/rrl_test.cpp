// Rrl on a fixed clock: per prefix and kind, levels at multiples, slip, exemptions, log-only,
// the backstop under a spoofed churn.
#include "pooledge/limit/rrl.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace pooledge::limit {
namespace {

constexpr uint64_t kSecond = 1000000000;

base::IpAddress addr(const char* text) {
    return *base::IpAddress::parse(text);
}

struct Tally {
    unsigned pass = 0, drop = 0, slip = 0, limited = 0, backstop = 0;
};

Tally run(Rrl& rrl, RrlWorker& w, const base::IpAddress& client, ResponseKind kind, int zone,
          unsigned n, uint64_t from, uint64_t step) {
    Tally t;
    const RrlKey k = rrl.key(client);
    for (unsigned i = 0; i < n; ++i) {
        const Decision d = rrl.decide(k, kind, zone, from + i * step, w);
        t.pass += d.action == Action::Pass;
        t.drop += d.action == Action::Drop;
        t.slip += d.action == Action::Slip;
        t.limited += d.limited;
        t.backstop += d.backstop;
    }
    return t;
}

RrlConfig small() {
    RrlConfig c;
    c.rate = {10, 5, 2};
    c.window = 1;
    c.slip = 0;
    c.table_entries = 4096;
    c.backstop = 0;
    return c;
}

TEST(RrlTest, APrefixGetsItsRateAndNoMore) {
    Rrl rrl(small(), 42, 0);
    RrlWorker w(0, 1);
    // 1000 queries a second for 10 s from one /24, spread over its addresses.
    unsigned pass = 0;
    for (unsigned i = 0; i < 10000; ++i) {
        const auto a = base::IpAddress::v4(0xC6336400u + (i % 256));  // 198.51.100.x
        pass += rrl.decide(rrl.key(a), ResponseKind::Answer, 0, kSecond + i * (kSecond / 1000), w)
                    .action == Action::Pass;
    }
    EXPECT_GE(pass, 100U);  // the window's burst (10) plus 10 a second
    EXPECT_LE(pass, 111U);
    // Another /24 is untouched.
    const Tally other =
        run(rrl, w, addr("198.51.101.1"), ResponseKind::Answer, 0, 10, 11 * kSecond, 1);
    EXPECT_EQ(other.pass, 10U);
}

TEST(RrlTest, KindsAndZonesHaveTheirOwnAccounts) {
    Rrl rrl(small(), 42, 0);
    RrlWorker w(0, 1);
    const auto c = addr("192.0.2.1");
    EXPECT_EQ(run(rrl, w, c, ResponseKind::Nxdomain, 0, 20, kSecond, 1).pass, 5U);
    EXPECT_EQ(run(rrl, w, c, ResponseKind::Nxdomain, 1, 20, kSecond, 1).pass, 5U);  // zone 1
    EXPECT_EQ(run(rrl, w, c, ResponseKind::Error, 0, 20, kSecond, 1).pass, 2U);
    EXPECT_EQ(run(rrl, w, c, ResponseKind::Answer, 0, 20, kSecond, 1).pass, 10U);
}

TEST(RrlTest, SlipSendsEveryNthLimitedResponseTruncated) {
    RrlConfig c = small();
    c.slip = 3;
    Rrl rrl(c, 42, 0);
    RrlWorker w(0, 1);
    const Tally t = run(rrl, w, addr("192.0.2.1"), ResponseKind::Answer, 0, 10 + 30, kSecond, 1);
    EXPECT_EQ(t.pass, 10U);
    EXPECT_EQ(t.limited, 30U);
    EXPECT_EQ(t.slip, 10U);
    EXPECT_EQ(t.drop, 20U);
}

TEST(RrlTest, LevelsChargeEveryPrefixAtItsMultiple) {
    RrlConfig c = small();
    c.v4 = {{32, 1.0}, {24, 4.0}};
    Rrl rrl(c, 42, 0);
    RrlWorker w(0, 1);
    // One address: its /32 holds it at 10.
    EXPECT_EQ(run(rrl, w, addr("192.0.2.1"), ResponseKind::Answer, 0, 50, kSecond, 1).pass, 10U);
    // Eight addresses of the /24: 10 each until the /24's 40 run out.
    unsigned pass = 0;
    for (unsigned i = 2; i < 10; ++i) {
        const auto a = base::IpAddress::v4(0xC0000200u + i);
        pass += run(rrl, w, a, ResponseKind::Answer, 0, 50, kSecond, 1).pass;
    }
    EXPECT_EQ(pass, 40U - 10U);
}

TEST(RrlTest, IPv6UsesItsOwnLevel) {
    Rrl rrl(small(), 42, 0);  // /56
    RrlWorker w(0, 1);
    EXPECT_EQ(run(rrl, w, addr("2001:db8:0:1::1"), ResponseKind::Answer, 0, 50, kSecond, 1).pass,
              10U);
    // Same /56, another /64: same account.
    EXPECT_EQ(run(rrl, w, addr("2001:db8:0:2::1"), ResponseKind::Answer, 0, 50, kSecond, 1).pass,
              0U);
    // Another /56.
    EXPECT_EQ(run(rrl, w, addr("2001:db8:0:100::1"), ResponseKind::Answer, 0, 50, kSecond, 1).pass,
              10U);
}

TEST(RrlTest, ExemptPrefixesAreNeverLimited) {
    RrlConfig c = small();
    c.exempt = {*base::IpPrefix::parse("192.0.2.0/25")};
    Rrl rrl(c, 42, 0);
    RrlWorker w(0, 1);
    EXPECT_EQ(rrl.key(addr("192.0.2.1")).levels, 0);
    EXPECT_EQ(run(rrl, w, addr("192.0.2.1"), ResponseKind::Answer, 0, 1000, kSecond, 1).pass,
              1000U);
    EXPECT_EQ(run(rrl, w, addr("192.0.2.200"), ResponseKind::Answer, 0, 1000, kSecond, 1).pass,
              10U);
}

TEST(RrlTest, LogOnlyCountsButPasses) {
    RrlConfig c = small();
    c.log_only = true;
    Rrl rrl(c, 42, 0);
    RrlWorker w(0, 1);
    const Tally t = run(rrl, w, addr("192.0.2.1"), ResponseKind::Answer, 0, 100, kSecond, 1);
    EXPECT_EQ(t.pass, 100U);
    EXPECT_EQ(t.limited, 90U);
}

TEST(RrlTest, BackstopBoundsASpoofedChurnBeyondTheTable) {
    RrlConfig c = small();
    c.table_entries = 64;
    c.backstop = 1000;  // a second, whole node
    Rrl rrl(c, 42, 0);
    RrlWorker w(c.backstop, 2);  // this worker's share: 500 a second, bursts of 50
    // One second of 100k queries from 100k different /24s (spoofed): each is fresh.
    unsigned pass = 0, backstop = 0;
    for (unsigned i = 0; i < 100000; ++i) {
        const auto a = base::IpAddress::v4(0x0B000000u + (i << 8));
        const Decision d =
            rrl.decide(rrl.key(a), ResponseKind::Answer, 0, kSecond + i * (kSecond / 100000), w);
        pass += d.action == Action::Pass;
        backstop += d.backstop;
    }
    // 500 a second and the burst of 50; a few more where a spoofed /24's 16-bit tag matches
    // an account in its bucket (8 ways in 65536: about 12 in 100k), which it then shares.
    EXPECT_GE(pass, 500U);
    EXPECT_LE(pass, 551U + 30U);
    EXPECT_EQ(pass + backstop, 100000U);
}

TEST(RrlTest, NxdomainPerZoneAccountsDoNotEvictEachOther) {
    // A client cycling through more zones than a line has ways: each zone keeps its own
    // account (its own line), so each holds the client to its rate.
    Rrl rrl(small(), 42, 0);
    RrlWorker w(0, 1);
    const RrlKey k = rrl.key(addr("192.0.2.1"));
    unsigned pass = 0;
    for (unsigned i = 0; i < 20 * 50; ++i) {
        pass +=
            rrl.decide(k, ResponseKind::Nxdomain, static_cast<int>(i % 20), kSecond, w).action ==
            Action::Pass;
    }
    EXPECT_EQ(pass, 20U * 5U);
}

TEST(RrlTest, BackstopAndErrorsAreDroppedNeverSlipped) {
    RrlConfig c = small();
    c.slip = 1;  // every limited response slipped...
    c.table_entries = 64;
    c.backstop = 10;
    Rrl rrl(c, 42, 0);
    RrlWorker w(c.backstop, 1);
    // ...but not the ones the backstop holds back (sources without an account)...
    unsigned slipped = 0, backstop = 0;
    for (unsigned i = 0; i < 1000; ++i) {
        const Decision d = rrl.decide(rrl.key(base::IpAddress::v4(0x0B000000u + (i << 8))),
                                      ResponseKind::Answer, 0, kSecond, w);
        slipped += d.action == Action::Slip;
        backstop += d.backstop;
    }
    EXPECT_GT(backstop, 900U);
    EXPECT_EQ(slipped, 0U);
    // ...nor errors (an extended rcode would not survive the cut).
    const Tally t = run(rrl, w, addr("198.51.100.1"), ResponseKind::Error, 0, 20, 2 * kSecond, 1);
    EXPECT_GT(t.drop, 0U);
    EXPECT_EQ(t.slip, 0U);
}

TEST(RrlTest, BadConfigIsRefused) {
    RrlConfig c = small();
    c.v4 = {{33, 1.0}};
    EXPECT_THROW(Rrl(c, 1, 0), std::invalid_argument);
    c = small();
    c.rate[0] = 0;
    EXPECT_THROW(Rrl(c, 1, 0), std::invalid_argument);
    c = small();
    c.v6 = {};
    EXPECT_THROW(Rrl(c, 1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace pooledge::limit
