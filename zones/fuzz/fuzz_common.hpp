// What the fuzz targets and their seed generator share: a small real image and the queries
// that exercise it.
#pragma once

#include <cstdint>
#include <vector>

#include "pooledge/zones/answer.hpp"
#include "pooledge/zones/model.hpp"
#include "synthetic_pool.hpp"

namespace pooledge::zones::fuzz {

// A pool-shaped image kept small (few servers, a few thousand geo prefixes) so that a fuzz
// input derived from it stays cheap to validate.
inline std::vector<uint8_t> small_pool_image() {
    testing::SyntheticOptions opts;
    opts.per_continent = {{"europe", 40}, {"north-america", 12}, {"asia", 5}};
    opts.geo4_prefixes = 300;
    opts.geo6_prefixes = 100;
    opts.vendors = 2;
    return compile_image(testing::synthetic_pool(opts).model, 1, 1);
}

inline Identity fuzz_identity() {
    Identity id;
    id.nsid = "fuzz";
    id.server_id = "fuzz.example";
    id.version = "pooledge";
    id.cookie_secret.fill(1);
    return id;
}

}  // namespace pooledge::zones::fuzz
