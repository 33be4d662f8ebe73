// The last step of a compile: zones + GeoIP table + overrides -> a signed image.
#pragma once

#include <cstdint>
#include <vector>

#include "pooledge/control/geoip.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/signature.hpp"

namespace pooledge::control {

struct ImageInputs {
    std::vector<image::ZoneModel> zones;
    const GeoTable* geo = nullptr;                 // may be null: no geography at all
    std::vector<image::GeoPrefixModel> overrides;  // win over the database
    uint64_t serial = 0;
    uint64_t build_time = 0;
};

// Compiles and signs; throws base::InputError (reason "compile") when the zones do not compile
// (an alias to nowhere, a name too long, ...) or signing fails, and "value" when a zone
// targets region or regiongroup but the GeoIP table has no subdivisions.
[[nodiscard]] std::vector<uint8_t> build_signed_image(const ImageInputs& in,
                                                      const image::SigningKey& key);

}  // namespace pooledge::control
