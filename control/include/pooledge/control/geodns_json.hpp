// The zone JSON geodns reads (what the pool's central system exports today), so a node fed
// that export answers what geodns would. Accepted as geodns accepts it: numbers as numbers or
// strings; `a`/`aaaa` as [ip, weight], {"ip": .., "weight": ..} or a bare address; `ns` as a
// list or a {name: null} map; `cname` and `alias` as a string; `mx` as {mx, preference};
// `txt` as strings or {txt}; `max_hosts` and `ttl` per label and per zone. What pooledge
// cannot honour (record types geodns logs and skips, `closest`, ASN and IP targeting,
// several weighted CNAMEs) is an error rather than a silently different node. `targeting`
// sets the zone's levels; region and regiongroup need a City database (image_build.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooledge/image/model.hpp"

namespace pooledge::control {

struct GeodnsZone {
    image::ZoneModel zone;
    std::optional<uint32_t> serial;     // the file's "serial"; geodns falls back to its mtime
    std::vector<std::string> warnings;  // what was accepted but ignored, for the log
};

// `origin` is the zone name (geodns takes it from the file name: pool.ntp.org.json).
// Throws base::InputError naming the source and JSON path.
[[nodiscard]] GeodnsZone parse_geodns_zone(std::string_view json_text, const std::string& origin,
                                           const std::string& source);

// "dir/pool.ntp.org.json" -> "pool.ntp.org"; empty when the name does not end in ".json".
[[nodiscard]] std::string origin_from_file_name(const std::string& path);

}  // namespace pooledge::control
