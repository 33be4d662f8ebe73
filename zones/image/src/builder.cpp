#include "pooledge/image/builder.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/dns/rdata.hpp"
#include "pooledge/image/geo.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::image {

using namespace format;

namespace {

[[noreturn]] void bad(const std::string& what) {
    throw std::invalid_argument(what);
}

// Largest single weight: netspeeds are kbit/s, so 2^40 is a petabit; the cap keeps the
// running sums of even 600k servers far below 2^62.
constexpr uint64_t kMaxWeight = uint64_t{1} << 40;

template <typename T>
void append(std::vector<uint8_t>& out, std::span<const T> items) {
    const auto* p = reinterpret_cast<const uint8_t*>(items.data());
    out.insert(out.end(), p, p + items.size_bytes());
}

// A partition of one family's address space into ranges of one region each. Painting a
// prefix cuts its range out of whatever it covers; painting less specific prefixes first lets
// more specific ones win.
template <typename Key>
class Partition {
  public:
    explicit Partition(unsigned bits) : bits_(bits) { part_[Key{0}] = 0; }

    void paint(const base::IpPrefix& prefix, uint16_t region) {
        Key start = 0;
        for (unsigned i = 0; i < bits_ / 8; ++i) {
            start = static_cast<Key>(start << 8 | prefix.addr.bytes[i]);
        }
        const Key max = static_cast<Key>(~Key{0});
        const Key host_bits =
            prefix.len == 0 ? max : static_cast<Key>((Key{1} << (bits_ - prefix.len)) - 1);
        const Key end = static_cast<Key>(start | host_bits);
        if (end != max) {
            // The range after the prefix keeps the region it had.
            const auto after = std::prev(part_.upper_bound(static_cast<Key>(end + 1)));
            part_.emplace(static_cast<Key>(end + 1), after->second);
        }
        part_.erase(part_.lower_bound(start), part_.upper_bound(end));
        part_[start] = region;
    }

    void paint_all(std::vector<std::pair<base::IpPrefix, uint16_t>> prefixes) {
        std::stable_sort(prefixes.begin(), prefixes.end(),
                         [](const auto& x, const auto& y) { return x.first.len < y.first.len; });
        for (const auto& [prefix, region] : prefixes) {
            paint(prefix, region);
        }
    }

    // Ranges in ascending order, neighbours of the same region merged, so that each range
    // is as large as the answer it leads to (the ECS scope depends on it).
    [[nodiscard]] std::vector<std::pair<Key, uint16_t>> ranges() const {
        std::vector<std::pair<Key, uint16_t>> out;
        for (const auto& kv : part_) {
            if (out.empty() || out.back().second != kv.second) {
                out.emplace_back(kv.first, kv.second);
            }
        }
        return out;
    }

  private:
    unsigned bits_;
    std::map<Key, uint16_t> part_;
};

}  // namespace

ImageBuilder::ImageBuilder() {
    regions_.push_back(Region{0, 0, {}});
}

uint16_t ImageBuilder::add_region(std::string_view name, uint16_t parent) {
    if (name.empty() || name.size() > kRegionNameMax) {
        bad("region name '" + std::string(name) + "' is empty or longer than " +
            std::to_string(kRegionNameMax));
    }
    if (parent >= regions_.size() || regions_.size() >= 0xFFFF) {
        bad("region '" + std::string(name) + "' has an unknown parent or there are too many");
    }
    Region r{parent, static_cast<uint8_t>(name.size()), {}};
    std::memcpy(r.name.data(), name.data(), name.size());
    regions_.push_back(r);
    return static_cast<uint16_t>(regions_.size() - 1);
}

