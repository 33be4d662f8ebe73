// GeoIP: walk a whole MaxMind-format database once (libmaxminddb) and turn it into the
// image's prefix -> region table, so the dataplane never touches the MMDB.
//
// Two layouts work out of the box: MaxMind's GeoIP2/GeoLite2 Country (`country.iso_code`,
// with `registered_country.iso_code` and `continent.code` as fallbacks) and ip-location-db
// (`country_code`; the continent comes from our country table). The field paths are
// configurable. A network whose country we do not know but whose continent we do maps to
// the continent; one with neither is left out (its clients get the global answer) and
// counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pooledge/image/model.hpp"

namespace pooledge::control {

struct GeoIpOptions {
    std::string path;
    // Dot-separated paths into each record; the first one present wins.
    std::vector<std::string> country_fields = {"country.iso_code", "registered_country.iso_code",
                                               "country_code"};
    std::vector<std::string> continent_fields = {"continent.code"};
    // geodns's region targeting: networks with a subdivision ("subdivisions.0.iso_code" in
    // MaxMind's City layout) map to regions such as "us-ca", under their region group
    // ("us-west", United States and Russia only) or else their country.
    bool subdivisions = false;
    std::vector<std::string> subdivision_fields = {"subdivisions.0.iso_code"};
};

struct GeoIpStats {
    uint64_t networks = 0;            // data records met in the walk
    uint64_t mapped_country = 0;      // subdivisions included
    uint64_t mapped_subdivision = 0;  // to a subdivision region (options.subdivisions)
    uint64_t mapped_continent = 0;    // no usable country, a continent
    uint64_t unknown_country = 0;     // a country code not in our table, and no continent
    uint64_t no_location = 0;         // none of the fields present
    std::string database_type;
    uint64_t build_epoch = 0;
};

struct GeoTable {
    std::vector<image::GeoPrefixModel> prefixes;  // IPv4 as IPv4, the rest as IPv6
    // Regions beyond pool_regions() that the prefixes use: region groups and subdivisions,
    // each after its parent. Empty unless options.subdivisions found any.
    std::vector<image::RegionModel> regions;
    GeoIpStats stats;
};

// Throws base::InputError (reason "geoip") when the file cannot be opened or is corrupt, or when
// it maps no network at all (wrong field paths would otherwise silently give everyone the
// global answer).
[[nodiscard]] GeoTable read_geoip(const GeoIpOptions& opts);

// An operator's prefix override ("10.1.0.0/16" -> "de" or "europe"); throws base::InputError
// (reason "config") naming the prefix.
[[nodiscard]] image::GeoPrefixModel parse_override(std::string_view prefix,
                                                   std::string_view region);

}  // namespace pooledge::control
