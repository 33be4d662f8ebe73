#include "pooledge/image/reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/image/builder.hpp"
#include "pooledge/image/geo_index.hpp"
#include "synthetic_pool.hpp"
#include "test_util.hpp"

namespace pooledge::image {
namespace {

using format::Header;

// An image whose header was edited, with the checksum recomputed so that the deeper checks,
// not the checksum, have to catch the edit.
std::vector<uint8_t> edited(std::vector<uint8_t> img, void (*edit)(Header&)) {
    Header h;
    std::memcpy(&h, img.data(), sizeof h);
    edit(h);
    std::memcpy(img.data(), &h, sizeof h);
    EXPECT_TRUE(seal_image_checksum(img));
    return img;
}

std::string refusal(const std::vector<uint8_t>& img) {
    std::string why;
    EXPECT_FALSE(ImageView::load(img, &why));
    return why;
}

TEST(Image, BuildsAndLoads) {
    auto holder = testkit::load_small();
    const auto& h = holder.view.header();
    EXPECT_EQ(h.serial, 2026112101u);
    EXPECT_EQ(h.build_time, 1763740800u);
    EXPECT_EQ(h.zone_count, 1u);
    EXPECT_EQ(h.region_count, 6u);  // world + 5
    EXPECT_EQ(holder.bytes.size(), h.total_size);
}

// A view moved to a copy of its bytes reads the copy only: the original can go.
TEST(Image, MovedViewReadsTheCopy) {
    auto holder = testkit::load_small();
    std::vector<uint8_t> copy = holder.bytes;
    const auto moved = holder.view.moved_to(copy);
    ASSERT_TRUE(moved);
    std::fill(holder.bytes.begin(), holder.bytes.end(), 0xEE);
    dns::Query q;
    const auto pkt = testkit::make_query("0.pool.ntp.org");
    ASSERT_EQ(dns::parse_query(pkt, q), dns::ParseResult::Ok);
    const format::Node* node = moved->find_node(q);
    ASSERT_NE(node, nullptr);
    const auto* at = reinterpret_cast<const uint8_t*>(node);
    EXPECT_TRUE(at >= copy.data() && at < copy.data() + copy.size());
    EXPECT_EQ(dns::name_to_text(moved->node_name(*node)), "0.pool.ntp.org.");
    EXPECT_EQ(moved->header().serial, 2026112101u);
    EXPECT_EQ(moved->bytes().data(), copy.data());
    // Not to a buffer of another size, nor once a geo index points into the old bytes.
    EXPECT_FALSE(holder.view.moved_to(std::span<const uint8_t>(copy).first(copy.size() - 8)));
    ImageView indexed = *moved;
    ASSERT_TRUE(attach_geo_index(indexed));
    EXPECT_FALSE(indexed.moved_to(copy));
}

TEST(Image, FindsNodesCaseInsensitivelyAndMakesEmptyParents) {
    auto holder = testkit::load_small();
    dns::Query q;
    const auto pkt = testkit::make_query("0.DEbian.pool.ntp.org");
    ASSERT_EQ(dns::parse_query(pkt, q), dns::ParseResult::Ok);
    EXPECT_NE(holder.view.find_node(q), nullptr);
    const auto ent = testkit::make_query("debian.pool.ntp.org");
    ASSERT_EQ(dns::parse_query(ent, q), dns::ParseResult::Ok);
    const auto* node = holder.view.find_node(q);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->entry_count, 0u);  // empty non-terminal
    const auto missing = testkit::make_query("nope.pool.ntp.org");
    ASSERT_EQ(dns::parse_query(missing, q), dns::ParseResult::Ok);
    EXPECT_EQ(holder.view.find_node(q), nullptr);
    EXPECT_EQ(holder.view.find_zone(q), 0);
    const auto outside = testkit::make_query("example.org");
    ASSERT_EQ(dns::parse_query(outside, q), dns::ParseResult::Ok);
    EXPECT_EQ(holder.view.find_zone(q), -1);
    const auto lookalike = testkit::make_query("xpool.ntp.org");
    ASSERT_EQ(dns::parse_query(lookalike, q), dns::ParseResult::Ok);
    EXPECT_EQ(holder.view.find_zone(q), -1);
}

TEST(Image, GeoLookupMoreSpecificAndOverridesWin) {
    ImageBuilder b;
    const uint16_t eu = b.add_region("europe", 0);
    const uint16_t de = b.add_region("de", eu);
    const uint16_t fr = b.add_region("fr", eu);
    b.add_geo_prefix(*base::IpPrefix::parse("81.0.0.0/8"), fr);
    b.add_geo_prefix(*base::IpPrefix::parse("81.5.0.0/16"), de);
    b.add_geo_prefix(*base::IpPrefix::parse("81.5.5.0/24"), fr, /*override_db=*/true);
    b.add_geo_prefix(*base::IpPrefix::parse("81.5.0.0/24"), fr);  // more specific DB entry
    b.add_geo_prefix(*base::IpPrefix::parse("2a01::/16"), de);
    const auto soa = b.add_rrset(
        dns::rrtype::SOA, 60,
        {{1, 'a', 0, 1, 'b', 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5}});
    b.add_zone(*dns::name_from_text("example"), soa);
    const auto bytes = b.finish(1, 2);
    std::string why;
    const auto img = ImageView::load(bytes, &why);
    ASSERT_TRUE(img) << why;
    auto v4 = [&](const char* a) { return img->geo_lookup4(base::IpAddress::parse(a)->v4_host()); };
    EXPECT_EQ(v4("81.1.2.3").region, fr);
    EXPECT_EQ(v4("81.5.1.1").region, de);
    // Germany holds 81.5.1.0-81.5.4.255 here (81.5.0.0/24 and 81.5.5.0/24 are cut out):
    // the largest prefix around 81.5.1.1 inside it is 81.5.1.0/24.
    EXPECT_EQ(v4("81.5.1.1").prefix_len, 24);
    EXPECT_EQ(v4("81.5.0.7").region, fr);
    EXPECT_EQ(v4("81.5.5.9").region, fr);
    EXPECT_EQ(v4("81.5.5.9").prefix_len, 24);
    EXPECT_EQ(v4("82.0.0.1").region, 0);
    EXPECT_EQ(v4("0.0.0.0").region, 0);
    EXPECT_EQ(v4("255.255.255.255").region, 0);
    const auto a6 = *base::IpAddress::parse("2a01:4f8::1");
    EXPECT_EQ(img->geo_lookup6(a6.v6_hi(), a6.v6_lo()).region, de);
    EXPECT_EQ(img->geo_lookup6(a6.v6_hi(), a6.v6_lo()).prefix_len, 16);
    const auto other = *base::IpAddress::parse("2a02::1");
    EXPECT_EQ(img->geo_lookup6(other.v6_hi(), other.v6_lo()).region, 0);
}

// The last index entry covers the top of the space; for IPv6 its bound once overflowed to 0,
// so ranges starting inside ffff::/16 were never found.
TEST(Image, GeoLookupAtTheTopOfTheAddressSpace) {
    ImageBuilder b;
    const uint16_t de = b.add_region("de", 0);
    const uint16_t fr = b.add_region("fr", 0);
    b.add_geo_prefix(*base::IpPrefix::parse("ffff:1::/32"), de);
    b.add_geo_prefix(*base::IpPrefix::parse("255.255.0.0/16"), fr);
    const auto soa = b.add_rrset(
        dns::rrtype::SOA, 60, {{0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5}});
    b.add_zone(*dns::name_from_text("example"), soa);
    const auto bytes = b.finish(1, 2);
    const auto img = ImageView::load(bytes);
    ASSERT_TRUE(img);
    const auto a = *base::IpAddress::parse("ffff:1::7");
    EXPECT_EQ(img->geo_lookup6(a.v6_hi(), a.v6_lo()).region, de);
    const auto b6 = *base::IpAddress::parse("ffff:2::7");
    EXPECT_EQ(img->geo_lookup6(b6.v6_hi(), b6.v6_lo()).region, 0);
    EXPECT_EQ(img->geo_lookup4(base::IpAddress::parse("255.255.1.1")->v4_host()).region, fr);
}

TEST(Image, BuilderRejectsBadInput) {
    ImageBuilder b;
    EXPECT_THROW(b.add_region("", 0), std::invalid_argument);
    EXPECT_THROW(b.add_region("x", 7), std::invalid_argument);
    const std::vector<WeightedAddress> v6 = {{*base::IpAddress::parse("2001:db8::1"), 1}};
    EXPECT_THROW(b.add_address_set(dns::rrtype::A, 60, 4, v6), std::invalid_argument);
    const std::vector<WeightedAddress> v4 = {{*base::IpAddress::parse("192.0.2.1"), 1}};
    EXPECT_THROW(b.add_address_set(dns::rrtype::A, 60, 0, v4), std::invalid_argument);
    EXPECT_THROW(b.add_address_set(dns::rrtype::A, 60, 33, v4), std::invalid_argument);
    EXPECT_THROW(b.add_address_set(dns::rrtype::A, 60, 4, {}), std::invalid_argument);
    EXPECT_THROW(b.add_rrset(dns::rrtype::NS, 60, {{3, 'a', 'b'}}), std::invalid_argument);
    EXPECT_THROW(b.add_node(*dns::name_from_text("outside.example")), std::invalid_argument);
    EXPECT_THROW((void)b.finish(1, 1), std::invalid_argument);  // no zone
    base::IpPrefix hand = *base::IpPrefix::parse("10.0.0.0/8");
    hand.addr.bytes[3] = 1;  // host bits, as a hand-made prefix might have
    EXPECT_THROW(b.add_geo_prefix(hand, 0), std::invalid_argument);
    hand = *base::IpPrefix::parse("10.0.0.0/8");
    hand.len = 33;
    EXPECT_THROW(b.add_geo_prefix(hand, 0), std::invalid_argument);
}

TEST(Image, AllZeroWeightsMeanEqualWeights) {
    ImageBuilder b;
    const std::vector<WeightedAddress> v4 = {{*base::IpAddress::parse("192.0.2.1"), 0},
                                             {*base::IpAddress::parse("192.0.2.2"), 0}};
    EXPECT_EQ(b.add_address_set(dns::rrtype::A, 60, 4, v4), 1u);
    const std::vector<WeightedAddress> mixed = {{*base::IpAddress::parse("192.0.2.1"), 0},
                                                {*base::IpAddress::parse("192.0.2.2"), 5}};
    EXPECT_EQ(b.add_address_set(dns::rrtype::A, 60, 4, mixed), 2u);
}

TEST(Image, RefusesWhatIsNotAnImage) {
    auto holder = testkit::load_small();
    EXPECT_NE(refusal({}).find("truncated"), std::string::npos);
    auto magic = holder.bytes;
    magic[0] = 'X';
    EXPECT_NE(refusal(magic).find("magic"), std::string::npos);
    EXPECT_NE(refusal(edited(holder.bytes, [](Header& h) { h.version = 99; })).find("version 99"),
              std::string::npos);
    // reserved0 lies outside the checksum and the signature: checked on its own.
    auto reserved = holder.bytes;
    reserved[offsetof(Header, reserved0)] = 1;
    EXPECT_NE(refusal(reserved).find("reserved header field is 1"), std::string::npos);
}

TEST(Image, RefusesTruncatedImagesAtEveryLength) {
    auto holder = testkit::load_small();
    const auto& full = holder.bytes;
    for (size_t len = 0; len < full.size(); len += 1 + len / 16) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(len));
        std::string why;
        EXPECT_FALSE(ImageView::load(cut, &why)) << len;
        EXPECT_FALSE(why.empty());
    }
}

