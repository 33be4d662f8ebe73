// pooledge-control's YAML configuration (configs/control.yaml documents every key).
//
// load_config() checks everything before the process acts on it: types, ranges, files that
// must exist, that exactly one registry input is set. Errors name the file, line and key
// ("control.yaml:14: push.targets[1]: expected unix:PATH or tcp:HOST:PORT"). Unknown keys
// are errors too: a misspelt key must not silently leave a default in place. Relative paths
// are taken relative to the configuration file's directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/base/yaml_reader.hpp"
#include "pooledge/control/geoip.hpp"
#include "pooledge/image/push.hpp"

namespace pooledge::control {

struct RegistryConfig {
    std::string pool_data;        // URL or path; exactly one of pool_data and geodns_json
    std::string scores;           // optional score feed (pool data only)
    std::string geodns_json;      // URL or path
    std::string origin;           // geodns JSON zone name; default: from the file name
    std::string token_file;       // bearer token for http(s) sources; reread on every fetch
    bool insecure_token = false;  // allow the token over plain http to a non-loopback host
    std::chrono::seconds interval{60};
    std::chrono::seconds timeout{30};
    int retries = 3;
    std::chrono::seconds max_age{3600};  // refuse data generated longer ago than this
    uint64_t max_bytes = uint64_t{512} << 20;
};

struct CompileConfig {
    double min_score = 10;
    uint64_t seed = 0;
    double max_drop_share = 0.25;
    uint64_t empty_zone_min_servers = 4;  // see GuardLimits
};

struct PushConfig {
    std::vector<image::push::Endpoint> targets;
    std::chrono::seconds timeout{30};
    std::chrono::seconds deadline{600};  // one whole push
    std::chrono::seconds retry_min{1};
    std::chrono::seconds retry_max{300};
    // How often a target that confirmed the current image is asked for its serial again; one
    // that lost it (restarted without its image on disk, or refused it after an upgrade) is
    // pushed to again. 0: never.
    std::chrono::seconds recheck{30};
};

struct ControlConfig {
    std::string file;  // where it was loaded from
    RegistryConfig registry;
    CompileConfig compile;
    GeoIpOptions geoip;
    std::vector<image::GeoPrefixModel> overrides;
    std::string key_file;
    std::string state_dir;
    PushConfig push;
    std::string metrics_listen;  // "127.0.0.1:9120"; empty = no endpoint
};

// Throws base::InputError (reason "config").
[[nodiscard]] ControlConfig load_config(const std::string& path);

}  // namespace pooledge::control
