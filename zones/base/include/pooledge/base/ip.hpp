// IP addresses and prefixes for the builder, the engine's client address and the tools.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pooledge::base {

struct IpAddress {
    uint8_t family = 0;               // 4 or 6; 0 = none
    std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

    [[nodiscard]] static IpAddress v4(uint32_t host_order) noexcept;
    [[nodiscard]] static std::optional<IpAddress> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] uint32_t v4_host() const noexcept;
    [[nodiscard]] uint64_t v6_hi() const noexcept;
    [[nodiscard]] uint64_t v6_lo() const noexcept;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct IpPrefix {
    IpAddress addr;
    uint8_t len = 0;

    // "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix. Bits past the length
    // must be zero: a prefix that is not one is an input error worth naming.
    [[nodiscard]] static std::optional<IpPrefix> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    // Whether `a` (of the same family) lies in the prefix.
    [[nodiscard]] bool contains(const IpAddress& a) const noexcept;
};

// The address of a socket peer (AF_INET or AF_INET6; an IPv4-mapped IPv6 address comes back
// as IPv4, so IPv4 prefixes match it). Nothing for other families (unix sockets).
[[nodiscard]] std::optional<IpAddress> from_sockaddr(const sockaddr_storage& ss) noexcept;

// 127.0.0.0/8 and ::1 (and IPv4-mapped loopback).
[[nodiscard]] bool is_loopback(const IpAddress& a) noexcept;

// Whether an address may locate a client: public unicast only. Private, loopback,
// link-local, CGNAT, multicast, documentation and reserved space say nothing about where a
// client is (RFC 7871 11.1 asks servers to ignore such ECS data).
[[nodiscard]] bool is_public_unicast(const IpAddress& a) noexcept;

}  // namespace pooledge::base