TEST(Image, ChecksumCatchesEveryFlippedByteItSamples) {
    auto holder = testkit::load_small();
    // The signature block is outside the checksum by design: the signature covers it.
    const size_t sig_from = offsetof(Header, sig_alg);
    const size_t sig_to = offsetof(Header, sections);
    for (size_t i = 0; i < holder.bytes.size(); i += 97) {
        if (i >= sig_from && i < sig_to) {
            continue;
        }
        auto bad = holder.bytes;
        bad[i] ^= 0x40;
        const std::string why = refusal(bad);
        EXPECT_FALSE(why.empty()) << i;
    }
}

TEST(Image, DeepChecksCatchHostileHeaders) {
    auto holder = testkit::load_small();
    EXPECT_NE(refusal(edited(holder.bytes, [](Header& h) { h.sections[0].offset = 1u << 30; }))
                  .find("outside"),
              std::string::npos);
    EXPECT_NE(refusal(edited(holder.bytes, [](Header& h) { h.sections[2].size += 3; })), "");
    EXPECT_NE(refusal(edited(holder.bytes, [](Header& h) { h.region_count += 1; })).find("region"),
              std::string::npos);
    EXPECT_NE(
        refusal(edited(holder.bytes, [](Header& h) { h.max_probe = 1u << 30; })).find("index"),
        std::string::npos);
    EXPECT_NE(refusal(edited(holder.bytes,
                             [](Header& h) {
                                 h.sections[static_cast<size_t>(format::Section::Geo4Start)].size =
                                     0;
                             }))
                  .find("geo"),
              std::string::npos);
}

