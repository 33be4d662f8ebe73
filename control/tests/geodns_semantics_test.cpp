// geodns JSON served end to end (parse, compile, sign, read, answer): where pooledge must
// answer what geodns answers, and the debug names geodns operators rely on.
#include <gtest/gtest.h>

#include <map>

#include "pooledge/base/input_error.hpp"
#include "pooledge/control/geodns_json.hpp"
#include "pooledge/control/geoip.hpp"
#include "pooledge/control/image_build.hpp"
#include "served_zone.hpp"

namespace pooledge::control {
namespace {

constexpr const char* kZone = R"({
  "ttl": 150,
  "max_hosts": 3,
  "data": {
    "": {"ns": ["a.ntpns.org", "b.ntpns.org"]},
    "mixed": {"a": [["198.51.100.1", 10], ["198.51.100.2", 0], ["198.51.100.3", 0]]},
    "wide": {"a": [["198.51.100.10", 10], ["198.51.100.11", 5], ["198.51.100.12", 0],
                   ["198.51.100.13", 0], ["198.51.100.14", 0]]},
    "0": {"a": [["198.51.100.20", 1]]},
    "0.gb": {"a": [["198.51.100.21", 1]]},
    "0.uk": {"a": [["198.51.100.22", 1]]},
    "0.de": {"a": [["198.51.100.23", 1]]},
    "de": {"ns": ["ns.example.de"]},
    "sub": {"ns": ["ns.example.net"], "ttl": 300},
    "0.debian": {"alias": "0"},
    "debian": {"alias": ""},
    "_country": {"txt": "a label of the zone wins"}
  }
})";

test::ServedZone served(const std::string& text = kZone) {
    auto z = parse_geodns_zone(text, "pool.ntp.org", "pool.ntp.org.json");
    z.zone.soa.serial = 7;
    return test::ServedZone(std::move(z.zone), {parse_override("10.1.0.0/16", "de"),
                                                parse_override("10.2.0.0/16", "gb"),
                                                parse_override("10.3.0.0/16", "td")});
}

// Every character-string of a TXT record's rdata.
std::vector<std::string> strings_of(const dns::Record& rec) {
    std::vector<std::string> out;
    for (size_t p = 0; p < rec.rdata.size(); p += 1 + rec.rdata[p]) {
        out.emplace_back(reinterpret_cast<const char*>(rec.rdata.data() + p + 1), rec.rdata[p]);
    }
    return out;
}

// geodns fills the max_hosts slots the weighted entries leave with weight-0 ones.
TEST(GeodnsSemantics, WeightZeroEntriesFillTheRemainingSlots) {
    auto s = served();
    std::map<std::string, int> seen;
    for (int i = 0; i < 200; ++i) {
        const auto got = s.addresses("10.1.2.3", "mixed.pool.ntp.org");
        ASSERT_EQ(got.size(), 3u);
        EXPECT_TRUE(got.count("198.51.100.1"));
        const auto wide = s.addresses("10.1.2.3", "wide.pool.ntp.org");
        ASSERT_EQ(wide.size(), 3u);
        EXPECT_TRUE(wide.count("198.51.100.10") && wide.count("198.51.100.11"))
            << "both weighted entries come before any weight-0 one";
        for (const auto& a : wide) {
            ++seen[a];
        }
    }
    // The third slot rotates over the weight-0 entries rather than always taking the first.
    for (const char* a : {"198.51.100.12", "198.51.100.13", "198.51.100.14"}) {
        EXPECT_GT(seen[a], 20) << a;
    }
}

// The client's country is what GeoIP says: a zone's own "gb" label serves British clients;
// "uk" is just another label in geodns JSON.
TEST(GeodnsSemantics, GbClientsGetTheZonesGbLabel) {
    auto s = served();
    EXPECT_EQ(s.addresses("10.2.0.1", "0.pool.ntp.org"), std::set<std::string>{"198.51.100.21"});
    EXPECT_EQ(s.addresses("10.2.0.1", "0.uk.pool.ntp.org"), std::set<std::string>{"198.51.100.22"});
    EXPECT_EQ(s.addresses("10.1.0.1", "0.pool.ntp.org"), std::set<std::string>{"198.51.100.23"});
}

