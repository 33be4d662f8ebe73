// What the fuzz targets and their seed generator share: a small real image and the queries
// that exercise it.
#pragma once

#include <cstdint>
#include <vector>

#include "pooledge/engine/answer.hpp"
#include "pooledge/image/model.hpp"
#include "synthetic_pool.hpp"

namespace pooledge::fuzz {

// A pool-shaped image kept small (few servers, a few thousand geo prefixes) so that a fuzz
// input derived from it stays cheap to validate.
inline std::vector<uint8_t> small_pool_image() {
    testkit::SyntheticOptions opts;
    opts.per_continent = {{"europe", 40}, {"north-america", 12}, {"asia", 5}};
    opts.geo4_prefixes = 300;
    opts.geo6_prefixes = 100;
    opts.vendors = 2;
    return image::compile_image(testkit::synthetic_pool(opts).model, 1, 1);
}

inline engine::Identity fuzz_identity() {
    engine::Identity id;
    id.nsid = "fuzz";
    id.server_id = "fuzz.example";
    id.version = "pooledge";
    id.cookie_secret.fill(1);
    return id;
}

}  // namespace pooledge::fuzz
