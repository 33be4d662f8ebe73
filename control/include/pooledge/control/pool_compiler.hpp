// Pool data -> the pool.ntp.org zone, exactly as the pool lays it out (DESIGN.md, "Registry
// input"):
//   - eligible: in_pool, score >= min_score, netspeed > 0, not within 14 days of deletion_on;
//     weight = netspeed;
//   - a server is in each of its countries and all their parents (continent, global "@");
//   - "<z>" A = every eligible IPv4 server of z; "0-3.<z>": N >= 8 -> a seeded shuffle cut
//     into disjoint quarters of floor(N/4), N < 8 -> everyone in each; only "2.<z>" carries
//     AAAA (every IPv6 server of z);
//   - vendor zones alias the numbered or plain labels, re-targeted by the client's location;
//   - apex SOA, NS and null MX; TTL from settings, NS 86400, SOA min(ttl * 10, 3600).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pooledge/control/pool_data.hpp"
#include "pooledge/image/model.hpp"

namespace pooledge::control {

struct PoolCompileOptions {
    double min_score = 10;
    uint64_t seed = 0;  // the 0-3 shuffle: same data and seed, same zone
    int64_t now = 0;    // unix seconds: deletion cut-off, SOA serial
    int64_t deletion_grace = 14 * 86400;
};

struct Ineligible {
    size_t not_in_pool = 0;
    size_t low_score = 0;
    size_t no_netspeed = 0;
    size_t deleting = 0;
};

struct PoolCompileResult {
    image::ZoneModel zone;
    // Eligible servers per zone: "@" (global), every continent and every country zone (zero
    // included), so metrics and guard rails see a zone go empty.
    std::map<std::string, uint64_t> eligible_per_zone;
    uint64_t eligible = 0;
    Ineligible ineligible;
};

[[nodiscard]] PoolCompileResult compile_pool(const PoolData& data, const PoolCompileOptions& opts);

}  // namespace pooledge::control