TEST(Image, DeepChecksCatchHostileRecords) {
    auto holder = testkit::load_small();
    const auto& h = holder.view.header();
    auto section_at = [&](format::Section s) { return h.sections[static_cast<size_t>(s)].offset; };
    struct Case {
        format::Section section;
        size_t byte;
        uint8_t value;
        const char* expect;
    };
    const Case cases[] = {
        {format::Section::Nodes, 4, 200, "bad name"},          // name_len past the table
        {format::Section::Entries, 4, 0xFF, "entry"},          // ref past its table
        {format::Section::Entries, 2, 7, "entry kind"},        // unknown kind
        {format::Section::RRsets, 16 + 2, 0, "max_hosts"},     // the apex A set's
        {format::Section::RRsets, 12, 0xFF, "out of bounds"},  // count past the addresses
        {format::Section::Regions, 0, 9, "parent"},            // parent after child
        {format::Section::Geo4Start, 7, 0xFF, "ascending"},    // a range start past the next
        {format::Section::Rdata, 0, 0x3F, "rdata"},            // SOA mname label overrun
    };
    for (const Case& c : cases) {
        auto bad = holder.bytes;
        bad[section_at(c.section) + c.byte] = c.value;
        ASSERT_TRUE(seal_image_checksum(bad));
        std::string why;
        EXPECT_FALSE(ImageView::load(bad, &why)) << c.expect;
        EXPECT_NE(why.find(c.expect), std::string::npos) << c.expect << " / " << why;
    }
}

