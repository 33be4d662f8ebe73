#include "pooledge/control/pool_compiler.hpp"

#include <algorithm>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/rng.hpp"
#include "pooledge/control/regions.hpp"
#include "pooledge/image/countries.hpp"

namespace pooledge::control {
namespace {

struct Member {
    base::IpAddress ip;
    uint64_t weight;
};

// FNV-1a: mixes the zone name into the shuffle seed, so each zone gets its own, stable order.
uint64_t name_seed(uint64_t seed, const std::string& name) {
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (const char c : name) {
        h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    }
    return h;
}

[[noreturn]] void fail_record(const std::string& where, const std::string& what) {
    throw base::InputError("value", where + ": " + what);
}

std::string label(const std::string& prefix, const std::string& zone) {
    return zone == "@" ? prefix : prefix + "." + zone;
}

std::vector<image::WeightedAddress> weighted(const std::vector<Member>& members, size_t from,
                                             size_t to) {
    std::vector<image::WeightedAddress> out;
    out.reserve(to - from);
    for (size_t i = from; i < to; ++i) {
        out.push_back({members[i].ip, members[i].weight});
    }
    return out;
}

// The pool's zone builder gives every zone label a null MX (RFC 7505: no mail here), records
// or not.
const std::vector<image::MxRecord> kNullMx = {image::MxRecord{0, "."}};

// "<z>", "0-3.<z>" and AAAA at "2.<z>" for one zone's members (already in id order). Every
// zone has all five names, even with no member: the pool answers NOERROR/NODATA for them, and
// a client located there still falls through to its continent, since an empty label does not
// stop the search.
void add_zone(image::ZoneModel& zone, const std::string& z, std::vector<Member> v4,
              const std::vector<Member>& v6, uint64_t seed) {
    image::ModelLabel& top = zone.labels[z == "@" ? "" : z];
    top.mx = kNullMx;
    top.a = weighted(v4, 0, v4.size());
    // Fisher-Yates with a per-zone seed: reproducible, and independent of other zones.
    base::Rng rng(name_seed(seed, z));
    for (size_t i = v4.size(); i > 1; --i) {
        std::swap(v4[i - 1], v4[rng.below(i)]);
    }
    const size_t n = v4.size();
    for (size_t part = 0; part < 4; ++part) {
        const size_t quarter = n / 4;
        const size_t from = n >= 8 ? part * quarter : 0;
        const size_t to = n >= 8 ? from + quarter : n;
        image::ModelLabel& numbered = zone.labels[label(std::to_string(part), z)];
        numbered.mx = kNullMx;
        numbered.a = weighted(v4, from, to);
    }
    zone.labels[label("2", z)].aaaa = weighted(v6, 0, v6.size());
}

// settings.records: names the zone builder does not generate (www, _dmarc, ...) and TXT at
// ones it does (the apex). A CNAME owns its name (RFC 1034 3.6.2), and an alias has no
// records of its own, so both are refused where they would collide.
void add_static_records(image::ZoneModel& zone, const std::vector<StaticRecord>& records) {
    for (size_t i = 0; i < records.size(); ++i) {
        const StaticRecord& r = records[i];
        const std::string where = "settings.records[" + std::to_string(i) + "]";
        const std::string shown = r.name.empty() ? "@" : r.name;
        auto [it, fresh] = zone.labels.try_emplace(r.name);
        image::ModelLabel& l = it->second;
        if (l.alias) {
            fail_record(where, "'" + shown + "' is a vendor or gb alias the pool generates");
        }
        if (r.type == StaticRecord::Type::Cname) {
            if (!fresh) {
                fail_record(where, "a CNAME at '" + shown +
                                       "' would share its name with other records "
                                       "(RFC 1034 3.6.2)");
            }
            l.cname = r.data;
        } else {
            if (l.cname) {
                fail_record(where, "'" + shown + "' already has a CNAME (RFC 1034 3.6.2)");
            }
            l.txt.push_back(r.data);
        }
    }
}

}  // namespace

PoolCompileResult compile_pool(const PoolData& data, const PoolCompileOptions& opts) {
    PoolCompileResult out;
    // Members of each zone, in server id order (data.servers is sorted by id).
    std::map<std::string, std::pair<std::vector<Member>, std::vector<Member>>> members;
    for (const std::string& z : pool_zones()) {
        out.eligible_per_zone[z] = 0;
    }
    for (const PoolServer& s : data.servers) {
        if (!s.in_pool) {
            ++out.ineligible.not_in_pool;
            continue;
        }
        if (!(s.score >= opts.min_score)) {
            ++out.ineligible.low_score;
            continue;
        }
        if (s.netspeed == 0) {
            ++out.ineligible.no_netspeed;
            continue;
        }
        if (s.deletion_on && opts.now + opts.deletion_grace >= *s.deletion_on) {
            ++out.ineligible.deleting;
            continue;
        }
        ++out.eligible;
        // Its countries, their continents (once each, even with two countries on one
        // continent), and the global zone.
        std::vector<std::string> zs = {"@"};
        for (const std::string& c : s.countries) {
            zs.push_back(country_zone(c));
            zs.emplace_back(image::continent_of(c));
        }
        std::sort(zs.begin(), zs.end());
        zs.erase(std::unique(zs.begin(), zs.end()), zs.end());
        for (const std::string& z : zs) {
            auto& [v4, v6] = members[z];
            (s.ip.family == 4 ? v4 : v6).push_back({s.ip, s.netspeed});
            ++out.eligible_per_zone[z];
        }
    }

    if (out.eligible == 0) {
        throw base::InputError(
            "empty", "no eligible server among " + std::to_string(data.servers.size()) + " (" +
                         std::to_string(out.ineligible.not_in_pool) + " not in the pool, " +
                         std::to_string(out.ineligible.low_score) + " below score " +
                         std::to_string(opts.min_score) + ", " +
                         std::to_string(out.ineligible.no_netspeed) + " without netspeed, " +
                         std::to_string(out.ineligible.deleting) +
                         " being deleted): refusing to build a pool that answers nothing");
    }

    image::ZoneModel& zone = out.zone;
    const PoolSettings& st = data.settings;
    zone.origin = st.origin;
    zone.ttl = st.ttl;
    zone.ns_ttl = 86400;
    zone.max_hosts = 4;
    zone.soa.mname = st.ns.front();
    zone.soa.rname = st.contact;
    zone.soa.serial = static_cast<uint32_t>(opts.now);
    zone.soa.ttl = std::min<uint32_t>(st.ttl * 10, 3600);
    zone.labels[""].ns = st.ns;
    // Every zone the pool has: global, each continent and each country, servers or not.
    for (const auto& [z, count] : out.eligible_per_zone) {
        auto it = members.find(z);
        if (it == members.end()) {
            add_zone(zone, z, {}, {}, opts.seed);
        } else {
            add_zone(zone, z, std::move(it->second.first), it->second.second, opts.seed);
        }
    }
    // DESIGN.md: "gb aliases uk". The pool names Great Britain's zone "uk"; "gb" answers the
    // same, for clients configured with the ISO code, and GeoIP locates British clients in
    // "gb", whose search follows these aliases to the uk labels.
    zone.labels["gb"].alias = "uk";
    for (int part = 0; part < 4; ++part) {
        zone.labels[std::to_string(part) + ".gb"].alias = std::to_string(part) + ".uk";
    }
    for (const Vendor& v : data.vendors) {
        if (v.client_type != ClientType::Sntp) {
            for (int part = 0; part < 4; ++part) {
                zone.labels[std::to_string(part) + "." + v.name].alias = std::to_string(part);
            }
        }
        if (v.client_type != ClientType::Ntp) {
            zone.labels[v.name].alias = "";
        }
    }
    add_static_records(zone, st.records);
    return out;
}

}  // namespace pooledge::control
