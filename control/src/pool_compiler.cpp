#include "pooledge/control/pool_compiler.hpp"

#include <algorithm>

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

// "<z>", "0-3.<z>" and AAAA at "2.<z>" for one zone's members (already in id order).
void add_zone(image::ZoneModel& zone, const std::string& z, std::vector<Member> v4,
              const std::vector<Member>& v6, uint64_t seed) {
    const std::string top = z == "@" ? "" : z;
    if (!v4.empty()) {
        zone.labels[top].a = weighted(v4, 0, v4.size());
    }
    // Fisher-Yates with a per-zone seed: reproducible, and independent of other zones.
    base::Rng rng(name_seed(seed, z));
    for (size_t i = v4.size(); i > 1; --i) {
        std::swap(v4[i - 1], v4[rng.below(i)]);
    }
    const size_t n = v4.size();
    for (size_t part = 0; part < 4 && n > 0; ++part) {
        const size_t quarter = n / 4;
        const size_t from = n >= 8 ? part * quarter : 0;
        const size_t to = n >= 8 ? from + quarter : n;
        zone.labels[label(std::to_string(part), z)].a = weighted(v4, from, to);
    }
    if (!v6.empty()) {
        zone.labels[label("2", z)].aaaa = weighted(v6, 0, v6.size());
    }
}

}  // namespace

PoolCompileResult compile_pool(const PoolData& data, const PoolCompileOptions& opts) {
    PoolCompileResult out;
    // Members of each zone, in server id order (data.servers is sorted by id).
    std::map<std::string, std::pair<std::vector<Member>, std::vector<Member>>> members;
    out.eligible_per_zone["@"] = 0;
    for (const auto& r : pool_regions()) {
        out.eligible_per_zone[r.name] = 0;
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
    auto& apex = zone.labels[""];
    apex.ns = st.ns;
    apex.mx = {image::MxRecord{0, "."}};  // RFC 7505: this domain takes no mail
    for (auto& [z, lists] : members) {
        add_zone(zone, z, std::move(lists.first), lists.second, opts.seed);
    }
    // DESIGN.md: "gb aliases uk". The pool names Great Britain's zone "uk"; "gb" answers the
    // same, for clients configured with the ISO code.
    if (out.eligible_per_zone["uk"] > 0) {
        zone.labels["gb"].alias = "uk";
        for (int part = 0; part < 4; ++part) {
            zone.labels[std::to_string(part) + ".gb"].alias = std::to_string(part) + ".uk";
        }
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
    return out;
}

}  // namespace pooledge::control
