#include "pooledge/limit/ntp_limit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pooledge::limit {
namespace {

// True with probability 2^-shift (shift > 0).
bool one_in_power_of_two(base::Rng& rng, unsigned shift) noexcept {
    return (rng.next() & ((uint64_t{1} << shift) - 1)) == 0;
}

}  // namespace

NtpLimiter::NtpLimiter(const NtpLimitConfig& config, uint64_t seed, uint64_t epoch_ns)
    : config_(config), seed_(seed), table_(config.table_entries, epoch_ns) {
    if (config_.interval < -4 || config_.interval > 12 || config_.burst < 1 || config_.leak > 16 ||
        config_.kod > 16 || config_.v4_prefix < 1 || config_.v4_prefix > 32 ||
        config_.v6_prefix < 1 || config_.v6_prefix > 128) {
        throw std::invalid_argument("NTP rate limit out of range");
    }
    limit_ = RateTable::limit(std::ldexp(1.0, -config_.interval), config_.burst);
    exempt_ = exempt_table(config_.exempt);
}

NtpDecision NtpLimiter::decide(const base::IpAddress& client, uint64_t now_ns, base::Rng& rng,
                               base::TokenBucket& backstop) noexcept {
    NtpDecision d;
    if (!exempt_.empty() && exempt_.lookup(client) != 0) {
        return d;
    }
    const uint64_t h = prefix_hash(
        seed_, client, client.family == 4 ? config_.v4_prefix : config_.v6_prefix, client.family);
    RateTable::Probe p;
    table_.probe(h, static_cast<uint16_t>(h >> 48), table_.units(now_ns), limit_, p);
    d.fresh = p.fresh;
    d.evicted = p.evicted;
    bool conforming = p.conforming;
    if (conforming && backstop_holds(p.fresh, config_.backstop, backstop, now_ns)) {
        d.backstop = true;
        conforming = false;
    }
    if (conforming) {
        RateTable::commit(p);
        return d;
    }
    d.limited = true;
    if (config_.leak != 0 && one_in_power_of_two(rng, config_.leak)) {
        d.leaked = true;
        return d;
    }
    d.action = config_.kod != 0 && one_in_power_of_two(rng, config_.kod) ? NtpAction::Kod
                                                                         : NtpAction::Drop;
    return d;
}

}  // namespace pooledge::limit
