#include "pooledge/image/geo.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include <random>

#include "pooledge/image/countries.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/reader.hpp"

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

base::IpPrefix prefix4(uint32_t addr, unsigned len) {
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return {base::IpAddress::v4(addr & mask), static_cast<uint8_t>(len)};
}

base::IpPrefix prefix6(uint64_t hi, uint64_t lo, unsigned len) {
    const u128 mask = len == 0 ? 0 : ~u128{0} << (128 - len);
    const u128 a = (static_cast<u128>(hi) << 64 | lo) & mask;
    base::IpPrefix p;
    p.addr.family = 6;
    for (int i = 0; i < 16; ++i) {
        p.addr.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(a >> (120 - 8 * i));
    }
    p.len = static_cast<uint8_t>(len);
    return p;
}

// A zone with nothing in it but an apex: these tests are about the geo table.
ZoneModel bare_zone() {
    ZoneModel z;
    z.origin = "example.net";
    z.soa.mname = "ns.example.net";
    z.soa.rname = "hostmaster.example.net";
    z.labels[""].a = {{*base::IpAddress::parse("192.0.2.1"), 1}};
    return z;
}

struct Compiled {
    std::vector<uint8_t> bytes;
    std::optional<ImageView> view;
    explicit Compiled(const ImageModel& m) : bytes(compile_image(m, 1, 1)) {
        std::string why;
        view = ImageView::load(bytes, &why);
        EXPECT_TRUE(view) << why;
    }
};

// Every range start, its neighbours, and `random` addresses more: the index must say what
// the range search says.
void expect_index_agrees(const ImageView& view, const GeoIndex& index, size_t random) {
    std::mt19937_64 rng(42);
    size_t checked = 0;
    auto check4 = [&](uint32_t a) {
        const GeoMatch want = view.geo_search4(a), got = index.lookup4(a);
        ASSERT_EQ(got.region, want.region) << std::hex << a;
        ASSERT_EQ(got.prefix_len, want.prefix_len) << std::hex << a;
        ++checked;
    };
    for (const uint32_t s : view.geo4_starts()) {
        for (const uint32_t a : {s - 1, s, s + 1, s | 0xFF, s + 256}) {
            check4(a);
        }
    }
    for (size_t i = 0; i < random; ++i) {
        check4(static_cast<uint32_t>(rng()));
    }
    auto check6 = [&](uint64_t hi, uint64_t lo) {
        const GeoMatch want = view.geo_search6(hi, lo), got = index.lookup6(hi, lo);
        ASSERT_EQ(got.region, want.region) << std::hex << hi << " " << lo;
        ASSERT_EQ(got.prefix_len, want.prefix_len) << std::hex << hi << " " << lo;
    };
    for (const auto& s : view.geo6_starts()) {
        check6(s.hi, s.lo);
        check6(s.lo == 0 ? s.hi - 1 : s.hi, s.lo - 1);
        check6(s.hi, s.lo + 1);
        check6(s.hi + 1, s.lo);
    }
    for (size_t i = 0; i < random; ++i) {
        // Mostly near the prefixes (2a00::/12), some anywhere.
        const uint64_t hi = i % 4 == 0 ? rng() : 0x2A00000000000000ull | (rng() >> 12);
        check6(hi, rng());
    }
    EXPECT_GT(checked, random);
}

TEST(GeoIndex, AgreesWithTheRangeSearch) {
    ImageModel m;
    const char* names[] = {"europe", "de", "fr", "asia", "jp"};
    for (const char* n : names) {
        m.regions.push_back({n, ""});
    }
    // Prefixes of every length, nested and overlapping, so that many /24s are split and
    // ranges end everywhere.
    std::mt19937_64 rng(7);
    for (int i = 0; i < 3000; ++i) {
        const unsigned len = 8 + static_cast<unsigned>(rng() % 25);
        const auto addr = static_cast<uint32_t>(rng());
        m.prefixes.push_back({prefix4(addr, len), names[rng() % 5], i % 50 == 0});
    }
    for (int i = 0; i < 800; ++i) {
        const unsigned len = 12 + static_cast<unsigned>(rng() % 60);
        const uint64_t hi = 0x2A00000000000000ull | (rng() >> 12);
        m.prefixes.push_back({prefix6(hi, rng(), len), names[rng() % 5], false});
    }
    m.zones.push_back(bare_zone());
    const Compiled img(m);
    std::string why;
    const auto index = GeoIndex::build(*img.view, &why);
    ASSERT_TRUE(index) << why;
    EXPECT_GT(index->stats().split_blocks, 100u);
    EXPECT_EQ(index->stats().widened, 0u);
    expect_index_agrees(*img.view, *index, 300000);
    // Attached, the view's lookups go through it, with the same answers.
    ImageView view = *img.view;
    view.use_geo_index(index);
    EXPECT_EQ(view.geo_index(), index.get());
    const uint32_t a = img.view->geo4_starts()[img.view->geo4_ranges() / 2];
    EXPECT_EQ(view.geo_lookup4(a).region, img.view->geo_search4(a).region);
}

