#include "pooledge/dns/wire.hpp"

#include <gtest/gtest.h>

#include <array>

namespace pooledge::dns {
namespace {

TEST(WireReader, ReadsBigEndianFields) {
    const std::array<uint8_t, 7> data = {0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x7f};
    WireReader r(data);
    EXPECT_EQ(r.u16(), 0x1234);
    EXPECT_EQ(r.u32(), 0xdeadbeefu);
    EXPECT_EQ(r.u8(), 0x7f);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireReader, ErrorIsStickyAndReadsZero) {
    const std::array<uint8_t, 3> data = {1, 2, 3};
    WireReader r(data);
    EXPECT_EQ(r.u32(), 0u);  // crosses the end
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.u8(), 0);  // would fit, but the error sticks
    EXPECT_TRUE(r.bytes(1).empty());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireReader, BytesNeverCrossTheEnd) {
    const std::array<uint8_t, 4> data = {1, 2, 3, 4};
    WireReader r(data);
    EXPECT_EQ(r.bytes(4).size(), 4u);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.bytes(1).empty());
    EXPECT_FALSE(r.ok());
}

TEST(WireWriter, WritesAndPatches) {
    std::array<uint8_t, 8> buf{};
    WireWriter w(buf);
    w.u16(0xabcd);
    w.u32(0x01020304);
    w.patch_u16(0, 0x1111);
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(w.pos(), 6u);
    EXPECT_EQ(buf[0], 0x11);
    EXPECT_EQ(buf[5], 0x04);
}

TEST(WireWriter, OverflowIsStickyAndRewindRecovers) {
    std::array<uint8_t, 4> buf{};
    WireWriter w(buf);
    w.u16(1);
    w.u32(2);  // does not fit: nothing written
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.pos(), 2u);
    w.u8(3);  // dropped
    EXPECT_EQ(w.pos(), 2u);
    w.rewind(2);
    EXPECT_TRUE(w.ok());
    w.u16(5);
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(buf[3], 5);
}

TEST(WireWriter, ContinuesAtAPosition) {
    std::array<uint8_t, 4> buf{};
    WireWriter w(buf, 3);
    w.u8(9);
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(buf[3], 9);
    w.u8(1);
    EXPECT_FALSE(w.ok());
    WireWriter bad(buf, 5);
    EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace pooledge::dns
