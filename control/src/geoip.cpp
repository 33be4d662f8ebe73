#include "pooledge/control/geoip.hpp"

#include <maxminddb.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/regions.hpp"
#include "pooledge/image/countries.hpp"
#include "region_groups.hpp"

namespace pooledge::control {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw base::InputError("geoip", path + ": " + what);
}

struct MmdbCloser {
    void operator()(MMDB_s* db) const noexcept {
        MMDB_close(db);
        delete db;
    }
};

// A dot path split into the NULL-terminated array MMDB_aget_value takes.
struct FieldPath {
    std::vector<std::string> parts;
    std::vector<const char*> argv;
    explicit FieldPath(const std::string& dotted) {
        size_t start = 0;
        for (;;) {
            const size_t dot = dotted.find('.', start);
            parts.push_back(dotted.substr(start, dot - start));
            if (dot == std::string::npos) {
                break;
            }
            start = dot + 1;
        }
        for (const auto& p : parts) {
            argv.push_back(p.c_str());
        }
        argv.push_back(nullptr);
    }
};

// 128-bit prefix bits as two words, most significant first.
struct Bits {
    uint64_t hi = 0;
    uint64_t lo = 0;
    [[nodiscard]] Bits with(unsigned depth, unsigned bit) const {
        Bits b = *this;
        if (bit != 0) {
            if (depth < 64) {
                b.hi |= uint64_t{1} << (63 - depth);
            } else {
                b.lo |= uint64_t{1} << (127 - depth);
            }
        }
        return b;
    }
};

class Walker {
  public:
    Walker(const GeoIpOptions& opts, MMDB_s& db, GeoTable& out) : opts_(opts), db_(db), out_(out) {
        for (const auto& f : opts.country_fields) {
            country_.emplace_back(f);
        }
        for (const auto& f : opts.continent_fields) {
            continent_.emplace_back(f);
        }
        for (const auto& f : opts.subdivision_fields) {
            subdivision_.emplace_back(f);
        }
    }