// A zone's apex node is read for its name while zones are checked; its name must have been
// checked first. Here the apex moves to a node whose name points far outside the image.
TEST(Image, RefusesAnApexWithAHostileName) {
    auto holder = testkit::load_small();
    auto bad = holder.bytes;
    const auto& h = holder.view.header();
    const size_t nodes = h.sections[static_cast<size_t>(format::Section::Nodes)].offset;
    const size_t zones = h.sections[static_cast<size_t>(format::Section::Zones)].offset;
    format::Node node;
    std::memcpy(&node, bad.data() + nodes + sizeof node, sizeof node);
    node.name_off = 0xFFFFFF00u;
    node.flags = format::kNodeApex;
    node.zone = 0;
    std::memcpy(bad.data() + nodes + sizeof node, &node, sizeof node);
    const uint32_t apex = 1;
    std::memcpy(bad.data() + zones, &apex, 4);
    ASSERT_TRUE(seal_image_checksum(bad));
    EXPECT_NE(refusal(bad).find("bad name"), std::string::npos);
}

TEST(Image, RefusesMisalignedBuffers) {
    auto holder = testkit::load_small();
    std::vector<uint8_t> shifted(holder.bytes.size() + 1);
    std::memcpy(shifted.data() + 1, holder.bytes.data(), holder.bytes.size());
    std::string why;
    EXPECT_FALSE(ImageView::load(std::span<const uint8_t>(shifted).subspan(1), &why));
    EXPECT_NE(why.find("aligned"), std::string::npos);
}

TEST(Image, PoolSizedImageBuildsAndValidates) {
    testkit::SyntheticOptions opts;
    opts.geo4_prefixes = 20000;
    opts.geo6_prefixes = 5000;
    const auto pool = testkit::synthetic_pool(opts);
    const auto bytes = compile_image(pool.model, 1, 1);
    std::string why;
    const auto img = ImageView::load(bytes, &why);
    ASSERT_TRUE(img) << why;
    EXPECT_GT(pool.servers, 6000u);
    EXPECT_GT(img->nodes().size(), 1000u);
    EXPECT_GT(img->geo4_ranges(), 10000u);
}

}  // namespace
}  // namespace pooledge::image
