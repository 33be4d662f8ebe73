// Builders of registry input for the control plane's tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace pooledge::control::test {

using nlohmann::json;

inline constexpr int64_t kGenerated = 1795000000;  // 2026-11-18

inline json server(uint64_t id, const std::string& ip, const std::string& country,
                   double score = 19.5, uint64_t netspeed = 1000) {
    return json{{"id", id},           {"ip", ip},        {"netspeed", netspeed},  {"score", score},
                {"zones", {country}}, {"in_pool", true}, {"deletion_on", nullptr}};
}

inline json pool(const json& servers, const json& vendors = json::array()) {
    return json{{"schema", 1},
                {"generated", kGenerated},
                {"settings",
                 {{"origin", "pool.ntp.org"},
                  {"ttl", 150},
                  {"ns", {"a.ntpns.org", "b.ntpns.org"}},
                  {"contact", "hostmaster@pool.ntp.org"}}},
                {"vendors", vendors},
                {"servers", servers}};
}

// n servers in `country`, IPv4 from 11.0.0.1 up (or IPv6 from 2a00::1 up), ids from `first_id`.
inline json servers_in(const std::string& country, int n, uint64_t first_id, bool v6 = false) {
    json list = json::array();
    for (int i = 0; i < n; ++i) {
        const uint64_t id = first_id + static_cast<uint64_t>(i);
        const std::string ip =
            v6 ? "2a00::" + std::to_string(id)
               : "11.0." + std::to_string(id / 250) + "." + std::to_string(id % 250 + 1);
        list.push_back(server(id, ip, country));
    }
    return list;
}

inline json concat(json a, const json& b) {
    for (const auto& e : b) {
        a.push_back(e);
    }
    return a;
}

}  // namespace pooledge::control::test
