#include "pooledge/dataplane/worker/config.hpp"

#include <sys/timex.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/ip.hpp"
#include "pooledge/base/yaml_reader.hpp"

namespace pooledge::dataplane {

namespace {

// A list of prefixes under `key` of `m` ("192.0.2.0/24", "2001:db8::/32", bare addresses).
std::vector<base::IpPrefix> read_prefixes(const base::YamlReader& r, const base::YamlMap& m,
                                          const char* key) {
    std::vector<std::string> texts;
    m.strings(key, texts);
    std::vector<base::IpPrefix> out;
    for (size_t i = 0; i < texts.size(); ++i) {
        const auto p = base::IpPrefix::parse(texts[i]);
        if (!p) {
            r.fail(m[key][i], m.key_path(key) + "[" + std::to_string(i) + "]",
                   "'" + texts[i] + "' is not a prefix (bits past the length must be zero)");
        }
        out.push_back(*p);
    }
    return out;
}

void read_ports(const base::YamlReader& r, const YAML::Node& root, DataplaneConfig& c) {
    const auto ports = root["ports"];
    if (!ports || !ports.IsSequence() || ports.size() == 0) {
        r.fail(ports ? ports : root, "ports", "a list of at least one port is needed");
    }
    for (size_t i = 0; i < ports.size(); ++i) {
        const std::string key = "ports[" + std::to_string(i) + "]";
        const base::YamlMap m(r, ports[i], key, {"device", "exception_interface"});
        PortConfig p;
        p.device = r.str(m.required("device"), m.key_path("device"));
        p.exception = "pe" + std::to_string(i);
        m.str("exception_interface", p.exception);
        // 12 leaves room for the ":N" labels the ioctl interface gives extra IPv4 addresses.
        if (p.exception.empty() || p.exception.size() > 12) {
            r.fail(ports[i], key + ".exception_interface",
                   "an interface name of 1 to 12 characters");
        }
        c.ports.push_back(std::move(p));
    }
}

void read_service_addresses(const base::YamlReader& r, const YAML::Node& root, DataplaneConfig& c) {
    const auto svc = root["service_addresses"];
    const auto list = svc ? r.strings(svc, "service_addresses") : std::vector<std::string>{};
    if (list.empty()) {
        r.fail(svc ? svc : root, "service_addresses", "at least one address is needed");
    }
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string key = "service_addresses[" + std::to_string(i) + "]";
        const auto slash = list[i].find('/');
        const auto a = base::IpAddress::parse(list[i].substr(0, slash));
        if (!a) {
            r.fail(svc[i], key, "'" + list[i] + "' is not an IP address");
        }
        const unsigned max = a->family == 4 ? 32 : 128;
        unsigned len = max;
        if (slash != std::string::npos) {
            const std::string l = list[i].substr(slash + 1);
            char* end = nullptr;
            len = static_cast<unsigned>(std::strtoul(l.c_str(), &end, 10));
            if (l.empty() || *end != '\0' || len == 0 || len > max) {
                r.fail(svc[i], key, "prefix length must be 1.." + std::to_string(max));
            }
        }
        if (a->family == 4) {
            std::array<uint8_t, 4> b{};
            std::memcpy(b.data(), a->bytes.data(), 4);
            c.service_v4.push_back(b);
            c.service_v4_len.push_back(static_cast<uint8_t>(len));
        } else {
            c.service_v6.push_back(a->bytes);
            c.service_v6_len.push_back(static_cast<uint8_t>(len));
        }
    }
}

void read_identity(const base::YamlReader& r, const YAML::Node& node, DataplaneConfig& c) {
    const base::YamlMap m(r, node, "identity",
                          {"nsid", "server_id", "version", "edns_udp_size", "status_clients"});
    m.str("nsid", c.nsid);
    m.str("server_id", c.server_id);
    m.str("version", c.version);
    m.number<uint16_t>("edns_udp_size", c.edns_udp_size, 512, 4096);
    c.status_clients = read_prefixes(r, m, "status_clients");
    for (const auto* s : {&c.nsid, &c.server_id, &c.version}) {
        if (s->size() > 255) {
            r.fail(node, "identity", "values must be at most 255 bytes");
        }
    }
}

void read_images(const base::YamlReader& r, const YAML::Node& node, DataplaneConfig& c) {
    const base::YamlMap m(r, node, "images", {"dir", "trusted_keys", "max_size"});
    c.image_dir = r.path(m.required("dir"), "images.dir");
    const auto keys =
        m.required("trusted_keys", "missing: an image is only served when signed by one");
    const auto key_files = r.strings(keys, "images.trusted_keys");
    if (key_files.empty()) {
        r.fail(keys, "images.trusted_keys", "at least one public key is needed");
    }
    for (size_t i = 0; i < key_files.size(); ++i) {
        const std::string key = "images.trusted_keys[" + std::to_string(i) + "]";
        const std::string k = r.existing_file(keys[i], key);
        std::string why;
        auto trusted = image::TrustedKey::load(k, &why);
        if (!trusted) {
            r.fail(keys[i], key, why);
        }
        c.trusted_key_files.push_back(k);
        c.trusted_keys.push_back(*trusted);
    }
    m.number<uint64_t>("max_size", c.max_image_size, 4096, uint64_t{16} << 30);
}

void read_management(const base::YamlReader& r, const YAML::Node& node, DataplaneConfig& c) {
    const base::YamlMap m(r, node, "management", {"listen", "allow"});
    c.management_allow = read_prefixes(r, m, "allow");
    std::vector<std::string> eps;
    m.strings("listen", eps);
    for (size_t i = 0; i < eps.size(); ++i) {
        std::string why;
        const auto e = image::push::Endpoint::parse(eps[i], &why);
        if (!e) {
            r.fail(m["listen"][i], "management.listen[" + std::to_string(i) + "]", why);
        }
        c.management.push_back(*e);
    }
}

bool read_bool(const base::YamlReader& r, const YAML::Node& n, const std::string& key) {
    const std::string v = r.str(n, key);
    if (v == "true") {
        return true;
    }
    if (v != "false") {
        r.fail(n, key, "expected true or false");
    }
    return false;
}

// A reference id: up to four ASCII characters (a reference clock's code, "GPS") or an IPv4
// address (the upstream server, as stratum 2 and above show it).
uint32_t read_reference_id(const base::YamlReader& r, const YAML::Node& n, const std::string& key) {
    const std::string v = r.str(n, key);
    std::array<uint8_t, 4> b{};
    if (const auto a = base::IpAddress::parse(v); a && a->family == 4) {
        std::memcpy(b.data(), a->bytes.data(), 4);
    } else if (!v.empty() && v.size() <= 4 &&
               std::all_of(v.begin(), v.end(), [](char ch) { return ch > ' ' && ch < 127; })) {
        std::memcpy(b.data(), v.data(), v.size());
    } else {
        r.fail(n, key, "expected an IPv4 address or 1 to 4 ASCII characters");
    }
    uint32_t id = 0;
    std::memcpy(&id, b.data(), 4);
    return id;
}

ntp::KernelClock read_clock_override(const base::YamlReader& r, const YAML::Node& node) {
    const base::YamlMap m(r, node, "ntp.clock_override", {"synchronised", "leap", "max_error"});
    const bool synced = read_bool(r, m.required("synchronised"), "ntp.clock_override.synchronised");
    ntp::KernelClock k{synced ? TIME_OK : TIME_ERROR, synced ? 0 : STA_UNSYNC,
                       synced ? 0.001 : 16.0, synced ? 0.001 : 16.0};
    m.number<double>("max_error", k.max_error, 0.0, 16.0);
    k.est_error = std::min(k.est_error, k.max_error);
    std::string leap = "none";
    m.str("leap", leap);
    if (leap == "insert") {
        k.state = synced ? TIME_INS : k.state;
        k.status |= STA_INS;
    } else if (leap == "delete") {
        k.state = synced ? TIME_DEL : k.state;
        k.status |= STA_DEL;
    } else if (leap != "none") {
        m.fail("leap", "expected none, insert or delete");
    }
    return k;
}

// An exemption list builds (no prefix twice), or the config names the culprit.
void check_exempt(const base::YamlReader& r, const base::YamlMap& m,
                  const std::vector<base::IpPrefix>& exempt) {
    try {
        (void)limit::exempt_table(exempt);
    } catch (const std::invalid_argument& e) {
        r.fail(m["exempt"], m.key_path("exempt"), e.what());
    }
}

void read_ntp_rate_limit(const base::YamlReader& r, const YAML::Node& node,
                         limit::NtpLimitConfig& c) {
    const base::YamlMap m(r, node, "ntp.rate_limit",
                          {"enabled", "interval", "burst", "leak", "kod", "ipv4_prefix",
                           "ipv6_prefix", "exempt", "table_entries", "backstop"});
    if (m.has("enabled")) {
        c.enabled = read_bool(r, m["enabled"], "ntp.rate_limit.enabled");
    }
    m.number<int>("interval", c.interval, -4, 12);
    m.number<unsigned>("burst", c.burst, 1, 1024);
    m.number<unsigned>("leak", c.leak, 0, 16);
    m.number<unsigned>("kod", c.kod, 0, 16);
    unsigned v4 = c.v4_prefix, v6 = c.v6_prefix;  // not uint8_t: yaml-cpp reads a character
    m.number<unsigned>("ipv4_prefix", v4, 1, 32);
    m.number<unsigned>("ipv6_prefix", v6, 1, 128);
    c.v4_prefix = static_cast<uint8_t>(v4);
    c.v6_prefix = static_cast<uint8_t>(v6);
    c.exempt = read_prefixes(r, m, "exempt");
    check_exempt(r, m, c.exempt);
    m.number<size_t>("table_entries", c.table_entries, 8, size_t{1} << 28);
    m.number<double>("backstop", c.backstop, 0, 1e9);
}

// ipv4_prefixes / ipv6_prefixes: [{length: 24, multiplier: 1}, ...]
std::vector<limit::PrefixLevel> read_levels(const base::YamlReader& r, const base::YamlMap& m,
                                            const char* key, unsigned max) {
    const YAML::Node list = m[key];
    const std::string path = m.key_path(key);
    if (!list.IsSequence() || list.size() == 0 || list.size() > limit::kMaxLevels) {
        r.fail(
            list, path,
            "a list of 1 to " + std::to_string(limit::kMaxLevels) + " {length, multiplier} levels");
    }
    std::vector<limit::PrefixLevel> out;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string item = path + "[" + std::to_string(i) + "]";
        const base::YamlMap l(r, list[i], item, {"length", "multiplier"});
        unsigned len = 0;
        l.number<unsigned>("length", len, 1, max);
        if (len == 0) {
            r.fail(list[i], item + ".length", "missing");
        }
        double mult = 1.0;
        l.number<double>("multiplier", mult, 0.001, 1000000);
        for (const auto& seen : out) {
            if (seen.length == len) {
                r.fail(list[i], item, "/" + std::to_string(len) + " is listed twice");
            }
        }
        out.push_back({static_cast<uint8_t>(len), mult});
    }
    return out;
}

