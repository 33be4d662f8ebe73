#include "pooledge/limit/prefix_table.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace pooledge::limit {
namespace {

using U128 = unsigned __int128;

U128 v6_value(const base::IpAddress& a) noexcept {
    return static_cast<U128>(a.v6_hi()) << 64 | a.v6_lo();
}

// The first and last address of a prefix, as integers of its family.
template <typename T>
T prefix_mask(unsigned len) noexcept {
    constexpr unsigned bits = sizeof(T) * 8;
    return len == 0 ? T{0} : static_cast<T>(~T{0} << (bits - len));
}

// Paints [first, last] with `value` over `ranges` (sorted by start, the first at 0).
template <typename T, typename Range>
void paint(std::vector<Range>& ranges, T first, T last, uint8_t value) {
    const auto after_start = [](T x, const Range& r) { return x < r.start; };
    const bool has_after = last != std::numeric_limits<T>::max();
    uint8_t after = 0;
    if (has_after) {
        after =
            (std::upper_bound(ranges.begin(), ranges.end(), T(last + 1), after_start) - 1)->value;
    }
    const auto from = std::lower_bound(ranges.begin(), ranges.end(), first,
                                       [](const Range& r, T x) { return r.start < x; });
    auto to = from;
    while (to != ranges.end() && (to->start <= last || (has_after && to->start == T(last + 1)))) {
        ++to;
    }
    const auto at = ranges.erase(from, to);
    const auto next = ranges.insert(at, Range{first, value});
    if (has_after) {
        ranges.insert(next + 1, Range{T(last + 1), after});
    }
}

template <typename Range>
void merge(std::vector<Range>& ranges) {
    std::vector<Range> out;
    for (const Range& r : ranges) {
        if (out.empty() || out.back().value != r.value) {
            out.push_back(r);
        }
    }
    ranges = std::move(out);
}

template <typename T, typename Range>
uint8_t find(const std::vector<Range>& ranges, T x) noexcept {
    const auto it = std::upper_bound(ranges.begin(), ranges.end(), x,
                                     [](T v, const Range& r) { return v < r.start; });
    return (it - 1)->value;
}

}  // namespace

PrefixTable::PrefixTable(uint8_t fallback)
    : fallback_(fallback), v4_{{0, fallback}}, v6_{{0, fallback}} {}

std::optional<PrefixTable> PrefixTable::build(std::span<const PrefixRule> rules, uint8_t fallback,
                                              std::string* why) {
    std::vector<PrefixRule> sorted(rules.begin(), rules.end());
    // Shortest first, so a longer prefix painted later wins over the ones holding it.
    std::stable_sort(sorted.begin(), sorted.end(), [](const PrefixRule& a, const PrefixRule& b) {
        return a.prefix.len < b.prefix.len;
    });
    PrefixTable t(fallback);
    for (size_t i = 0; i < sorted.size(); ++i) {
        const base::IpPrefix& p = sorted[i].prefix;
        for (size_t j = i + 1; j < sorted.size() && sorted[j].prefix.len == p.len; ++j) {
            if (sorted[j].prefix.addr == p.addr) {
                if (why != nullptr) {
                    *why = p.to_string() + " is listed twice";
                }
                return std::nullopt;
            }
        }
        if (p.addr.family == 4) {
            const uint32_t first = p.addr.v4_host() & prefix_mask<uint32_t>(p.len);
            paint(t.v4_, first, first | ~prefix_mask<uint32_t>(p.len), sorted[i].value);
        } else if (p.addr.family == 6) {
            const U128 first = v6_value(p.addr) & prefix_mask<U128>(p.len);
            paint(t.v6_, first, first | ~prefix_mask<U128>(p.len), sorted[i].value);
        } else {
            if (why != nullptr) {
                *why = "a rule without an address";
            }
            return std::nullopt;
        }
    }
    merge(t.v4_);
    merge(t.v6_);
    t.rules_ = sorted.size();
    return t;
}

uint8_t PrefixTable::lookup(const base::IpAddress& a) const noexcept {
    if (a.family == 4) {
        return find(v4_, a.v4_host());
    }
    if (a.family == 6) {
        return find(v6_, v6_value(a));
    }
    return fallback_;
}

PrefixTable exempt_table(std::span<const base::IpPrefix> prefixes) {
    std::vector<PrefixRule> rules;
    for (const auto& p : prefixes) {
        rules.push_back({p, 1});
    }
    std::string why;
    auto t = PrefixTable::build(rules, 0, &why);
    if (!t) {
        throw std::invalid_argument("exempt: " + why);
    }
    return std::move(*t);
}

}  // namespace pooledge::limit