// NS below the apex has TTL 86400 unless the label sets one; an alias label is not followed
// for NS, so NS there is NODATA.
TEST(GeodnsSemantics, NsTtlsAndAliases) {
    auto s = served();
    const auto de = s.ask("10.3.0.1", "de.pool.ntp.org", 2);
    ASSERT_EQ(de.answer.size(), 1u);
    EXPECT_EQ(de.answer[0].ttl, 86400u);
    const auto sub = s.ask("10.3.0.1", "sub.pool.ntp.org", 2);
    ASSERT_EQ(sub.answer.size(), 1u);
    EXPECT_EQ(sub.answer[0].ttl, 300u);
    const auto apex = s.ask("10.3.0.1", "pool.ntp.org", 2);
    ASSERT_EQ(apex.answer.size(), 2u);
    EXPECT_EQ(apex.answer[0].ttl, 86400u);
    for (const char* name : {"debian.pool.ntp.org", "0.debian.pool.ntp.org"}) {
        const auto ns = s.ask("10.3.0.1", name, 2);
        EXPECT_EQ(ns.rcode, 0) << name;
        EXPECT_TRUE(ns.answer.empty()) << name << ": NODATA, not the apex NS";
        ASSERT_EQ(ns.authority.size(), 1u) << name;
        EXPECT_EQ(ns.authority[0].type, 6) << name;
    }
    // A/AAAA still follow the alias.
    EXPECT_EQ(s.addresses("10.3.0.1", "0.debian.pool.ntp.org"),
              std::set<std::string>{"198.51.100.20"});
}

// An ECS address the geo table does not know: geodns locates the client by the resolver's
// own address instead of answering for the world. Special-purpose ECS ranges are ignored.
TEST(GeodnsSemantics, UnknownEcsFallsBackToTheResolver) {
    auto s = served();
    dns::QueryOptions o;
    o.edns = true;
    o.ecs = "85.214.0.0/16";  // public, but in no prefix of this image
    EXPECT_EQ(s.addresses("10.2.0.1", "0.pool.ntp.org", 1, o),
              std::set<std::string>{"198.51.100.21"});
    o.ecs = "100.64.0.0/10";  // shared address space: ignored, the source locates
    EXPECT_EQ(s.addresses("10.1.0.1", "0.pool.ntp.org", 1, o),
              std::set<std::string>{"198.51.100.23"});
    o.ecs = "10.1.0.0/16";  // private: ignored too
    EXPECT_EQ(s.addresses("10.2.0.1", "0.pool.ntp.org", 1, o),
              std::set<std::string>{"198.51.100.21"});
}

// MaxMind aliases 6to4 and Teredo into its IPv4 tree, so geodns locates such clients by the
// embedded IPv4 address (6to4: bits 16-47; Teredo: the server's, bits 32-63).
TEST(GeodnsSemantics, SixToFourAndTeredoClientsAreLocatedByTheirIPv4) {
    auto z = parse_geodns_zone(kZone, "pool.ntp.org", "pool.ntp.org.json");
    test::ServedZone s(std::move(z.zone), {parse_override("81.0.0.0/16", "de"),
                                           parse_override("2002:5200::/32", "gb")});
    const std::set<std::string> de = {"198.51.100.23"};
    EXPECT_EQ(s.addresses("2002:5100:102::1", "0.pool.ntp.org"), de) << "6to4 of 81.0.1.2";
    EXPECT_EQ(s.addresses("2001:0:5100:102::1", "0.pool.ntp.org"), de) << "Teredo via 81.0.1.2";
    EXPECT_EQ(s.addresses("2002:5200:102::1", "0.pool.ntp.org"),
              std::set<std::string>{"198.51.100.21"})
        << "an IPv6 prefix of the table itself wins";
    EXPECT_EQ(s.addresses("2002:5300:102::1", "0.pool.ntp.org"),
              std::set<std::string>{"198.51.100.20"})
        << "an embedded IPv4 the table does not know: global";
    dns::QueryOptions o;
    o.edns = true;
    o.ecs = "2002:5100:100::/40";
    const auto m = s.ask("192.0.2.1", "0.pool.ntp.org", 1, o);
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].text, "198.51.100.23");
}