void read_rrl(const base::YamlReader& r, const YAML::Node& node, limit::RrlConfig& c) {
    const base::YamlMap m(r, node, "rrl",
                          {"enabled", "log_only", "responses_per_second", "nxdomains_per_second",
                           "errors_per_second", "window", "slip", "ipv4_prefixes", "ipv6_prefixes",
                           "exempt", "table_entries", "backstop"});
    if (m.has("enabled")) {
        c.enabled = read_bool(r, m["enabled"], "rrl.enabled");
    }
    if (m.has("log_only")) {
        c.log_only = read_bool(r, m["log_only"], "rrl.log_only");
    }
    using K = limit::ResponseKind;
    double& answers = c.rate[static_cast<size_t>(K::Answer)];
    m.number<double>("responses_per_second", answers, 0.01, 500000);
    // NXDOMAIN and error rates follow the response rate unless set (as in BIND).
    c.rate[static_cast<size_t>(K::Nxdomain)] = answers;
    c.rate[static_cast<size_t>(K::Error)] = answers;
    m.number<double>("nxdomains_per_second", c.rate[static_cast<size_t>(K::Nxdomain)], 0.01,
                     500000);
    m.number<double>("errors_per_second", c.rate[static_cast<size_t>(K::Error)], 0.01, 500000);
    m.number<double>("window", c.window, 0.01, 60);
    m.number<unsigned>("slip", c.slip, 0, 100);
    if (m.has("ipv4_prefixes")) {
        c.v4 = read_levels(r, m, "ipv4_prefixes", 32);
    }
    if (m.has("ipv6_prefixes")) {
        c.v6 = read_levels(r, m, "ipv6_prefixes", 128);
    }
    c.exempt = read_prefixes(r, m, "exempt");
    check_exempt(r, m, c.exempt);
    m.number<size_t>("table_entries", c.table_entries, 8, size_t{1} << 28);
    m.number<double>("backstop", c.backstop, 0, 1e9);
    // Every level's rates in the table's range (limit::Rrl refuses the rest).
    for (const auto* levels : {&c.v4, &c.v6}) {
        for (const limit::PrefixLevel& l : *levels) {
            for (const double rate : c.rate) {
                if (rate * l.multiplier > 500000 || rate * l.multiplier < 0.001) {
                    r.fail(node, "rrl",
                           "the /" + std::to_string(l.length) +
                               " level's multiplier puts a rate "
                               "outside 0.001..500000 a second");
                }
            }
        }
    }
}

