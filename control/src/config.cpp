#include "pooledge/control/config.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/yaml_reader.hpp"

namespace pooledge::control {
namespace {

void read_registry(const base::YamlReader& r, const YAML::Node& n, RegistryConfig& c) {
    r.only(n, "registry",
           {"pool_data", "scores", "geodns_json", "origin", "token_file", "interval", "timeout",
            "retries", "max_age", "max_bytes"});
    if (n["pool_data"]) {
        c.pool_data = r.location(n["pool_data"], "registry.pool_data");
    }
    if (n["scores"]) {
        c.scores = r.location(n["scores"], "registry.scores");
    }
    if (n["geodns_json"]) {
        c.geodns_json = r.location(n["geodns_json"], "registry.geodns_json");
    }
    if (c.pool_data.empty() == c.geodns_json.empty()) {
        r.fail(n, "registry", "set exactly one of pool_data and geodns_json");
    }
    if (!c.scores.empty() && c.pool_data.empty()) {
        r.fail(n["scores"], "registry.scores", "a score feed goes with pool_data");
    }
    if (n["origin"]) {
        c.origin = r.str(n["origin"], "registry.origin");
    }
    if (n["token_file"]) {
        c.token_file = r.existing_file(n["token_file"], "registry.token_file");
    }
    if (n["interval"]) {
        c.interval = r.duration(n["interval"], "registry.interval", 1, 86400);
    }
    if (n["timeout"]) {
        c.timeout = r.duration(n["timeout"], "registry.timeout", 1, 3600);
    }
    if (n["retries"]) {
        c.retries = r.number<int>(n["retries"], "registry.retries", 0, 20);
    }
    if (n["max_age"]) {
        c.max_age = r.duration(n["max_age"], "registry.max_age", 1, 86400 * 365);
    }
    if (n["max_bytes"]) {
        c.max_bytes =
            r.number<uint64_t>(n["max_bytes"], "registry.max_bytes", 1024, uint64_t{1} << 34);
    }
}

}  // namespace

ControlConfig load_config(const std::string& path) {
    const base::YamlReader r(path);
    const YAML::Node root = r.load();
    ControlConfig c;
    c.file = path;
    r.only(root, "", {"registry", "compile", "geoip", "signing", "state_dir", "push", "metrics"});
    if (!root["registry"]) {
        r.fail(root, "registry", "missing");
    }
    read_registry(r, root["registry"], c.registry);

    if (const auto n = root["compile"]) {
        r.only(n, "compile", {"min_score", "seed", "max_drop_share"});
        if (n["min_score"]) {
            c.compile.min_score = r.number<double>(n["min_score"], "compile.min_score", -100, 100);
        }
        if (n["seed"]) {
            c.compile.seed = r.number<uint64_t>(n["seed"], "compile.seed", 0, UINT64_MAX);
        }
        if (n["max_drop_share"]) {
            c.compile.max_drop_share =
                r.number<double>(n["max_drop_share"], "compile.max_drop_share", 0, 1);
        }
    }

    const auto g = root["geoip"];
    if (!g) {
        r.fail(root, "geoip", "missing (geoip.path is needed)");
    }
    r.only(g, "geoip", {"path", "country_fields", "continent_fields", "overrides"});
    if (!g["path"]) {
        r.fail(g, "geoip.path", "missing");
    }
    c.geoip.path = r.existing_file(g["path"], "geoip.path");
    if (g["country_fields"]) {
        c.geoip.country_fields = r.strings(g["country_fields"], "geoip.country_fields");
    }
    if (g["continent_fields"]) {
        c.geoip.continent_fields = r.strings(g["continent_fields"], "geoip.continent_fields");
    }
    if (const auto o = g["overrides"]) {
        if (!o.IsMap()) {
            r.fail(o, "geoip.overrides", "expected a mapping of prefix: region");
        }
        for (const auto& kv : o) {
            const std::string prefix = r.str(kv.first, "geoip.overrides key");
            try {
                c.overrides.push_back(
                    parse_override(prefix, r.str(kv.second, "geoip.overrides." + prefix)));
            } catch (const base::InputError& e) {
                r.fail(kv.first, "geoip.overrides", e.what());
            }
        }
    }

    const auto s = root["signing"];
    if (!s) {
        r.fail(root, "signing", "missing (signing.key is needed)");
    }
    r.only(s, "signing", {"key"});
    if (!s["key"]) {
        r.fail(s, "signing.key", "missing");
    }
    c.key_file = r.existing_file(s["key"], "signing.key");

    if (!root["state_dir"]) {
        r.fail(root, "state_dir", "missing");
    }
    c.state_dir = r.path(root["state_dir"], "state_dir");

    if (const auto p = root["push"]) {
        r.only(p, "push", {"targets", "timeout", "retry_min", "retry_max"});
        if (p["targets"]) {
            const auto list = r.strings(p["targets"], "push.targets");
            for (size_t i = 0; i < list.size(); ++i) {
                std::string why;
                auto e = image::push::Endpoint::parse(list[i], &why);
                if (!e) {
                    r.fail(p["targets"][i], "push.targets[" + std::to_string(i) + "]", why);
                }
                if (e->kind == image::push::Endpoint::Kind::Unix && !e->path.starts_with("/")) {
                    // Relative to the configuration, like every other path in it.
                    e = image::push::Endpoint::parse(
                        "unix:" + r.path(YAML::Node(e->path), "push.targets"), &why);
                    if (!e) {
                        r.fail(p["targets"][i], "push.targets[" + std::to_string(i) + "]", why);
                    }
                }
                c.push.targets.push_back(*e);
            }
        }
        if (p["timeout"]) {
            c.push.timeout = r.duration(p["timeout"], "push.timeout", 1, 3600);
        }
        if (p["retry_min"]) {
            c.push.retry_min = r.duration(p["retry_min"], "push.retry_min", 1, 3600);
        }
        if (p["retry_max"]) {
            c.push.retry_max = r.duration(p["retry_max"], "push.retry_max", 1, 86400);
        }
        if (c.push.retry_max < c.push.retry_min) {
            r.fail(p, "push.retry_max", "must not be below push.retry_min");
        }
    }

    if (const auto m = root["metrics"]) {
        r.only(m, "metrics", {"listen"});
        if (m["listen"]) {
            c.metrics_listen = r.str(m["listen"], "metrics.listen");
        }
    }
    return c;
}

}  // namespace pooledge::control
