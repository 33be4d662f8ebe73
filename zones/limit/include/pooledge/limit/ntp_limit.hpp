// NTP rate limiting per client prefix, chrony's `ratelimit` model: on average one response
// per 2^interval seconds to a source, `burst` at once after a quiet spell; over that, a
// request gets a normal answer with probability 2^-leak (so a limited client still keeps
// its clock, slowly), else a KoD RATE with probability 2^-kod (the client is told to back
// off, in 48 bytes, never more than the request), else nothing.
//
// The accounts are GCRA words in a shared table (rate_table.hpp), keyed by the client's /32
// (IPv4) and /64 (IPv6) by default. The same global backstop as DNS's bounds the answers to
// sources the table had no account for.
#pragma once

#include <cstdint>
#include <vector>

#include "pooledge/base/ip.hpp"
#include "pooledge/base/rng.hpp"
#include "pooledge/base/token_bucket.hpp"
#include "pooledge/limit/prefix_table.hpp"
#include "pooledge/limit/rate_table.hpp"

namespace pooledge::limit {

struct NtpLimitConfig {
    bool enabled = true;
    int interval = 3;    // log2 seconds between responses, on average: -4 .. 12
    unsigned burst = 8;  // responses at once
    // A limited request is answered anyway with probability 2^-leak (0: never). chrony's
    // default, 2: a spoofer sending in a victim's name cannot cut the victim off.
    unsigned leak = 2;
    unsigned kod = 1;  // ... else gets a KoD RATE with probability 2^-kod; 0: never
    uint8_t v4_prefix = 32;
    uint8_t v6_prefix = 64;
    std::vector<base::IpPrefix> exempt;  // never limited (the pool's monitors, say)
    size_t table_entries = size_t{1} << 20;
    double backstop = 50000;  // answers a second to sources without an account; 0: none
};

enum class NtpAction : uint8_t { Answer, Kod, Drop };

struct NtpDecision {
    NtpAction action = NtpAction::Answer;
    bool limited = false;
    bool leaked = false;  // limited, answered anyway
    bool fresh = false;
    bool evicted = false;
    bool backstop = false;
};

class NtpLimiter {
  public:
    // Throws std::invalid_argument on a config the loader should have refused.
    // `seed` keys the table's hash; `epoch_ns` is RateTable's.
    NtpLimiter(const NtpLimitConfig& config, uint64_t seed, uint64_t epoch_ns);

    [[nodiscard]] const NtpLimitConfig& config() const noexcept { return config_; }
    // The poll a KoD RATE carries: at least the limiter's interval.
    [[nodiscard]] int8_t kod_poll() const noexcept { return static_cast<int8_t>(config_.interval); }

    // `rng` (leak and KoD draws) and `backstop` (backstop_share()) are the worker's.
    [[nodiscard]] NtpDecision decide(const base::IpAddress& client, uint64_t now_ns, base::Rng& rng,
                                     base::TokenBucket& backstop) noexcept;

    [[nodiscard]] const RateTable& table() const noexcept { return table_; }

  private:
    NtpLimitConfig config_;
    uint64_t seed_;
    RateTable::Limit limit_;
    PrefixTable exempt_;
    RateTable table_;
};

}  // namespace pooledge::limit