limit::AclConfig read_acl(const base::YamlReader& r, const YAML::Node& node,
                          const std::string& key) {
    const base::YamlMap m(r, node, key, {"allow", "deny"});
    limit::AclConfig c{read_prefixes(r, m, "allow"), read_prefixes(r, m, "deny")};
    std::string why;
    if (!limit::build_acl(c, &why)) {
        r.fail(node, key, why);
    }
    return c;
}

void read_ntp(const base::YamlReader& r, const YAML::Node& node, NtpConfig& c) {
    const base::YamlMap m(r, node, "ntp",
                          {"enabled", "stratum", "reference_id", "max_error", "unsynchronised",
                           "health_requires_sync", "clock_override", "rate_limit"});
    if (m.has("enabled")) {
        c.enabled = read_bool(r, m["enabled"], "ntp.enabled");
    }
    unsigned stratum = c.policy.stratum;  // not uint8_t: yaml-cpp reads that as a character
    m.number<unsigned>("stratum", stratum, 1, 15);
    c.policy.stratum = static_cast<uint8_t>(stratum);
    if (m.has("reference_id")) {
        c.policy.reference_id = read_reference_id(r, m["reference_id"], "ntp.reference_id");
    }
    m.number<double>("max_error", c.policy.max_error_bound, 0.000001, 16.0);
    std::string unsync = "answer";
    m.str("unsynchronised", unsync);
    if (unsync != "answer" && unsync != "silent") {
        m.fail("unsynchronised", "expected answer (LI=3, stratum 0) or silent");
    }
    c.policy.silent_when_unsynchronised = unsync == "silent";
    if (m.has("health_requires_sync")) {
        c.health_requires_sync =
            read_bool(r, m["health_requires_sync"], "ntp.health_requires_sync");
    }
    if (m.has("clock_override")) {
        c.clock_override = read_clock_override(r, m["clock_override"]);
    }
    if (m.has("rate_limit")) {
        read_ntp_rate_limit(r, m["rate_limit"], c.rate_limit);
    }
}

