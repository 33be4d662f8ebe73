#include "pooledge/image/model.hpp"

#include <gtest/gtest.h>

#include <set>

#include "pooledge/dns/query.hpp"
#include "pooledge/image/reader.hpp"
#include "test_util.hpp"

namespace pooledge::image {
namespace {

// The rrset a name resolves to for a type, from a region (by region name; "" = the world).
class Resolved {
  public:
    Resolved() : holder_(testkit::load_small()) {}

    const format::RRset* get(const std::string& name, uint16_t type, const std::string& region) {
        dns::Query q;
        const auto pkt = testkit::make_query(name);
        if (dns::parse_query(pkt, q) != dns::ParseResult::Ok) {
            return nullptr;
        }
        const auto* node = holder_.view.find_node(q);
        if (node == nullptr) {
            return nullptr;
        }
        uint16_t r = 0;
        const auto regions = holder_.view.regions();
        for (size_t i = 0; i < regions.size(); ++i) {
            if (std::string(regions[i].name.data(), regions[i].name_len) == region) {
                r = static_cast<uint16_t>(i);
            }
        }
        for (const auto& e : holder_.view.entries(*node)) {
            if (e.qtype == type) {
                const uint32_t id =
                    e.kind == format::EntryKind::Static ? e.ref : holder_.view.dispatch(e.ref, r);
                return id == 0 ? nullptr : &holder_.view.rrset(id);
            }
        }
        return nullptr;
    }

    // First address of the set, enough to tell the sets of the small zone apart.
    std::set<std::string> addrs(const format::RRset* rs) {
        std::set<std::string> out;
        for (uint32_t i = 0; rs != nullptr && i < rs->count; ++i) {
            base::IpAddress a;
            if (rs->type == dns::rrtype::A) {
                a.family = 4;
                std::copy_n(holder_.view.draw4()[rs->first + i].addr.begin(), 4, a.bytes.begin());
            } else {
                a.family = 6;
                a.bytes = holder_.view.draw6()[rs->first + i].addr;
            }
            out.insert(a.to_string());
        }
        return out;
    }

