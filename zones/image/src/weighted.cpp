#include "pooledge/image/weighted.hpp"

namespace pooledge::image {

std::vector<AliasEntry> build_alias_table(std::span<const uint64_t> weights) {
    using u128 = unsigned __int128;
    const size_t n = weights.size();
    std::vector<AliasEntry> table(n);
    u128 total = 0;
    for (const uint64_t w : weights) {
        total += w;
    }
    if (n == 0 || total == 0) {
        return table;
    }
    // Scaled so that a column holds exactly `total` units: host i brings w_i * n of them.
    std::vector<u128> mass(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
        mass[i] = static_cast<u128>(weights[i]) * n;
        (mass[i] < total ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
        const uint32_t s = small.back();
        small.pop_back();
        const uint32_t l = large.back();
        // keep = mass_s / total as a 64-bit fraction (mass_s < total, so it fits).
        table[s] = AliasEntry{static_cast<uint64_t>((mass[s] << 64) / total), l, 0};
        mass[l] -= total - mass[s];
        if (mass[l] < total) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // What is left holds exactly a full column (up to rounding): it keeps itself.
    for (const auto& rest : {small, large}) {
        for (const uint32_t i : rest) {
            table[i] = AliasEntry{UINT64_MAX, i, 0};
        }
    }
    return table;
}

}  // namespace pooledge::image
