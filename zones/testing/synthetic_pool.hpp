// A deterministic, pool-sized image::ImageModel for tests and benchmarks of the zones library.
//
// It lays out zones the way the pool does (global, continents, countries; 0-3 splits; AAAA
// under 2.; vendor aliases) over made-up servers and a made-up full-size geo table. It is
// test data, not the pool compiler: that lives in the control plane and works from real
// registry input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pooledge/base/rng.hpp"
#include "pooledge/image/model.hpp"

namespace pooledge::testkit {

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
    image::ImageModel model;
    size_t servers = 0;
    std::vector<std::string> populated_countries;  // countries that have servers
    std::vector<std::string> empty_countries;      // countries with none (continent fallback)
};

[[nodiscard]] SyntheticPool synthetic_pool(const SyntheticOptions& opts = {});

// Random public unicast addresses (IPv6 from 2000::/4), for made-up servers and clients.
[[nodiscard]] base::IpAddress random_public_v4(base::Rng& rng);
[[nodiscard]] base::IpAddress random_public_v6(base::Rng& rng);

}  // namespace pooledge::testkit
