#include "pooledge/control/config.hpp"

#include <yaml-cpp/yaml.h>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/ip.hpp"
#include "pooledge/base/yaml_reader.hpp"

namespace pooledge::control {
namespace {

// "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x": the request never
// leaves the machine.
bool is_loopback_url(const std::string& url) {
    std::string host = url.substr(url.find("//") + 2);
    host = host.substr(0, host.find('/'));
    if (host.starts_with("[")) {
        host = host.substr(1, host.find(']') - 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    if (host == "localhost") {
        return true;
    }
    const auto a = base::IpAddress::parse(host);
    return a && base::is_loopback(*a);
}

void read_registry(const base::YamlReader& r, const YAML::Node& node, RegistryConfig& c) {
    const base::YamlMap m(
        r, node, "registry",
        {"pool_data", "scores", "geodns_json", "origin", "token_file", "insecure_token", "interval",
         "timeout", "retries", "max_age", "max_bytes"});
    m.location("pool_data", c.pool_data);
    m.location("scores", c.scores);
    m.location("geodns_json", c.geodns_json);
    if (c.pool_data.empty() == c.geodns_json.empty()) {
        r.fail(node, "registry", "set exactly one of pool_data and geodns_json");
    }
    if (!c.scores.empty() && c.pool_data.empty()) {
        m.fail("scores", "a score feed goes with pool_data");
    }
    m.str("origin", c.origin);
    m.existing_file("token_file", c.token_file);
    if (m.has("insecure_token")) {
        try {
            c.insecure_token = m["insecure_token"].as<bool>();
        } catch (const YAML::Exception&) {
            m.fail("insecure_token", "expected true or false");
        }
    }
    // The bearer token is a credential: never sent in clear over a network.
    if (!c.token_file.empty() && !c.insecure_token) {
        const std::pair<const char*, const std::string*> sources[] = {
            {"pool_data", &c.pool_data}, {"scores", &c.scores}, {"geodns_json", &c.geodns_json}};
        for (const auto& [key, location] : sources) {
            if (location->starts_with("http://") && !is_loopback_url(*location)) {
                m.fail(key, "'" + *location +
                                "' is plain http: the token would cross the network in clear "
                                "(use https, or set registry.insecure_token: true)");
            }
        }
    }
    m.duration("interval", c.interval, 1, 86400);
    m.duration("timeout", c.timeout, 1, 3600);
    m.number<int>("retries", c.retries, 0, 20);
    m.duration("max_age", c.max_age, 1, 86400 * 365);
    m.number<uint64_t>("max_bytes", c.max_bytes, 1024, uint64_t{1} << 34);
}

void read_geoip(const base::YamlReader& r, const YAML::Node& node, ControlConfig& c) {
    const base::YamlMap m(r, node, "geoip",
                          {"path", "country_fields", "continent_fields", "overrides"});
    c.geoip.path = r.existing_file(m.required("path"), "geoip.path");
    m.strings("country_fields", c.geoip.country_fields);
    m.strings("continent_fields", c.geoip.continent_fields);
    if (const auto o = m["overrides"]) {
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
}

// A unix:PATH target relative to the configuration's directory, like every other path in it.
image::push::Endpoint read_target(const base::YamlReader& r, const YAML::Node& n,
                                  const std::string& key) {
    std::string why;
    auto e = image::push::Endpoint::parse(r.str(n, key), &why);
    if (e && e->kind == image::push::Endpoint::Kind::Unix && !e->path.starts_with("/")) {
        e = image::push::Endpoint::parse("unix:" + r.path(YAML::Node(e->path), key), &why);
    }
    if (!e) {
        r.fail(n, key, why);
    }
    return *e;
}

void read_push(const base::YamlReader& r, const YAML::Node& node, PushConfig& c) {
    const base::YamlMap m(r, node, "push",
                          {"targets", "timeout", "deadline", "retry_min", "retry_max", "recheck"});
    if (const auto t = m["targets"]) {
        if (!t.IsSequence()) {
            r.fail(t, "push.targets", "expected a list");
        }
        for (size_t i = 0; i < t.size(); ++i) {
            c.targets.push_back(read_target(r, t[i], "push.targets[" + std::to_string(i) + "]"));
        }
    }
    m.duration("timeout", c.timeout, 1, 3600);
    m.duration("deadline", c.deadline, 1, 86400);
    m.duration("retry_min", c.retry_min, 1, 3600);
    m.duration("retry_max", c.retry_max, 1, 86400);
    m.duration("recheck", c.recheck, 0, 86400);
    if (c.retry_max < c.retry_min) {
        m.fail("retry_max", "must not be below push.retry_min");
    }
}

}  // namespace

ControlConfig load_config(const std::string& path) {
    const base::YamlReader r(path);
    const base::YamlMap root(
        r, r.load(), "",
        {"registry", "compile", "geoip", "signing", "state_dir", "push", "metrics"});
    ControlConfig c;
    c.file = path;
    read_registry(r, root.required("registry"), c.registry);
    if (root.has("compile")) {
        const base::YamlMap m(r, root["compile"], "compile",
                              {"min_score", "seed", "max_drop_share", "empty_zone_min_servers"});
        m.number<double>("min_score", c.compile.min_score, -100, 100);
        m.number<uint64_t>("seed", c.compile.seed, 0, UINT64_MAX);
        m.number<double>("max_drop_share", c.compile.max_drop_share, 0, 1);
        m.number<uint64_t>("empty_zone_min_servers", c.compile.empty_zone_min_servers, 1, 1000000);
    }
    read_geoip(r, root.required("geoip", "missing (geoip.path is needed)"), c);
    const base::YamlMap signing(r, root.required("signing", "missing (signing.key is needed)"),
                                "signing", {"key"});
    c.key_file = r.existing_file(signing.required("key"), "signing.key");
    c.state_dir = r.path(root.required("state_dir"), "state_dir");
    if (root.has("push")) {
        read_push(r, root["push"], c.push);
    }
    if (root.has("metrics")) {
        base::YamlMap(r, root["metrics"], "metrics", {"listen"}).str("listen", c.metrics_listen);
    }
    return c;
}

}  // namespace pooledge::control
