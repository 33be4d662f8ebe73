#include "pooledge/image/model.hpp"

#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/protocol.hpp"

namespace pooledge::image {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw std::invalid_argument(where + ": " + what);
}

// Deeper alias chains than this are loops or mistakes; geodns had no guard at all.
constexpr int kMaxAliasDepth = 8;

std::vector<uint8_t> wire_name(const std::string& text, const std::string& where) {
    auto n = dns::name_from_text(text);
    if (!n) {
        bad(where, "'" + text + "' is not a valid domain name");
    }
    return *n;
}

std::string join(const std::string& label, const std::string& suffix) {
    if (label.empty()) {
        return suffix;
    }
    return suffix.empty() ? label : label + "." + suffix;
}

void put_u16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}
void put_u32(std::vector<uint8_t>& v, uint32_t x) {
    put_u16(v, static_cast<uint16_t>(x >> 16));
    put_u16(v, static_cast<uint16_t>(x));
}

class ZoneCompiler {
  public:
    ZoneCompiler(ImageBuilder& b, const ZoneModel& z, const std::vector<std::string>& region_names,
                 const std::vector<uint16_t>& region_parent,
                 const std::vector<RegionKind>& region_kind)
        : b_(b),
          z_(z),
          region_names_(region_names),
          region_parent_(region_parent),
          region_kind_(region_kind),
          global_((z.targeting & target::kGlobal) != 0) {}

    void run() {
        const std::string zwhere = "zone " + z_.origin;
        origin_ = wire_name(z_.origin, zwhere);
        std::vector<uint8_t> soa;
        const auto mname = wire_name(z_.soa.mname, zwhere + " SOA");
        const auto rname = wire_name(z_.soa.rname, zwhere + " SOA");
        soa.insert(soa.end(), mname.begin(), mname.end());
        soa.insert(soa.end(), rname.begin(), rname.end());
        for (uint32_t v :
             {z_.soa.serial, z_.soa.refresh, z_.soa.retry, z_.soa.expire, z_.soa.minimum}) {
            put_u32(soa, v);
        }
        b_.add_zone(origin_, b_.add_rrset(dns::rrtype::SOA, z_.soa.ttl, {soa}));

        std::set<std::string> region_set(region_names_.begin(), region_names_.end());
        std::set<std::string> node_names;
        for (const auto& [name, label] : z_.labels) {
            add_label_rrsets(name, label);
            node_names.insert(name);
            // "0.de" makes "0" answerable from Germany even if "0" itself has nothing.
            const size_t dot = name.rfind('.');
            const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
            if (!name.empty() && region_set.count(last) != 0) {
                const std::string base = dot == std::string::npos ? "" : name.substr(0, dot);
                geo_children_[base] = true;
                node_names.insert(base);
            }
        }
        types_.insert(dns::rrtype::CNAME);
        for (const auto& name : node_names) {
            const std::string where = zwhere + " label '" + name + "'";
            const auto wire = wire_name(join(name, z_.origin), where);
            const uint32_t node = b_.add_node(wire);
            // SOA is not among types_: add_zone set it, statically, at the apex only.
            for (uint16_t type : types_) {
                b_.set_geo(node, type, table(name, type, 0));
            }
        }
    }

