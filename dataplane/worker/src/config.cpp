#include "pooledge/dataplane/worker/config.hpp"

#include <cstdlib>
#include <cstring>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/ip.hpp"
#include "pooledge/base/yaml_reader.hpp"

namespace pooledge::dataplane {

DataplaneConfig load_config(const std::string& path) {
    const base::YamlReader r(path);
    const YAML::Node root = r.load();
    DataplaneConfig c;
    c.file = path;
    r.only(root, "",
           {"ports", "service_addresses", "identity", "images", "management", "metrics", "workers",
            "tcp"});

    const auto ports = root["ports"];
    if (!ports || !ports.IsSequence() || ports.size() == 0) {
        r.fail(ports ? ports : root, "ports", "a list of at least one port is needed");
    }
    for (size_t i = 0; i < ports.size(); ++i) {
        const std::string key = "ports[" + std::to_string(i) + "]";
        r.only(ports[i], key, {"device", "exception_interface"});
        PortConfig p;
        if (!ports[i]["device"]) {
            r.fail(ports[i], key + ".device", "missing");
        }
        p.device = r.str(ports[i]["device"], key + ".device");
        p.exception = ports[i]["exception_interface"]
                          ? r.str(ports[i]["exception_interface"], key + ".exception_interface")
                          : "pe" + std::to_string(i);
        // 12 leaves room for the ":N" labels the ioctl interface gives extra IPv4 addresses.
        if (p.exception.empty() || p.exception.size() > 12) {
            r.fail(ports[i], key + ".exception_interface",
                   "an interface name of 1 to 12 characters");
        }
        c.ports.push_back(std::move(p));
    }

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

    if (const auto id = root["identity"]) {
        r.only(id, "identity", {"nsid", "server_id", "version", "edns_udp_size"});
        if (id["nsid"]) {
            c.nsid = r.str(id["nsid"], "identity.nsid");
        }
        if (id["server_id"]) {
            c.server_id = r.str(id["server_id"], "identity.server_id");
        }
        if (id["version"]) {
            c.version = r.str(id["version"], "identity.version");
        }
        if (id["edns_udp_size"]) {
            c.edns_udp_size =
                r.number<uint16_t>(id["edns_udp_size"], "identity.edns_udp_size", 512, 4096);
        }
        for (const auto* s : {&c.nsid, &c.server_id, &c.version}) {
            if (s->size() > 255) {
                r.fail(id, "identity", "values must be at most 255 bytes");
            }
        }
    }

    const auto img = root["images"];
    if (!img) {
        r.fail(root, "images", "missing (images.dir and images.trusted_keys are needed)");
    }
    r.only(img, "images", {"dir", "trusted_keys", "max_size"});
    if (!img["dir"]) {
        r.fail(img, "images.dir", "missing");
    }
    c.image_dir = r.path(img["dir"], "images.dir");
    if (!img["trusted_keys"]) {
        r.fail(img, "images.trusted_keys", "missing: an image is only served when signed by one");
    }
    const auto keys = img["trusted_keys"];
    const auto key_files = r.strings(keys, "images.trusted_keys");
    if (key_files.empty()) {
        r.fail(keys, "images.trusted_keys", "at least one public key is needed");
    }
    for (size_t i = 0; i < key_files.size(); ++i) {
        const std::string k =
            r.existing_file(keys[i], "images.trusted_keys[" + std::to_string(i) + "]");
        std::string why;
        auto key = image::TrustedKey::load(k, &why);
        if (!key) {
            r.fail(keys[i], "images.trusted_keys[" + std::to_string(i) + "]", why);
        }
        c.trusted_key_files.push_back(k);
        c.trusted_keys.push_back(*key);
    }
    if (img["max_size"]) {
        c.max_image_size =
            r.number<uint64_t>(img["max_size"], "images.max_size", 4096, uint64_t{16} << 30);
    }

    if (const auto m = root["management"]) {
        r.only(m, "management", {"listen"});
        if (m["listen"]) {
            const auto eps = r.strings(m["listen"], "management.listen");
            for (size_t i = 0; i < eps.size(); ++i) {
                std::string why;
                const auto e = image::push::Endpoint::parse(eps[i], &why);
                if (!e) {
                    r.fail(m["listen"][i], "management.listen[" + std::to_string(i) + "]", why);
                }
                c.management.push_back(*e);
            }
        }
    }
    if (const auto m = root["metrics"]) {
        r.only(m, "metrics", {"listen"});
        if (m["listen"]) {
            c.metrics_listen = r.str(m["listen"], "metrics.listen");
        }
    }
    if (root["workers"]) {
        c.workers = r.number<unsigned>(root["workers"], "workers", 1, 64);
    }
    if (const auto t = root["tcp"]) {
        r.only(t, "tcp", {"idle_timeout", "max_connections"});
        if (t["idle_timeout"]) {
            c.tcp_idle_timeout = r.duration(t["idle_timeout"], "tcp.idle_timeout", 1, 3600);
        }
        if (t["max_connections"]) {
            c.tcp_max_connections =
                r.number<unsigned>(t["max_connections"], "tcp.max_connections", 1, 65536);
        }
    }
    return c;
}

}  // namespace pooledge::dataplane