uint32_t ImageBuilder::add_address_set(uint16_t type, uint32_t ttl, uint16_t max_hosts,
                                       std::span<const WeightedAddress> addrs) {
    const uint8_t family = type == dns::rrtype::A ? 4 : type == dns::rrtype::AAAA ? 6 : 0;
    if (family == 0) {
        bad("address sets are A or AAAA, not type " + std::to_string(type));
    }
    if (max_hosts == 0 || max_hosts > kMaxHostsLimit) {
        bad("max_hosts " + std::to_string(max_hosts) + " is outside 1.." +
            std::to_string(kMaxHostsLimit));
    }
    const bool all_zero = std::all_of(addrs.begin(), addrs.end(),
                                      [](const WeightedAddress& w) { return w.weight == 0; });
    RRset rs{type, max_hosts, ttl, 0, 0};
    rs.first = static_cast<uint32_t>(family == 4 ? draw4_.size() : draw6_.size());
    uint64_t sum = 0;
    std::vector<uint64_t> kept;
    std::vector<const base::IpAddress*> order;  // the hosts in the set's order
    // Weighted addresses first, then those of weight 0: the engine draws by weight and, as
    // geodns does, fills the slots left over from the weight-0 tail (FORMAT.md 5.5).
    for (const bool weighted_pass : {true, false}) {
        for (const WeightedAddress& w : addrs) {
            if (w.addr.family != family) {
                bad("address " + w.addr.to_string() + " is not IPv" + std::to_string(family));
            }
            if (w.weight > kMaxWeight) {
                bad("weight of " + w.addr.to_string() + " exceeds 2^40");
            }
            const uint64_t weight = all_zero ? 1 : w.weight;
            if ((weight != 0) != weighted_pass) {
                continue;
            }
            sum += weight;
            kept.push_back(weight);
            order.push_back(&w.addr);
            (family == 4 ? cum4_ : cum6_).push_back(sum);
            ++rs.count;
        }
    }
    if (rs.count == 0) {
        bad("an address set needs at least one address");
    }
    // Each host's record carries its own address and its alias's, so a draw reads one record.
    const auto alias = build_alias_table(kept);
    for (size_t i = 0; i < alias.size(); ++i) {
        const base::IpAddress& self = *order[i];
        const base::IpAddress& other = *order[alias[i].alias];
        if (family == 4) {
            format::Draw4 d{};
            d.keep = alias[i].keep;
            d.alias = alias[i].alias;
            std::copy_n(self.bytes.begin(), 4, d.addr.begin());
            std::copy_n(other.bytes.begin(), 4, d.alias_addr.begin());
            draw4_.push_back(d);
        } else {
            format::Draw6 d{};
            d.keep = alias[i].keep;
            d.alias = alias[i].alias;
            d.addr = self.bytes;
            d.alias_addr = other.bytes;
            draw6_.push_back(d);
        }
    }
    rrsets_.push_back(rs);
    return static_cast<uint32_t>(rrsets_.size());
}

uint32_t ImageBuilder::add_rrset(uint16_t type, uint32_t ttl,
                                 const std::vector<std::vector<uint8_t>>& rdata) {
    if (rdata.empty()) {
        bad("an rrset needs at least one record");
    }
    RRset rs{type, 0, ttl, static_cast<uint32_t>(rdata_index_.size()),
             static_cast<uint32_t>(rdata.size())};
    for (const auto& rd : rdata) {
        if (rd.size() > 0xFFFF || !dns::rdata_is_valid(type, rd)) {
            bad("malformed rdata for type " + std::to_string(type));
        }
        rdata_index_.push_back(
            RdataRef{static_cast<uint32_t>(rdata_.size()), static_cast<uint16_t>(rd.size()), 0});
        rdata_.insert(rdata_.end(), rd.begin(), rd.end());
    }
    rrsets_.push_back(rs);
    return static_cast<uint32_t>(rrsets_.size());
}

