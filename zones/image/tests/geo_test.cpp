#include "pooledge/image/geo.hpp"

#include <gtest/gtest.h>

#include "pooledge/image/countries.hpp"

namespace pooledge::image {
namespace {

TEST(Geo, ScopeIsTheLargestPrefixInsideTheRange) {
    // 81.0.0.0 - 81.0.255.255 is exactly a /16.
    EXPECT_EQ(geo_scope<uint32_t>(0x51001234, 0x51000000, 0x5100FFFF), 16);
    // A range that is not a prefix: 10.0.0.0 - 10.2.255.255; an address in 10.2/16 sees /16,
    // one in 10.0/15 sees /15.
    EXPECT_EQ(geo_scope<uint32_t>(0x0A020001, 0x0A000000, 0x0A02FFFF), 16);
    EXPECT_EQ(geo_scope<uint32_t>(0x0A010001, 0x0A000000, 0x0A02FFFF), 15);
    EXPECT_EQ(geo_scope<uint32_t>(5, 0, UINT32_MAX), 0);
    EXPECT_EQ(geo_scope<uint32_t>(5, 5, 5), 32);
}

TEST(Countries, ContinentsAsTheDatabasesAssignThem) {
    EXPECT_EQ(continent_of("DE"), "europe");
    EXPECT_EQ(continent_of("us"), "north-america");
    EXPECT_EQ(continent_of("br"), "south-america");
    EXPECT_EQ(continent_of("aq"), "antarctica");
    EXPECT_EQ(continent_of("xx"), "");
    EXPECT_GE(countries().size(), 245u);
    EXPECT_EQ(continents().size(), 7u);
}

}  // namespace
}  // namespace pooledge::image