TEST(GeodnsSemantics, CountryDebugName) {
    auto z = parse_geodns_zone(kZone, "pool.ntp.org", "pool.ntp.org.json");
    z.zone.labels.erase("_country");
    test::ServedZone s(std::move(z.zone), {parse_override("10.1.0.0/16", "de")});
    s.identity().server_id = "node-7";
    dns::QueryOptions o;
    o.edns = true;
    o.ecs = "10.1.2.0/24";
    // A private ECS address is ignored: the source (in de) locates.
    const auto m = s.ask("10.1.9.9", "_country.pool.ntp.org", 16, o);
    ASSERT_EQ(m.answer.size(), 1u);
    EXPECT_EQ(m.answer[0].ttl, 1u);
    EXPECT_EQ(strings_of(m.answer[0]),
              (std::vector<std::string>{"10.1.9.9", "10.1.9.9", "de europe @", "/16", "node-7"}));
    // Any case, any depth below the zone, for anyone; other types are NODATA.
    EXPECT_EQ(s.ask("192.0.2.1", "_Country.x.pool.ntp.org", 16).answer.size(), 1u);
    const auto a = s.ask("192.0.2.1", "_country.pool.ntp.org", 1);
    EXPECT_EQ(a.rcode, 0);
    EXPECT_TRUE(a.answer.empty());
    EXPECT_EQ(a.authority.size(), 1u);
    // Where the zone has a label of that name, the label answers.
    const auto own = served().ask("10.1.9.9", "_country.pool.ntp.org", 16);
    ASSERT_EQ(own.answer.size(), 1u);
    EXPECT_EQ(own.answer[0].text, "a label of the zone wins");
}

TEST(GeodnsSemantics, StatusDebugNameOnlyForAllowedClients) {
    auto z = parse_geodns_zone(kZone, "pool.ntp.org", "pool.ntp.org.json");
    test::ServedZone s(std::move(z.zone), {}, 1795000000);
    s.set_now(1795000090);
    s.identity().version = "pooledge 9";
    const auto local = s.ask("127.0.0.1", "_status.pool.ntp.org", 16);
    ASSERT_EQ(local.answer.size(), 1u);
    EXPECT_EQ(strings_of(local.answer[0]),
              (std::vector<std::string>{"serial 5", "age 90s", "built 1795000000", "zones 1",
                                        "version pooledge 9"}));
    EXPECT_EQ(s.ask("::1", "_status.pool.ntp.org", 16).answer.size(), 1u);
    EXPECT_EQ(s.ask("192.0.2.1", "_status.pool.ntp.org", 16).rcode, 3) << "NXDOMAIN to others";
    const std::vector<base::IpPrefix> noc = {*base::IpPrefix::parse("192.0.2.0/24")};
    s.identity().status_clients = noc;
    EXPECT_EQ(s.ask("192.0.2.1", "_status.pool.ntp.org", 16).answer.size(), 1u);
    EXPECT_EQ(s.ask("198.51.100.1", "_status.pool.ntp.org", 16).rcode, 3);
}

// geodns's targeting with a City database: region, then region group, then country,
// continent and the plain label, each level only when the zone targets it.
constexpr const char* kTargeted = R"({
  "origin": "example.net.",
  "targeting": "country continent @ regiongroup region",
  "data": {
    "": {"ns": ["ns1.example.net"]},
    "0": {"a": ["198.51.100.1"]},
    "0.europe": {"a": ["198.51.100.2"]},
    "0.us": {"a": ["198.51.100.3"]},
    "0.us-west": {"a": ["198.51.100.4"]},
    "0.us-ca": {"a": ["198.51.100.5"]},
    "0.de-by": {"a": ["198.51.100.6"]},
    "0.ru-tfd": {"a": ["198.51.100.7"]},
    "2.us-west": {"aaaa": ["2001:db8::4"]}
  }
})";

struct CityServed {
    GeoTable geo;
    std::optional<test::ServedZone> served;
    std::vector<std::string> warnings;
};