void read_exception(const base::YamlReader& r, const YAML::Node& node, ExceptionConfig& c) {
    const base::YamlMap m(r, node, "exception", {"backend", "rate", "burst", "xdp_filter"});
    std::string backend = "auto";
    m.str("backend", backend);
    if (backend == "auto") {
        c.backend = ExceptionConfig::Backend::Auto;
    } else if (backend == "tap") {
        c.backend = ExceptionConfig::Backend::Tap;
    } else if (backend == "virtio_user") {
        c.backend = ExceptionConfig::Backend::VirtioUser;
    } else {
        m.fail("backend", "expected auto, tap or virtio_user");
    }
    m.number<uint32_t>("rate", c.rate, 0, 100000000);
    m.number<uint32_t>("burst", c.burst, 1, 1000000);
    if (m.has("xdp_filter")) {
        c.xdp_filter = read_bool(r, m["xdp_filter"], "exception.xdp_filter");
    }
}

}  // namespace

DataplaneConfig load_config(const std::string& path) {
    const base::YamlReader r(path);
    const base::YamlMap root(r, r.load(), "",
                             {"ports", "service_addresses", "identity", "images", "management",
                              "metrics", "workers", "tcp", "ntp", "exception", "rrl", "acl"});
    DataplaneConfig c;
    c.file = path;
    read_ports(r, root.node(), c);
    read_service_addresses(r, root.node(), c);
    if (root.has("identity")) {
        read_identity(r, root["identity"], c);
    }
    read_images(
        r, root.required("images", "missing (images.dir and images.trusted_keys are needed)"), c);
    if (root.has("management")) {
        read_management(r, root["management"], c);
    }
    if (root.has("metrics")) {
        base::YamlMap(r, root["metrics"], "metrics", {"listen"}).str("listen", c.metrics_listen);
    }
    root.number<unsigned>("workers", c.workers, 1, 64);
    if (root.has("tcp")) {
        const base::YamlMap m(
            r, root["tcp"], "tcp",
            {"idle_timeout", "message_timeout", "max_connections", "max_per_prefix"});
        m.duration("idle_timeout", c.tcp_idle_timeout, 1, 3600);
        m.duration("message_timeout", c.tcp_message_timeout, 1, 3600);
        m.number<unsigned>("max_connections", c.tcp_max_connections, 1, 65536);
        m.number<unsigned>("max_per_prefix", c.tcp_max_per_prefix, 1, 65536);
    }
    if (root.has("ntp")) {
        read_ntp(r, root["ntp"], c.ntp);
    }
    if (root.has("exception")) {
        read_exception(r, root["exception"], c.exception);
    }
    if (root.has("rrl")) {
        read_rrl(r, root["rrl"], c.rrl);
    }
    if (root.has("acl")) {
        const base::YamlMap m(r, root["acl"], "acl", {"dns", "ntp"});
        if (m.has("dns")) {
            c.acl.dns = read_acl(r, m["dns"], "acl.dns");
        }
        if (m.has("ntp")) {
            c.acl.ntp = read_acl(r, m["ntp"], "acl.ntp");
        }
    }
    return c;
}

limit::Acls build_acls(const AclConfigs& config) {
    limit::Acls acls;
    acls.dns = *limit::build_acl(config.dns, nullptr);
    acls.ntp = *limit::build_acl(config.ntp, nullptr);
    return acls;
}

}  // namespace pooledge::dataplane
