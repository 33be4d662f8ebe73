#include "pooledge/base/yaml_reader.hpp"

#include <charconv>

#include "pooledge/base/input_error.hpp"

namespace pooledge::base {

namespace fs = std::filesystem;

YamlReader::YamlReader(std::string file)
    : file_(std::move(file)), dir_(fs::path(file_).parent_path()) {}

YAML::Node YamlReader::load() const {
    YAML::Node root;
    try {
        root = YAML::LoadFile(file_);
    } catch (const YAML::BadFile&) {
        throw InputError("config", file_ + ": cannot read the file");
    } catch (const YAML::ParserException& e) {
        throw InputError("config", file_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (root.IsNull()) {
        throw InputError("config", file_ + ": the file is empty");
    }
    return root;
}

void YamlReader::fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
    const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
    throw InputError("config", file_ + ":" + std::to_string(line) + ": " + key + ": " + what);
}

void YamlReader::only(const YAML::Node& map, const std::string& prefix,
                      std::initializer_list<const char*> known) const {
    if (!map.IsMap()) {
        fail(map, prefix.empty() ? "(top level)" : prefix, "expected a mapping");
    }
    for (const auto& kv : map) {
        // A key may be any node in YAML (`? [a, b]: 1`); ours are plain words.
        const std::string key =
            str(kv.first, (prefix.empty() ? std::string("(top level)") : prefix) + " key");
        bool ok = false;
        for (const char* k : known) {
            ok = ok || key == k;
        }
        if (!ok) {
            fail(kv.first, prefix.empty() ? key : prefix + "." + key, "unknown key");
        }
    }
}

std::string YamlReader::str(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) {
        fail(n, key, "expected a string");
    }
    return n.as<std::string>();
}

std::string YamlReader::path(const YAML::Node& n, const std::string& key) const {
    const std::string p = str(n, key);
    if (p.empty()) {
        fail(n, key, "empty path");
    }
    return fs::path(p).is_absolute() || dir_.empty() ? p : (dir_ / p).string();
}

std::string YamlReader::existing_file(const YAML::Node& n, const std::string& key) const {
    std::string p = path(n, key);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
        fail(n, key, "'" + p + "' is not a readable file");
    }
    return p;
}

std::string YamlReader::location(const YAML::Node& n, const std::string& key) const {
    const std::string v = str(n, key);
    return is_url(v) ? v : existing_file(n, key);
}

std::chrono::seconds YamlReader::duration(const YAML::Node& n, const std::string& key, int64_t lo,
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

std::vector<std::string> YamlReader::strings(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) {
        fail(n, key, "expected a list");
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
        out.push_back(str(n[i], key + "[" + std::to_string(i) + "]"));
    }
    return out;
}

YamlMap::YamlMap(const YamlReader& r, const YAML::Node& node, std::string prefix,
                 std::initializer_list<const char*> known)
    : r_(r), node_(node), prefix_(std::move(prefix)) {
    r_.only(node_, prefix_, known);
}

std::string YamlMap::key_path(const char* key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + key;
}

YAML::Node YamlMap::required(const char* key, const std::string& why) const {
    if (!has(key)) {
        r_.fail(node_, key_path(key), why);
    }
    return node_[key];
}

void YamlMap::fail(const char* key, const std::string& what) const {
    r_.fail(has(key) ? node_[key] : node_, key_path(key), what);
}

void YamlMap::str(const char* key, std::string& out) const {
    if (has(key)) {
        out = r_.str(node_[key], key_path(key));
    }
}

void YamlMap::path(const char* key, std::string& out) const {
    if (has(key)) {
        out = r_.path(node_[key], key_path(key));
    }
}

void YamlMap::existing_file(const char* key, std::string& out) const {
    if (has(key)) {
        out = r_.existing_file(node_[key], key_path(key));
    }
}

void YamlMap::location(const char* key, std::string& out) const {
    if (has(key)) {
        out = r_.location(node_[key], key_path(key));
    }
}

void YamlMap::strings(const char* key, std::vector<std::string>& out) const {
    if (has(key)) {
        out = r_.strings(node_[key], key_path(key));
    }
}

void YamlMap::duration(const char* key, std::chrono::seconds& out, int64_t lo, int64_t hi) const {
    if (has(key)) {
        out = r_.duration(node_[key], key_path(key), lo, hi);
    }
}

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

}  // namespace pooledge::base
