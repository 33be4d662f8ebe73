#include "pooledge/limit/rrl.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pooledge::limit {

Rrl::Rrl(const RrlConfig& config, uint64_t seed, uint64_t epoch_ns)
    : config_(config), seed_(seed), table_(config.table_entries, epoch_ns) {
    const auto levels = [this](const std::vector<PrefixLevel>& in, unsigned max,
                               std::vector<Level>& out) {
        if (in.empty() || in.size() > kMaxLevels) {
            throw std::invalid_argument("1 to " + std::to_string(kMaxLevels) +
                                        " prefix levels per family");
        }
        for (const PrefixLevel& l : in) {
            if (l.length == 0 || l.length > max || l.multiplier <= 0) {
                throw std::invalid_argument("prefix level /" + std::to_string(l.length));
            }
            Level level{l.length, {}};
            for (size_t k = 0; k < level.limit.size(); ++k) {
                const double rate = config_.rate[k] * l.multiplier;
                level.limit[k] = RateTable::limit(rate, std::max(1.0, rate * config_.window));
            }
            out.push_back(level);
        }
    };
    for (const double r : config_.rate) {
        if (!(r > 0 && r <= 500000)) {
            throw std::invalid_argument("rates must be in (0, 500000] per second");
        }
    }
    levels(config_.v4, 32, v4_);
    levels(config_.v6, 128, v6_);
    exempt_ = exempt_table(config_.exempt);
}

RrlKey Rrl::key(const base::IpAddress& client) const noexcept {
    RrlKey k;
    if ((client.family != 4 && client.family != 6) ||
        (!exempt_.empty() && exempt_.lookup(client) != 0)) {
        return k;
    }
    const std::vector<Level>& levels = client.family == 4 ? v4_ : v6_;
    for (const Level& l : levels) {
        k.bucket[k.levels++] = prefix_hash(seed_, client, l.length,
                                           static_cast<uint64_t>(client.family) << 8 | l.length);
    }
    k.v6 = client.family == 6;
    return k;
}

Decision Rrl::decide(const RrlKey& k, ResponseKind kind, int zone, uint64_t now_ns,
                     RrlWorker& w) noexcept {
    Decision d;
    if (k.levels == 0) {
        return d;
    }
    const std::vector<Level>& levels = k.v6 ? v6_ : v4_;
    const uint64_t now = table_.units(now_ns);
    const auto kind_index = static_cast<size_t>(kind);
    // Answers and errors are accounts in the prefix's own line (prefetched a stage ahead),
    // told apart by the tag: the prefix's keyed hash with the kind's constant folded in.
    // NXDOMAIN accounts are per zone and get a line per (prefix, zone): in the prefix's
    // line, a client cycling through more zones than it has ways would evict its own
    // accounts and find a fresh burst every time. (Its line is not prefetched: NXDOMAIN is
    // the rare answer.)
    static constexpr uint16_t kKindSalt[] = {0x0000, 0x5A5A, 0xA5A5};
    const uint16_t salt = kKindSalt[kind_index];
    const bool per_zone = kind == ResponseKind::Nxdomain;
    RateTable::Probe probes[kMaxLevels];
    bool conforming = true;
    for (uint8_t i = 0; i < k.levels; ++i) {
        const uint64_t line =
            per_zone ? keyed_hash(seed_, k.bucket[i], static_cast<uint32_t>(zone), 0x4E58)
                     : k.bucket[i];
        const auto tag = static_cast<uint16_t>(line >> 48 ^ salt);
        table_.probe(line, tag, now, levels[i].limit[kind_index], probes[i]);
        conforming = conforming && probes[i].conforming;
        d.fresh = d.fresh || probes[i].fresh;
        d.evicted = d.evicted || probes[i].evicted;
    }
    if (conforming && backstop_holds(d.fresh, config_.backstop, w.backstop, now_ns)) {
        d.backstop = true;
        conforming = false;
    }
    if (conforming) {
        for (uint8_t i = 0; i < k.levels; ++i) {
            RateTable::commit(probes[i]);
        }
        return d;
    }
    d.limited = true;
    if (config_.log_only) {
        return d;
    }
    // A slip is for a real resolver behind a spoofed prefix; the backstop's sources have no
    // account at all, and an error response cut to its question could misstate its rcode
    // (an extended one lives in the OPT record the slip drops): both only dropped.
    if (!d.backstop && kind != ResponseKind::Error && config_.slip != 0 &&
        ++w.slip_count % config_.slip == 0) {
        d.action = Action::Slip;
    } else {
        d.action = Action::Drop;
    }
    return d;
}

}  // namespace pooledge::limit
