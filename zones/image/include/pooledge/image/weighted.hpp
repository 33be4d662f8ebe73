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

// A host drawn from column `column`, kept (`aliased` false, host = column) or not (host =
// the column's alias).
struct AliasPick {
    uint32_t host;
    uint32_t column;
    bool aliased;
};

// The column a random word picks in a table of `size` columns (the high half of word x size).
inline uint32_t alias_column(uint64_t word, size_t size) noexcept {
    return static_cast<uint32_t>((static_cast<unsigned __int128>(word) * size) >> 64);
}

template <typename Entry>
inline AliasPick alias_pick(std::span<const Entry> table, base::Rng& rng) noexcept {
    const uint64_t word = rng.next();
    const uint32_t column = alias_column(word, table.size());
    // The low half of the product is a uniform fraction independent enough of the column for
    // a 2^-64 bias at most.
    const auto fraction =
        static_cast<uint64_t>(static_cast<unsigned __int128>(word) * table.size());
    const Entry& e = table[column];
    const bool keep = fraction < e.keep;
    return {keep ? column : e.alias, column, !keep};
}

}  // namespace detail

// Draws up to k distinct hosts by weight without replacement, from `cum` (cum[i] = w0 + ... +
// wi, non-decreasing, last > 0) and `table`, the set's alias table (AliasEntry, or an image's
// Draw4/Draw6, which carry the addresses). Writes the hosts into `out` in draw order and
// returns how many: min(k, hosts of non-zero weight). k must not exceed 32. When `source` is
// given, source[i] = column << 1 | aliased says which record of `table` holds the address of
// out[i] (its own, or its column's alias address): the record the draw read already.
//
// The alias draws read `table` only; `cum` is read on the exact fallback alone (rare: the
// hosts drawn hold most of the weight), which rebuilds its bookkeeping from the hosts drawn.
template <typename Entry>
inline size_t draw_weighted(std::span<const uint64_t> cum, std::span<const Entry> table, size_t k,
                            base::Rng& rng, uint32_t* out, uint32_t* source = nullptr) noexcept {
    k = std::min({k, table.size(), size_t{32}});
    for (size_t d = 0; d < k; ++d) {
        detail::AliasPick pick{};
        bool fresh = false;
        for (int t = 0; t < detail::kAliasTries && !fresh; ++t) {
            pick = detail::alias_pick(table, rng);
            fresh = true;
            for (size_t j = 0; j < d; ++j) {
                fresh &= out[j] != pick.host;
            }
        }
        if (!fresh) {
            // The exclusion method over what is left: the drawn hosts' intervals, in order.
            detail::Taken taken[32];
            uint64_t remaining = cum.back();
            for (size_t j = 0; j < d; ++j) {
                const uint64_t start = out[j] == 0 ? 0 : cum[out[j] - 1];
                const uint64_t weight = cum[out[j]] - start;
                size_t pos = j;
                while (pos > 0 && taken[pos - 1].start > start) {
                    taken[pos] = taken[pos - 1];
                    --pos;
                }
                taken[pos] = detail::Taken{start, weight};
                remaining -= weight;
            }
            if (remaining == 0) {
                return d;  // every host of non-zero weight is drawn
            }
            uint64_t u = rng.below(remaining);
            for (size_t t = 0; t < d && u >= taken[t].start; ++t) {
                u += taken[t].weight;
            }
            const auto host =
                static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
            pick = {host, host, false};
        }
        out[d] = pick.host;
        if (source != nullptr) {
            source[d] = pick.column << 1 | (pick.aliased ? 1u : 0u);
        }
    }
    return k;
}

// Starts fetching the records the first k alias picks of `rng` read: a burst engine calls it
// with the generator the draw will use (a copy: the draw replays the same words), so the
// records of one query arrive while others are drawn. Picks the draw rejects or a fallback
// makes are not covered; they are the rare ones.
template <typename Entry>
inline void prefetch_draws(std::span<const Entry> table, size_t k, base::Rng rng) noexcept {
    k = std::min(k, table.size());
    for (size_t d = 0; d < k; ++d) {
        __builtin_prefetch(table.data() + detail::alias_column(rng.next(), table.size()));
    }
}

}  // namespace pooledge::image
