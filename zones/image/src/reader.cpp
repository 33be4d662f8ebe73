#include "pooledge/image/reader.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/dns/rdata.hpp"
#include "pooledge/image/geo.hpp"
#include "pooledge/image/geo_index.hpp"

namespace pooledge::image {

using namespace format;

std::optional<std::array<uint8_t, 32>> image_checksum(std::span<const uint8_t> image) {
    if (image.size() < sizeof(Header)) {
        return std::nullopt;
    }
    Header h;
    std::memcpy(&h, image.data(), sizeof h);
    h.checksum = {};
    h.sig_alg = SigAlg::None;
    h.reserved0 = 0;
    h.key_id = {};
    h.signature = {};
    std::array<uint8_t, 32> out{};
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, &h, sizeof h) == 1 &&
                    EVP_DigestUpdate(ctx, image.data() + sizeof h, image.size() - sizeof h) == 1 &&
                    EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

bool seal_image_checksum(std::span<uint8_t> image) {
    const auto sum = image_checksum(image);
    if (!sum) {
        return false;
    }
    std::memcpy(image.data() + offsetof(Header, checksum), sum->data(), sum->size());
    return true;
}

namespace {

// Collects the first failure; every check after it is skipped by the caller's early return.
struct Checker {
    std::string& why;
    bool fail(std::string_view what) {
        why = what;
        return false;
    }
};

template <typename T>
std::span<const T> typed(std::span<const uint8_t> bytes, const SectionRef& ref) noexcept {
    return {reinterpret_cast<const T*>(bytes.data() + ref.offset), ref.size / sizeof(T)};
}

constexpr std::string_view kSectionNames[kSectionCount] = {
    "names",       "name index", "nodes",      "entries",     "dispatch",   "rrsets",
    "rdata index", "rdata",      "draw4",      "cum4",        "draw6",      "cum6",
    "regions",     "zones",      "geo4 start", "geo4 region", "geo6 start", "geo6 region"};

constexpr size_t kElemSize[kSectionCount] = {1,
                                             sizeof(IndexSlot),
                                             sizeof(Node),
                                             sizeof(Entry),
                                             4,
                                             sizeof(RRset),
                                             sizeof(RdataRef),
                                             1,
                                             sizeof(Draw4),
                                             8,
                                             sizeof(Draw6),
                                             8,
                                             sizeof(Region),
                                             sizeof(Zone),
                                             4,
                                             2,
                                             sizeof(Geo6Key),
                                             2};

// An address set's alias columns point inside the set, and each carries its alias's address
// (what a draw answers without reading the alias's record).
template <typename Draw>
bool check_draws(std::span<const Draw> set, std::string_view where, std::string& why) {
    for (const Draw& d : set) {
        if (d.alias >= set.size()) {
            return Checker{why}.fail(std::string(where) + ": alias table points outside its set");
        }
        if (d.alias_addr != set[d.alias].addr) {
            return Checker{why}.fail(std::string(where) +
                                     ": an alias address differs from its host's address");
        }
    }
    return true;
}

// Checks one geo table: ranges start at 0, ascend strictly and name known regions (what
// the lookups and GeoIndex::build rely on).
template <typename Key, typename ToU128>
bool check_geo(std::span<const Key> start, std::span<const uint16_t> region, size_t region_count,
               ToU128 to_u128, std::string_view fam, std::string& why) {
    Checker c{why};
    if (start.empty() || start.size() != region.size()) {
        return c.fail(std::string(fam) + " geo table: range and region counts differ or are 0");
    }
    if (start.size() > UINT32_MAX) {
        return c.fail(std::string(fam) + " geo table has more than 2^32 ranges");
    }
    if (to_u128(start[0]) != 0) {
        return c.fail(std::string(fam) + " geo table does not start at address 0");
    }
    for (size_t i = 0; i < start.size(); ++i) {
        if (i > 0 && !(to_u128(start[i - 1]) < to_u128(start[i]))) {
            return c.fail(std::string(fam) + " geo ranges are not strictly ascending");
        }
        if (region[i] >= region_count) {
            return c.fail(std::string(fam) + " geo range names an unknown region");
        }
    }
    return true;
}

}  // namespace

std::optional<ImageView> ImageView::load(std::span<const uint8_t> bytes, std::string* why,
                                         LoadFailure* failure) {
    ImageView view;
    std::string reason;
    view.bytes_ = bytes;
    bool bad_checksum = false;
    if (!view.validate(reason, bad_checksum)) {
        if (why != nullptr) {
            *why = std::move(reason);
        }
        if (failure != nullptr) {
            *failure = bad_checksum ? LoadFailure::Checksum : LoadFailure::Invalid;
        }
        return std::nullopt;
    }
    if (failure != nullptr) {
        *failure = LoadFailure::None;
    }
    return view;
}

namespace {

// `s` as it sits in a copy of the buffer that starts at `to` instead of `from`.
template <typename T>
std::span<const T> shifted(std::span<const T> s, const uint8_t* from, const uint8_t* to) {
    if (s.data() == nullptr) {
        return s;
    }
    const auto offset = reinterpret_cast<const uint8_t*>(s.data()) - from;
    return {reinterpret_cast<const T*>(to + offset), s.size()};
}

}  // namespace

std::optional<ImageView> ImageView::moved_to(std::span<const uint8_t> copy) const noexcept {
    if (geo_index_ != nullptr || copy.size() != bytes_.size() ||
        reinterpret_cast<uintptr_t>(copy.data()) % 8 != 0) {
        return std::nullopt;
    }
    const uint8_t* from = bytes_.data();
    const uint8_t* to = copy.data();
    ImageView v = *this;
    v.bytes_ = copy;
    v.header_ = reinterpret_cast<const format::Header*>(to);
    v.names_ = shifted(names_, from, to);
    v.index_ = shifted(index_, from, to);
    v.nodes_ = shifted(nodes_, from, to);
    v.entries_ = shifted(entries_, from, to);
    v.dispatch_ = shifted(dispatch_, from, to);
    v.rrsets_ = shifted(rrsets_, from, to);
    v.rdata_index_ = shifted(rdata_index_, from, to);
    v.rdata_ = shifted(rdata_, from, to);
    v.draw4_ = shifted(draw4_, from, to);
    v.cum4_ = shifted(cum4_, from, to);
    v.draw6_ = shifted(draw6_, from, to);
    v.cum6_ = shifted(cum6_, from, to);
    v.regions_ = shifted(regions_, from, to);
    v.zones_ = shifted(zones_, from, to);
    v.geo4_start_ = shifted(geo4_start_, from, to);
    v.geo4_region_ = shifted(geo4_region_, from, to);
    v.geo6_start_ = shifted(geo6_start_, from, to);
    v.geo6_region_ = shifted(geo6_region_, from, to);
    return v;
}

bool ImageView::validate(std::string& why, bool& bad_checksum) {
    Checker c{why};
    if (reinterpret_cast<uintptr_t>(bytes_.data()) % 8 != 0) {
        return c.fail("image buffer is not 8-byte aligned");
    }
    if (bytes_.size() < sizeof(Header)) {
        return c.fail("image truncated: shorter than its header");
    }
    header_ = reinterpret_cast<const Header*>(bytes_.data());
    const Header& h = *header_;
    if (h.magic != kMagic) {
        return c.fail("not a pooledge image (bad magic)");
    }
    if (h.version != kImageVersion) {
        return c.fail("unsupported image format version " + std::to_string(h.version) +
                      " (this reader reads version " + std::to_string(kImageVersion) + ": " +
                      (h.version < kImageVersion ? "the image comes from an older control plane; "
                                                   "upgrade the control plane first"
                                                 : "the image comes from a newer control plane; "
                                                   "upgrade this reader") +
                      ", zones/image/FORMAT.md section 11)");
    }
    if (h.header_size != sizeof(Header) || h.section_count != kSectionCount) {
        return c.fail("header or section table size does not match this format version");
    }
    if (h.total_size != bytes_.size()) {
        return c.fail("image size " + std::to_string(bytes_.size()) + " differs from header's " +
                      std::to_string(h.total_size) + " (truncated or padded)");
    }
    const auto sum = image_checksum(bytes_);
    if (!sum) {
        return c.fail("cannot compute the image checksum (OpenSSL failed)");
    }
    if (*sum != h.checksum) {
        bad_checksum = true;
        return c.fail("checksum mismatch (corrupted image)");
    }
    if (h.sig_alg != SigAlg::None && h.sig_alg != SigAlg::Ed25519) {
        return c.fail("unknown signature algorithm " +
                      std::to_string(static_cast<uint32_t>(h.sig_alg)));
    }
    // Outside both the checksum and the signature: anything but the 0 the writer puts there
    // is a forgery or a format this reader does not know.
    if (h.reserved0 != 0) {
        return c.fail("reserved header field is " + std::to_string(h.reserved0) + ", not 0");
    }
    for (size_t s = 0; s < kSectionCount; ++s) {
        const SectionRef& ref = h.sections[s];
        const std::string name(kSectionNames[s]);
        if (ref.offset < sizeof(Header) || ref.offset % 8 != 0 || ref.offset > h.total_size ||
            ref.size > h.total_size - ref.offset) {
            return c.fail("section '" + name + "' lies outside the image or is misaligned");
        }
        if (ref.size % kElemSize[s] != 0) {
            return c.fail("section '" + name + "' size is not a whole number of records");
        }
    }
    auto sec = [&](Section s) -> const SectionRef& { return h.sections[static_cast<size_t>(s)]; };
    names_ = typed<uint8_t>(bytes_, sec(Section::Names));
    index_ = typed<IndexSlot>(bytes_, sec(Section::NameIndex));
    nodes_ = typed<Node>(bytes_, sec(Section::Nodes));
    entries_ = typed<Entry>(bytes_, sec(Section::Entries));
    dispatch_ = typed<uint32_t>(bytes_, sec(Section::Dispatch));
    rrsets_ = typed<RRset>(bytes_, sec(Section::RRsets));
    rdata_index_ = typed<RdataRef>(bytes_, sec(Section::RdataIndex));
    rdata_ = typed<uint8_t>(bytes_, sec(Section::Rdata));
    draw4_ = typed<Draw4>(bytes_, sec(Section::Draw4));
    cum4_ = typed<uint64_t>(bytes_, sec(Section::Cum4));
    draw6_ = typed<Draw6>(bytes_, sec(Section::Draw6));
    cum6_ = typed<uint64_t>(bytes_, sec(Section::Cum6));
    regions_ = typed<Region>(bytes_, sec(Section::Regions));
    zones_ = typed<Zone>(bytes_, sec(Section::Zones));
    geo4_start_ = typed<uint32_t>(bytes_, sec(Section::Geo4Start));
    geo4_region_ = typed<uint16_t>(bytes_, sec(Section::Geo4Region));
    geo6_start_ = typed<Geo6Key>(bytes_, sec(Section::Geo6Start));
    geo6_region_ = typed<uint16_t>(bytes_, sec(Section::Geo6Region));

    // Regions: region 0 is the world; parents precede children, so chains end.
    if (regions_.empty() || regions_.size() != h.region_count || regions_.size() > 0xFFFF) {
        return c.fail("region table is empty or disagrees with the header's count");
    }
    for (size_t i = 0; i < regions_.size(); ++i) {
        const Region& r = regions_[i];
        if (r.name_len > kRegionNameMax || (i > 0 && r.parent >= i) || (i == 0 && r.parent != 0)) {
            return c.fail("region " + std::to_string(i) + " has a bad name or parent");
        }
    }

    // RRsets and their data.
    if (cum4_.size() != draw4_.size() || cum6_.size() != draw6_.size()) {
        return c.fail("address and weight tables differ in length");
    }
    for (size_t i = 0; i < rrsets_.size(); ++i) {
        const RRset& rs = rrsets_[i];
        const std::string where = "rrset " + std::to_string(i + 1);
        if (rs.count == 0) {
            return c.fail(where + " is empty");
        }
        if (rs.type == dns::rrtype::A || rs.type == dns::rrtype::AAAA) {
            const auto cum = rs.type == dns::rrtype::A ? cum4_ : cum6_;
            if (rs.first > cum.size() || rs.count > cum.size() - rs.first) {
                return c.fail(where + ": addresses out of bounds");
            }
            if (rs.max_hosts == 0 || rs.max_hosts > kMaxHostsLimit) {
                return c.fail(where + ": max_hosts outside 1.." + std::to_string(kMaxHostsLimit));
            }
            const auto w = cum.subspan(rs.first, rs.count);
            if (!std::is_sorted(w.begin(), w.end()) || w.back() == 0 ||
                w.back() > (uint64_t{1} << 62)) {
                return c.fail(where + ": weights are not running sums of a positive total");
            }
            if (!(rs.type == dns::rrtype::A
                      ? check_draws(draw4_.subspan(rs.first, rs.count), where, why)
                      : check_draws(draw6_.subspan(rs.first, rs.count), where, why))) {
                return false;
            }
            continue;
        }
        if (rs.first > rdata_index_.size() || rs.count > rdata_index_.size() - rs.first) {
            return c.fail(where + ": rdata out of bounds");
        }
        for (uint32_t j = 0; j < rs.count; ++j) {
            const RdataRef& ref = rdata_index_[rs.first + j];
            if (ref.offset > rdata_.size() || ref.length > rdata_.size() - ref.offset) {
                return c.fail(where + ": rdata record out of bounds");
            }
            if (!dns::rdata_is_valid(rs.type, rdata_.subspan(ref.offset, ref.length))) {
                return c.fail(where + ": malformed rdata for type " + std::to_string(rs.type));
            }
        }
    }

    // Node names first: everything below reads them (a zone its apex's, a node its zone's).
    for (size_t n = 0; n < nodes_.size(); ++n) {
        const Node& node = nodes_[n];
        if (node.name_off > names_.size() || node.name_len > names_.size() - node.name_off ||
            !dns::is_valid_wire_name(node_name(node))) {
            return c.fail("node " + std::to_string(n) + ": bad name");
        }
        const auto name = node_name(node);
        if (std::any_of(name.begin(), name.end(),
                        [](uint8_t b) { return dns::fold_byte(b) != b; })) {
            return c.fail("node " + std::to_string(n) +
                          ": name is not case-folded (lookups would miss it)");
        }
    }

    // Zones, innermost (longest apex) first so find_zone() can stop at the first match.
    if (zones_.empty() || zones_.size() != h.zone_count) {
        return c.fail("zone table is empty or disagrees with the header's count");
    }
    for (size_t z = 0; z < zones_.size(); ++z) {
        const Zone& zone = zones_[z];
        if (zone.apex_node >= nodes_.size() || zone.soa_rrset == 0 ||
            zone.soa_rrset > rrsets_.size() || rrset(zone.soa_rrset).type != dns::rrtype::SOA ||
            rrset(zone.soa_rrset).count != 1) {
            return c.fail("zone " + std::to_string(z) + " has a bad apex node or SOA");
        }
        const Node& apex = nodes_[zone.apex_node];
        if (apex.zone != z || (apex.flags & kNodeApex) == 0) {
            return c.fail("zone " + std::to_string(z) + " apex node does not point back");
        }
        if (z > 0 && nodes_[zones_[z - 1].apex_node].name_len < apex.name_len) {
            return c.fail("zones are not ordered innermost first");
        }
    }

    // Nodes: inside their zone, entries in bounds and well-typed (names were checked above).
    for (size_t n = 0; n < nodes_.size(); ++n) {
        const Node& node = nodes_[n];
        const std::string where = "node " + std::to_string(n);
        if (node.zone >= zones_.size() ||
            !dns::name_is_subdomain(node_name(node),
                                    node_name(nodes_[zones_[node.zone].apex_node]))) {
            return c.fail(where + ": not inside its zone");
        }
        if (node.first_entry > entries_.size() ||
            node.entry_count > entries_.size() - node.first_entry) {
            return c.fail(where + ": entries out of bounds");
        }
        for (const Entry& e : entries(node)) {
            auto fits = [&](uint32_t id) {
                return id == 0 || (id <= rrsets_.size() && (rrset(id).type == e.qtype ||
                                                            rrset(id).type == dns::rrtype::CNAME));
            };
            if (e.kind == EntryKind::Static) {
                if (e.ref == 0 || !fits(e.ref)) {
                    return c.fail(where + ": static entry names a bad rrset");
                }
            } else if (e.kind == EntryKind::Geo) {
                if (e.ref > dispatch_.size() || regions_.size() > dispatch_.size() - e.ref) {
                    return c.fail(where + ": geo entry out of bounds");
                }
                for (size_t r = 0; r < regions_.size(); ++r) {
                    if (!fits(dispatch_[e.ref + r])) {
                        return c.fail(where + ": geo entry names a bad rrset");
                    }
                }
            } else {
                return c.fail(where + ": unknown entry kind");
            }
        }
    }

    // Name index: power-of-two size, slots in bounds, and every node findable within
    // max_probe steps (this also proves the probe bound the fast path relies on).
    if (index_.empty() || (index_.size() & (index_.size() - 1)) != 0 ||
        h.max_probe >= index_.size()) {
        return c.fail("name index size is not a power of two or its probe bound is wrong");
    }
    for (const IndexSlot& slot : index_) {
        if (slot.node_plus_one > nodes_.size()) {
            return c.fail("name index points past the node table");
        }
    }
    for (size_t n = 0; n < nodes_.size(); ++n) {
        dns::Query q;
        const auto name = node_name(nodes_[n]);
        std::memcpy(q.qname.data(), name.data(), name.size());
        q.qname_len = static_cast<uint8_t>(name.size());
        q.qname_hash = dns::name_hash(name);
        if (find_node(q) != &nodes_[n]) {
            return c.fail("node " + std::to_string(n) + " is not reachable through the name index");
        }
    }

    auto u32_key = [](uint32_t v) { return static_cast<unsigned __int128>(v); };
    auto u128_key = [](const Geo6Key& k) {
        return static_cast<unsigned __int128>(k.hi) << 64 | k.lo;
    };
    return check_geo(geo4_start_, geo4_region_, regions_.size(), u32_key, "IPv4", why) &&
           check_geo(geo6_start_, geo6_region_, regions_.size(), u128_key, "IPv6", why);
}

const Node* ImageView::find_node(const dns::Query& q) const noexcept {
    const size_t mask = index_.size() - 1;
    const auto tag = static_cast<uint32_t>(q.qname_hash >> 32);
    size_t slot = q.qname_hash & mask;
    for (uint32_t probe = 0; probe <= header_->max_probe; ++probe) {
        const IndexSlot& s = index_[slot];
        if (s.node_plus_one == 0) {
            return nullptr;
        }
        if (s.tag == tag) {
            const Node& node = nodes_[s.node_plus_one - 1];
            if (node.name_len == q.qname_len &&
                std::memcmp(names_.data() + node.name_off, q.qname.data(), q.qname_len) == 0) {
                return &node;
            }
        }
        slot = (slot + 1) & mask;
    }
    return nullptr;
}

int ImageView::find_zone(const dns::Query& q) const noexcept {
    for (size_t z = 0; z < zones_.size(); ++z) {
        const auto apex = node_name(nodes_[zones_[z].apex_node]);
        if (apex.size() > q.qname_len) {
            continue;
        }
        const size_t off = q.qname_len - apex.size();
        bool boundary = off == 0;
        for (size_t l = 0; l < q.label_count && !boundary; ++l) {
            boundary = q.label_offsets[l] == off;
        }
        if (boundary && std::memcmp(q.qname.data() + off, apex.data(), apex.size()) == 0) {
            return static_cast<int>(z);
        }
    }
    return -1;
}

void ImageView::use_geo_index(std::shared_ptr<const GeoIndex> index) noexcept {
    geo_index_ = std::move(index);
}

GeoMatch ImageView::geo_lookup4(uint32_t addr) const noexcept {
    return geo_index_ ? geo_index_->lookup4(addr) : geo_search4(addr);
}

GeoMatch ImageView::geo_lookup6(uint64_t hi, uint64_t lo) const noexcept {
    return geo_index_ ? geo_index_->lookup6(hi, lo) : geo_search6(hi, lo);
}

GeoMatch ImageView::geo_search4(uint32_t addr) const noexcept {
    return geo_match4(geo4_start_, geo4_region_, 0, geo4_start_.size(), addr);
}

GeoMatch ImageView::geo_search6(uint64_t hi, uint64_t lo) const noexcept {
    return geo_match6(geo6_start_, geo6_region_, 0, geo6_start_.size(), hi, lo);
}

}  // namespace pooledge::image
