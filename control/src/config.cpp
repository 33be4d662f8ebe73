#include "pooledge/control/config.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>

#include "pooledge/control/input_error.hpp"

namespace pooledge::control {
namespace {

namespace fs = std::filesystem;

class ConfigReader {
  public:
    explicit ConfigReader(std::string file) : file_(std::move(file)) {
        dir_ = fs::path(file_).parent_path();
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key,
                           const std::string& what) const {
        const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
        throw InputError("config", file_ + ":" + std::to_string(line) + ": " + key + ": " + what);
    }

    // Every key of `map` must be one of `known`.
    void only(const YAML::Node& map, const std::string& prefix,
              std::initializer_list<const char*> known) const {
        if (!map.IsMap()) {
            fail(map, prefix.empty() ? "(top level)" : prefix, "expected a mapping");
        }
        for (const auto& kv : map) {
            const std::string key = kv.first.as<std::string>();
            bool ok = false;
            for (const char* k : known) {
                ok = ok || key == k;
            }
            if (!ok) {
                fail(kv.first, prefix.empty() ? key : prefix + "." + key, "unknown key");
            }
        }
    }

    std::string str(const YAML::Node& n, const std::string& key) const {
        if (!n.IsScalar()) {
            fail(n, key, "expected a string");
        }
        return n.as<std::string>();
    }

    std::string path(const YAML::Node& n, const std::string& key) const {
        const std::string p = str(n, key);
        if (p.empty()) {
            fail(n, key, "empty path");
        }
        return fs::path(p).is_absolute() || dir_.empty() ? p : (dir_ / p).string();
    }

    std::string existing_file(const YAML::Node& n, const std::string& key) const {
        const std::string p = path(n, key);
        std::error_code ec;
        if (!fs::is_regular_file(p, ec)) {
            fail(n, key, "'" + p + "' is not a readable file");
        }
        return p;
    }

    std::string location(const YAML::Node& n, const std::string& key) const {
        const std::string v = str(n, key);
        return is_url(v) ? v : existing_file(n, key);
    }

    template <typename T>
    T number(const YAML::Node& n, const std::string& key, T lo, T hi) const {
        T v{};
        try {
            v = n.as<T>();
        } catch (const YAML::Exception&) {
            fail(n, key, "expected a number");
        }
        if (!(v >= lo && v <= hi)) {
            fail(n, key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi));
        }
        return v;
    }

    std::chrono::seconds duration(const YAML::Node& n, const std::string& key, int64_t lo,
                                  int64_t hi) const {
        const auto d = parse_duration(str(n, key));
        if (!d) {
            fail(n, key, "expected a duration such as 30, 30s, 5m or 1h");
        }
        if (d->count() < lo || d->count() > hi) {
            fail(n, key,
                 "must be between " + std::to_string(lo) + " s and " + std::to_string(hi) + " s");
        }
        return *d;
    }

    std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence()) {
            fail(n, key, "expected a list");
        }
        std::vector<std::string> out;
        for (size_t i = 0; i < n.size(); ++i) {
            out.push_back(str(n[i], key + "[" + std::to_string(i) + "]"));
        }
        return out;
    }

  private:
    std::string file_;
    fs::path dir_;
};

void read_registry(const ConfigReader& r, const YAML::Node& n, RegistryConfig& c) {
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

bool is_url(const std::string& location) {
    return location.starts_with("http://") || location.starts_with("https://");
}

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0 || end == text.data()) {
        return std::nullopt;
    }
    const std::string unit(end, text.data() + text.size());
    const int64_t scale = unit.empty() || unit == "s" ? 1
                          : unit == "m"               ? 60
                          : unit == "h"               ? 3600
                                                      : 0;
    if (scale == 0 || value > INT64_MAX / 3600) {
        return std::nullopt;
    }
    return std::chrono::seconds(value * scale);
}

ControlConfig load_config(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw InputError("config", path + ": cannot read the file");
    } catch (const YAML::ParserException& e) {
        throw InputError("config", path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    const ConfigReader r(path);
    if (root.IsNull()) {
        throw InputError("config", path + ": the file is empty");
    }
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
            const std::string prefix = kv.first.as<std::string>();
            try {
                c.overrides.push_back(
                    parse_override(prefix, r.str(kv.second, "geoip.overrides." + prefix)));
            } catch (const InputError& e) {
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
                const auto e = zones::push::Endpoint::parse(list[i], &why);
                if (!e) {
                    r.fail(p["targets"][i], "push.targets[" + std::to_string(i) + "]", why);
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
