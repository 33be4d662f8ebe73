#include "pooledge/dns/cookie.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace pooledge::dns {
namespace {

// The reference vector of the SipHash paper (key 00..0f, message 00..0e).
TEST(Cookie, SipHashMatchesTheReference) {
    std::array<uint8_t, 16> key{};
    std::iota(key.begin(), key.end(), 0);
    std::array<uint8_t, 15> msg{};
    std::iota(msg.begin(), msg.end(), 0);
    const auto h = siphash24(key, msg);
    const std::array<uint8_t, 8> expect = {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1};
    EXPECT_EQ(h, expect);
}

// RFC 9018 Appendix A.1: learning a new server cookie.
TEST(Cookie, ServerCookieMatchesRfc9018Example) {
    const std::array<uint8_t, 16> secret = {0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                            0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf};
    const std::array<uint8_t, 8> client = {0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
    const auto ip = *base::IpAddress::parse("198.51.100.100");
    const auto cookie = make_server_cookie(secret, client, ip, 1559731985);
    const std::array<uint8_t, 16> expect = {0x01, 0x00, 0x00, 0x00, 0x5c, 0xf7, 0x9f, 0x11,
                                            0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2, 0x94, 0x80};
    EXPECT_EQ(cookie, expect);
}

}  // namespace
}  // namespace pooledge::dns
