#include "pooledge/ntp/clock_state.hpp"

#include <gtest/gtest.h>
#include <sys/timex.h>

namespace pooledge::ntp {
namespace {

constexpr timespec kNow{1796256000, 500000000};  // 2026-12-01T00:00:00.5Z

KernelClock synced(double max_error = 0.010) {
    return KernelClock{TIME_OK, 0, max_error, 0.001};
}

TEST(NtpTimestamp, UnixEpochAndFractions) {
    EXPECT_EQ(to_ntp({0, 0}), uint64_t{2208988800} << 32);
    EXPECT_EQ(to_ntp({0, 500000000}) & 0xFFFFFFFF, 0x80000000u);
    EXPECT_EQ(to_ntp({0, 250000000}) & 0xFFFFFFFF, 0x40000000u);
}

TEST(NtpTimestamp, RoundTripsToTheNanosecond) {
    for (long ns : {0L, 1L, 999999999L, 123456789L}) {
        const timespec t{1796256000, ns};
        const timespec back = from_ntp(to_ntp(t), t.tv_sec);
        EXPECT_EQ(back.tv_sec, t.tv_sec) << ns;
        EXPECT_EQ(back.tv_nsec, t.tv_nsec) << ns;
    }
}

TEST(NtpTimestamp, EraOneBeginsIn2036) {
    const timespec era_one{2085978496, 0};  // 2036-02-07T06:28:16Z, NTP seconds wrap to 0
    EXPECT_EQ(to_ntp(era_one) >> 32, 0u);
    EXPECT_EQ(from_ntp(to_ntp(era_one), era_one.tv_sec + 100).tv_sec, era_one.tv_sec);
    const timespec before{2085978495, 0};
    EXPECT_EQ(from_ntp(to_ntp(before), era_one.tv_sec).tv_sec, before.tv_sec);
}

TEST(NtpShort, SixteenDotSixteenSaturating) {
    EXPECT_EQ(to_ntp_short(0), 0u);
    EXPECT_EQ(to_ntp_short(-1), 0u);
    EXPECT_EQ(to_ntp_short(1.5), 0x00018000u);
    EXPECT_EQ(to_ntp_short(1e9), 0xFFFFFFFFu);
}

TEST(ClockDerive, ASynchronisedKernelClockGivesThePolicysFigures) {
    ClockPolicy policy;
    policy.stratum = 2;
    policy.reference_id = 0x01020304;
    policy.precision = -23;
    const ClockState s = derive(synced(0.010), policy, kNow);
    EXPECT_TRUE(s.synchronised);
    EXPECT_FALSE(s.silent);
    EXPECT_EQ(s.leap, Leap::None);
    EXPECT_EQ(s.stratum, 2);
    EXPECT_EQ(s.reference_id, 0x01020304u);
    EXPECT_EQ(s.precision, -23);
    EXPECT_EQ(s.root_delay, 0u);
    EXPECT_EQ(s.root_dispersion, to_ntp_short(0.010));
    EXPECT_EQ(s.reference_time, to_ntp(kNow));
}

// What the machines here report: TIME_ERROR, STA_UNSYNC, maxerror 16 s.
TEST(ClockDerive, AnUnsynchronisedKernelClockSaysSo) {
    const KernelClock here{TIME_ERROR, STA_UNSYNC, 16.0, 16.0};
    const ClockState s = derive(here, ClockPolicy{}, kNow);
    EXPECT_FALSE(s.synchronised);
    EXPECT_FALSE(s.silent);
    EXPECT_EQ(s.leap, Leap::Unsynchronised);
    EXPECT_EQ(s.stratum, 0);
    EXPECT_EQ(s.reference_id, 0u);
    EXPECT_EQ(s.reference_time, 0u);
    EXPECT_EQ(s.root_dispersion, to_ntp_short(16.0));
}

TEST(ClockDerive, EachSignOfUnsynchronisedIsEnough) {
    EXPECT_FALSE(derive(KernelClock{TIME_ERROR, 0, 0.01, 0.01}, {}, kNow).synchronised);
    EXPECT_FALSE(derive(KernelClock{TIME_OK, STA_UNSYNC, 0.01, 0.01}, {}, kNow).synchronised);
    ClockPolicy tight;
    tight.max_error_bound = 0.005;
    EXPECT_FALSE(derive(synced(0.010), tight, kNow).synchronised);
    EXPECT_TRUE(derive(synced(0.005), tight, kNow).synchronised);
}

TEST(ClockDerive, SilentWhenUnsynchronisedIfConfigured) {
    ClockPolicy quiet;
    quiet.silent_when_unsynchronised = true;
    EXPECT_TRUE(derive(KernelClock{}, quiet, kNow).silent);
    EXPECT_FALSE(derive(synced(), quiet, kNow).silent);
}

TEST(ClockDerive, LeapSecondsAnnouncedByTheKernel) {
    EXPECT_EQ(derive(KernelClock{TIME_INS, 0, 0.01, 0}, {}, kNow).leap, Leap::Insert);
    EXPECT_EQ(derive(KernelClock{TIME_OK, STA_INS, 0.01, 0}, {}, kNow).leap, Leap::Insert);
    EXPECT_EQ(derive(KernelClock{TIME_OOP, 0, 0.01, 0}, {}, kNow).leap, Leap::Insert);
    EXPECT_EQ(derive(KernelClock{TIME_DEL, 0, 0.01, 0}, {}, kNow).leap, Leap::Delete);
    EXPECT_EQ(derive(KernelClock{TIME_OK, STA_DEL, 0.01, 0}, {}, kNow).leap, Leap::Delete);
    EXPECT_EQ(derive(KernelClock{TIME_WAIT, 0, 0.01, 0}, {}, kNow).leap, Leap::None);
}

TEST(ClockPrecision, IsALog2OfSecondsInRange) {
    const int8_t p = measure_precision();
    EXPECT_GE(p, -30);
    EXPECT_LE(p, 0);
}

}  // namespace
}  // namespace pooledge::ntp
