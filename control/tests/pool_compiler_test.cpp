#include "pooledge/control/pool_compiler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "control_test_util.hpp"
#include "pooledge/base/input_error.hpp"
#include "pooledge/control/geoip.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/regions.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/countries.hpp"
#include "pooledge/image/reader.hpp"
#include "served_zone.hpp"

namespace pooledge::control {
namespace {

using test::json;

constexpr int64_t kNow = test::kGenerated + 100;

PoolCompileResult compile(const json& doc, uint64_t seed = 0, double min_score = 10) {
    PoolCompileOptions o;
    o.now = kNow;
    o.seed = seed;
    o.min_score = min_score;
    return compile_pool(parse_pool_data(doc.dump(), "pool.json"), o);
}

std::set<std::string> addrs(const std::vector<image::WeightedAddress>& list) {
    std::set<std::string> out;
    for (const auto& w : list) {
        out.insert(w.addr.to_string());
    }
    return out;
}

const image::ModelLabel* find(const PoolCompileResult& r, const std::string& name) {
    const auto it = r.zone.labels.find(name);
    return it == r.zone.labels.end() ? nullptr : &it->second;
}

TEST(PoolCompiler, EligibilityEdges) {
    json s = json::array();
    s.push_back(test::server(1, "11.0.0.1", "de", 10.0));   // exactly the threshold: in
    s.push_back(test::server(2, "11.0.0.2", "de", 9.99));   // just below: out
    s.push_back(test::server(3, "11.0.0.3", "de", 19, 0));  // no netspeed: out
    s.push_back(test::server(4, "11.0.0.4", "de"));
    s.back()["in_pool"] = false;  // not in pool: out
    s.push_back(test::server(5, "11.0.0.5", "de"));
    s.back()["deletion_on"] = "2026-12-02";  // < 14 days after now: out
    s.push_back(test::server(6, "11.0.0.6", "de"));
    s.back()["deletion_on"] = "2026-12-20";                // > 14 days: in
    s.push_back(test::server(7, "11.0.0.7", "de", -100));  // way below: out
    const auto r = compile(test::pool(s));
    EXPECT_EQ(r.eligible, 2u);
    EXPECT_EQ(r.ineligible.low_score, 2u);
    EXPECT_EQ(r.ineligible.no_netspeed, 1u);
    EXPECT_EQ(r.ineligible.not_in_pool, 1u);
    EXPECT_EQ(r.ineligible.deleting, 1u);
    EXPECT_EQ(addrs(find(r, "de")->a), (std::set<std::string>{"11.0.0.1", "11.0.0.6"}));
    // The threshold is configurable.
    EXPECT_EQ(compile(test::pool(s), 0, 5).eligible, 3u);
}

TEST(PoolCompiler, DeletionCutOffIsFourteenDays) {
    // deletion_on at 00:00 UTC; eligible only while now + 14 days is before it.
    const int64_t day = 86400;
    json s = json::array({test::server(1, "11.0.0.1", "de"), test::server(2, "11.0.0.2", "de")});
    s[0]["deletion_on"] = "2026-12-02";  // 1796169600
    PoolCompileOptions o;
    auto data = parse_pool_data(test::pool(s).dump(), "p");
    o.now = 1796169600 - 14 * day - 1;
    EXPECT_EQ(compile_pool(data, o).eligible, 2u);
    o.now = 1796169600 - 14 * day;
    EXPECT_EQ(compile_pool(data, o).eligible, 1u);
}

TEST(PoolCompiler, SplitsAtSevenEightNine) {
    for (const int n : {7, 8, 9, 100}) {
        const auto r = compile(test::pool(test::servers_in("de", n, 1)));
        const auto all = addrs(find(r, "de")->a);
        ASSERT_EQ(all.size(), static_cast<size_t>(n));
        std::set<std::string> seen;
        for (int part = 0; part < 4; ++part) {
            const auto* l = find(r, std::to_string(part) + ".de");
            ASSERT_NE(l, nullptr) << n << " " << part;
            const auto got = addrs(l->a);
            if (n < 8) {
                EXPECT_EQ(got, all) << "N < 8: everyone in each";
            } else {
                EXPECT_EQ(got.size(), static_cast<size_t>(n / 4)) << n;
                for (const auto& a : got) {
                    EXPECT_TRUE(all.count(a));
                    EXPECT_TRUE(seen.insert(a).second) << "quarters overlap at N=" << n;
                }
            }
        }
        if (n >= 8) {
            EXPECT_EQ(seen.size(), static_cast<size_t>(n / 4 * 4));
        }
    }
}

TEST(PoolCompiler, ShuffleIsSeededAndStable) {
    const json doc = test::pool(test::servers_in("de", 40, 1));
    const auto a = compile(doc, 1), b = compile(doc, 1), c = compile(doc, 2);
    EXPECT_EQ(addrs(find(a, "0.de")->a), addrs(find(b, "0.de")->a));
    EXPECT_NE(addrs(find(a, "0.de")->a), addrs(find(c, "0.de")->a));
    // Input order does not matter (servers are taken in id order).
    json reversed = doc;
    std::reverse(reversed["servers"].begin(), reversed["servers"].end());
    EXPECT_EQ(addrs(find(a, "0.de")->a), addrs(find(compile(reversed, 1), "0.de")->a));
}

TEST(PoolCompiler, MembershipAaaaAndWeights) {
    json s = test::concat(test::servers_in("de", 3, 1), test::servers_in("de", 2, 10, true));
    s.push_back(test::server(20, "12.0.0.1", "us", 19, 25000));
    s.back()["zones"] = {"us", "jp"};  // two countries on two continents
    s.push_back(test::server(21, "12.0.0.2", "gb"));
    const auto r = compile(test::pool(s));
    // A server is in its countries, their continents and the global zone.
    EXPECT_EQ(addrs(find(r, "")->a).size(), 5u);
    EXPECT_EQ(addrs(find(r, "europe")->a).size(), 4u);
    EXPECT_TRUE(addrs(find(r, "asia")->a).count("12.0.0.1"));
    EXPECT_TRUE(addrs(find(r, "north-america")->a).count("12.0.0.1"));
    EXPECT_TRUE(addrs(find(r, "jp")->a).count("12.0.0.1"));
    // Weight = netspeed.
    for (const auto& w : find(r, "us")->a) {
        EXPECT_EQ(w.weight, 25000u);
    }
    // Great Britain's zone is "uk"; "gb" aliases it.
    EXPECT_EQ(addrs(find(r, "uk")->a), std::set<std::string>{"12.0.0.2"});
    EXPECT_EQ(find(r, "gb")->alias, "uk");
    EXPECT_EQ(find(r, "2.gb")->alias, "2.uk");
    // AAAA only under "2.": every IPv6 server of the zone; no AAAA anywhere else.
    EXPECT_EQ(addrs(find(r, "2.de")->aaaa), (std::set<std::string>{"2a00::10", "2a00::11"}));
    EXPECT_EQ(addrs(find(r, "2")->aaaa).size(), 2u);
    for (const auto& [name, label] : r.zone.labels) {
        if (!label.aaaa.empty()) {
            EXPECT_TRUE(name == "2" || name.starts_with("2.")) << name;
        }
    }
    // Counts per zone, empty zones included.
    EXPECT_EQ(r.eligible_per_zone.at("de"), 5u);
    EXPECT_EQ(r.eligible_per_zone.at("europe"), 6u);
    EXPECT_EQ(r.eligible_per_zone.at("@"), 7u);
    EXPECT_EQ(r.eligible_per_zone.at("td"), 0u);
    EXPECT_EQ(r.eligible_per_zone.at("uk"), 1u);
}

TEST(PoolCompiler, ApexAndVendorAliases) {
    const json vendors = json::array({{{"name", "debian"}, {"client_type", "ntp"}},
                                      {{"name", "openwrt"}, {"client_type", "sntp"}},
                                      {{"name", "tplink"}, {"client_type", "legacy"}}});
    const auto r = compile(test::pool(test::servers_in("de", 9, 1), vendors));
    EXPECT_EQ(find(r, "0.debian")->alias, "0");
    EXPECT_EQ(find(r, "3.debian")->alias, "3");
    EXPECT_EQ(find(r, "debian"), nullptr);
    EXPECT_EQ(find(r, "openwrt")->alias, "");
    EXPECT_EQ(find(r, "0.openwrt"), nullptr);
    EXPECT_EQ(find(r, "tplink")->alias, "");
    EXPECT_EQ(find(r, "2.tplink")->alias, "2");
    const auto& apex = *find(r, "");
    EXPECT_EQ(apex.ns, (std::vector<std::string>{"a.ntpns.org", "b.ntpns.org"}));
    ASSERT_EQ(apex.mx.size(), 1u);
    EXPECT_EQ(apex.mx[0].exchange, ".");
    EXPECT_EQ(r.zone.ttl, 150u);
    EXPECT_EQ(r.zone.ns_ttl, 86400u);
    EXPECT_EQ(r.zone.soa.ttl, 1500u);  // min(150 * 10, 3600)
    EXPECT_EQ(r.zone.soa.mname, "a.ntpns.org");
    EXPECT_EQ(r.zone.soa.rname, "hostmaster.pool.ntp.org");
}

// Through the real image and answer engine: a German client gets German servers, a client
// in a country without servers gets its continent's, a vendor zone follows the client.
TEST(PoolCompiler, AnswersFollowTheClient) {
    json s = test::concat(test::servers_in("de", 9, 1), test::servers_in("fr", 9, 100));
    s = test::concat(s, test::servers_in("za", 3, 200));
    const json vendors = json::array({{{"name", "debian"}, {"client_type", "ntp"}}});
    auto r = compile(test::pool(s, vendors));
    const auto de_servers = addrs(find(r, "de")->a);
    const auto africa = addrs(find(r, "africa")->a);
    test::ServedZone served(std::move(r.zone), {parse_override("10.1.0.0/16", "de"),
                                                parse_override("41.0.0.0/16", "td")});
    for (int i = 0; i < 20; ++i) {
        for (const auto& a : served.addresses("10.1.2.3", "0.pool.ntp.org")) {
            EXPECT_TRUE(de_servers.count(a)) << a;
        }
        for (const auto& a : served.addresses("10.1.2.3", "1.debian.pool.ntp.org")) {
            EXPECT_TRUE(de_servers.count(a)) << a;
        }
        for (const auto& a : served.addresses("41.0.9.9", "pool.ntp.org")) {
            EXPECT_TRUE(africa.count(a)) << "Chad falls back to Africa: " << a;
        }
    }
    EXPECT_EQ(served.addresses("41.0.9.9", "pool.ntp.org").size(), 3u);
}

TEST(PoolCompiler, NoEligibleServerIsRefusedAsEmpty) {
    json s = test::servers_in("de", 3, 1);
    for (auto& e : s) {
        e["score"] = 2;
    }
    const json vendors = json::array({{{"name", "debian"}, {"client_type", "ntp"}}});
    try {
        (void)compile(test::pool(s, vendors));
        ADD_FAILURE() << "compiled a pool with no eligible server";
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "empty");
        EXPECT_NE(std::string(e.what()).find("no eligible server among 3 (0 not in the pool, 3 "
                                             "below score"),
                  std::string::npos)
            << e.what();
    }
}

// The pool's zone builder emits every country and continent, servers or not: the label and
// 0-3 with a null MX and no addresses. Asked directly they are NOERROR/NODATA; a client
// located there still falls through to its continent.
TEST(PoolCompiler, EveryZoneExistsAndEmptyOnesAreNodata) {
    json s = test::concat(test::servers_in("de", 9, 1), test::servers_in("li", 2, 50, true));
    s = test::concat(s, test::servers_in("za", 3, 200));
    auto r = compile(test::pool(s));
    for (const char* name : {"td", "0.td", "3.td", "2.td", "oceania", "0.oceania", "uk", "0.li",
                             "li", "2.li", "xk", "cx", "cc"}) {
        EXPECT_NE(find(r, name), nullptr) << name;
    }
    // The null MX stands at every zone label, not only at the apex.
    for (const char* name : {"", "0", "3", "de", "0.de", "td", "0.td", "europe", "2.oceania"}) {
        ASSERT_NE(find(r, name), nullptr) << name;
        ASSERT_EQ(find(r, name)->mx.size(), 1u) << name;
        EXPECT_EQ(find(r, name)->mx[0].exchange, ".") << name;
    }
    const auto africa = addrs(find(r, "africa")->a);
    test::ServedZone served(std::move(r.zone), {parse_override("41.0.0.0/16", "td"),
                                                parse_override("10.1.0.0/16", "de")});
    for (const char* name :
         {"td.pool.ntp.org", "0.td.pool.ntp.org", "za.pool.ntp.org", "oceania.pool.ntp.org",
          "0.oceania.pool.ntp.org", "0.li.pool.ntp.org", "2.td.pool.ntp.org"}) {
        // za has servers but no IPv6: AAAA is NODATA there; the others for A.
        const uint16_t qtype = std::string(name) == "za.pool.ntp.org" ? 28 : 1;
        const auto m = served.ask("10.1.2.3", name, qtype);
        EXPECT_TRUE(m.ok) << name;
        EXPECT_EQ(m.rcode, 0) << name << ": NOERROR, not NXDOMAIN";
        EXPECT_TRUE(m.answer.empty()) << name;
        ASSERT_EQ(m.authority.size(), 1u) << name;
        EXPECT_EQ(m.authority[0].type, 6) << name << ": SOA in the authority section";
    }
    const auto mx = served.ask("10.1.2.3", "0.td.pool.ntp.org", 15);
    ASSERT_EQ(mx.answer.size(), 1u);
    EXPECT_EQ(mx.answer[0].text, "0 .");
    EXPECT_EQ(served.addresses("10.1.2.3", "2.li.pool.ntp.org", 28),
              (std::set<std::string>{"2a00::50", "2a00::51"}));
    for (int i = 0; i < 10; ++i) {
        const auto got = served.addresses("41.0.9.9", "0.pool.ntp.org");
        EXPECT_EQ(got.size(), 3u);
        for (const auto& a : got) {
            EXPECT_TRUE(africa.count(a)) << "Chad's empty 0.td falls through to Africa: " << a;
        }
    }
    EXPECT_EQ(served.ask("10.1.2.3", "nonexistent.pool.ntp.org").rcode, 3);  // NXDOMAIN
}

// Every code of the country table is a zone a server can be in (ISO 3166-1 plus geodns's
// extra codes): one server in each compiles, and each zone serves its own server.
TEST(PoolCompiler, EveryCountryCodeCompiles) {
    json s = json::array();
    uint64_t id = 1;
    for (const auto& c : image::countries()) {
        s.push_back(test::server(
            id, "11.1." + std::to_string(id / 200) + "." + std::to_string(id % 200 + 1),
            std::string(c.code)));
        ++id;
    }
    EXPECT_EQ(image::countries().size(), 254u);
    auto r = compile(test::pool(s));
    EXPECT_EQ(r.eligible, image::countries().size());
    for (const auto& c : image::countries()) {
        const std::string zone = country_zone(c.code);
        ASSERT_NE(find(r, zone), nullptr) << zone;
        EXPECT_EQ(find(r, zone)->a.size(), 1u) << zone;
    }
    test::ServedZone served(std::move(r.zone), {});
    EXPECT_EQ(served.addresses("10.0.0.1", "cx.pool.ntp.org").size(), 1u);
    EXPECT_EQ(served.addresses("10.0.0.1", "0.xk.pool.ntp.org").size(), 1u);
}

// Membership comes from the registry (a Turkish server is in asia), but a client falls back
// as geodns walks it: Turkey and Cyprus to europe, Timor-Leste and the US Minor Outlying
// Islands to oceania.
TEST(PoolCompiler, ClientsFallBackAsGeodnsDoes) {
    json s = test::concat(test::servers_in("de", 9, 1), test::servers_in("jp", 9, 100));
    s = test::concat(s, test::servers_in("au", 9, 200));
    s = test::concat(s, test::servers_in("us", 9, 300));
    s.push_back(test::server(400, "12.9.0.1", "tr"));
    auto r = compile(test::pool(s));
    EXPECT_TRUE(addrs(find(r, "asia")->a).count("12.9.0.1")) << "a TR server is in asia";
    EXPECT_FALSE(addrs(find(r, "europe")->a).count("12.9.0.1"));
    const auto europe = addrs(find(r, "europe")->a);
    const auto oceania = addrs(find(r, "oceania")->a);
    test::ServedZone served(
        std::move(r.zone),
        {parse_override("10.1.0.0/16", "cy"), parse_override("10.2.0.0/16", "tl"),
         parse_override("10.3.0.0/16", "um"), parse_override("10.4.0.0/16", "tr")});
    for (int i = 0; i < 10; ++i) {
        for (const auto& a : served.addresses("10.1.0.1", "1.pool.ntp.org")) {
            EXPECT_TRUE(europe.count(a)) << "CY -> europe: " << a;
        }
        for (const auto& a : served.addresses("10.2.0.1", "1.pool.ntp.org")) {
            EXPECT_TRUE(oceania.count(a)) << "TL -> oceania: " << a;
        }
        for (const auto& a : served.addresses("10.3.0.1", "1.pool.ntp.org")) {
            EXPECT_TRUE(oceania.count(a)) << "UM -> oceania: " << a;
        }
        // A TR client has its own server first.
        EXPECT_EQ(served.addresses("10.4.0.1", "1.pool.ntp.org"),
                  std::set<std::string>{"12.9.0.1"});
    }
}

// settings.records: what the zone builder does not generate (www, _dmarc, apex TXT).
TEST(PoolCompiler, StaticRecordsFromSettings) {
    json doc = test::pool(test::servers_in("de", 9, 1),
                          json::array({{{"name", "debian"}, {"client_type", "ntp"}}}));
    doc["settings"]["records"] =
        json::array({{{"name", "www"}, {"type", "CNAME"}, {"data", "www.ntppool.org."}},
                     {{"name", "WEB"}, {"type", "CNAME"}, {"data", "www.ntppool.org"}},
                     {{"name", "@"}, {"type", "TXT"}, {"data", "v=spf1 -all"}},
                     {{"name", "_dmarc"}, {"type", "TXT"}, {"data", "v=DMARC1; p=reject"}}});
    auto r = compile(doc);
    EXPECT_EQ(find(r, "www")->cname, "www.ntppool.org");
    EXPECT_EQ(find(r, "web")->cname, "www.ntppool.org");
    EXPECT_EQ(find(r, "")->txt, std::vector<std::string>{"v=spf1 -all"});
    test::ServedZone served(std::move(r.zone), {});
    const auto www = served.ask("10.0.0.1", "www.pool.ntp.org");
    ASSERT_EQ(www.answer.size(), 1u);
    EXPECT_EQ(www.answer[0].type, 5);
    EXPECT_EQ(www.answer[0].text, "www.ntppool.org.");
    const auto dmarc = served.ask("10.0.0.1", "_dmarc.pool.ntp.org", 16);
    ASSERT_EQ(dmarc.answer.size(), 1u);
    EXPECT_EQ(dmarc.answer[0].text, "v=DMARC1; p=reject");
    const auto apex = served.ask("10.0.0.1", "pool.ntp.org", 16);
    ASSERT_EQ(apex.answer.size(), 1u);
    EXPECT_EQ(apex.answer[0].text, "v=spf1 -all");

    // Where a record would collide with what the pool generates, it is refused.
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"de", "CNAME"}, {"0", "CNAME"}, {"@", "CNAME"}, {"0.debian", "TXT"}, {"gb", "TXT"}}) {
        json bad = doc;
        bad["settings"]["records"] =
            json::array({{{"name", name}, {"type", type}, {"data", "x.org"}}});
        try {
            (void)compile(bad);
            ADD_FAILURE() << type << " at " << name << " accepted";
        } catch (const base::InputError& e) {
            EXPECT_EQ(e.reason(), "value") << e.what();
            EXPECT_NE(std::string(e.what()).find("settings.records[0]"), std::string::npos)
                << e.what();
        }
    }
}

}  // namespace
}  // namespace pooledge::control
