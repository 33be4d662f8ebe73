#include "pooledge/control/geodns_json.hpp"

#include <gtest/gtest.h>

#include "pooledge/base/input_error.hpp"

namespace pooledge::control {
namespace {

// As the pool's central system writes it: numbers as strings here and there, both NS forms.
constexpr const char* kZone = R"({
  "serial": "3",
  "ttl": 150,
  "max_hosts": "4",
  "contact": "hostmaster.pool.ntp.org",
  "targeting": "country continent @",
  "logging": {},
  "data": {
    "": {"ns": {"a.ntpns.org": null, "b.ntpns.org.": null},
         "mx": [{"mx": ".", "preference": 0}],
         "a": [["198.51.100.1", 100], ["198.51.100.2", "50"]],
         "txt": "pool zone"},
    "0": {"a": [{"ip": "198.51.100.3", "weight": 10}, "198.51.100.4"]},
    "2": {"aaaa": [["2001:db8::1", 1]]},
    "de": {"a": [["198.51.100.5", 1]], "max_hosts": 2, "ttl": "60"},
    "0.debian": {"alias": "0"},
    "www": {"cname": "www.ntppool.org."},
    "rel": {"cname": "other"},
    "asia": {"a": null}
  }
})";

TEST(GeodnsJson, ReadsWhatGeodnsReads) {
    const GeodnsZone g = parse_geodns_zone(kZone, "pool.ntp.org", "pool.ntp.org.json");
    const auto& z = g.zone;
    EXPECT_EQ(g.serial, 3u);
    EXPECT_EQ(z.ttl, 150u);
    EXPECT_EQ(z.max_hosts, 4);
    const auto& apex = z.labels.at("");
    EXPECT_EQ(apex.ns, (std::vector<std::string>{"a.ntpns.org", "b.ntpns.org"}));
    ASSERT_EQ(apex.a.size(), 2u);
    EXPECT_EQ(apex.a[1].weight, 50u);
    EXPECT_EQ(apex.txt, std::vector<std::string>{"pool zone"});
    EXPECT_EQ(apex.mx.at(0).exchange, ".");
    EXPECT_EQ(z.labels.at("0").a.size(), 2u);
    EXPECT_EQ(z.labels.at("0").a[0].weight, 10u);
    EXPECT_EQ(z.labels.at("2").aaaa.size(), 1u);
    EXPECT_EQ(z.labels.at("de").max_hosts, 2);
    EXPECT_EQ(z.labels.at("de").ttl, 60u);
    EXPECT_EQ(z.labels.at("0.debian").alias, "0");
    EXPECT_EQ(z.labels.at("www").cname, "www.ntppool.org");
    EXPECT_EQ(z.labels.at("rel").cname, "other.pool.ntp.org");  // relative: under the origin
    EXPECT_TRUE(z.labels.at("asia").a.empty());
    EXPECT_EQ(z.soa.mname, "a.ntpns.org");
    EXPECT_EQ(z.soa.rname, "hostmaster.pool.ntp.org");
    EXPECT_EQ(z.soa.ttl, 1500u);
    EXPECT_EQ(z.ns_ttl, 86400u);
}

void expect_refused(const std::string& text, const std::string& fragment) {
    try {
        (void)parse_geodns_zone(text, "pool.ntp.org", "z.json");
        ADD_FAILURE() << "accepted " << text;
    } catch (const base::InputError& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
            << "'" << e.what() << "' lacks '" << fragment << "'";
    }
}

TEST(GeodnsJson, BadInputIsNamed) {
    expect_refused(R"({"data": {"0": {"a": [["2001:db8::1", 1]]}}})",
                   "data.0.a[0]: '2001:db8::1' is an IPv6 address in an A list");
    expect_refused(R"({"data": {"0": {"aaaa": [["192.0.2.1", 1]]}}})", "IPv4 address in an AAAA");
    expect_refused(R"({"data": {"0": {"a": [["192.0.2.1", "heavy"]]}}})",
                   "'heavy' is not an integer");
    expect_refused(R"({"data": {"0": {"srv": []}}})", "'srv' is not supported");
    expect_refused(R"({"data": {"0": {"bogus": 1}}})", "data.0.bogus: unknown");
    expect_refused(R"({"targeting": "country asn", "data": {}})", "'asn' targeting");
    // As geodns's own sample zones have them: each refused naming what pooledge lacks.
    expect_refused(
        R"({"origin": "1.168.192.IN-ADDR.ARPA.",
            "targeting": "country continent @ regiongroup region ip asn", "data": {}})",
        "targeting: 'ip' targeting is not supported");
    expect_refused(R"({"data": {"2": {"ptr": [["bar.example.com."]]}}})",
                   "data.2.ptr: record type 'ptr' is not supported");
    expect_refused(R"({"data": {"": {"spf": [{"spf": "v=spf1 ~all"}]}}})", "'spf' is not");
    expect_refused(R"({"data": {"tucs": {"a": [["192.0.2.1", 1]], "closest": true}}})",
                   "data.tucs.closest: \"closest\" targeting");
    expect_refused(
        R"({"data": {"bad-example-there-really-should-be-an-ns-record-at-the-apex-here": {}}})",
        "data.bad-example-there-really-should-be-an-ns-record-at-the-apex-here: label "
        "'bad-example-there-really-should-be-an-ns-record-at-the-apex-here' is 64 octets");
    expect_refused(R"({"data": {"a..b": {}}})", "label '' of 'a..b' is 0 octets");
    expect_refused(R"({"data": {"a..b": {}}})", "is 0 octets; DNS labels are 1 to 63");
    expect_refused(R"({"targeting": "country contnent", "data": {}})",
                   "'contnent' is not a geodns targeting option");
    expect_refused(R"({"data": {"0": {"closest": true}}})", "closest");
    expect_refused(R"({"ttl": "x", "data": {}})", "ttl: 'x' is not an integer");
    expect_refused(R"({"data": []})", "data: expected an object");
    expect_refused(R"({"data": {"x": {"cname": [["a.example.", 1], ["b.example.", 1]]}}})",
                   "several weighted targets");
    expect_refused(R"({"data": {)", "truncated");
}

TEST(GeodnsJson, TargetingAndIgnoredOptions) {
    const auto g = parse_geodns_zone(
        R"({"origin": "elsewhere.example.", "targeting": "region  @ regiongroup", "data": {}})",
        "pool.ntp.org", "z.json");
    EXPECT_EQ(g.zone.targeting,
              image::target::kRegion | image::target::kGlobal | image::target::kRegionGroup);
    ASSERT_EQ(g.warnings.size(), 1u);
    EXPECT_NE(g.warnings[0].find("the zone is pool.ntp.org"), std::string::npos);
    EXPECT_EQ(parse_geodns_zone(R"({"data": {}})", "pool.ntp.org", "z.json").zone.targeting,
              image::target::kDefault);
}

TEST(GeodnsJson, OriginFromFileName) {
    EXPECT_EQ(origin_from_file_name("/srv/dns/pool.ntp.org.json"), "pool.ntp.org");
    EXPECT_EQ(origin_from_file_name("pool.ntp.org.json"), "pool.ntp.org");
    EXPECT_EQ(origin_from_file_name("zone.yaml"), "");
}

}  // namespace
}  // namespace pooledge::control
