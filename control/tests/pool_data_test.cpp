#include "pooledge/control/pool_data.hpp"

#include <gtest/gtest.h>

#include "control_test_util.hpp"
#include "pooledge/base/input_error.hpp"

namespace pooledge::control {
namespace {

using test::json;

// Parses `doc` expecting an base::InputError; returns it for the caller to inspect.
base::InputError parse_error(const std::string& text) {
    try {
        (void)parse_pool_data(text, "pool.json");
    } catch (const base::InputError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << text.substr(0, 200);
    return base::InputError("none", "");
}

void expect_text_error(const std::string& text, const std::string& reason,
                       const std::string& fragment) {
    const base::InputError e = parse_error(text);
    EXPECT_EQ(e.reason(), reason) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "'" << e.what() << "' lacks '" << fragment << "'";
}

void expect_error(const json& doc, const std::string& reason, const std::string& fragment) {
    expect_text_error(doc.dump(), reason, fragment);
}

TEST(PoolData, ParsesAWellFormedDocument) {
    const json doc = test::pool(
        json::array({test::server(7, "81.0.0.1", "DE"), test::server(3, "2a01::1", "uk")}),
        json::array({{{"name", "debian"}, {"client_type", "ntp"}},
                     {{"name", "openwrt"}, {"client_type", "sntp"}}}));
    const PoolData d = parse_pool_data(doc.dump(), "pool.json");
    EXPECT_EQ(d.generated, test::kGenerated);
    EXPECT_EQ(d.settings.contact, "hostmaster.pool.ntp.org");
    EXPECT_EQ(d.settings.ns.size(), 2u);
    ASSERT_EQ(d.servers.size(), 2u);
    EXPECT_EQ(d.servers[0].id, 3u);                                     // sorted by id
    EXPECT_EQ(d.servers[0].countries, std::vector<std::string>{"gb"});  // "uk" is gb
    EXPECT_EQ(d.servers[1].countries, std::vector<std::string>{"de"});  // lower-cased
    EXPECT_EQ(d.servers[0].ip.family, 6);
    ASSERT_EQ(d.vendors.size(), 2u);
    EXPECT_EQ(d.vendors[1].client_type, ClientType::Sntp);
}

TEST(PoolData, SyntaxErrorsNameLineAndColumn) {
    const base::InputError e = parse_error("{\n  \"schema\": 1,\n  \"generated\": ,\n}");
    EXPECT_EQ(e.reason(), "json");
    EXPECT_NE(std::string(e.what()).find("pool.json:3:"), std::string::npos) << e.what();
    const std::string full = test::pool(test::servers_in("de", 3, 1)).dump();
    const base::InputError t = parse_error(full.substr(0, full.size() / 2));
    EXPECT_EQ(t.reason(), "json");
    EXPECT_NE(std::string(t.what()).find("truncated"), std::string::npos) << t.what();
    EXPECT_EQ(parse_error("").reason(), "json");
}

TEST(PoolData, WrongTypesAndMissingKeysNameThePath) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][1]["netspeed"] = "1000";
    expect_error(doc, "schema", "servers[1] (id 2).netspeed: expected an integer");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][2].erase("in_pool");
    expect_error(doc, "schema", "servers[2] (id 3).in_pool: missing");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][0]["score"] = nullptr;
    expect_error(doc, "schema", "servers[0] (id 1).score: expected a number");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["settings"]["ns"] = json::array();
    expect_error(doc, "value", "settings.ns");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["schema"] = 2;
    expect_error(doc, "schema", "version 2 is not supported");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"] = json::object();
    expect_error(doc, "schema", "servers: expected an array");
}

TEST(PoolData, BadValuesAreRefused) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][1]["zones"] = {"de", "xx"};
    expect_error(doc, "value", "servers[1] (id 2).zones[1]: 'xx' is not a known country code");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][0]["ip"] = "10.0.0.1";
    expect_error(doc, "value", "not a public unicast address");
    doc["servers"][0]["ip"] = "1.2.3";
    expect_error(doc, "value", "'1.2.3' is not an IP address");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][0]["deletion_on"] = "2026-02-30";
    expect_error(doc, "value", "not a YYYY-MM-DD date");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][0]["netspeed"] = -5;
    expect_error(doc, "value", "netspeed");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["settings"]["contact"] = "first.last@example.org";
    expect_error(doc, "value", "settings.contact");
}

