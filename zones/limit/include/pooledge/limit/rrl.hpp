// DNS response rate limiting (RRL), in the style of BIND's and Knot's: responses per second
// per client prefix and response kind, a burst window, slip (every Nth limited response
// goes out as a truncated TC=1 answer so a real resolver behind a spoofed prefix retries
// over TCP), exemptions, a log-only mode and a global backstop.
//
// Like Knot DNS 3.4 (and Knot Resolver's KRU) every response is charged to several
// prefixes of its client at once, each level at a constant multiple of the rate: by default
// the /24 at the rate for IPv4 and the /56 for IPv6, and a configuration may add e.g. the /32
// at a fraction of it and the /16 at a multiple. A response is let through only when every
// level conforms, and then all are charged (GCRA accounts in one shared table, rate_table.hpp:
// constant memory, no lock). Unlike Knot, accounts are per response kind too (answers,
// NXDOMAIN per zone, errors), as in BIND: a random-subdomain flood that earns NXDOMAINs
// cannot use up the answers of the resolvers sharing its prefix.
//
// The server-cookie bypass (a client that returns a valid server cookie cannot be spoofing
// its address) is the caller's: it verifies the cookie only for a response the limiter
// would hold back, so the common path pays nothing for it (frame/dns_answer.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "pooledge/base/ip.hpp"
#include "pooledge/base/token_bucket.hpp"
#include "pooledge/limit/prefix_table.hpp"
#include "pooledge/limit/rate_table.hpp"

namespace pooledge::limit {

enum class ResponseKind : uint8_t { Answer, Nxdomain, Error, Count };

struct PrefixLevel {
    uint8_t length = 24;
    double multiplier = 1.0;  // of the kind's rate (and burst)
};

struct RrlConfig {
    bool enabled = true;
    bool log_only = false;  // count what would be limited, limit nothing
    // Per second per prefix (at multiplier 1), by ResponseKind.
    std::array<double, static_cast<size_t>(ResponseKind::Count)> rate{100, 100, 100};
    double window = 2.0;  // seconds of rate a quiet prefix may spend at once
    unsigned slip = 2;    // every Nth limited response is TC=1; 0 never, 1 always
    // (Count and value, not a braced list: GCC 12 warns falsely about a braced list here.)
    std::vector<PrefixLevel> v4 = std::vector<PrefixLevel>(1, PrefixLevel{24, 1.0});
    std::vector<PrefixLevel> v6 = std::vector<PrefixLevel>(1, PrefixLevel{56, 1.0});
    std::vector<base::IpPrefix> exempt;
    size_t table_entries = size_t{1} << 20;
    // Responses a second, the whole node, to sources the table had no account for: a
    // spoofed flood from more prefixes than the table holds gets at most this out. 0: none.
    double backstop = 50000;
};

inline constexpr size_t kMaxLevels = 4;

// The accounts a response of one client is charged to, computed when the query arrives
// (so their buckets are prefetched a stage ahead) and used once the response kind is known.
struct RrlKey {
    std::array<uint64_t, kMaxLevels> bucket{};
    uint8_t levels = 0;  // 0: exempt (or no limiter)
    bool v6 = false;
};

enum class Action : uint8_t { Pass, Drop, Slip };

struct Decision {
    Action action = Action::Pass;
    bool limited = false;   // over the rate (Drop, Slip, or Pass in log-only mode)
    bool fresh = false;     // a source the table had no account for
    bool evicted = false;   // ... and its account came from an active one
    bool backstop = false;  // held back by the global backstop
};

// Per worker: what the limiter keeps that no other thread may touch.
struct RrlWorker {
    RrlWorker(double backstop_per_second, unsigned workers) noexcept
        : backstop(backstop_share(backstop_per_second, workers)) {}
    unsigned slip_count = 0;
    base::TokenBucket backstop;
};

class Rrl {
  public:
    // Throws std::invalid_argument on a config the loader should have refused.
    // `seed` keys the table's hash; `epoch_ns` is RateTable's.
    Rrl(const RrlConfig& config, uint64_t seed, uint64_t epoch_ns);

    [[nodiscard]] const RrlConfig& config() const noexcept { return config_; }

    // The client's accounts; levels 0 when it is exempt.
    [[nodiscard]] RrlKey key(const base::IpAddress& client) const noexcept;
    void prefetch(const RrlKey& k) const noexcept {
        for (uint8_t i = 0; i < k.levels; ++i) {
            table_.prefetch(k.bucket[i]);
        }
    }

    // `zone`: the image's zone index (NXDOMAIN accounts are per zone); `now_ns` monotonic.
    [[nodiscard]] Decision decide(const RrlKey& k, ResponseKind kind, int zone, uint64_t now_ns,
                                  RrlWorker& w) noexcept;

    [[nodiscard]] const RateTable& table() const noexcept { return table_; }

  private:
    struct Level {
        uint8_t length;
        std::array<RateTable::Limit, static_cast<size_t>(ResponseKind::Count)> limit;
    };
    RrlConfig config_;
    uint64_t seed_;
    std::vector<Level> v4_;
    std::vector<Level> v6_;
    PrefixTable exempt_;
    RateTable table_;
};

}  // namespace pooledge::limit
