#include "pooledge/control/guard.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>
#include <set>

#include "pooledge/image/countries.hpp"

namespace pooledge::control {

std::string ServerSummary::to_json() const {
    nlohmann::json j;
    j["total"] = total;
    j["per_zone"] = per_zone;
    return j.dump() + "\n";
}

std::optional<ServerSummary> ServerSummary::from_json(std::string_view text) {
    try {
        const auto j = nlohmann::json::parse(text.begin(), text.end());
        ServerSummary s;
        s.total = j.at("total").get<uint64_t>();
        s.per_zone = j.at("per_zone").get<std::map<std::string, uint64_t>>();
        return s;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

ServerSummary summarize_zone(const image::ZoneModel& zone) {
    ServerSummary s;
    std::set<std::string> distinct;
    for (const auto& [name, label] : zone.labels) {
        const uint64_t n = label.a.size() + label.aaaa.size();
        if (n == 0) {
            continue;
        }
        s.per_zone[name.empty() ? "@" : name] = n;
        for (const auto* list : {&label.a, &label.aaaa}) {
            for (const auto& w : *list) {
                distinct.insert(w.addr.to_string());
            }
        }
    }
    s.total = distinct.size();
    return s;
}

std::optional<GuardRefusal> check_guard_rails(const ServerSummary& last, const ServerSummary& next,
                                              const GuardLimits& limits) {
    const double max_drop_share = limits.max_drop_share;
    if (last.total > 0 && next.total < last.total) {
        const double drop =
            static_cast<double>(last.total - next.total) / static_cast<double>(last.total);
        if (drop > max_drop_share) {
            return GuardRefusal{"drop_share",
                                "update drops " + std::to_string(last.total - next.total) + " of " +
                                    std::to_string(last.total) + " servers (" +
                                    std::to_string(std::lround(drop * 100)) +
                                    "%), more than the allowed " +
                                    std::to_string(std::lround(max_drop_share * 100)) + "%"};
        }
    }
    for (const auto& [zone, count] : last.per_zone) {
        const bool strict =
            zone == "@" || std::find(image::continents().begin(), image::continents().end(),
                                     zone) != image::continents().end();
        if (count == 0 || (!strict && count < limits.empty_zone_min_servers)) {
            continue;
        }
        const auto it = next.per_zone.find(zone);
        if (it == next.per_zone.end() || it->second == 0) {
            return GuardRefusal{"empty_zone", "update empties zone '" + zone + "', which had " +
                                                  std::to_string(count) + " servers"};
        }
    }
    return std::nullopt;
}

}  // namespace pooledge::control