  private:
    void add_label_rrsets(const std::string& name, const ModelLabel& l) {
        const std::string where = "zone " + z_.origin + " label '" + name + "'";
        auto& sets = rrsets_[name];
        const uint32_t ttl = l.ttl.value_or(z_.ttl);
        const uint16_t max_hosts = l.max_hosts.value_or(z_.max_hosts);
        if (l.alias && (l.cname || !l.a.empty() || !l.aaaa.empty() || !l.ns.empty() ||
                        !l.mx.empty() || !l.txt.empty())) {
            bad(where, "an alias cannot have records of its own");
        }
        if (l.cname &&
            (!l.a.empty() || !l.aaaa.empty() || !l.ns.empty() || !l.mx.empty() || !l.txt.empty())) {
            bad(where, "a CNAME cannot have other records (RFC 1034 3.6.2)");
        }
        try {
            if (!l.a.empty()) {
                sets[dns::rrtype::A] = b_.add_address_set(dns::rrtype::A, ttl, max_hosts, l.a);
            }
            if (!l.aaaa.empty()) {
                sets[dns::rrtype::AAAA] =
                    b_.add_address_set(dns::rrtype::AAAA, ttl, max_hosts, l.aaaa);
            }
        } catch (const std::invalid_argument& e) {
            bad(where, e.what());
        }
        if (l.cname) {
            sets[dns::rrtype::CNAME] =
                b_.add_rrset(dns::rrtype::CNAME, ttl, {wire_name(*l.cname, where)});
        }
        if (!l.ns.empty()) {
            std::vector<std::vector<uint8_t>> rd;
            for (const auto& ns : l.ns) {
                rd.push_back(wire_name(ns, where));
            }
            // geodns: NS records take the zone's NS TTL (a day) at every label, unless the
            // label sets its own ttl.
            sets[dns::rrtype::NS] = b_.add_rrset(dns::rrtype::NS, l.ttl.value_or(z_.ns_ttl), rd);
        }
        if (!l.mx.empty()) {
            std::vector<std::vector<uint8_t>> rd;
            for (const auto& mx : l.mx) {
                std::vector<uint8_t> r;
                put_u16(r, mx.preference);
                const auto ex = wire_name(mx.exchange, where);
                r.insert(r.end(), ex.begin(), ex.end());
                rd.push_back(r);
            }
            sets[dns::rrtype::MX] = b_.add_rrset(dns::rrtype::MX, ttl, rd);
        }
        if (!l.txt.empty()) {
            std::vector<std::vector<uint8_t>> rd;
            for (const auto& t : l.txt) {
                std::vector<uint8_t> r;
                for (size_t i = 0; i < t.size() || i == 0; i += 255) {  // 255-byte strings
                    const size_t n = std::min<size_t>(255, t.size() - i);
                    r.push_back(static_cast<uint8_t>(n));
                    r.insert(r.end(), t.begin() + static_cast<ptrdiff_t>(i),
                             t.begin() + static_cast<ptrdiff_t>(i + n));
                }
                rd.push_back(r);
            }
            sets[dns::rrtype::TXT] = b_.add_rrset(dns::rrtype::TXT, ttl, rd);
        }
        for (const auto& kv : sets) {
            types_.insert(kv.first);
        }
        if (l.alias) {
            if (z_.labels.count(*l.alias) == 0) {
                bad(where, "alias target '" + *l.alias + "' is not a label of the zone");
            }
            aliases_[name] = *l.alias;
        }
    }

    // geodns does not follow an alias for NS (nor SOA): a vendor label is no delegation.
    static bool follows_aliases(uint16_t type) { return type != dns::rrtype::NS; }

    // What label `name` answers for `type` from each region: geodns's search, memoised.
    const std::vector<uint32_t>& table(const std::string& name, uint16_t type, int depth) {
        // Depth is part of the key: a table cut short by the alias limit must not be reused
        // where more hops remain.
        const auto key = std::make_tuple(name, type, depth);
        if (auto it = memo_.find(key); it != memo_.end()) {
            return it->second;
        }
        std::vector<uint32_t> out(region_names_.size(), 0);
        if (depth <= kMaxAliasDepth) {
            const auto alias = follows_aliases(type) ? aliases_.find(name) : aliases_.end();
            if (global_ && geo_children_.count(name) == 0 && alias != aliases_.end()) {
                // No "name.<region>" labels: the search ends at the alias for every region,
                // and goes on from its target with the same region.
                if (depth < kMaxAliasDepth) {
                    out = table(alias->second, type, depth + 1);
                }
            } else if (geo_children_.count(name) == 0) {
                // Nor an alias: every region ends at the label itself (unless the zone does
                // not target "@", when the plain label is never tried).
                std::fill(out.begin(), out.end(), global_ ? at_label(name, type, depth, 0) : 0);
            } else {
                for (size_t r = 0; r < out.size(); ++r) {
                    out[r] = search(name, type, depth, static_cast<uint16_t>(r));
                }
            }
        }
        return memo_[key] = std::move(out);
    }