CityServed city_served(const std::string& zone_text) {
    GeoIpOptions o;
    o.path = std::string(POOLEDGE_TEST_MMDB_DIR) + "/city-layout.mmdb";
    o.subdivisions = true;
    CityServed c{read_geoip(o), std::nullopt, {}};
    auto z = parse_geodns_zone(zone_text, "example.net", "example.net.json");
    c.warnings = z.warnings;
    z.zone.soa.serial = 1;
    c.served.emplace(std::move(z.zone), std::vector<image::GeoPrefixModel>{}, 1795000000, &c.geo);
    return c;
}

TEST(GeodnsSemantics, RegionTargetingWithACityDatabase) {
    auto c = city_served(kTargeted);
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_NE(c.warnings[0].find("origin: ignored"), std::string::npos) << c.warnings[0];
    auto& s = *c.served;
    auto one = [&](const std::string& client) {
        const auto got = s.addresses(client, "0.example.net");
        return got.size() == 1 ? *got.begin() : "(" + std::to_string(got.size()) + ")";
    };
    EXPECT_EQ(one("24.0.1.1"), "198.51.100.5") << "us-ca: its own region";
    EXPECT_EQ(one("24.1.1.1"), "198.51.100.3") << "us-ny: no label, no us-east label: country";
    EXPECT_EQ(one("24.2.1.1"), "198.51.100.3") << "us-tx (us-central): country";
    EXPECT_EQ(one("24.3.1.1"), "198.51.100.3") << "US, no subdivision";
    EXPECT_EQ(one("81.0.1.1"), "198.51.100.6") << "de-by";
    EXPECT_EQ(one("81.1.1.1"), "198.51.100.2") << "DE without a subdivision: europe";
    EXPECT_EQ(one("95.0.1.1"), "198.51.100.7") << "ru-mow: its region group ru-tfd";
    EXPECT_EQ(one("41.0.1.1"), "198.51.100.1") << "Chad: the plain label";
    EXPECT_EQ(s.addresses("2600::1", "2.example.net", 28), std::set<std::string>{"2001:db8::4"})
        << "us-wa: region group us-west";
    const auto country = s.ask("24.0.1.1", "_country.example.net", 16);
    ASSERT_EQ(country.answer.size(), 1u);
    EXPECT_EQ(strings_of(country.answer[0])[2], "us-ca us-west us north-america @");
}

TEST(GeodnsSemantics, LevelsNotTargetedAreSkipped) {
    std::string zone = kTargeted;
    const std::string full = "country continent @ regiongroup region";
    zone.replace(zone.find(full), full.size(), "country continent @");
    auto c = city_served(zone);
    auto& s = *c.served;
    EXPECT_EQ(s.addresses("24.0.1.1", "0.example.net"), std::set<std::string>{"198.51.100.3"});
    EXPECT_EQ(s.addresses("81.0.1.1", "0.example.net"), std::set<std::string>{"198.51.100.2"});
    zone = kTargeted;
    zone.replace(zone.find(full), full.size(), "region");
    auto r = city_served(zone);
    // Only regions: no country, no continent, and the plain label is never tried.
    EXPECT_EQ(r.served->addresses("24.0.1.1", "0.example.net"),
              std::set<std::string>{"198.51.100.5"});
    const auto none = r.served->ask("81.1.1.1", "0.example.net");
    EXPECT_EQ(none.rcode, 0);
    EXPECT_TRUE(none.answer.empty());
}

TEST(GeodnsSemantics, RegionTargetingNeedsSubdivisions) {
    GeoIpOptions o;
    o.path = std::string(POOLEDGE_TEST_MMDB_DIR) + "/maxmind-layout.mmdb";  // a Country DB
    o.subdivisions = true;
    const GeoTable geo = read_geoip(o);
    auto z = parse_geodns_zone(kTargeted, "example.net", "example.net.json");
    ImageInputs in;
    in.zones.push_back(std::move(z.zone));
    in.geo = &geo;
    const auto key = image::SigningKey::generate();
    ASSERT_TRUE(key);
    try {
        (void)build_signed_image(in, *key);
        ADD_FAILURE() << "region targeting accepted without subdivisions";
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "value");
        EXPECT_NE(std::string(e.what()).find("needs a GeoIP database with subdivisions"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace pooledge::control
