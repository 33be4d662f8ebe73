#include "pooledge/control/pool_data.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>
#include <unordered_set>

#include "json_fields.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/image/countries.hpp"

namespace pooledge::control {
namespace {

using namespace json_fields;

// The registry's schema version this parser implements (REGISTRY.md).
constexpr int64_t kSchemaVersion = 1;
constexpr int64_t kMaxTime = int64_t{1} << 40;  // far beyond any real timestamp

std::string at(const std::string& path, size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

void check_schema(const json& doc, const std::string& source) {
    expect_object(doc, source);
    const int64_t v = expect_int(require(doc, "schema", ""), "schema", 0, INT32_MAX);
    if (v != kSchemaVersion) {
        fail("schema", "schema",
             "version " + std::to_string(v) + " is not supported (this build reads " +
                 std::to_string(kSchemaVersion) + ")");
    }
}

bool is_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// The longest TXT text accepted; the image splits it into 255-byte strings.
constexpr size_t kMaxTxt = 1024;

StaticRecord parse_record(const json& v, const std::string& path, const std::string& origin) {
    expect_object(v, path);
    StaticRecord r;
    std::string name = expect_string(require(v, "name", path), path + ".name");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "@") {
        name.clear();
    }
    if (!name.empty() &&
        (name.back() == '.' || !dns::name_from_text(name + "." + origin).has_value())) {
        fail("value", path + ".name",
             "'" + name + "' must be a name relative to " + origin + " (\"@\" for the apex)");
    }
    r.name = name;
    const std::string type = expect_string(require(v, "type", path), path + ".type");
    const json& data = require(v, "data", path);
    if (type == "CNAME") {
        r.type = StaticRecord::Type::Cname;
        r.data = expect_dns_name(data, path + ".data");
    } else if (type == "TXT") {
        r.type = StaticRecord::Type::Txt;
        r.data = expect_string(data, path + ".data");
        if (r.data.empty() || r.data.size() > kMaxTxt) {
            fail("value", path + ".data",
                 "TXT text must be 1.." + std::to_string(kMaxTxt) + " bytes");
        }
    } else {
        fail("value", path + ".type", "'" + type + "' is not one of CNAME, TXT");
    }
    return r;
}

PoolSettings parse_settings(const json& v) {
    const std::string path = "settings";
    expect_object(v, path);
    PoolSettings s;
    if (const json* o = optional(v, "origin")) {
        s.origin = expect_dns_name(*o, path + ".origin");
    }
    if (const json* t = optional(v, "ttl")) {
        s.ttl = static_cast<uint32_t>(expect_int(*t, path + ".ttl", 1, 86400));
    }
    const json& ns = expect_array(require(v, "ns", path), path + ".ns");
    if (ns.empty()) {
        fail("value", path + ".ns", "at least one name server is needed");
    }
    for (size_t i = 0; i < ns.size(); ++i) {
        s.ns.push_back(expect_dns_name(ns[i], at(path + ".ns", i)));
    }
    s.contact = contact_to_rname(require(v, "contact", path), path + ".contact");
    if (const json* records = optional(v, "records")) {
        expect_array(*records, path + ".records");
        for (size_t i = 0; i < records->size(); ++i) {
            s.records.push_back(parse_record((*records)[i], at(path + ".records", i), s.origin));
        }
    }
    return s;
}

std::vector<Vendor> parse_vendors(const json* v) {
    std::vector<Vendor> out;
    if (v == nullptr) {
        return out;
    }
    expect_array(*v, "vendors");
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < v->size(); ++i) {
        const std::string path = at("vendors", i);
        const json& e = expect_object((*v)[i], path);
        Vendor vendor;
        vendor.name = expect_string(require(e, "name", path), path + ".name");
        // A vendor label sits beside the country and continent labels and the 0-3 splits:
        // a vendor named like one of them would shadow a real zone.
        const bool digits = std::all_of(vendor.name.begin(), vendor.name.end(),
                                        [](char c) { return c >= '0' && c <= '9'; });
        const bool continent = std::find(image::continents().begin(), image::continents().end(),
                                         vendor.name) != image::continents().end();
        if (!is_label(vendor.name) || digits || continent ||
            !image::continent_of(vendor.name).empty() || vendor.name == "uk") {
            fail("value", path + ".name",
                 "'" + vendor.name +
                     "' must be a lower-case DNS label that is not a number, country or "
                     "continent");
        }
        if (!seen.insert(vendor.name).second) {
            fail("duplicate", path + ".name", "vendor '" + vendor.name + "' is listed twice");
        }
        const std::string type =
            expect_string(require(e, "client_type", path), path + ".client_type");
        if (type == "ntp") {
            vendor.client_type = ClientType::Ntp;
        } else if (type == "sntp") {
            vendor.client_type = ClientType::Sntp;
        } else if (type == "legacy") {
            vendor.client_type = ClientType::Legacy;
        } else {
            fail("value", path + ".client_type", "'" + type + "' is not one of ntp, sntp, legacy");
        }
        out.push_back(std::move(vendor));
    }
    return out;
}

PoolServer parse_server(const json& e, const std::string& index_path) {
    expect_object(e, index_path);
    PoolServer s;
    s.id = static_cast<uint64_t>(
        expect_int(require(e, "id", index_path), index_path + ".id", 1, INT64_MAX));
    // From here on, messages name the server by id too: that is what an operator looks up.
    const std::string path = index_path + " (id " + std::to_string(s.id) + ")";
    const std::string ip = expect_string(require(e, "ip", path), path + ".ip");
    const auto addr = base::IpAddress::parse(ip);
    if (!addr) {
        fail("value", path + ".ip", "'" + ip + "' is not an IP address");
    }
    if (!base::is_public_unicast(*addr)) {
        fail("value", path + ".ip", "'" + ip + "' is not a public unicast address");
    }
    s.ip = *addr;
    s.netspeed = static_cast<uint64_t>(
        expect_int(require(e, "netspeed", path), path + ".netspeed", 0, int64_t{1} << 40));
    s.score = expect_number(require(e, "score", path), path + ".score");
    const json& zs = expect_array(require(e, "zones", path), path + ".zones");
    for (size_t i = 0; i < zs.size(); ++i) {
        std::string code = expect_string(zs[i], at(path + ".zones", i));
        std::transform(code.begin(), code.end(), code.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (code == "uk") {
            code = "gb";  // the pool's zone name for Great Britain; the ISO code is gb
        }
        if (image::continent_of(code).empty()) {
            fail("value", at(path + ".zones", i), "'" + code + "' is not a known country code");
        }
        if (std::find(s.countries.begin(), s.countries.end(), code) == s.countries.end()) {
            s.countries.push_back(code);
        }
    }
    s.in_pool = expect_bool(require(e, "in_pool", path), path + ".in_pool");
    if (const json* d = optional(e, "deletion_on")) {
        const std::string text = expect_string(*d, path + ".deletion_on");
        s.deletion_on = parse_date(text);
        if (!s.deletion_on) {
            fail("value", path + ".deletion_on", "'" + text + "' is not a YYYY-MM-DD date");
        }
    }
    return s;
}

}  // namespace

std::optional<int64_t> parse_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    auto num = [&](size_t pos, size_t len, int& out) {
        const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
        return ec == std::errc{} && end == text.data() + pos + len;
    };
    int y = 0, m = 0, d = 0;
    if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d) || m < 1 || m > 12 || d < 1) {
        return std::nullopt;
    }
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) {
        return std::nullopt;
    }
    // Days from civil (H. Hinnant's algorithm).
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int64_t days = int64_t{era} * 146097 + doe - 719468;
    return days * 86400;
}