// The direct table comes from the TableMemory given (the dataplane's huge pages) and goes
// back to it with the index; a memory that cannot allocate means no index and a reason.
namespace counting {
size_t allocated = 0, released = 0;
void* allocate(size_t bytes) {
    allocated += bytes;
    return std::aligned_alloc(4096, bytes);
}
void release(void* p, size_t bytes) {
    released += bytes;
    std::free(p);
}
void* refuse(size_t) {
    return nullptr;
}
}  // namespace counting

TEST(GeoIndex, DirectTableComesFromTheMemoryGiven) {
    ImageModel m;
    m.regions.push_back({"de", ""});
    m.prefixes.push_back({prefix4(0x51000000, 8), "de", false});
    m.zones.push_back(bare_zone());
    const Compiled img(m);
    std::string why;
    {
        const TableMemory memory{counting::allocate, counting::release, "counting"};
        const auto index = GeoIndex::build(*img.view, &why, memory);
        ASSERT_TRUE(index) << why;
        EXPECT_EQ(counting::allocated, size_t{2} << 24);
        EXPECT_EQ(index->lookup4(0x51020304).region, img.view->geo_search4(0x51020304).region);
        EXPECT_EQ(counting::released, 0u);
    }
    EXPECT_EQ(counting::released, size_t{2} << 24);
    const TableMemory full{counting::refuse, counting::release, "full"};
    EXPECT_EQ(GeoIndex::build(*img.view, &why, full), nullptr);
    EXPECT_NE(why.find("out of memory for the geo index (full)"), std::string::npos) << why;
}

// More distinct {region, scope} pairs than 15 bits can number: the scope widens to 24 (a
// whole /24) or 32 (an address), never narrower than the truth, and the region stays exact.
TEST(GeoIndex, FullLeafTableWidensTheScopeOnly) {
    ImageModel m;
    constexpr int kRegions = 2100;
    for (int r = 0; r < kRegions; ++r) {
        m.regions.push_back({"r" + std::to_string(r), ""});
    }
    // Region r gets one prefix of each length 17..32, each at the start of its own /16: its
    // addresses have exactly that scope. 33,600 pairs.
    for (int r = 0; r < kRegions; ++r) {
        for (unsigned len = 17; len <= 32; ++len) {
            const auto base16 = static_cast<uint32_t>(r * 16 + static_cast<int>(len - 17)) << 16;
            m.prefixes.push_back({prefix4(base16, len), "r" + std::to_string(r), false});
        }
    }
    m.zones.push_back(bare_zone());
    const Compiled img(m);
    std::string why;
    const auto index = GeoIndex::build(*img.view, &why);
    ASSERT_TRUE(index) << why;
    EXPECT_GT(index->stats().widened, 0u);
    EXPECT_LE(index->stats().leaves, 0x8000u);
    size_t wider = 0;
    for (const uint32_t s : img.view->geo4_starts()) {
        const GeoMatch want = img.view->geo_search4(s), got = index->lookup4(s);
        ASSERT_EQ(got.region, want.region) << std::hex << s;
        ASSERT_GE(got.prefix_len, want.prefix_len) << std::hex << s;
        ASSERT_TRUE(got.prefix_len == want.prefix_len || got.prefix_len == 24 ||
                    got.prefix_len == 32)
            << std::hex << s;
        wider += got.prefix_len != want.prefix_len;
    }
    EXPECT_GT(wider, 0u);
}

// Past 32768 split /24s the block numbers run out: no index, the reader keeps its search.
TEST(GeoIndex, TooManySplitBlocksIsRefusedWithAReason) {
    ImageModel m;
    m.regions = {{"a", ""}, {"b", ""}};
    for (uint32_t i = 0; i < 0x8000 + 10; ++i) {
        m.prefixes.push_back({prefix4((i << 8) | 0x80, 25), "a", false});
    }
    m.zones.push_back(bare_zone());
    const Compiled img(m);
    std::string why;
    EXPECT_EQ(GeoIndex::build(*img.view, &why), nullptr);
    EXPECT_NE(why.find("split more than 32768 /24s"), std::string::npos) << why;
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
