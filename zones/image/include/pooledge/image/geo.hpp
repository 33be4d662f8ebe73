// Helpers for the geo prefix table: address keys, the ECS scope of a match, and the range
// search the reader and GeoIndex share.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>

#include "pooledge/image/format.hpp"

namespace pooledge::image {

using u128 = unsigned __int128;

// Where a client address falls in the geo table: its region, and the prefix length of the
// largest prefix around the address that lies wholly in that region (the ECS scope).
struct GeoMatch {
    uint16_t region = 0;
    uint8_t prefix_len = 0;
};

[[nodiscard]] constexpr int clz_key(uint32_t v) noexcept {
    return std::countl_zero(v);
}
[[nodiscard]] constexpr int clz_key(u128 v) noexcept {
    const auto hi = static_cast<uint64_t>(v >> 64);
    return hi != 0 ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<uint64_t>(v));
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

[[nodiscard]] inline u128 geo6_key(const format::Geo6Key& k) noexcept {
    return static_cast<u128>(k.hi) << 64 | k.lo;
}

// The range holding `addr` among ranges first .. last - 1 of a table (the caller knows that
// start[first] <= addr and that the range holding it is among them): binary search, then
// the region and the ECS scope. The range's end is the next start in the whole table.
[[nodiscard]] inline GeoMatch geo_match4(std::span<const uint32_t> start,
                                         std::span<const uint16_t> region, size_t first,
                                         size_t last, uint32_t addr) noexcept {
    const size_t i =
        static_cast<size_t>(std::upper_bound(start.data() + first, start.data() + last, addr) -
                            start.data()) -
        1;
    const uint32_t hi = i + 1 < start.size() ? start[i + 1] - 1 : UINT32_MAX;
    return {region[i], geo_scope<uint32_t>(addr, start[i], hi)};
}

[[nodiscard]] inline GeoMatch geo_match6(std::span<const format::Geo6Key> start,
                                         std::span<const uint16_t> region, size_t first,
                                         size_t last, uint64_t hi, uint64_t lo) noexcept {
    const u128 addr = static_cast<u128>(hi) << 64 | lo;
    const auto* it =
        std::upper_bound(start.data() + first, start.data() + last, addr,
                         [](u128 a, const format::Geo6Key& e) { return a < geo6_key(e); });
    const size_t i = static_cast<size_t>(it - start.data()) - 1;
    const u128 end = i + 1 < start.size() ? geo6_key(start[i + 1]) - 1 : ~u128{0};
    return {region[i], geo_scope<u128>(addr, geo6_key(start[i]), end)};
}

}  // namespace pooledge::image