PoolData parse_pool_data(std::string_view json_text, const std::string& source) {
    const json doc = parse_document(json_text, source);
    try {
        check_schema(doc, source);
        PoolData d;
        d.generated = expect_int(require(doc, "generated", ""), "generated", 0, kMaxTime);
        d.settings = parse_settings(require(doc, "settings", ""));
        d.vendors = parse_vendors(optional(doc, "vendors"));
        const json& servers = expect_array(require(doc, "servers", ""), "servers");
        if (servers.empty()) {
            fail("empty", "servers", "the server list is empty");
        }
        d.servers.reserve(servers.size());
        std::unordered_map<uint64_t, size_t> ids;
        std::unordered_map<std::string, uint64_t> ips;
        for (size_t i = 0; i < servers.size(); ++i) {
            PoolServer s = parse_server(servers[i], at("servers", i));
            if (const auto [it, fresh] = ids.emplace(s.id, i); !fresh) {
                fail("duplicate", at("servers", i),
                     "server id " + std::to_string(s.id) + " is also servers[" +
                         std::to_string(it->second) + "]");
            }
            const std::string ip = s.ip.to_string();
            if (const auto [it, fresh] = ips.emplace(ip, s.id); !fresh) {
                fail("duplicate", at("servers", i) + " (id " + std::to_string(s.id) + ").ip",
                     ip + " is also the address of server id " + std::to_string(it->second));
            }
            d.servers.push_back(std::move(s));
        }
        std::sort(d.servers.begin(), d.servers.end(),
                  [](const PoolServer& a, const PoolServer& b) { return a.id < b.id; });
        return d;
    } catch (const base::InputError& e) {
        throw base::InputError(e.reason(), source + ": " + e.what());
    }
}

