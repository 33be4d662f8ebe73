// Longest-prefix match over a list of IPv4 and IPv6 prefixes, each with a small value: the
// ACLs (allow / deny per service) and the rate limiters' exemptions.
//
// Built once off the fast path (config load, SIGHUP) into flat sorted interval tables, one
// per family: the prefixes are painted shortest first onto the address line, so each
// elementary range carries the value of the longest prefix covering it, and adjacent ranges
// of one value merge. A lookup is then one binary search over a few cache lines, whatever
// the nesting of the prefixes, and allocates nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pooledge/base/ip.hpp"

namespace pooledge::limit {

struct PrefixRule {
    base::IpPrefix prefix;
    uint8_t value = 0;
};

class PrefixTable {
  public:
    // Everything maps to `fallback`.
    explicit PrefixTable(uint8_t fallback = 0);

    // Nothing when the same prefix is listed twice (with any values): `why` says which.
    [[nodiscard]] static std::optional<PrefixTable> build(std::span<const PrefixRule> rules,
                                                          uint8_t fallback, std::string* why);

    // The value of the longest prefix holding `a`, else the fallback (also for family 0).
    [[nodiscard]] uint8_t lookup(const base::IpAddress& a) const noexcept;

    // No rule at all: every lookup gives the fallback (callers skip the lookup).
    [[nodiscard]] bool empty() const noexcept { return rules_ == 0; }
    [[nodiscard]] size_t rules() const noexcept { return rules_; }
    // Ranges after merging, both families: what a lookup searches.
    [[nodiscard]] size_t ranges() const noexcept { return v4_.size() + v6_.size(); }

  private:
    // A range starts at `start` and runs to the next range's start; the first starts at 0.
    struct V4Range {
        uint32_t start;
        uint8_t value;
    };
    struct V6Range {
        unsigned __int128 start;
        uint8_t value;
    };
    uint8_t fallback_;
    size_t rules_ = 0;
    std::vector<V4Range> v4_;
    std::vector<V6Range> v6_;
};

// A table where the listed prefixes map to 1 and the rest to 0 (the limiters' exemptions).
// Throws std::invalid_argument naming a prefix listed twice.
[[nodiscard]] PrefixTable exempt_table(std::span<const base::IpPrefix> prefixes);

}  // namespace pooledge::limit
