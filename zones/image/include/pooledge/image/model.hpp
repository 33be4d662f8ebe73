// A zone as geodns sees it (labels with records, aliases, max_hosts, ttl) and its compilation
// into an image.
//
// geodns answers a query for label L from a client in country C of continent K by trying the
// labels "L.C", "L.K" and "L" in turn; at each one an alias re-targets the search, a CNAME
// answers, and records of the asked type answer; otherwise it moves on. compile_image() plays
// that search for every name, type and region at build time and stores the outcome, so the
// fast path does one geo lookup and one table read. Both registry inputs of the control plane
// (pool data and geodns JSON) arrive here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/image/builder.hpp"

namespace pooledge::image {

struct MxRecord {
    uint16_t preference = 0;
    std::string exchange;  // absolute; "." for a null MX (RFC 7505)
};

struct ModelLabel {
    std::vector<WeightedAddress> a;
    std::vector<WeightedAddress> aaaa;
    std::optional<std::string> alias;  // another label of the same zone ("" = apex)
    std::optional<std::string> cname;  // absolute target
    std::vector<std::string> ns;       // absolute names
    std::vector<MxRecord> mx;
    std::vector<std::string> txt;
    std::optional<uint32_t> ttl;
    std::optional<uint16_t> max_hosts;
};

struct SoaRecord {
    std::string mname;
    std::string rname;  // in name form: hostmaster.example.org
    uint32_t serial = 1;
    uint32_t refresh = 5400;
    uint32_t retry = 5400;
    uint32_t expire = 1209600;
    uint32_t minimum = 3600;
    uint32_t ttl = 1500;
};

// What a region is, for geodns's `targeting`: a zone only tries the kinds it targets.
enum class RegionKind : uint8_t { Continent, Country, RegionGroup, Region };

// A zone's targeting as geodns spells it ("country continent @ regiongroup region"): which
// levels of a client's location its search tries. The order of the search is fixed, most
// specific first: region, region group, country, continent, then the plain label ("@").
namespace target {
inline constexpr uint8_t kGlobal = 1;
inline constexpr uint8_t kContinent = 2;
inline constexpr uint8_t kCountry = 4;
inline constexpr uint8_t kRegionGroup = 8;
inline constexpr uint8_t kRegion = 16;
inline constexpr uint8_t kDefault = kGlobal | kContinent | kCountry;  // geodns's default
[[nodiscard]] constexpr uint8_t of(RegionKind k) noexcept {
    switch (k) {
        case RegionKind::Continent:
            return kContinent;
        case RegionKind::Country:
            return kCountry;
        case RegionKind::RegionGroup:
            return kRegionGroup;
        case RegionKind::Region:
            return kRegion;
    }
    return 0;
}
}  // namespace target

struct ZoneModel {
    std::string origin;  // "pool.ntp.org"
    uint8_t targeting = target::kDefault;
    uint32_t ttl = 150;
    uint32_t ns_ttl = 86400;
    uint16_t max_hosts = 4;
    SoaRecord soa;
    std::map<std::string, ModelLabel> labels;  // relative names, "" = apex
};

struct RegionModel {
    std::string name;    // the label suffix that serves it: "de", "europe", "us-ca"
    std::string parent;  // "" = the world
    RegionKind kind = RegionKind::Country;
};

struct GeoPrefixModel {
    base::IpPrefix prefix;
    std::string region;
    bool override_db = false;
};

struct ImageModel {
    std::vector<ZoneModel> zones;
    std::vector<RegionModel> regions;  // parents before children
    std::vector<GeoPrefixModel> prefixes;
};

// Throws std::invalid_argument naming the zone and label of the first problem.
[[nodiscard]] std::vector<uint8_t> compile_image(const ImageModel& model, uint64_t serial,
                                                 uint64_t build_time);

}  // namespace pooledge::image
