// Builds zone images. Used by the control plane's compiler, the tools and the tests; never on
// the fast path. Invalid input throws std::invalid_argument with a message that names it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pooledge/base/ip.hpp"
#include "pooledge/image/format.hpp"
#include "pooledge/image/weighted.hpp"

namespace pooledge::image {

struct WeightedAddress {
    base::IpAddress addr;
    uint64_t weight = 1;
};

class ImageBuilder {
  public:
    ImageBuilder();  // region 0, the world, exists from the start

    // A region a geo prefix can map to; `name` is the label that serves it ("de",
    // "europe"); the parent must already exist (0 = the world).
    uint16_t add_region(std::string_view name, uint16_t parent);
    [[nodiscard]] size_t region_count() const noexcept { return regions_.size(); }

    // A weighted A or AAAA set; records of weight 0 are never drawn and are left out, and a
    // set whose weights are all 0 is drawn with equal weights. Returns the rrset id.
    uint32_t add_address_set(uint16_t type, uint32_t ttl, uint16_t max_hosts,
                             std::span<const WeightedAddress> addrs);
    // Any other rrset, as uncompressed wire rdata. Returns the rrset id.
    uint32_t add_rrset(uint16_t type, uint32_t ttl, const std::vector<std::vector<uint8_t>>& rdata);

    // A zone apex with its SOA rrset. Zones come before the nodes inside them.
    uint32_t add_zone(std::span<const uint8_t> apex, uint32_t soa_rrset);
    // A node (created with any missing ancestors, which answer NODATA). Returns its id.
    uint32_t add_node(std::span<const uint8_t> name);

    void set_static(uint32_t node, uint16_t qtype, uint32_t rrset);
    // One rrset id per region (0 = nothing there); stored as static when all agree.
    void set_geo(uint32_t node, uint16_t qtype, std::span<const uint32_t> per_region);

    // Maps a prefix to a region. More specific prefixes win over less specific ones;
    // overrides win over every ordinary prefix, whatever their length.
    void add_geo_prefix(const base::IpPrefix& prefix, uint16_t region, bool override_db = false);

    // Lays out, checksums and self-validates the image.
    [[nodiscard]] std::vector<uint8_t> finish(uint64_t serial, uint64_t build_time) const;

  private:
    struct NodeDraft {
        std::vector<uint8_t> name;
        std::map<uint16_t, std::vector<uint32_t>> entries;  // size 1 = static
    };
    struct ZoneDraft {
        std::vector<uint8_t> apex;
        uint32_t node;
        uint32_t soa;
    };
    struct GeoPrefix {
        base::IpPrefix prefix;
        uint16_t region;
        bool override_db;
    };

    void check_rrset_for(uint16_t qtype, uint32_t rrset) const;

    std::vector<format::Region> regions_;
    std::vector<format::RRset> rrsets_;
    std::vector<format::Draw4> draw4_;
    std::vector<uint64_t> cum4_;
    std::vector<format::Draw6> draw6_;
    std::vector<uint64_t> cum6_;
    std::vector<format::RdataRef> rdata_index_;
    std::vector<uint8_t> rdata_;
    std::vector<NodeDraft> nodes_;
    // Keyed by the folded wire name as bytes in a string (std::map over vector<uint8_t>
    // trips a GCC 12 -Wstringop-overread false positive).
    std::map<std::string, uint32_t, std::less<>> node_by_name_;
    std::vector<ZoneDraft> zones_;
    std::vector<GeoPrefix> geo_;
};

}  // namespace pooledge::image
