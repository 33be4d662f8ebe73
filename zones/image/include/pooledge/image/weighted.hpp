// Weighted sampling without replacement: geodns's "pick by weight, remove, repeat", exact, in
// O(1) expected time per host.
//
// Each draw first tries Walker's alias method (one random number, one table entry) over the
// whole set and rejects hosts already drawn: conditioned on acceptance that is exactly "by
// weight among the rest". After a few rejections (a heavy host already drawn holds most of the
// weight) it switches to the exclusion method, also exact: a uniform number in [0, remaining
// weight) is stepped over the intervals of the drawn hosts and found by binary search in the
// running sums, O(log n) whatever the skew. No path loops without bound.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pooledge/base/rng.hpp"

namespace pooledge::image {

// One column of an alias table: keep the column's host when a 64-bit uniform fraction is below
// `keep`, else take `alias` (an index within the same set).
struct AliasEntry {
    uint64_t keep;
    uint32_t alias;
    uint32_t reserved;
};
static_assert(sizeof(AliasEntry) == 16);

// Vose's construction in exact integer arithmetic (weights below 2^40, at most 2^22 hosts),
// so a table is a pure function of its weights.
[[nodiscard]] std::vector<AliasEntry> build_alias_table(std::span<const uint64_t> weights);

namespace detail {

// Rejections tolerated per draw before the exact fallback: with drawn hosts holding a share s
// of the weight, the fallback runs with probability s^4.
inline constexpr int kAliasTries = 4;

struct Taken {
    uint64_t start;  // position of the host's interval on the weight line
    uint64_t weight;
};

inline uint32_t alias_pick(std::span<const AliasEntry> table, base::Rng& rng) noexcept {
    const auto m = static_cast<unsigned __int128>(rng.next()) * table.size();
    const auto column = static_cast<uint32_t>(m >> 64);
    // The low half of the product is a uniform fraction independent enough of the column for
    // a 2^-64 bias at most.
    const auto fraction = static_cast<uint64_t>(m);
    const AliasEntry& e = table[column];
    return fraction < e.keep ? column : e.alias;
}

}  // namespace detail

// `cum` holds running sums (cum[i] = w0 + ... + wi, non-decreasing, last > 0) and `alias` the
// set's alias table. Writes up to k distinct indices into `out` in draw order and returns how
// many: min(k, hosts of non-zero weight). k must not exceed 32.
inline size_t draw_weighted(std::span<const uint64_t> cum, std::span<const AliasEntry> alias,
                            size_t k, base::Rng& rng, uint32_t* out) noexcept {
    detail::Taken taken[32];  // sorted by start, for the exclusion method
    size_t n_taken = 0;
    uint64_t remaining = cum.back();
    k = std::min({k, cum.size(), size_t{32}});
    for (size_t d = 0; d < k && remaining > 0; ++d) {
        uint32_t idx = 0;
        bool fresh = false;
        for (int t = 0; t < detail::kAliasTries && !fresh; ++t) {
            idx = detail::alias_pick(alias, rng);
            fresh = true;
            for (size_t j = 0; j < d; ++j) {
                fresh &= out[j] != idx;
            }
        }
        if (!fresh) {
            uint64_t u = rng.below(remaining);
            for (size_t t = 0; t < n_taken && u >= taken[t].start; ++t) {
                u += taken[t].weight;
            }
            idx = static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
        }
        const uint64_t start = idx == 0 ? 0 : cum[idx - 1];
        const uint64_t weight = cum[idx] - start;
        size_t pos = n_taken++;
        while (pos > 0 && taken[pos - 1].start > start) {
            taken[pos] = taken[pos - 1];
            --pos;
        }
        taken[pos] = detail::Taken{start, weight};
        remaining -= weight;
        out[d] = idx;
    }
    return n_taken;
}

}  // namespace pooledge::image
