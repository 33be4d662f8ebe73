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

// A prefix as the range of addresses it holds.
template <typename T>
struct Span {
    T first;
    T last;
    const PrefixRule* rule;
};

// The flat table of `spans` (one family): each elementary range gets the value of the
// longest prefix holding it. Prefixes nest or are disjoint, so one sweep in address order
// (a containing prefix before the ones inside it) with a stack of the open prefixes does it
// in O(n log n), however many there are: a SIGHUP with a long list stays quick.
template <typename T, typename Range>
bool sweep(std::vector<Span<T>> spans, uint8_t fallback, std::vector<Range>& out,
           std::string* why) {
    std::sort(spans.begin(), spans.end(), [](const Span<T>& a, const Span<T>& b) {
        return a.first != b.first ? a.first < b.first : a.rule->prefix.len < b.rule->prefix.len;
    });
    for (size_t i = 1; i < spans.size(); ++i) {
        if (spans[i].first == spans[i - 1].first &&
            spans[i].rule->prefix.len == spans[i - 1].rule->prefix.len) {
            if (why != nullptr) {
                *why = spans[i].rule->prefix.to_string() + " is listed twice";
            }
            return false;
        }
    }
    out.assign(1, Range{0, fallback});
    const auto emit = [&out](T start, uint8_t value) {
        if (out.back().start == start) {
            out.back().value = value;  // a range of no addresses: the later value stands
        } else {
            out.push_back(Range{start, value});
        }
    };
    std::vector<const Span<T>*> open;
    // Closes the open prefixes that end before `start` (all of them with `all`): past each,
    // the address line reverts to the prefix holding it, or the fallback.
    const auto close = [&](bool all, T start) {
        while (!open.empty() && (all || open.back()->last < start)) {
            const T last = open.back()->last;
            open.pop_back();
            if (last != std::numeric_limits<T>::max()) {
                emit(static_cast<T>(last + 1), open.empty() ? fallback : open.back()->rule->value);
            }
        }
    };
    for (const Span<T>& span : spans) {
        close(false, span.first);
        emit(span.first, span.rule->value);
        open.push_back(&span);
    }
    close(true, 0);
    merge(out);
    return true;
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
    std::vector<Span<uint32_t>> v4;
    std::vector<Span<U128>> v6;
    for (const PrefixRule& r : rules) {
        const base::IpPrefix& p = r.prefix;
        if (p.addr.family == 4) {
            const uint32_t first = p.addr.v4_host() & prefix_mask<uint32_t>(p.len);
            v4.push_back({first, first | ~prefix_mask<uint32_t>(p.len), &r});
        } else if (p.addr.family == 6) {
            const U128 first = v6_value(p.addr) & prefix_mask<U128>(p.len);
            v6.push_back({first, first | ~prefix_mask<U128>(p.len), &r});
        } else {
            if (why != nullptr) {
                *why = "a rule without an address";
            }
            return std::nullopt;
        }
    }
    PrefixTable t(fallback);
    if (!sweep(std::move(v4), fallback, t.v4_, why) ||
        !sweep(std::move(v6), fallback, t.v6_, why)) {
        return std::nullopt;
    }
    t.rules_ = rules.size();
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
