// Guard rails: an update that would drop more than a set share of the servers, or empty a
// zone that had servers, is refused unless forced. A registry bug or a half-written export
// looks exactly like that, and serving it would send millions of clients to the few servers
// left.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pooledge/image/model.hpp"

namespace pooledge::control {

// Servers per zone ("@", continents, countries for pool data; labels for geodns JSON) and in
// total. Kept next to the last good image, so the rails hold across restarts.
struct ServerSummary {
    std::map<std::string, uint64_t> per_zone;
    uint64_t total = 0;

    [[nodiscard]] std::string to_json() const;
    // Nothing when the text is not a summary (a missing or damaged file disables the rails
    // for one update, and says so).
    [[nodiscard]] static std::optional<ServerSummary> from_json(std::string_view text);
};

// For geodns JSON input: addresses per label, and distinct addresses in total.
[[nodiscard]] ServerSummary summarize_zone(const image::ZoneModel& zone);

struct GuardRefusal {
    std::string rule;  // "drop_share" or "empty_zone": a metric label
    std::string message;
};

struct GuardLimits {
    double max_drop_share = 0.25;
    // empty_zone guards a country (or geodns label) only when it had at least this many
    // servers: a 1-3-server country dipping below the score threshold is ordinary churn, not
    // a broken export. Global ("@") and the continents are always guarded.
    uint64_t empty_zone_min_servers = 4;
};

[[nodiscard]] std::optional<GuardRefusal> check_guard_rails(const ServerSummary& last,
                                                            const ServerSummary& next,
                                                            const GuardLimits& limits);

}  // namespace pooledge::control
