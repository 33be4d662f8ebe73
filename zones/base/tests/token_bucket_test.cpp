// TokenBucket on a fixed clock: the burst at once, then the rate, exactly.
#include "pooledge/base/token_bucket.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace pooledge::base {
namespace {

constexpr uint64_t kSecond = 1000000000;

TEST(TokenBucketTest, StartsFullAndGrantsTheBurstAtOnce) {
    TokenBucket b(100, 10);
    EXPECT_EQ(b.take(25, 0), 10U);
    EXPECT_EQ(b.take(1, 0), 0U);
}

TEST(TokenBucketTest, RefillsAtTheRate) {
    TokenBucket b(100, 10);
    ASSERT_EQ(b.take(10, kSecond), 10U);
    EXPECT_EQ(b.take(10, kSecond + kSecond / 100), 1U);  // 10 ms: one token
    EXPECT_EQ(b.take(10, kSecond + kSecond / 20), 4U);   // 40 ms more: four
    // Many small steps add up exactly: no token lost to rounding.
    uint64_t got = 0;
    for (uint64_t t = 1; t <= 1000; ++t) {
        got += b.take(1, 2 * kSecond + t * kSecond / 1000);
    }
    // The first step finds the bucket full again (10); the 999 ms after it earn 99.9.
    EXPECT_EQ(got, 109U);
}

TEST(TokenBucketTest, NeverHoldsMoreThanTheBurst) {
    TokenBucket b(1000, 50);
    ASSERT_EQ(b.take(50, 0), 50U);
    // An hour of silence, and a time far in the future: still one burst, no overflow.
    EXPECT_EQ(b.take(1000, 3600 * kSecond), 50U);
    EXPECT_EQ(b.take(1000, UINT64_MAX / 2), 50U);
}

TEST(TokenBucketTest, ATimeGoingBackwardsGrantsNothingNew) {
    TokenBucket b(100, 5);
    ASSERT_EQ(b.take(5, 10 * kSecond), 5U);
    EXPECT_EQ(b.take(5, 9 * kSecond), 0U);
}

TEST(TokenBucketTest, ZeroRateMeansNoLimit) {
    TokenBucket b(0, 1);
    EXPECT_EQ(b.take(1000000, 0), 1000000U);
}

TEST(TokenBucketTest, HighRatesStayExact) {
    TokenBucket b(100000000, 1000000);  // the configuration's maximum
    ASSERT_EQ(b.take(1000000, kSecond), 1000000U);
    EXPECT_EQ(b.take(2000000, kSecond + kSecond / 1000), 100000U);
}

}  // namespace
}  // namespace pooledge::base
