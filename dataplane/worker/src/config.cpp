#include "pooledge/dataplane/worker/config.hpp"

#include <sys/timex.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/ip.hpp"
#include "pooledge/base/yaml_reader.hpp"

namespace pooledge::dataplane {

namespace {

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
    std::vector<std::string> prefixes;
    m.strings("status_clients", prefixes);
    for (size_t i = 0; i < prefixes.size(); ++i) {
        const auto p = base::IpPrefix::parse(prefixes[i]);
        if (!p) {
            r.fail(m["status_clients"][i], "identity.status_clients[" + std::to_string(i) + "]",
                   "'" + prefixes[i] + "' is not a prefix (bits past the length must be zero)");
        }
        c.status_clients.push_back(*p);
    }
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
    std::vector<std::string> allow;
    m.strings("allow", allow);
    for (size_t i = 0; i < allow.size(); ++i) {
        const auto p = base::IpPrefix::parse(allow[i]);
        if (!p) {
            r.fail(m["allow"][i], "management.allow[" + std::to_string(i) + "]",
                   "'" + allow[i] + "' is not a prefix (bits past the length must be zero)");
        }
        c.management_allow.push_back(*p);
    }
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

void read_ntp(const base::YamlReader& r, const YAML::Node& node, NtpConfig& c) {
    const base::YamlMap m(r, node, "ntp",
                          {"enabled", "stratum", "reference_id", "max_error", "unsynchronised",
                           "health_requires_sync", "clock_override"});
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
}

void read_exception(const base::YamlReader& r, const YAML::Node& node, ExceptionConfig& c) {
    const base::YamlMap m(r, node, "exception", {"backend", "rate", "burst"});
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
}

}  // namespace

DataplaneConfig load_config(const std::string& path) {
    const base::YamlReader r(path);
    const base::YamlMap root(r, r.load(), "",
                             {"ports", "service_addresses", "identity", "images", "management",
                              "metrics", "workers", "tcp", "ntp", "exception"});
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
    return c;
}

}  // namespace pooledge::dataplane
