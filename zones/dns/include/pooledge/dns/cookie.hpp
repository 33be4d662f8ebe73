// DNS server cookies, RFC 9018 (interoperable across anycast nodes sharing a secret).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "pooledge/base/ip.hpp"

namespace pooledge::dns {

inline constexpr size_t kServerCookieLen = 16;

// SipHash-2-4 of `data` under `key`, as the 8 output bytes in little-endian order.
[[nodiscard]] std::array<uint8_t, 8> siphash24(const std::array<uint8_t, 16>& key,
                                               std::span<const uint8_t> data) noexcept;

// Version 1 | reserved | timestamp | SipHash-2-4(client cookie | version | reserved |
// timestamp | client IP) under the server secret.
[[nodiscard]] std::array<uint8_t, kServerCookieLen> make_server_cookie(
    const std::array<uint8_t, 16>& secret, std::span<const uint8_t, 8> client_cookie,
    const base::IpAddress& client, uint32_t now) noexcept;

// Whether `server` is a cookie this secret made for this client cookie and address
// (make_server_cookie), at most an hour old and at most five minutes ahead of `now`
// (RFC 9018 4.3). A client that returns one received our answers at its address: it is not
// spoofing it.
[[nodiscard]] bool verify_server_cookie(const std::array<uint8_t, 16>& secret,
                                        std::span<const uint8_t, 8> client_cookie,
                                        std::span<const uint8_t> server,
                                        const base::IpAddress& client, uint32_t now) noexcept;

}  // namespace pooledge::dns