uint32_t ImageBuilder::add_zone(std::span<const uint8_t> apex, uint32_t soa_rrset) {
    if (!dns::is_valid_wire_name(apex)) {
        bad("zone apex is not a valid name");
    }
    if (soa_rrset == 0 || soa_rrset > rrsets_.size() ||
        rrsets_[soa_rrset - 1].type != dns::rrtype::SOA || rrsets_[soa_rrset - 1].count != 1) {
        bad("zone " + dns::name_to_text(apex) + " needs exactly one SOA record");
    }
    if (zones_.size() >= 0x7FFF) {
        bad("too many zones: zone indexes are 15 bits");
    }
    std::vector<uint8_t> folded(apex.begin(), apex.end());
    dns::fold_name(folded);
    for (const auto& z : zones_) {
        if (z.apex == folded) {
            bad("zone " + dns::name_to_text(apex) + " is defined twice");
        }
    }
    // A name added before its zone (an inner zone after names of the outer one) becomes the
    // apex: finish() assigns every node to the innermost zone holding it.
    const std::string key(folded.begin(), folded.end());
    uint32_t node = 0;
    if (auto it = node_by_name_.find(key); it != node_by_name_.end()) {
        node = it->second;
    } else {
        node = static_cast<uint32_t>(nodes_.size());
        nodes_.push_back(NodeDraft{folded, {}});
        node_by_name_.emplace(key, node);
    }
    zones_.push_back(ZoneDraft{folded, node, soa_rrset});
    set_static(node, dns::rrtype::SOA, soa_rrset);
    return static_cast<uint32_t>(zones_.size() - 1);
}

uint32_t ImageBuilder::add_node(std::span<const uint8_t> name) {
    if (!dns::is_valid_wire_name(name)) {
        bad("node name is not a valid name");
    }
    std::vector<uint8_t> folded(name.begin(), name.end());
    dns::fold_name(folded);
    const std::string key(folded.begin(), folded.end());
    if (auto it = node_by_name_.find(key); it != node_by_name_.end()) {
        return it->second;
    }
    const bool inside = std::any_of(zones_.begin(), zones_.end(), [&](const ZoneDraft& z) {
        return dns::name_is_subdomain(folded, z.apex);
    });
    if (!inside) {
        bad("name " + dns::name_to_text(name) + " is outside every zone");
    }
    const auto id = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(NodeDraft{folded, {}});
    node_by_name_.emplace(key, id);
    // Parents exist too, so that they answer NODATA rather than NXDOMAIN (RFC 8020).
    const std::span<const uint8_t> parent(folded.data() + 1 + folded[0],
                                          folded.size() - 1 - folded[0]);
    if (parent.size() > 1) {
        const bool in_some_zone =
            std::any_of(zones_.begin(), zones_.end(),
                        [&](const ZoneDraft& z) { return dns::name_is_subdomain(parent, z.apex); });
        if (in_some_zone) {
            add_node(parent);
        }
    }
    return id;
}

void ImageBuilder::check_rrset_for(uint16_t qtype, uint32_t rrset) const {
    if (rrset > rrsets_.size()) {
        bad("unknown rrset id " + std::to_string(rrset));
    }
    if (rrset != 0 && rrsets_[rrset - 1].type != qtype &&
        rrsets_[rrset - 1].type != dns::rrtype::CNAME) {
        bad("rrset of type " + std::to_string(rrsets_[rrset - 1].type) + " cannot answer type " +
            std::to_string(qtype));
    }
}

void ImageBuilder::set_static(uint32_t node, uint16_t qtype, uint32_t rrset) {
    if (node >= nodes_.size() || rrset == 0) {
        bad("set_static: unknown node or empty rrset");
    }
    check_rrset_for(qtype, rrset);
    nodes_[node].entries[qtype] = {rrset};
}

void ImageBuilder::set_geo(uint32_t node, uint16_t qtype, std::span<const uint32_t> per_region) {
    if (node >= nodes_.size() || per_region.size() != regions_.size()) {
        bad("set_geo: unknown node or not one rrset per region");
    }
    for (const uint32_t id : per_region) {
        check_rrset_for(qtype, id);
    }
    auto& entry = nodes_[node].entries[qtype];
    if (std::all_of(per_region.begin(), per_region.end(),
                    [&](uint32_t id) { return id == per_region[0]; })) {
        if (per_region[0] == 0) {
            nodes_[node].entries.erase(qtype);
        } else {
            entry = {per_region[0]};
        }
        return;
    }
    entry.assign(per_region.begin(), per_region.end());
}