    void run() {
        const unsigned ip_version = db_.metadata.ip_version;
        if (ip_version == 4) {
            walk(0, 0, Bits{}, 4, 32);
            return;
        }
        if (ip_version != 6) {
            fail(opts_.path, "unsupported ip_version " + std::to_string(ip_version));
        }
        // IPv4 lives under ::/96. Real MaxMind databases also alias it at ::ffff:0:0/96 and
        // 2002::/16 (links back to the same node); walking those would enter every IPv4
        // network three times as IPv6 ranges nobody looks up. So: find the IPv4 root, walk it
        // as IPv4, and skip it wherever else it appears.
        uint64_t node = 0;
        for (unsigned d = 0; d < 96 && node < db_.metadata.node_count; ++d) {
            MMDB_search_node_s n{};
            read(node, n);
            if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
                node = UINT64_MAX;  // no IPv4 subtree (data or empty above ::/96)
                break;
            }
            node = n.left_record;
        }
        ipv4_root_ = node;
        walk(0, 0, Bits{}, 6, 128);
        if (ipv4_root_ != UINT64_MAX) {
            walk(ipv4_root_, 0, Bits{}, 4, 32);
        }
    }

  private:
    void read(uint64_t node, MMDB_search_node_s& n) {
        if (node > UINT32_MAX ||
            MMDB_read_node(&db_, static_cast<uint32_t>(node), &n) != MMDB_SUCCESS) {
            fail(opts_.path, "corrupt search tree (node " + std::to_string(node) + ")");
        }
    }

    void walk(uint64_t root, unsigned root_depth, Bits root_bits, int family, unsigned max_depth) {
        struct Item {
            uint64_t node;
            unsigned depth;
            Bits bits;
        };
        std::vector<Item> stack = {{root, root_depth, root_bits}};
        while (!stack.empty()) {
            const Item it = stack.back();
            stack.pop_back();
            if (++visited_ > 4 * uint64_t{db_.metadata.node_count} + 16) {
                fail(opts_.path, "search tree has cycles or shared subtrees");
            }
            MMDB_search_node_s n{};
            read(it.node, n);
            // Right child first onto the stack, so the walk emits prefixes in address order.
            for (int side = 1; side >= 0; --side) {
                const uint8_t type = side == 0 ? n.left_record_type : n.right_record_type;
                const uint64_t rec = side == 0 ? n.left_record : n.right_record;
                const Bits bits = it.bits.with(it.depth, static_cast<unsigned>(side));
                const unsigned depth = it.depth + 1;
                switch (type) {
                    case MMDB_RECORD_TYPE_SEARCH_NODE:
                        if (depth >= max_depth) {
                            fail(opts_.path, "search tree deeper than the address length");
                        }
                        if (family == 6 && rec == ipv4_root_) {
                            break;  // the IPv4 subtree, or an alias of it: walked as IPv4
                        }
                        stack.push_back({rec, depth, bits});
                        break;
                    case MMDB_RECORD_TYPE_DATA:
                        emit(family, bits, depth,
                             side == 0 ? n.left_record_entry : n.right_record_entry);
                        break;
                    case MMDB_RECORD_TYPE_EMPTY:
                        break;
                    default:
                        fail(opts_.path, "invalid record in the search tree");
                }
            }
        }
    }

    enum class Kind : uint8_t { Subdivision, Country, Continent, Unknown, None };

    // "us" and "CA" -> "us-ca" as geodns names regions, added to the table's regions (with its
    // region group, if any, between it and the country); empty when the code is unusable.
    std::string subdivision_region(const std::string& country, const std::string& code) {
        if (code.empty() || code.size() > 3 ||
            !std::all_of(code.begin(), code.end(),
                         [](unsigned char c) { return std::isalnum(c) != 0; })) {
            return {};
        }
        std::string region = country + "-";
        for (const unsigned char c : code) {
            region.push_back(static_cast<char>(std::tolower(c)));
        }
        if (known_regions_.count(region) == 0) {
            std::string parent = country;
            if (const std::string_view group = region_group_of(region); !group.empty()) {
                parent = std::string(group);
                if (known_regions_.insert(parent).second) {
                    out_.regions.push_back({parent, country, image::RegionKind::RegionGroup});
                }
            }
            known_regions_.insert(region);
            out_.regions.push_back({region, parent, image::RegionKind::Region});
        }
        return region;
    }
    struct Mapping {
        int region = -1;  // index into regions_, -1 = unmapped
        Kind kind = Kind::None;
    };

    // What a data record maps to, cached by its offset: the database has far fewer distinct
    // records than networks.
    Mapping region_of(MMDB_entry_s entry) {
        const auto [it, fresh] = by_offset_.emplace(entry.offset, Mapping{});
        if (!fresh) {
            return it->second;
        }
        std::string country, continent;
        auto first_string = [&entry](std::vector<FieldPath>& fields) -> std::string {
            for (auto& f : fields) {
                MMDB_entry_data_s data{};
                if (MMDB_aget_value(&entry, &data, f.argv.data()) == MMDB_SUCCESS &&
                    data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING) {
                    return std::string(data.utf8_string, data.data_size);
                }
            }
            return {};
        };
        country = first_string(country_);
        continent = first_string(continent_);
        std::string region = country_region(country);
        Kind kind = Kind::Country;
        if (!region.empty() && opts_.subdivisions) {
            if (std::string sub = subdivision_region(region, first_string(subdivision_));
                !sub.empty()) {
                region = std::move(sub);
                kind = Kind::Subdivision;
            }
        }
        if (region.empty()) {
            region = continent_zone(continent);
            kind = !region.empty()                        ? Kind::Continent
                   : country.empty() && continent.empty() ? Kind::None
                                                          : Kind::Unknown;
        }
        it->second.kind = kind;
        if (!region.empty()) {
            const auto [rit, added] = region_ids_.emplace(region, regions_.size());
            if (added) {
                regions_.push_back(region);
            }
            it->second.region = static_cast<int>(rit->second);
        }
        return it->second;
    }

    void emit(int family, Bits bits, unsigned len, MMDB_entry_s entry) {
        ++out_.stats.networks;
        const Mapping m = region_of(entry);
        if (m.region < 0) {
            ++(m.kind == Kind::Unknown ? out_.stats.unknown_country : out_.stats.no_location);
            return;
        }
        ++(m.kind == Kind::Continent ? out_.stats.mapped_continent : out_.stats.mapped_country);
        out_.stats.mapped_subdivision += m.kind == Kind::Subdivision ? 1 : 0;
        image::GeoPrefixModel p;
        p.prefix.len = static_cast<uint8_t>(len);
        p.prefix.addr.family = static_cast<uint8_t>(family);
        if (family == 4) {
            // IPv4 walks put the address in the top 32 bits of `hi`.
            const uint32_t v4 = static_cast<uint32_t>(bits.hi >> 32);
            p.prefix.addr = base::IpAddress::v4(v4);
        } else {
            for (int i = 0; i < 8; ++i) {
                p.prefix.addr.bytes[i] = static_cast<uint8_t>(bits.hi >> (56 - 8 * i));
                p.prefix.addr.bytes[8 + i] = static_cast<uint8_t>(bits.lo >> (56 - 8 * i));
            }
        }
        p.region = regions_[static_cast<size_t>(m.region)];
        out_.prefixes.push_back(std::move(p));
    }

    const GeoIpOptions& opts_;
    MMDB_s& db_;
    GeoTable& out_;
    std::vector<FieldPath> country_, continent_, subdivision_;
    std::unordered_set<std::string> known_regions_;  // subdivisions and groups added so far
    uint64_t ipv4_root_ = UINT64_MAX;
    uint64_t visited_ = 0;
    std::unordered_map<uint32_t, Mapping> by_offset_;
    std::unordered_map<std::string, size_t> region_ids_;
    std::vector<std::string> regions_;
};

}  // namespace