// A number written as `marker` in the dump of `doc` replaced by `number` (nlohmann cannot
// hold 1e400, so the text is edited).
std::string with_number(const json& doc, const std::string& marker, const std::string& number) {
    std::string text = doc.dump();
    const size_t at = text.find("\"" + marker + "\"");
    EXPECT_NE(at, std::string::npos);
    return text.replace(at, marker.size() + 2, number);
}

// Numbers beyond a double's range are valid JSON syntax the parser cannot hold: an input
// error naming the path, not an escaped nlohmann exception.
TEST(PoolData, NumbersBeyondDoubleRangeAreValueErrors) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][2]["score"] = "NUMBER";
    expect_text_error(with_number(doc, "NUMBER", "1e400"), "value",
                      "pool.json: servers[2].score: ");
    expect_text_error(with_number(doc, "NUMBER", "-1e400"), "value", "servers[2].score");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["generated"] = "NUMBER";
    expect_text_error(with_number(doc, "NUMBER", "1e400"), "value", "pool.json: generated: ");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["settings"]["ns"][1] = "NUMBER";
    expect_text_error(with_number(doc, "NUMBER", "1e999"), "value", "settings.ns[1]");

    const json feed = {
        {"schema", 1},
        {"generated", test::kGenerated + 60},
        {"scores", {{{"server_id", 1}, {"score", "NUMBER"}, {"ts", test::kGenerated}}}}};
    try {
        (void)parse_score_feed(with_number(feed, "NUMBER", "1e400"), "scores.json");
        ADD_FAILURE() << "accepted";
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "value");
        EXPECT_NE(std::string(e.what()).find("scores.json: scores[0].score"), std::string::npos)
            << e.what();
    }
}

// Whole numbers too large for their field are value errors, whatever way they are written.
TEST(PoolData, OversizedIntegersAreValueErrors) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][0]["netspeed"] = 1e30;
    expect_error(doc, "value", "servers[0] (id 1).netspeed: 1e+30 is outside");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["settings"]["ttl"] = 1e20;
    expect_error(doc, "value", "settings.ttl: 1e+20 is outside 1..86400");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][1]["id"] = "NUMBER";
    expect_text_error(with_number(doc, "NUMBER", "18446744073709551617"), "value",
                      "servers[1].id: ");
    expect_text_error(with_number(doc, "NUMBER", "18446744073709551615"), "value",
                      "servers[1].id: 18446744073709551615 is outside");
    doc["servers"][1]["id"] = 1.5;  // not a whole number: the type is wrong
    expect_error(doc, "schema", "servers[1].id: expected an integer");
}

TEST(PoolData, StaticRecordsParse) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["settings"]["records"] =
        json::array({{{"name", "WWW"}, {"type", "CNAME"}, {"data", "www.ntppool.org."}},
                     {{"name", "@"}, {"type", "TXT"}, {"data", "v=spf1 -all"}},
                     {{"name", "_dmarc"}, {"type", "TXT"}, {"data", "v=DMARC1; p=reject"}}});
    const PoolData d = parse_pool_data(doc.dump(), "pool.json");
    ASSERT_EQ(d.settings.records.size(), 3u);
    EXPECT_EQ(d.settings.records[0].name, "www");
    EXPECT_EQ(d.settings.records[0].type, StaticRecord::Type::Cname);
    EXPECT_EQ(d.settings.records[0].data, "www.ntppool.org");
    EXPECT_EQ(d.settings.records[1].name, "");
    EXPECT_EQ(d.settings.records[2].data, "v=DMARC1; p=reject");

    auto bad = [&](const json& record, const std::string& reason, const std::string& fragment) {
        json b = doc;
        b["settings"]["records"] = json::array({record});
        expect_error(b, reason, fragment);
    };
    bad({{"name", "x"}, {"type", "SRV"}, {"data", "y"}}, "value", "settings.records[0].type");
    bad({{"name", "www.pool.ntp.org."}, {"type", "TXT"}, {"data", "y"}}, "value",
        "settings.records[0].name: 'www.pool.ntp.org.' must be a name relative to pool.ntp.org");
    bad({{"name", std::string(64, 'a')}, {"type", "TXT"}, {"data", "y"}}, "value",
        "settings.records[0].name");
    bad({{"name", "x"}, {"type", "TXT"}, {"data", ""}}, "value", "TXT text must be");
    bad({{"name", "x"}, {"type", "CNAME"}, {"data", "bad..name"}}, "value",
        "settings.records[0].data");
    bad({{"name", "x"}, {"type", "TXT"}}, "schema", "settings.records[0].data: missing");
}

