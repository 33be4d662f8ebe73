// Helpers for the geo prefix table: address keys and the ECS scope of a match.
#pragma once

#include <bit>
#include <cstdint>

namespace pooledge::image {

using u128 = unsigned __int128;

[[nodiscard]] constexpr int clz_key(uint32_t v) noexcept {
    return std::countl_zero(v);
}
[[nodiscard]] constexpr int clz_key(u128 v) noexcept {
    const auto hi = static_cast<uint64_t>(v >> 64);
    return hi != 0 ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<uint64_t>(v));
}

// Entry k of a geo index covers keys up to k << (bits - 16); the last entry (k = 2^16) covers
// every key, and for IPv6 its shift would overflow, so it is the largest key instead.
[[nodiscard]] constexpr u128 geo_index_bound(uint32_t k, unsigned bits) noexcept {
    return k >= (1u << 16) ? ~u128{0} : static_cast<u128>(k) << (bits - 16);
}

// The length of the shortest prefix around `addr` whose whole block lies in [lo, hi]: every
// address in it maps to the same region, so it is the honest ECS scope of the answer.
// The block at length L starts at or above lo from L = clz(addr ^ (lo-1)) + 1 on (the first
// bit where addr rises above lo-1 must be kept), and ends at or below hi from
// L = clz(addr ^ (hi+1)) + 1 on; the larger of the two is the answer.
template <typename Key>
[[nodiscard]] constexpr uint8_t geo_scope(Key addr, Key lo, Key hi) noexcept {
    const int from_lo = lo == 0 ? 0 : clz_key(static_cast<Key>(addr ^ (lo - 1))) + 1;
    const int from_hi =
        hi == static_cast<Key>(~Key{0}) ? 0 : clz_key(static_cast<Key>(addr ^ (hi + 1))) + 1;
    return static_cast<uint8_t>(from_lo > from_hi ? from_lo : from_hi);
}

}  // namespace pooledge::image