GeoTable read_geoip(const GeoIpOptions& opts) {
    std::unique_ptr<MMDB_s, MmdbCloser> db(new MMDB_s{});
    if (const int rc = MMDB_open(opts.path.c_str(), MMDB_MODE_MMAP, db.get()); rc != MMDB_SUCCESS) {
        // MMDB_open leaves nothing to close on failure.
        delete db.release();
        fail(opts.path, std::string("cannot open GeoIP database: ") + MMDB_strerror(rc));
    }
    GeoTable out;
    out.stats.database_type =
        db->metadata.database_type != nullptr ? db->metadata.database_type : "";
    out.stats.build_epoch = db->metadata.build_epoch;
    Walker(opts, *db, out).run();
    if (out.prefixes.empty()) {
        fail(opts.path, "no network maps to a known country or continent (" +
                            std::to_string(out.stats.networks) +
                            " networks; check geoip.country_fields)");
    }
    return out;
}

image::GeoPrefixModel parse_override(std::string_view prefix, std::string_view region) {
    const auto p = base::IpPrefix::parse(prefix);
    if (!p) {
        throw base::InputError("config", "override '" + std::string(prefix) +
                                             "': not a prefix (bits past the length must be zero)");
    }
    // "uk", the pool's zone name, is Great Britain's region "gb" too.
    std::string r = country_region(region == "uk" ? std::string_view("gb") : region);
    if (r.empty()) {
        for (const auto c : image::continents()) {
            if (c == region) {
                r = std::string(c);
            }
        }
    }
    if (r.empty()) {
        throw base::InputError("config", "override '" + std::string(prefix) + "': '" +
                                             std::string(region) +
                                             "' is not a country code or continent name");
    }
    return image::GeoPrefixModel{*p, r, true};
}

}  // namespace pooledge::control
