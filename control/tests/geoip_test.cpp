#include "pooledge/control/geoip.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "pooledge/base/input_error.hpp"

namespace pooledge::control {
namespace {

// Built by tests/data/make-test-mmdb.pl (a ctest fixture) with MaxMind's own writer.
const std::string kDir = POOLEDGE_TEST_MMDB_DIR;

std::map<std::string, std::string> by_prefix(const GeoTable& t) {
    std::map<std::string, std::string> out;
    for (const auto& p : t.prefixes) {
        EXPECT_TRUE(out.emplace(p.prefix.to_string(), p.region).second)
            << p.prefix.to_string() << " seen twice";
        EXPECT_FALSE(p.override_db);
    }
    return out;
}

// Both layouts hold the same networks; these must come out the same.
void expect_common(const std::map<std::string, std::string>& m) {
    EXPECT_EQ(m.at("81.0.0.0/15"), "de");  // 81.0/16 + 81.1/16, merged by the writer
    EXPECT_EQ(m.at("82.0.0.0/16"), "fr");
    EXPECT_EQ(m.at("24.0.0.0/16"), "us");
    EXPECT_EQ(m.at("41.0.0.0/16"), "td");
    EXPECT_EQ(m.at("133.0.0.0/16"), "jp");
    EXPECT_EQ(m.at("200.0.0.0/16"), "br");
    // Regions are what GeoIP says: GB is "gb"; the pool's "uk" labels are reached by alias.
    EXPECT_EQ(m.at("62.0.0.0/24"), "gb");
    EXPECT_EQ(m.at("2a01::/16"), "de");
    EXPECT_EQ(m.at("2600::/16"), "us");
    EXPECT_EQ(m.at("2400::/16"), "jp");
    EXPECT_EQ(m.count("5.0.0.0/24"), 0u);  // "XX": no such country
    // IPv4 is read once, as IPv4: never as ::/96, ::ffff:0:0/96, 2001::/32 or 2002::/16.
    for (const auto& [prefix, region] : m) {
        EXPECT_FALSE(prefix.starts_with("::")) << prefix;
        EXPECT_FALSE(prefix.starts_with("2001:")) << prefix;
        EXPECT_FALSE(prefix.starts_with("2002:")) << prefix;
    }
}

TEST(GeoIp, MaxMindLayout) {
    const GeoTable t = read_geoip({.path = kDir + "/maxmind-layout.mmdb"});
    const auto m = by_prefix(t);
    expect_common(m);
    EXPECT_EQ(m.at("6.0.0.0/24"), "europe");  // continent only
    EXPECT_EQ(m.at("7.0.0.0/24"), "nl");      // registered_country as the fallback
    EXPECT_EQ(t.stats.mapped_continent, 1u);
    EXPECT_EQ(t.stats.unknown_country, 1u);
    EXPECT_EQ(t.stats.database_type, "GeoIP2-Country");
    EXPECT_EQ(t.stats.networks, m.size() + 1);
}

TEST(GeoIp, IpLocationDbLayout) {
    const GeoTable t = read_geoip({.path = kDir + "/iplocation-layout.mmdb"});
    const auto m = by_prefix(t);
    expect_common(m);
    EXPECT_EQ(m.count("6.0.0.0/24"), 0u);  // a record without country_code
    EXPECT_EQ(t.stats.no_location, 1u);
    EXPECT_EQ(t.stats.unknown_country, 1u);
    EXPECT_EQ(t.stats.mapped_continent, 0u);
}

TEST(GeoIp, FieldPathsAreConfigurable) {
    // Only registered_country: 7.0.0.0/24 still maps, the rest has it too.
    GeoIpOptions o{.path = kDir + "/maxmind-layout.mmdb",
                   .country_fields = {"registered_country.iso_code"},
                   .continent_fields = {}};
    const auto m = by_prefix(read_geoip(o));
    EXPECT_EQ(m.at("7.0.0.0/24"), "nl");
    EXPECT_EQ(m.count("6.0.0.0/24"), 0u);
    // Paths that match nothing are an error, not a silent empty table.
    o.country_fields = {"country.no_such_field"};
    try {
        (void)read_geoip(o);
        ADD_FAILURE();
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "geoip");
        EXPECT_NE(std::string(e.what()).find("country_fields"), std::string::npos) << e.what();
    }
}

TEST(GeoIp, BrokenDatabasesAreRefused) {
    EXPECT_THROW((void)read_geoip({.path = kDir + "/missing.mmdb"}), base::InputError);
    // A truncated copy of a real database.
    std::ifstream in(kDir + "/maxmind-layout.mmdb", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const size_t keep : {size_t{0}, size_t{100}, bytes.size() / 2, bytes.size() - 40}) {
        const std::string path = kDir + "/truncated.mmdb";
        std::ofstream(path, std::ios::binary | std::ios::trunc)
            .write(bytes.data(), static_cast<std::streamsize>(keep));
        try {
            (void)read_geoip({.path = path});
            ADD_FAILURE() << "accepted a database cut to " << keep << " bytes";
        } catch (const base::InputError& e) {
            EXPECT_EQ(e.reason(), "geoip");
        }
        std::remove(path.c_str());
    }
}

// A City database read for geodns's region targeting: subdivisions become regions under
// their region group (US, Russia) or their country; without the option they are countries.
TEST(GeoIp, CityLayoutSubdivisions) {
    GeoIpOptions o;
    o.path = kDir + "/city-layout.mmdb";
    o.subdivisions = true;
    const GeoTable t = read_geoip(o);
    const auto m = by_prefix(t);
    EXPECT_EQ(m.at("24.0.0.0/16"), "us-ca");
    EXPECT_EQ(m.at("24.1.0.0/16"), "us-ny");
    EXPECT_EQ(m.at("24.3.0.0/16"), "us");
    EXPECT_EQ(m.at("81.0.0.0/16"), "de-by");
    EXPECT_EQ(m.at("95.0.0.0/16"), "ru-mow");
    EXPECT_EQ(m.at("2600::/16"), "us-wa");
    EXPECT_EQ(t.stats.mapped_subdivision, 6u);
    std::map<std::string, std::pair<std::string, image::RegionKind>> regions;
    for (const auto& r : t.regions) {
        EXPECT_TRUE(regions.emplace(r.name, std::make_pair(r.parent, r.kind)).second) << r.name;
        // Parents come first: either a pool region or one listed before.
        EXPECT_TRUE(r.parent.size() == 2 || regions.count(r.parent) != 0) << r.name;
    }
    using K = image::RegionKind;
    EXPECT_EQ(regions.at("us-ca"), std::make_pair(std::string("us-west"), K::Region));
    EXPECT_EQ(regions.at("us-west"), std::make_pair(std::string("us"), K::RegionGroup));
    EXPECT_EQ(regions.at("us-tx"), std::make_pair(std::string("us-central"), K::Region));
    EXPECT_EQ(regions.at("ru-mow"), std::make_pair(std::string("ru-tfd"), K::Region));
    EXPECT_EQ(regions.at("de-by"), std::make_pair(std::string("de"), K::Region));

    o.subdivisions = false;
    const GeoTable countries = read_geoip(o);
    EXPECT_TRUE(countries.regions.empty());
    EXPECT_EQ(by_prefix(countries).at("24.0.0.0/16"), "us");
}

TEST(GeoIp, OverridesParse) {
    const auto o = parse_override("10.1.0.0/16", "DE");
    EXPECT_EQ(o.region, "de");
    EXPECT_TRUE(o.override_db);
    EXPECT_EQ(parse_override("2001:db8::/32", "gb").region, "gb");
    EXPECT_EQ(parse_override("2001:db8::/32", "uk").region, "gb");  // the pool's name for it
    EXPECT_EQ(parse_override("192.0.2.0/24", "europe").region, "europe");
    EXPECT_THROW((void)parse_override("10.1.0.1/16", "de"), base::InputError);  // host bits set
    EXPECT_THROW((void)parse_override("10.1.0.0/16", "xx"), base::InputError);
    EXPECT_THROW((void)parse_override("ten", "de"), base::InputError);
}

}  // namespace
}  // namespace pooledge::control
