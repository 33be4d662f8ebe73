// A deterministic, pool-sized ImageModel for tests and benchmarks of the zones library.
//
// It lays out zones the way the pool does (global, continents, countries; 0-3 splits; AAAA
// under 2.; vendor aliases) over made-up servers and a made-up full-size geo table. It is
// test data, not the pool compiler: that lives in the control plane and works from real
// registry input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pooledge/zones/model.hpp"
#include "pooledge/zones/rng.hpp"

namespace pooledge::zones::testing {

struct SyntheticOptions {
    uint64_t seed = 1;
    // Active servers per continent, from the pool's home page (see shared/seeds).
    std::vector<std::pair<std::string, size_t>> per_continent = {
        {"africa", 118},         {"antarctica", 2}, {"asia", 601},        {"europe", 3810},
        {"north-america", 1279}, {"oceania", 230},  {"south-america", 92}};
    double ipv6_share = 0.35;
    size_t geo4_prefixes = 400000;  // about what a full country database holds
    size_t geo6_prefixes = 150000;
    size_t vendors = 20;
};

struct SyntheticPool {
    ImageModel model;
    size_t servers = 0;
    std::vector<std::string> populated_countries;  // countries that have servers
    std::vector<std::string> empty_countries;      // countries with none (continent fallback)
};

[[nodiscard]] SyntheticPool synthetic_pool(const SyntheticOptions& opts = {});

// Random public unicast addresses (IPv6 from 2000::/4), for made-up servers and clients.
[[nodiscard]] IpAddress random_public_v4(Rng& rng);
[[nodiscard]] IpAddress random_public_v6(Rng& rng);

}  // namespace pooledge::zones::testing