TEST(PoolData, DuplicatesAndEmptyListsAreRefused) {
    json doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][2]["id"] = 1;
    expect_error(doc, "duplicate", "server id 1 is also servers[0]");
    doc = test::pool(test::servers_in("de", 3, 1));
    doc["servers"][2]["ip"] = doc["servers"][0]["ip"];
    expect_error(doc, "duplicate", "is also the address of server id 1");
    // The same address written differently is still the same server.
    doc = test::pool(
        json::array({test::server(1, "2a01::1", "de"), test::server(2, "2a01:0:0::0001", "de")}));
    expect_error(doc, "duplicate", "2a01::1");
    expect_error(test::pool(json::array()), "empty", "the server list is empty");
    const json vendors = json::array({{{"name", "debian"}, {"client_type", "ntp"}},
                                      {{"name", "debian"}, {"client_type", "sntp"}}});
    expect_error(test::pool(test::servers_in("de", 1, 1), vendors), "duplicate", "listed twice");
}

TEST(PoolData, VendorNamesCannotShadowZones) {
    for (const char* bad : {"de", "uk", "europe", "0", "Debian", "-x", ""}) {
        const json vendors = json::array({{{"name", bad}, {"client_type", "ntp"}}});
        expect_error(test::pool(test::servers_in("de", 1, 1), vendors), "value", "vendors[0].name");
    }
    const json vendors = json::array({{{"name", "debian"}, {"client_type", "chrony"}}});
    expect_error(test::pool(test::servers_in("de", 1, 1), vendors), "value", "'chrony'");
}

TEST(PoolData, FreshnessIsChecked) {
    EXPECT_NO_THROW(check_freshness(1000, 1500, 600, "x"));
    try {
        check_freshness(1000, 2000, 600, "pool.json");
        ADD_FAILURE();
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "stale");
        EXPECT_NE(std::string(e.what()).find("1000 s ago"), std::string::npos) << e.what();
    }
    EXPECT_THROW(check_freshness(5000, 1000, 600, "x"), base::InputError);  // from the future
}

TEST(PoolData, ScoreFeedAppliesOnlyNewerScoresOfKnownServers) {
    PoolData d = parse_pool_data(test::pool(test::servers_in("de", 3, 1)).dump(), "p");
    const json feed = {{"schema", 1},
                       {"generated", test::kGenerated + 60},
                       {"scores",
                        {{{"server_id", 1}, {"score", 5.0}, {"ts", test::kGenerated + 30}},
                         {{"server_id", 2}, {"score", 5.0}, {"ts", test::kGenerated - 30}},
                         {{"server_id", 99}, {"score", 5.0}, {"ts", test::kGenerated + 30}}}}};
    const ScoreMerge m = apply_scores(d, parse_score_feed(feed.dump(), "scores.json"));
    EXPECT_EQ(m.applied, 1u);
    EXPECT_EQ(m.older, 1u);
    EXPECT_EQ(m.unknown_server, 1u);
    EXPECT_EQ(d.servers[0].score, 5.0);
    EXPECT_EQ(d.servers[1].score, 19.5);

    json bad = feed;
    bad["scores"][1]["server_id"] = 1;
    try {
        (void)parse_score_feed(bad.dump(), "scores.json");
        ADD_FAILURE();
    } catch (const base::InputError& e) {
        EXPECT_EQ(e.reason(), "duplicate");
    }
    bad = feed;
    bad["scores"] = json::array();
    EXPECT_THROW((void)parse_score_feed(bad.dump(), "scores.json"), base::InputError);
}

TEST(PoolData, DatesParse) {
    EXPECT_EQ(parse_date("1970-01-01"), 0);
    EXPECT_EQ(parse_date("2026-11-21"), 1795219200);
    EXPECT_EQ(parse_date("2024-02-29"), 1709164800);
    EXPECT_FALSE(parse_date("2023-02-29"));
    EXPECT_FALSE(parse_date("2026-13-01"));
    EXPECT_FALSE(parse_date("2026-1-01"));
    EXPECT_FALSE(parse_date("yesterday!"));
}

}  // namespace
}  // namespace pooledge::control
