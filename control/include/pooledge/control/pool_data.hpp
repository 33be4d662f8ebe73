// The pool's registry data (control/REGISTRY.md): servers with scores and netspeed, vendor
// zones and settings, plus the more frequent score feed. Parsing validates everything the
// compiler relies on, so compile_pool() never meets a bad value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooledge/base/ip.hpp"

namespace pooledge::control {

struct PoolServer {
    uint64_t id = 0;
    base::IpAddress ip;
    uint64_t netspeed = 0;  // kbit/s; the server's weight
    double score = 0;
    std::vector<std::string> countries;  // lower-case ISO codes ("gb", never "uk")
    bool in_pool = false;
    std::optional<int64_t> deletion_on;  // unix seconds of 00:00 UTC that day
};

enum class ClientType { Ntp, Sntp, Legacy };

struct Vendor {
    std::string name;
    ClientType client_type = ClientType::Ntp;
};

// A record the zone builder does not make itself (www CNAME, apex or _dmarc TXT), from
// settings.records. It takes settings.ttl.
struct StaticRecord {
    enum class Type { Cname, Txt };
    std::string name;  // relative to the origin, lower case; "" = the apex
    Type type = Type::Txt;
    std::string data;  // CNAME: an absolute name without the trailing dot; TXT: the text
};

struct PoolSettings {
    std::string origin = "pool.ntp.org";
    uint32_t ttl = 150;
    std::vector<std::string> ns;  // absolute names, no trailing dot
    std::string contact;          // SOA RNAME in name form: hostmaster.pool.ntp.org
    std::vector<StaticRecord> records;
};

struct PoolData {
    int64_t generated = 0;  // unix seconds
    PoolSettings settings;
    std::vector<Vendor> vendors;
    std::vector<PoolServer> servers;  // sorted by id
};

struct Score {
    uint64_t server_id = 0;
    double score = 0;
    int64_t ts = 0;
};

struct ScoreFeed {
    int64_t generated = 0;
    std::vector<Score> scores;
};

// Both throw base::InputError naming the source and the JSON path of the first problem. An empty
// server list or score list is an error (reason "empty"): the registry never means it.
[[nodiscard]] PoolData parse_pool_data(std::string_view json_text, const std::string& source);
[[nodiscard]] ScoreFeed parse_score_feed(std::string_view json_text, const std::string& source);

// Throws base::InputError (reason "stale") when `generated` is older than `max_age` seconds at
// `now`, or more than five minutes in the future (a registry clock gone wrong).
void check_freshness(int64_t generated, int64_t now, int64_t max_age, const std::string& source);

struct ScoreMerge {
    size_t applied = 0;
    size_t unknown_server = 0;  // ids not in the pool data: added since, or deleted
    size_t older = 0;           // not newer than the pool data's own scores
};

// A feed score replaces a server's score when it is newer than the pool data.
ScoreMerge apply_scores(PoolData& data, const ScoreFeed& feed);

// "2026-12-01" -> unix seconds at 00:00 UTC; nothing when it is not a valid date.
[[nodiscard]] std::optional<int64_t> parse_date(std::string_view text);

}  // namespace pooledge::control
