#include "pooledge/dns/dname.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include "pooledge/base/ip.hpp"

namespace pooledge::dns {
namespace {

TEST(Dname, TextRoundTrip) {
    const auto w = name_from_text("0.Pool.NTP.org");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->size(), 16u);
    EXPECT_EQ(name_to_text(*w), "0.Pool.NTP.org.");
    EXPECT_EQ(name_from_text("."), std::vector<uint8_t>{0});
    EXPECT_FALSE(name_from_text("a..b"));
    EXPECT_FALSE(name_from_text(std::string(64, 'a') + ".org"));
    std::string long_name;
    for (int i = 0; i < 5; ++i) {
        long_name += std::string(60, 'x') + ".";
    }
    EXPECT_FALSE(name_from_text(long_name));  // over 255 bytes
}

TEST(Dname, FoldOnlyTouchesAsciiLetters) {
    EXPECT_EQ(fold_byte('A'), 'a');
    EXPECT_EQ(fold_byte('Z'), 'z');
    EXPECT_EQ(fold_byte('a'), 'a');
    EXPECT_EQ(fold_byte('@'), '@');
    EXPECT_EQ(fold_byte('['), '[');
    EXPECT_EQ(fold_byte(0xC1), 0xC1);
}

// Every byte value in every lane of the word, next to neighbours that would carry into it
// if the lanes were not kept apart.
TEST(Dname, FoldWordIsFoldByteInEveryLane) {
    for (unsigned v = 0; v < 256; ++v) {
        for (unsigned lane = 0; lane < 8; ++lane) {
            for (const uint8_t fill :
                 {uint8_t{0x00}, uint8_t{0x5A}, uint8_t{0xFF}, uint8_t{0x41}}) {
                uint8_t in[8];
                std::memset(in, fill, sizeof in);
                in[lane] = static_cast<uint8_t>(v);
                uint64_t w;
                std::memcpy(&w, in, 8);
                w = fold_word(w);
                uint8_t out[8];
                std::memcpy(out, &w, 8);
                for (unsigned i = 0; i < 8; ++i) {
                    ASSERT_EQ(out[i], fold_byte(in[i])) << "value " << v << " lane " << lane;
                }
            }
        }
    }
}

TEST(Dname, HashIgnoresBytesPastTheName) {
    auto a = *name_from_text("pool.ntp.org");
    EXPECT_EQ(name_hash(a), name_hash(a));
    auto b = *name_from_text("pool.ntp.orh");
    EXPECT_NE(name_hash(a), name_hash(b));
}

// The hash is part of the image format: these are zones/image/FORMAT.md's test vectors.
TEST(Dname, HashMatchesTheFormatTestVectors) {
    EXPECT_EQ(name_hash(*name_from_text("pool.ntp.org")), 0x58f6d91a13f90ae9ull);
    EXPECT_EQ(name_hash(*name_from_text("0.pool.ntp.org")), 0x044bea957a4dc3eaull);
    EXPECT_EQ(name_hash(*name_from_text(".")), 0xea0e478febb5cb75ull);
}

TEST(Dname, Subdomain) {
    const auto apex = *name_from_text("pool.ntp.org");
    EXPECT_TRUE(name_is_subdomain(*name_from_text("0.pool.ntp.org"), apex));
    EXPECT_TRUE(name_is_subdomain(apex, apex));
    EXPECT_FALSE(name_is_subdomain(*name_from_text("xpool.ntp.org"), apex));
    EXPECT_FALSE(name_is_subdomain(*name_from_text("ntp.org"), apex));
}

TEST(Dname, ValidWireNames) {
    EXPECT_TRUE(is_valid_wire_name(*name_from_text("a.b")));
    const std::vector<uint8_t> trailing = {1, 'a', 0, 0};
    EXPECT_FALSE(is_valid_wire_name(trailing));
    const std::vector<uint8_t> pointer = {1, 'a', 0xC0, 12};
    EXPECT_FALSE(is_valid_wire_name(pointer));
}

TEST(Ip, ParsePrefixesStrictly) {
    EXPECT_TRUE(base::IpPrefix::parse("81.0.0.0/16"));
    EXPECT_FALSE(base::IpPrefix::parse("81.0.0.1/16"));  // host bits set
    EXPECT_FALSE(base::IpPrefix::parse("81.0.0.0/33"));
    EXPECT_TRUE(base::IpPrefix::parse("2a01::/16"));
    EXPECT_FALSE(base::IpPrefix::parse("2a01::/129"));
    EXPECT_EQ(base::IpPrefix::parse("192.0.2.7")->len, 32);
}

TEST(Ip, PublicUnicast) {
    for (const char* a : {"8.8.8.8", "81.2.3.4", "2a01::1", "2001:4860::8888"}) {
        EXPECT_TRUE(base::is_public_unicast(*base::IpAddress::parse(a))) << a;
    }
    for (const char* a :
         {"10.1.2.3", "127.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "169.254.1.1",
          "224.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fc00::1",
          "ff02::1", "2001:db8::1", "::ffff:8.8.8.8"}) {
        EXPECT_FALSE(base::is_public_unicast(*base::IpAddress::parse(a))) << a;
    }
}

}  // namespace
}  // namespace pooledge::dns
