// RFC 1071 Internet checksums for IPv4 headers and UDP over IPv4 and IPv6.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane {

// `acc` plus the one's complement sum of `p` as 16-bit big-endian words, not yet folded
// (each call's own sum is folded to 16 bits before it is added).
[[nodiscard]] uint64_t ones_sum(const uint8_t* p, size_t n, uint64_t acc = 0) noexcept;
[[nodiscard]] uint16_t fold_sum(uint64_t acc) noexcept;
// The UDP pseudo-header sum (RFC 768 / RFC 8200 8.1), unfolded.
[[nodiscard]] uint64_t pseudo_header_sum(const FrameLayout& l, const uint8_t* frame,
                                         uint16_t udp_length) noexcept;

[[nodiscard]] uint16_t ipv4_header_checksum(const uint8_t* header, size_t length) noexcept;
// The UDP checksum field's value (0 is sent as 0xFFFF: 0 means "none" on the wire).
[[nodiscard]] uint16_t udp_checksum(const FrameLayout& layout, const uint8_t* frame,
                                    uint16_t udp_length) noexcept;

}  // namespace pooledge::dataplane