    uint32_t search(const std::string& name, uint16_t type, int depth, uint16_t region) {
        for (uint16_t r = region; r != 0; r = region_parent_[r]) {
            if ((z_.targeting & target::of(region_kind_[r])) == 0) {
                continue;  // a level this zone does not target
            }
            const std::string target = join(name, region_names_[r]);
            if (z_.labels.count(target) != 0) {
                if (const uint32_t id = at_label(target, type, depth, region); id != 0) {
                    return id;
                }
            }
        }
        return global_ ? at_label(name, type, depth, region) : 0;
    }

    // One step of the search at an existing label: alias, then CNAME, then the type.
    uint32_t at_label(const std::string& label, uint16_t type, int depth, uint16_t region) {
        if (auto a = aliases_.find(label); a != aliases_.end()) {
            if (!follows_aliases(type)) {
                return 0;  // an alias label has no records of its own
            }
            return depth < kMaxAliasDepth ? table(a->second, type, depth + 1)[region] : 0;
        }
        const auto sets = rrsets_.find(label);
        if (sets == rrsets_.end()) {
            return 0;
        }
        if (auto c = sets->second.find(dns::rrtype::CNAME); c != sets->second.end()) {
            return c->second;
        }
        if (auto t = sets->second.find(type); t != sets->second.end()) {
            return t->second;
        }
        return 0;
    }

    ImageBuilder& b_;
    const ZoneModel& z_;
    const std::vector<std::string>& region_names_;
    const std::vector<uint16_t>& region_parent_;
    const std::vector<RegionKind>& region_kind_;
    const bool global_;
    std::vector<uint8_t> origin_;
    std::set<uint16_t> types_;
    std::unordered_map<std::string, std::map<uint16_t, uint32_t>> rrsets_;
    std::unordered_map<std::string, std::string> aliases_;
    std::unordered_map<std::string, bool> geo_children_;
    std::map<std::tuple<std::string, uint16_t, int>, std::vector<uint32_t>> memo_;
};

}  // namespace

std::vector<uint8_t> compile_image(const ImageModel& model, uint64_t serial, uint64_t build_time) {
    ImageBuilder b;
    std::vector<std::string> names{""};
    std::vector<uint16_t> parents{0};
    std::vector<RegionKind> kinds{RegionKind::Continent};  // the world's entry is never read
    std::unordered_map<std::string, uint16_t> by_name;
    for (const RegionModel& r : model.regions) {
        uint16_t parent = 0;
        if (!r.parent.empty()) {
            auto it = by_name.find(r.parent);
            if (it == by_name.end()) {
                bad("region " + r.name, "parent '" + r.parent + "' is not defined before it");
            }
            parent = it->second;
        }
        if (by_name.count(r.name) != 0) {
            bad("region " + r.name, "defined twice");
        }
        const uint16_t id = b.add_region(r.name, parent);
        by_name[r.name] = id;
        names.push_back(r.name);
        parents.push_back(parent);
        kinds.push_back(r.kind);
    }
    for (const GeoPrefixModel& p : model.prefixes) {
        auto it = by_name.find(p.region);
        if (it == by_name.end()) {
            bad("prefix " + p.prefix.to_string(), "unknown region '" + p.region + "'");
        }
        b.add_geo_prefix(p.prefix, it->second, p.override_db);
    }
    for (const ZoneModel& z : model.zones) {
        ZoneCompiler(b, z, names, parents, kinds).run();
    }
    return b.finish(serial, build_time);
}

}  // namespace pooledge::image
