// The pool's geography: 7 continents and every ISO country under its continent, named as the
// pool's zones name them. Both registry inputs and the GeoIP table use this one list, so a
// country located by GeoIP is always a region the zones can target.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pooledge/image/model.hpp"

namespace pooledge::control {

// Continents first (parents before children), then countries.
[[nodiscard]] std::vector<image::RegionModel> pool_regions();

// The zone label of an ISO country code: lower case, and "gb" is "uk" (the pool's name for
// Great Britain's zone). Empty for an unknown code.
[[nodiscard]] std::string country_zone(std::string_view iso_code);

// "EU" -> "europe" (MaxMind continent codes); empty for an unknown code.
[[nodiscard]] std::string continent_zone(std::string_view code);

}  // namespace pooledge::control