    testkit::ImageHolder holder_;
};

TEST(Model, CountryThenContinentThenGlobal) {
    Resolved r;
    EXPECT_EQ(r.addrs(r.get("0.pool.ntp.org", dns::rrtype::A, "de")),
              (std::set<std::string>{"198.51.100.1", "198.51.100.2"}));
    // France has no "0.fr": its continent answers.
    EXPECT_EQ(r.addrs(r.get("0.pool.ntp.org", dns::rrtype::A, "fr")),
              (std::set<std::string>{"203.0.113.50", "203.0.113.51"}));
    // The world (unknown location) gets the global set.
    EXPECT_EQ(r.addrs(r.get("0.pool.ntp.org", dns::rrtype::A, "")).size(), 5u);
    // The apex answers from the country label too.
    EXPECT_EQ(r.addrs(r.get("pool.ntp.org", dns::rrtype::A, "de")).size(), 3u);
    EXPECT_EQ(r.addrs(r.get("pool.ntp.org", dns::rrtype::A, "us")),
              (std::set<std::string>{"203.0.113.1"}));
}

TEST(Model, FirstLabelWithTheTypeWins) {
    Resolved r;
    // "2.de" has AAAA; from Germany "2" gets it, from the US the global "2".
    EXPECT_EQ(r.addrs(r.get("2.pool.ntp.org", dns::rrtype::AAAA, "de")),
              (std::set<std::string>{"2001:db8:de::1"}));
    EXPECT_EQ(r.addrs(r.get("2.pool.ntp.org", dns::rrtype::AAAA, "us")).size(), 2u);
    // No AAAA under "0" anywhere: nothing.
    EXPECT_EQ(r.get("0.pool.ntp.org", dns::rrtype::AAAA, "de"), nullptr);
}

TEST(Model, DirectNamesDoNotMove) {
    Resolved r;
    EXPECT_EQ(r.addrs(r.get("0.de.pool.ntp.org", dns::rrtype::A, "us")),
              (std::set<std::string>{"198.51.100.1", "198.51.100.2"}));
}

TEST(Model, AliasesAreRetargetedByLocation) {
    Resolved r;
    EXPECT_EQ(r.addrs(r.get("0.debian.pool.ntp.org", dns::rrtype::A, "de")),
              r.addrs(r.get("0.pool.ntp.org", dns::rrtype::A, "de")));
    EXPECT_EQ(r.addrs(r.get("0.debian.pool.ntp.org", dns::rrtype::A, "fr")),
              r.addrs(r.get("0.pool.ntp.org", dns::rrtype::A, "fr")));
}

TEST(Model, CnameAnswersEveryType) {
    Resolved r;
    const auto* rs = r.get("www.pool.ntp.org", dns::rrtype::CNAME, "");
    ASSERT_NE(rs, nullptr);
    EXPECT_EQ(rs->type, dns::rrtype::CNAME);
    const auto* for_a = r.get("www.pool.ntp.org", dns::rrtype::A, "");
    ASSERT_NE(for_a, nullptr);
    EXPECT_EQ(for_a->type, dns::rrtype::CNAME);
}

TEST(Model, AliasLoopsResolveToNothing) {
    auto m = testkit::small_model();
    m.zones[0].labels["loop1"].alias = "loop2";
    m.zones[0].labels["loop2"].alias = "loop1";
    const auto bytes = compile_image(m, 1, 1);
    EXPECT_TRUE(ImageView::load(bytes));
}

// An alias chain longer than the limit resolves to nothing from its head, but every label
// close enough to the data still answers, whatever order the compiler met them in.
TEST(Model, AliasDepthLimitDoesNotLeakIntoShorterChains) {
    auto m = testkit::small_model();
    auto& labels = m.zones[0].labels;
    // (Built with append: GCC 12 warns falsely on "a" + std::to_string(i).)
    auto name = [](int i) { return std::string("a").append(std::to_string(i)); };
    for (int i = 1; i < 10; ++i) {
        labels[name(i)].alias = name(i + 1);
    }
    labels["a10"].a = {{*base::IpAddress::parse("192.0.2.99"), 1}};
    const auto bytes = compile_image(m, 1, 1);
    const auto img = ImageView::load(bytes);
    ASSERT_TRUE(img);
    dns::Query q;
    const auto pkt = testkit::make_query("a9.pool.ntp.org");
    ASSERT_EQ(dns::parse_query(pkt, q), dns::ParseResult::Ok);
    const auto* node = img->find_node(q);
    ASSERT_NE(node, nullptr);
    bool has_a = false;
    for (const auto& e : img->entries(*node)) {
        has_a |= e.qtype == dns::rrtype::A;
    }
    EXPECT_TRUE(has_a);
}

// An inner zone listed after the outer zone that already named it takes the name over.
TEST(Model, InnerZoneAfterOuterZone) {
    ZoneModel outer;
    outer.origin = "ntp.org";
    outer.soa = SoaRecord{"ns.ntp.org", "hostmaster.ntp.org"};
    outer.labels["pool"].txt = {"outer"};
    outer.labels["www"].a = {{*base::IpAddress::parse("192.0.2.1"), 1}};
    auto m = testkit::small_model();
    m.zones.insert(m.zones.begin(), outer);
    const auto bytes = compile_image(m, 1, 1);
    std::string why;
    const auto img = ImageView::load(bytes, &why);
    ASSERT_TRUE(img) << why;
    EXPECT_EQ(img->zones().size(), 2u);
}

TEST(Model, ErrorsNameTheLabel) {
    auto m = testkit::small_model();
    m.zones[0].labels["bad"].alias = "missing";
    try {
        (void)compile_image(m, 1, 1);
        FAIL() << "accepted an alias to a missing label";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("label 'bad'"), std::string::npos) << e.what();
    }
    auto m2 = testkit::small_model();
    m2.zones[0].labels["0"].a.push_back({*base::IpAddress::parse("2001:db8::1"), 1});
    EXPECT_THROW((void)compile_image(m2, 1, 1), std::invalid_argument);
    auto m3 = testkit::small_model();
    m3.prefixes.push_back({*base::IpPrefix::parse("1.0.0.0/8"), "atlantis", false});
    EXPECT_THROW((void)compile_image(m3, 1, 1), std::invalid_argument);
    auto m4 = testkit::small_model();
    m4.zones[0].labels["www"].a.push_back({*base::IpAddress::parse("192.0.2.1"), 1});
    EXPECT_THROW((void)compile_image(m4, 1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace pooledge::image
