// Weighted sampling without replacement over running weight sums.
//
// Drawing the next host from the hosts not yet drawn is the same distribution as geodns's
// "pick by weight, remove, repeat", done in O(log n) per draw instead of O(n): a uniform
// number in [0, remaining weight) is mapped into the full weight line by stepping over the
// intervals of the hosts already drawn (kept sorted by position), then found by binary search
// in the running sums. No rejection loop, so the cost does not depend on how skewed the
// weights are.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pooledge/zones/rng.hpp"

namespace pooledge::zones {

// `cum` holds running sums (cum[i] = w0 + ... + wi, non-decreasing, last > 0). Writes up to
// k distinct indices into `out` in draw order and returns how many (min(k, hosts of non-zero
// weight)). k must not exceed 32.
inline size_t draw_weighted(std::span<const uint64_t> cum, size_t k, Rng& rng,
                            uint32_t* out) noexcept {
    struct Taken {
        uint64_t start;  // weight line position where the host's interval begins
        uint64_t weight;
    };
    Taken taken[32];
    size_t n_taken = 0;
    uint64_t remaining = cum.back();
    k = std::min({k, cum.size(), size_t{32}});
    for (size_t d = 0; d < k && remaining > 0; ++d) {
        uint64_t u = rng.below(remaining);
        for (size_t t = 0; t < n_taken && u >= taken[t].start; ++t) {
            u += taken[t].weight;
        }
        const auto idx =
            static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
        const uint64_t start = idx == 0 ? 0 : cum[idx - 1];
        const uint64_t weight = cum[idx] - start;
        size_t pos = n_taken++;
        while (pos > 0 && taken[pos - 1].start > start) {
            taken[pos] = taken[pos - 1];
            --pos;
        }
        taken[pos] = Taken{start, weight};
        remaining -= weight;
        out[d] = idx;
    }
    return n_taken;
}

}  // namespace pooledge::zones
