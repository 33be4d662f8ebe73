#include "synthetic_pool.hpp"

#include <algorithm>
#include <map>

#include "pooledge/base/rng.hpp"
#include "pooledge/image/countries.hpp"

namespace pooledge::testkit {
namespace {

// The pool's netspeed choices, kbit/s.
constexpr uint64_t kNetspeeds[] = {512,    1000,   1500,   3000,    6000,    10000,   25000,  50000,
                                   100000, 250000, 500000, 1000000, 1500000, 2000000, 3000000};

struct Server {
    base::IpAddress v4;
    std::optional<base::IpAddress> v6;
    uint64_t weight;
};

// Adds "z", "0-3.z" (disjoint shuffled quarters when N >= 8, everyone otherwise) and AAAA at
// "2.z", as the pool lays out each zone.
void add_zone_labels(image::ZoneModel& zone, const std::string& z, std::vector<Server> servers,
                     base::Rng& rng) {
    auto label = [&](const std::string& prefix) { return z.empty() ? prefix : prefix + "." + z; };
    for (size_t i = servers.size(); i > 1; --i) {
        std::swap(servers[i - 1], servers[rng.below(i)]);
    }
    auto& top = zone.labels[z];
    for (const auto& s : servers) {
        top.a.push_back({s.v4, s.weight});
    }
    const size_t n = servers.size();
    for (size_t part = 0; part < 4; ++part) {
        auto& l = zone.labels[label(std::to_string(part))];
        const size_t quarter = n / 4;
        const size_t from = n >= 8 ? part * quarter : 0;
        const size_t to = n >= 8 ? from + quarter : n;
        for (size_t i = from; i < to; ++i) {
            l.a.push_back({servers[i].v4, servers[i].weight});
        }
        if (part == 2) {
            for (const auto& s : servers) {
                if (s.v6) {
                    l.aaaa.push_back({*s.v6, s.weight});
                }
            }
        }
    }
}

}  // namespace

base::IpAddress random_public_v4(base::Rng& rng) {
    for (;;) {
        const auto a = base::IpAddress::v4(static_cast<uint32_t>(rng.next()));
        if (base::is_public_unicast(a)) {
            return a;
        }
    }
}

base::IpAddress random_public_v6(base::Rng& rng) {
    base::IpAddress a;
    a.family = 6;
    const uint64_t hi = (uint64_t{0x2} << 60) | (rng.next() >> 4);  // 2000::/4
    const uint64_t lo = rng.next();
    for (int i = 0; i < 8; ++i) {
        a.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
        a.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    return a;
}

SyntheticPool synthetic_pool(const SyntheticOptions& opts) {
    base::Rng rng(opts.seed);
    SyntheticPool out;
    image::ImageModel& m = out.model;
    for (const auto c : image::continents()) {
        m.regions.push_back({std::string(c), ""});
    }
    std::map<std::string, std::vector<std::string>> by_continent;
    for (const auto& c : image::countries()) {
        // The pool names Great Britain's zone "uk".
        const std::string label = c.code == "gb" ? "uk" : std::string(c.code);
        m.regions.push_back({label, std::string(c.continent)});
        by_continent[std::string(c.continent)].push_back(label);
    }

    // Servers: within a continent, country k gets a share falling off like 1/(k+1), so a few
    // countries hold most servers and the tail has none, as in the real pool.
    std::map<std::string, std::vector<Server>> by_country;
    std::map<std::string, std::vector<Server>> by_cont;
    std::vector<Server> all;
    for (const auto& [continent, count] : opts.per_continent) {
        const auto& cs = by_continent[continent];
        std::vector<double> share(cs.size());
        double total = 0;
        for (size_t k = 0; k < cs.size(); ++k) {
            total += share[k] = 1.0 / static_cast<double>(k + 1);
        }
        for (size_t i = 0; i < count; ++i) {
            double u = static_cast<double>(rng.next() >> 11) / 9007199254740992.0 * total;
            size_t k = 0;
            while (k + 1 < cs.size() && u >= share[k]) {
                u -= share[k++];
            }
            Server s{random_public_v4(rng), std::nullopt,
                     kNetspeeds[rng.below(std::size(kNetspeeds))]};
            if (static_cast<double>(rng.next() >> 11) / 9007199254740992.0 < opts.ipv6_share) {
                s.v6 = random_public_v6(rng);
            }
            by_country[cs[k]].push_back(s);
            by_cont[continent].push_back(s);
            all.push_back(s);
        }
    }
    out.servers = all.size();

    image::ZoneModel zone;
    zone.origin = "pool.ntp.org";
    zone.soa = image::SoaRecord{
        "ns1.pool.ntp.org", "hostmaster.pool.ntp.org", 1, 5400, 5400, 1209600, 3600, 1500};
    add_zone_labels(zone, "", all, rng);
    zone.labels[""].ns = {"ns1.pool.ntp.org", "ns2.pool.ntp.org"};
    zone.labels[""].mx = {image::MxRecord{0, "."}};
    for (const auto& [continent, servers] : by_cont) {
        add_zone_labels(zone, continent, servers, rng);
    }
    for (const auto& r : m.regions) {
        const auto it = by_country.find(r.name);
        if (r.parent.empty()) {
            continue;
        }
        if (it == by_country.end()) {
            out.empty_countries.push_back(r.name);
            continue;
        }
        out.populated_countries.push_back(r.name);
        add_zone_labels(zone, r.name, it->second, rng);
    }
    for (size_t v = 0; v < opts.vendors; ++v) {
        const std::string vendor = "vendor" + std::to_string(v);
        for (int part = 0; part < 4; ++part) {
            zone.labels[std::to_string(part) + "." + vendor].alias = std::to_string(part);
        }
    }
    m.zones.push_back(std::move(zone));

    // Geo table: random /24s (and /32../48s) spread over the countries.
    const size_t n_countries = image::countries().size();
    for (size_t i = 0; i < opts.geo4_prefixes; ++i) {
        const auto a = random_public_v4(rng);
        base::IpAddress net = a;
        net.bytes[3] = 0;
        const auto& country = m.regions[7 + rng.below(n_countries)].name;
        m.prefixes.push_back({base::IpPrefix{net, 24}, country, false});
    }
    for (size_t i = 0; i < opts.geo6_prefixes; ++i) {
        base::IpAddress net = random_public_v6(rng);
        const uint8_t len = static_cast<uint8_t>(32 + 8 * rng.below(3));
        for (unsigned bit = len; bit < 128; ++bit) {
            net.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
        }
        const auto& country = m.regions[7 + rng.below(n_countries)].name;
        m.prefixes.push_back({base::IpPrefix{net, len}, country, false});
    }
    return out;
}

}  // namespace pooledge::testkit