void ImageBuilder::add_geo_prefix(const base::IpPrefix& prefix, uint16_t region, bool override_db) {
    if (region >= regions_.size()) {
        bad("prefix " + prefix.to_string() + " maps to an unknown region");
    }
    if (prefix.addr.family != 4 && prefix.addr.family != 6) {
        bad("geo prefix without an address family");
    }
    // Prefixes made by hand (not by base::IpPrefix::parse) get the same checks.
    const unsigned max = prefix.addr.family == 4 ? 32 : 128;
    bool host_bits = false;
    for (unsigned bit = prefix.len; bit < max; ++bit) {
        host_bits |= ((prefix.addr.bytes[bit / 8] >> (7 - bit % 8)) & 1) != 0;
    }
    if (prefix.len > max || host_bits) {
        bad("geo prefix " + prefix.to_string() + " is not a prefix (length or host bits)");
    }
    geo_.push_back(GeoPrefix{prefix, region, override_db});
}

std::vector<uint8_t> ImageBuilder::finish(uint64_t serial, uint64_t build_time) const {
    if (zones_.empty()) {
        bad("an image needs at least one zone");
    }
    // Zones innermost first; nodes learn the innermost zone that holds them.
    std::vector<uint32_t> zone_order(zones_.size());
    for (uint32_t i = 0; i < zone_order.size(); ++i) {
        zone_order[i] = i;
    }
    std::stable_sort(zone_order.begin(), zone_order.end(), [&](uint32_t a, uint32_t b) {
        return zones_[a].apex.size() > zones_[b].apex.size();
    });

    std::vector<uint8_t> names;
    std::vector<Node> nodes;
    std::vector<Entry> entries;
    std::vector<uint32_t> dispatch;
    std::map<std::vector<uint32_t>, uint32_t> dispatch_seen;
    for (const NodeDraft& d : nodes_) {
        Node n{static_cast<uint32_t>(names.size()),   static_cast<uint8_t>(d.name.size()),    0, 0,
               static_cast<uint32_t>(entries.size()), static_cast<uint32_t>(d.entries.size())};
        names.insert(names.end(), d.name.begin(), d.name.end());
        for (size_t z = 0; z < zone_order.size(); ++z) {
            const ZoneDraft& zone = zones_[zone_order[z]];
            if (dns::name_is_subdomain(d.name, zone.apex)) {
                n.zone = static_cast<uint16_t>(z);
                n.flags = zone.apex == d.name ? kNodeApex : 0;
                break;
            }
        }
        for (const auto& [qtype, refs] : d.entries) {
            if (refs.size() == 1) {
                entries.push_back(Entry{qtype, EntryKind::Static, refs[0]});
                continue;
            }
            auto [it, fresh] = dispatch_seen.emplace(refs, static_cast<uint32_t>(dispatch.size()));
            if (fresh) {
                dispatch.insert(dispatch.end(), refs.begin(), refs.end());
            }
            entries.push_back(Entry{qtype, EntryKind::Geo, it->second});
        }
        nodes.push_back(n);
    }
    std::vector<Zone> zones;
    for (const uint32_t z : zone_order) {
        zones.push_back(Zone{zones_[z].node, zones_[z].soa});
    }

    // Name index: at most half full, so probe sequences stay short; the longest one is
    // recorded and is all a lookup will ever walk.
    size_t slots = 8;
    while (slots < nodes.size() * 2) {
        slots *= 2;
    }
    std::vector<IndexSlot> index(slots, IndexSlot{0, 0});
    uint32_t max_probe = 0;
    for (uint32_t i = 0; i < nodes.size(); ++i) {
        const uint64_t h = dns::name_hash(nodes_[i].name);
        size_t slot = h & (slots - 1);
        uint32_t probe = 0;
        while (index[slot].node_plus_one != 0) {
            slot = (slot + 1) & (slots - 1);
            ++probe;
        }
        index[slot] = IndexSlot{static_cast<uint32_t>(h >> 32), i + 1};
        max_probe = std::max(max_probe, probe);
    }

    // Geo tables: database prefixes first, overrides painted over them.
    std::vector<std::pair<base::IpPrefix, uint16_t>> db4, db6, over4, over6;
    for (const GeoPrefix& g : geo_) {
        auto& list = g.prefix.addr.family == 4 ? (g.override_db ? over4 : db4)
                                               : (g.override_db ? over6 : db6);
        list.emplace_back(g.prefix, g.region);
    }
    Partition<uint32_t> part4(32);
    part4.paint_all(std::move(db4));
    part4.paint_all(std::move(over4));
    Partition<u128> part6(128);
    part6.paint_all(std::move(db6));
    part6.paint_all(std::move(over6));
    const auto ranges4 = part4.ranges();
    const auto ranges6 = part6.ranges();
    std::vector<uint32_t> geo4_start;
    std::vector<uint16_t> geo4_region;
    for (const auto& [start, region] : ranges4) {
        geo4_start.push_back(start);
        geo4_region.push_back(region);
    }
    std::vector<Geo6Key> geo6_start;
    std::vector<uint16_t> geo6_region;
    for (const auto& [start, region] : ranges6) {
        geo6_start.push_back(
            Geo6Key{static_cast<uint64_t>(start >> 64), static_cast<uint64_t>(start)});
        geo6_region.push_back(region);
    }

    // Lay out: header, then each section at a cache-line boundary.
    Header h{};
    h.magic = kMagic;
    h.version = kImageVersion;
    h.header_size = sizeof(Header);
    h.serial = serial;
    h.build_time = build_time;
    h.section_count = kSectionCount;
    h.region_count = static_cast<uint32_t>(regions_.size());
    h.zone_count = static_cast<uint32_t>(zones.size());
    h.max_probe = max_probe;
    std::vector<uint8_t> out(sizeof(Header), 0);
    auto place = [&](Section s, auto items) {
        out.resize((out.size() + kSectionAlign - 1) / kSectionAlign * kSectionAlign, 0);
        h.sections[static_cast<size_t>(s)] = SectionRef{out.size(), items.size_bytes()};
        append(out, items);
    };
    place(Section::Names, std::span<const uint8_t>(names));
    place(Section::NameIndex, std::span<const IndexSlot>(index));
    place(Section::Nodes, std::span<const Node>(nodes));
    place(Section::Entries, std::span<const Entry>(entries));
    place(Section::Dispatch, std::span<const uint32_t>(dispatch));
    place(Section::RRsets, std::span<const RRset>(rrsets_));
    place(Section::RdataIndex, std::span<const RdataRef>(rdata_index_));
    place(Section::Rdata, std::span<const uint8_t>(rdata_));
    place(Section::Draw4, std::span<const format::Draw4>(draw4_));
    place(Section::Cum4, std::span<const uint64_t>(cum4_));
    place(Section::Draw6, std::span<const format::Draw6>(draw6_));
    place(Section::Cum6, std::span<const uint64_t>(cum6_));
    place(Section::Regions, std::span<const Region>(regions_));
    place(Section::Zones, std::span<const Zone>(zones));
    place(Section::Geo4Start, std::span<const uint32_t>(geo4_start));
    place(Section::Geo4Region, std::span<const uint16_t>(geo4_region));
    place(Section::Geo6Start, std::span<const Geo6Key>(geo6_start));
    place(Section::Geo6Region, std::span<const uint16_t>(geo6_region));
    out.resize((out.size() + 7) / 8 * 8, 0);
    h.total_size = out.size();
    std::memcpy(out.data(), &h, sizeof h);
    if (!seal_image_checksum(out)) {
        throw std::runtime_error("cannot compute the image checksum (OpenSSL failed)");
    }

    std::string why;
    if (!ImageView::load(out, &why)) {
        throw std::logic_error("built image fails validation: " + why);
    }
    return out;
}

}  // namespace pooledge::image