ScoreFeed parse_score_feed(std::string_view json_text, const std::string& source) {
    const json doc = parse_document(json_text, source);
    try {
        check_schema(doc, source);
        ScoreFeed f;
        f.generated = expect_int(require(doc, "generated", ""), "generated", 0, kMaxTime);
        const json& scores = expect_array(require(doc, "scores", ""), "scores");
        if (scores.empty()) {
            fail("empty", "scores", "the score list is empty");
        }
        std::unordered_set<uint64_t> seen;
        for (size_t i = 0; i < scores.size(); ++i) {
            const std::string path = at("scores", i);
            const json& e = expect_object(scores[i], path);
            Score s;
            s.server_id = static_cast<uint64_t>(
                expect_int(require(e, "server_id", path), path + ".server_id", 1, INT64_MAX));
            s.score = expect_number(require(e, "score", path), path + ".score");
            s.ts = expect_int(require(e, "ts", path), path + ".ts", 0, kMaxTime);
            if (!seen.insert(s.server_id).second) {
                fail("duplicate", path,
                     "server_id " + std::to_string(s.server_id) + " has two scores");
            }
            f.scores.push_back(s);
        }
        return f;
    } catch (const base::InputError& e) {
        throw base::InputError(e.reason(), source + ": " + e.what());
    }
}

void check_freshness(int64_t generated, int64_t now, int64_t max_age, const std::string& source) {
    if (generated + max_age < now) {
        throw base::InputError("stale", source + ": generated " + std::to_string(now - generated) +
                                            " s ago, more than the allowed " +
                                            std::to_string(max_age) +
                                            " s (registry export stuck?)");
    }
    if (generated > now + 300) {
        throw base::InputError("stale", source + ": generated " + std::to_string(generated - now) +
                                            " s in the future (clock skew?)");
    }
}

ScoreMerge apply_scores(PoolData& data, const ScoreFeed& feed) {
    ScoreMerge m;
    for (const Score& s : feed.scores) {
        const auto it =
            std::lower_bound(data.servers.begin(), data.servers.end(), s.server_id,
                             [](const PoolServer& srv, uint64_t id) { return srv.id < id; });
        if (it == data.servers.end() || it->id != s.server_id) {
            ++m.unknown_server;
        } else if (s.ts <= data.generated) {
            ++m.older;
        } else {
            it->score = s.score;
            ++m.applied;
        }
    }
    return m;
}

}  // namespace pooledge::control
