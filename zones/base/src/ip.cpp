#include "pooledge/base/ip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace pooledge::base {

IpAddress IpAddress::v4(uint32_t host_order) noexcept {
    IpAddress a;
    a.family = 4;
    a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes[3] = static_cast<uint8_t>(host_order);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = 6;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == 4) {
        inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    } else if (family == 6) {
        inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    }
    return buf;
}

uint32_t IpAddress::v4_host() const noexcept {
    return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

uint64_t IpAddress::v6_hi() const noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) {
        v = v << 8 | bytes[i];
    }
    return v;
}

uint64_t IpAddress::v6_lo() const noexcept {
    uint64_t v = 0;
    for (size_t i = 8; i < 16; ++i) {
        v = v << 8 | bytes[i];
    }
    return v;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const size_t slash = text.find('/');
    const auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) {
        return std::nullopt;
    }
    const unsigned max = addr->family == 4 ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (ec != std::errc{} || end != digits.data() + digits.size() || len > max) {
            return std::nullopt;
        }
    }
    for (unsigned bit = len; bit < max; ++bit) {
        if ((addr->bytes[bit / 8] >> (7 - bit % 8)) & 1) {
            return std::nullopt;
        }
    }
    return IpPrefix{*addr, static_cast<uint8_t>(len)};
}

std::string IpPrefix::to_string() const {
    return addr.to_string() + "/" + std::to_string(len);
}

namespace {

struct Special4 {
    uint32_t net;
    unsigned len;
};
struct Special6 {
    uint64_t net_hi;  // every special IPv6 range here is /64 or shorter, or ::/96 and ::ffff:0:0/96
    uint64_t net_lo;
    unsigned len;
};

// IANA special-purpose registries, the parts that do not locate a client.
constexpr Special4 kSpecial4[] = {
    {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
    {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0A80000, 16}, {0xC6120000, 15},
    {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
};
constexpr Special6 kSpecial6[] = {
    {0, 0, 96},                      // ::, ::1 and the old IPv4-compatible space
    {0, 0x0000FFFF00000000ull, 96},  // IPv4-mapped
    {0x0100000000000000ull, 0, 64},  // discard-only
    {0x20010DB800000000ull, 0, 32},  // documentation
    {0xFC00000000000000ull, 0, 7},   // unique local
    {0xFE80000000000000ull, 0, 10},  // link-local
    {0xFF00000000000000ull, 0, 8},   // multicast
};

}  // namespace

bool IpPrefix::contains(const IpAddress& a) const noexcept {
    if (a.family != addr.family) {
        return false;
    }
    const size_t full = len / 8;
    if (std::memcmp(a.bytes.data(), addr.bytes.data(), full) != 0) {
        return false;
    }
    const unsigned rest = len % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
    return (a.bytes[full] & mask) == (addr.bytes[full] & mask);
}

std::optional<IpAddress> from_sockaddr(const sockaddr_storage& ss) noexcept {
    IpAddress a;
    if (ss.ss_family == AF_INET) {
        a.family = 4;
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, 4);
        return a;
    }
    if (ss.ss_family != AF_INET6) {
        return std::nullopt;
    }
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, 16);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
        a.family = 4;
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        std::memset(a.bytes.data() + 4, 0, 12);
        return a;
    }
    a.family = 6;
    return a;
}

bool is_loopback(const IpAddress& a) noexcept {
    static constexpr std::array<uint8_t, 16> kLoop6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (a.family == 4) {
        return a.bytes[0] == 127;
    }
    return a.family == 6 && (a.bytes == kLoop6 ||
                             (std::memcmp(a.bytes.data(), kMapped.data(), kMapped.size()) == 0 &&
                              a.bytes[12] == 127));
}

bool is_public_unicast(const IpAddress& a) noexcept {
    if (a.family == 4) {
        const uint32_t host = a.v4_host();
        for (const auto& r : kSpecial4) {
            if ((host ^ r.net) >> (32 - r.len) == 0) {
                return false;
            }
        }
        return true;
    }
    if (a.family == 6) {
        const unsigned __int128 addr = static_cast<unsigned __int128>(a.v6_hi()) << 64 | a.v6_lo();
        for (const auto& r : kSpecial6) {
            const unsigned __int128 net = static_cast<unsigned __int128>(r.net_hi) << 64 | r.net_lo;
            if ((addr ^ net) >> (128 - r.len) == 0) {
                return false;
            }
        }
        return true;
    }
    return false;
}

}  // namespace pooledge::base
