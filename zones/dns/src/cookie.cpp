#include "pooledge/dns/cookie.hpp"

#include <bit>
#include <cstring>

namespace pooledge::dns {
namespace {

uint64_t load_le64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = v << 8 | p[i];
    }
    return v;
}

struct SipState {
    uint64_t v0, v1, v2, v3;
    void round() noexcept {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }
    void absorb(uint64_t m) noexcept {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

}  // namespace

std::array<uint8_t, 8> siphash24(const std::array<uint8_t, 16>& key,
                                 std::span<const uint8_t> data) noexcept {
    const uint64_t k0 = load_le64(key.data());
    const uint64_t k1 = load_le64(key.data() + 8);
    SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
               k1 ^ 0x7465646279746573ull};
    const size_t whole = data.size() / 8 * 8;
    for (size_t i = 0; i < whole; i += 8) {
        s.absorb(load_le64(data.data() + i));
    }
    uint8_t tail[8] = {};
    std::memcpy(tail, data.data() + whole, data.size() - whole);
    tail[7] = static_cast<uint8_t>(data.size());
    s.absorb(load_le64(tail));
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) {
        s.round();
    }
    const uint64_t h = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
    std::array<uint8_t, 8> out{};
    for (size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<uint8_t>(h >> (8 * i));
    }
    return out;
}

std::array<uint8_t, kServerCookieLen> make_server_cookie(const std::array<uint8_t, 16>& secret,
                                                         std::span<const uint8_t, 8> client_cookie,
                                                         const base::IpAddress& client,
                                                         uint32_t now) noexcept {
    std::array<uint8_t, kServerCookieLen> cookie{};
    cookie[0] = 1;  // version
    cookie[4] = static_cast<uint8_t>(now >> 24);
    cookie[5] = static_cast<uint8_t>(now >> 16);
    cookie[6] = static_cast<uint8_t>(now >> 8);
    cookie[7] = static_cast<uint8_t>(now);
    uint8_t input[8 + 8 + 16];
    std::memcpy(input, client_cookie.data(), 8);
    std::memcpy(input + 8, cookie.data(), 8);
    const size_t ip_len = client.family == 4 ? 4 : 16;
    std::memcpy(input + 16, client.bytes.data(), ip_len);
    const auto hash = siphash24(secret, std::span<const uint8_t>(input, 16 + ip_len));
    std::memcpy(cookie.data() + 8, hash.data(), 8);
    return cookie;
}

bool verify_server_cookie(const std::array<uint8_t, 16>& secret,
                          std::span<const uint8_t, 8> client_cookie,
                          std::span<const uint8_t> server, const base::IpAddress& client,
                          uint32_t now) noexcept {
    if (server.size() != kServerCookieLen || server[0] != 1) {
        return false;
    }
    const uint32_t stamp = static_cast<uint32_t>(server[4]) << 24 |
                           static_cast<uint32_t>(server[5]) << 16 |
                           static_cast<uint32_t>(server[6]) << 8 | server[7];
    // Serial-number arithmetic: the difference as a signed 32-bit value.
    const auto age = static_cast<int32_t>(now - stamp);
    if (age > 3600 || age < -300) {
        return false;
    }
    const auto expected = make_server_cookie(secret, client_cookie, client, stamp);
    // Every byte compared, whichever differs first: a timing oracle on the hash would let a
    // spoofer learn a valid cookie byte by byte.
    uint8_t diff = 0;
    for (size_t i = 0; i < kServerCookieLen; ++i) {
        diff |= static_cast<uint8_t>(expected[i] ^ server[i]);
    }
    return diff == 0;
}

}  // namespace pooledge::dns
