// The query mix and the image the engine and worker-loop benchmarks share: a pool-sized image
// (synthetic_pool: the pool's servers per continent, real country codes, geo prefixes) and
// 8192 queries as the pool's DNS sees them, mostly A for N.pool and country names from many
// clients, some AAAA under 2., some NXDOMAIN, some EDNS with ECS (as resolvers send it).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pooledge/dns/protocol.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/reader.hpp"
#include "synthetic_pool.hpp"
#include "test_util.hpp"

namespace pooledge::perf {

using base::IpAddress;
using base::Rng;
namespace rrtype = dns::rrtype;
using engine::Client;
using engine::Transport;
using image::ImageView;

struct PoolMix {
    std::vector<uint8_t> bytes;
    std::unique_ptr<ImageView> image;
    std::vector<std::vector<uint8_t>> queries;
    std::vector<Client> clients;
    size_t servers = 0;
};

// `full_size`: the pool-sized geo table; otherwise 5,000 IPv4 and 1,000 IPv6 prefixes.
inline PoolMix make_pool_mix(bool full_size) {
    testkit::SyntheticOptions opts;
    if (!full_size) {
        opts.geo4_prefixes = 5000;
        opts.geo6_prefixes = 1000;
    }
    auto pool = testkit::synthetic_pool(opts);
    PoolMix w;
    w.servers = pool.servers;
    w.bytes = image::compile_image(pool.model, 1, 1);
    w.image = std::make_unique<ImageView>(*ImageView::load(w.bytes));
    if (std::string why; !image::attach_geo_index(*w.image, &why)) {
        throw std::runtime_error("geo index: " + why);
    }
    Rng rng(2026);
    const auto& cc = pool.populated_countries;
    for (size_t i = 0; i < 8192; ++i) {
        const uint64_t kind = rng.below(100);
        testkit::QueryOptions o;
        std::string name;
        if (kind < 35) {
            name = std::to_string(rng.below(4)) + ".pool.ntp.org";
        } else if (kind < 50) {
            name = std::to_string(rng.below(4)) + "." + cc[rng.below(cc.size())] + ".pool.ntp.org";
        } else if (kind < 60) {
            name = cc[rng.below(cc.size())] + ".pool.ntp.org";
        } else if (kind < 65) {
            name = std::to_string(rng.below(4)) + ".vendor" + std::to_string(rng.below(20)) +
                   ".pool.ntp.org";
        } else if (kind < 70) {
            name = "pool.ntp.org";
        } else if (kind < 80) {
            name = "2.pool.ntp.org";
            o.qtype = rrtype::AAAA;
        } else if (kind < 88) {
            name = "nonexistent" + std::to_string(i) + ".pool.ntp.org";
        } else {
            name = std::to_string(rng.below(4)) + ".pool.ntp.org";
            o.edns = true;
            const auto c = testkit::random_public_v4(rng);
            o.ecs = IpAddress::v4(c.v4_host() & 0xFFFFFF00u).to_string() + "/24";
        }
        w.queries.push_back(testkit::make_query(name, o));
        const bool v6 = rng.below(10) == 0;
        w.clients.push_back(Client{
            v6 ? testkit::random_public_v6(rng) : testkit::random_public_v4(rng), Transport::Udp});
    }
    return w;
}

}  // namespace pooledge::perf
