// Typed reading of YAML configuration files (yaml-cpp) with errors that name the file, the
// line and the key: "control.yaml:14: push.targets[1]: expected unix:PATH or tcp:HOST:PORT".
// Shared by pooledge-control and pooledge-dataplane so both validate alike. Every failure
// throws InputError with reason "config".
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace pooledge::base {

class YamlReader {
  public:
    explicit YamlReader(std::string file);

    // The parsed document; an unreadable, malformed or empty file is an error.
    [[nodiscard]] YAML::Node load() const;

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key,
                           const std::string& what) const;

    // Every key of `map` must be one of `known`: a misspelt key must not silently leave a
    // default in place.
    void only(const YAML::Node& map, const std::string& prefix,
              std::initializer_list<const char*> known) const;

    [[nodiscard]] std::string str(const YAML::Node& n, const std::string& key) const;
    // Relative paths resolve against the configuration file's directory.
    [[nodiscard]] std::string path(const YAML::Node& n, const std::string& key) const;
    [[nodiscard]] std::string existing_file(const YAML::Node& n, const std::string& key) const;
    // A URL (http, https) as is, or an existing file.
    [[nodiscard]] std::string location(const YAML::Node& n, const std::string& key) const;
    [[nodiscard]] std::chrono::seconds duration(const YAML::Node& n, const std::string& key,
                                                int64_t lo, int64_t hi) const;
    [[nodiscard]] std::vector<std::string> strings(const YAML::Node& n,
                                                   const std::string& key) const;

    template <typename T>
    [[nodiscard]] T number(const YAML::Node& n, const std::string& key, T lo, T hi) const {
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

  private:
    std::string file_;
    std::filesystem::path dir_;
};

// One mapping of a configuration file, read with its key path ("registry.timeout") in every
// error. The optional readers leave `out` (the default) alone when the key is absent, so a
// loader states each field once: `m.duration("timeout", c.timeout, 1, 3600);`.
class YamlMap {
  public:
    // Refuses a node that is not a mapping or has a key outside `known`.
    YamlMap(const YamlReader& r, const YAML::Node& node, std::string prefix,
            std::initializer_list<const char*> known);

    [[nodiscard]] YAML::Node node() const { return node_; }
    [[nodiscard]] YAML::Node operator[](const char* key) const { return node_[key]; }
    [[nodiscard]] bool has(const char* key) const { return static_cast<bool>(node_[key]); }
    // "prefix.key", or "key" at the top level.
    [[nodiscard]] std::string key_path(const char* key) const;
    // The node at `key`; its absence is an error ("missing", or `why` when given).
    [[nodiscard]] YAML::Node required(const char* key, const std::string& why = "missing") const;
    [[noreturn]] void fail(const char* key, const std::string& what) const;

    void str(const char* key, std::string& out) const;
    void path(const char* key, std::string& out) const;
    void existing_file(const char* key, std::string& out) const;
    void location(const char* key, std::string& out) const;
    void strings(const char* key, std::vector<std::string>& out) const;
    void duration(const char* key, std::chrono::seconds& out, int64_t lo, int64_t hi) const;
    template <typename T>
    void number(const char* key, T& out, T lo, T hi) const {
        if (has(key)) {
            out = r_.number<T>(node_[key], key_path(key), lo, hi);
        }
    }

  private:
    const YamlReader& r_;
    YAML::Node node_;
    std::string prefix_;
};

// "90", "90s", "15m", "1h" -> seconds; nothing when malformed.
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(const std::string& text);

// Whether a location is fetched over HTTP rather than read from disk.
[[nodiscard]] bool is_url(const std::string& location);

}  // namespace pooledge::base
