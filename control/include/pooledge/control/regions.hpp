// The pool's geography: 7 continents and every country code under its continent. Two names
// per country, because the pool's zones and GeoIP spell Great Britain differently:
//   - the region (what GeoIP says, the client side): the lower-case ISO code, "gb";
//   - the zone (the pool's label, the server side): the same, except "uk" for Great Britain.
// Both registry inputs and the GeoIP table use the one region list, so a country located by
// GeoIP is always a region the zones can target; in geodns JSON a zone's own "gb" and "uk"
// labels are its data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pooledge/image/model.hpp"

namespace pooledge::control {

// Continents first (parents before children), then countries under the continent their
// clients fall back to (image::client_continent_of).
[[nodiscard]] std::vector<image::RegionModel> pool_regions();

// Every zone of the pool: "@" (global), the continents, and each country's zone label.
[[nodiscard]] std::vector<std::string> pool_zones();

// The region of an ISO country code (any case): lower case; empty for an unknown code.
[[nodiscard]] std::string country_region(std::string_view iso_code);

// The zone label of an ISO country code: lower case, and "gb" is "uk" (the pool's name for
// Great Britain's zone). Empty for an unknown code.
[[nodiscard]] std::string country_zone(std::string_view iso_code);

// "EU" -> "europe" (MaxMind continent codes); empty for an unknown code.
[[nodiscard]] std::string continent_zone(std::string_view code);

}  // namespace pooledge::control
