#include "pooledge/control/geodns_json.hpp"

#include <algorithm>
#include <cctype>

#include "json_fields.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/image/format.hpp"

namespace pooledge::control {
namespace {

using namespace json_fields;

std::string at(const std::string& path, size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

// geodns makes a relative CNAME target absolute under the origin, and takes NS and MX
// names as absolute whether or not they end in a dot.
std::string absolute_under(const std::string& name, const std::string& origin) {
    return !name.empty() && name.back() == '.' ? name : name + "." + origin;
}

int64_t weight_of(const json& v, const std::string& path) {
    return lenient_int(v, path, 0, UINT32_MAX);
}

std::vector<image::WeightedAddress> parse_addresses(const json& v, const std::string& path,
                                                    uint8_t family) {
    std::vector<image::WeightedAddress> out;
    expect_array(v, path);
    for (size_t i = 0; i < v.size(); ++i) {
        const std::string p = at(path, i);
        const json& e = v[i];
        std::string text;
        int64_t weight = 0;
        if (e.is_string()) {
            text = e.get<std::string>();
        } else if (e.is_array() && !e.empty() && e.size() <= 2) {
            text = expect_string(e[0], p + "[0]");
            if (e.size() == 2) {
                weight = weight_of(e[1], p + "[1]");
            }
        } else if (e.is_object()) {
            const json* ip = optional(e, "ip");
            if (ip == nullptr) {
                ip = optional(e, family == 4 ? "a" : "aaaa");
            }
            if (ip == nullptr) {
                fail("schema", p, "has no \"ip\"");
            }
            text = expect_string(*ip, p + ".ip");
            if (const json* w = optional(e, "weight")) {
                weight = weight_of(*w, p + ".weight");
            }
        } else {
            fail("schema", p,
                 "expected \"address\", [address, weight] or {\"ip\": ..}, found " + type_name(e));
        }
        const auto addr = base::IpAddress::parse(text);
        if (!addr) {
            fail("value", p, "'" + text + "' is not an IP address");
        }
        if (addr->family != family) {
            fail("value", p,
                 "'" + text + "' is an IPv" + std::to_string(addr->family) + " address in " +
                     (family == 4 ? "an A" : "an AAAA") + " list");
        }
        out.push_back({*addr, static_cast<uint64_t>(weight)});
    }
    return out;
}

// geodns's targeting words. ASN and IP targeting need data no image carries, so they are
// refused; region and regiongroup need a City database, checked when the image is built.
uint8_t parse_targeting(const std::string& text) {
    uint8_t bits = 0;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        const std::string word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty()) {
            continue;
        }
        if (word == "@") {
            bits |= image::target::kGlobal;
        } else if (word == "continent") {
            bits |= image::target::kContinent;
        } else if (word == "country") {
            bits |= image::target::kCountry;
        } else if (word == "regiongroup") {
            bits |= image::target::kRegionGroup;
        } else if (word == "region") {
            bits |= image::target::kRegion;
        } else if (word == "asn" || word == "ip") {
            fail("value", "targeting",
                 "'" + word +
                     "' targeting is not supported (pooledge targets region, regiongroup, "
                     "country, continent and @)");
        } else {
            fail("value", "targeting", "'" + word + "' is not a geodns targeting option");
        }
    }
    if (bits == 0) {
        fail("value", "targeting", "names no level at all");
    }
    return bits;
}

std::string single_name(const json& v, const std::string& path, const char* key) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_array() && v.size() == 1) {
        return single_name(v[0], at(path, 0), key);
    }
    if (v.is_array() && v.size() == 2 && v[0].is_string()) {
        return v[0].get<std::string>();  // [target, weight] with one target
    }
    if (v.is_object()) {
        return expect_string(require(v, key, path), path + "." + key);
    }
    fail("schema", path,
         "expected one name (several weighted targets are not supported), found " + type_name(v));
}

void parse_label(const json& v, const std::string& path, const std::string& origin,
                 image::ModelLabel& l) {
    expect_object(v, path);
    for (const auto& [key, value] : v.items()) {
        const std::string p = path + "." + key;
        if (value.is_null() || key == "health") {
            continue;  // geodns skips null record lists; health checks are not ours
        }
        if (key == "a") {
            l.a = parse_addresses(value, p, 4);
        } else if (key == "aaaa") {
            l.aaaa = parse_addresses(value, p, 6);
        } else if (key == "alias") {
            std::string target = single_name(value, p, "alias");
            std::transform(target.begin(), target.end(), target.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            l.alias = target;
        } else if (key == "cname") {
            l.cname =
                expect_dns_name(json(absolute_under(single_name(value, p, "cname"), origin)), p);
        } else if (key == "ns") {
            if (value.is_object()) {
                for (const auto& [name, unused] : value.items()) {
                    l.ns.push_back(expect_dns_name(json(name), p + "." + name));
                }
            } else {
                expect_array(value, p);
                for (size_t i = 0; i < value.size(); ++i) {
                    const json& e = value[i];
                    l.ns.push_back(
                        expect_dns_name(e.is_array() && !e.empty() ? e[0] : e, at(p, i)));
                }
            }
        } else if (key == "mx") {
            expect_array(value, p);
            for (size_t i = 0; i < value.size(); ++i) {
                const std::string pi = at(p, i);
                const json& e = expect_object(value[i], pi);
                image::MxRecord mx;
                const std::string target = expect_string(require(e, "mx", pi), pi + ".mx");
                mx.exchange = target == "." ? "." : expect_dns_name(json(target), pi + ".mx");
                if (const json* pref = optional(e, "preference")) {
                    mx.preference =
                        static_cast<uint16_t>(lenient_int(*pref, pi + ".preference", 0, 65535));
                }
                l.mx.push_back(mx);
            }
        } else if (key == "txt") {
            const json list = value.is_array() ? value : json::array({value});
            for (size_t i = 0; i < list.size(); ++i) {
                const json& e = list[i];
                std::string text =
                    e.is_object() ? expect_string(require(e, "txt", at(p, i)), at(p, i) + ".txt")
                                  : expect_string(e, at(p, i));
                if (text.size() > 255) {
                    fail("value", at(p, i), "TXT strings longer than 255 bytes are not supported");
                }
                if (!text.empty()) {
                    l.txt.push_back(std::move(text));  // geodns drops empty TXT records too
                }
            }
        } else if (key == "ttl") {
            l.ttl = static_cast<uint32_t>(lenient_int(value, p, 0, 86400 * 7));
        } else if (key == "max_hosts") {
            l.max_hosts =
                static_cast<uint16_t>(lenient_int(value, p, 1, image::format::kMaxHostsLimit));
        } else if (key == "closest") {
            if (expect_bool(value, p)) {
                fail("value", p, "\"closest\" targeting (by distance) is not supported");
            }
        } else if (key == "spf" || key == "srv" || key == "ptr") {
            fail("value", p, "record type '" + key + "' is not supported by pooledge");
        } else {
            fail("schema", p, "unknown record type or option");
        }
    }
}

// A label the image can hold: every DNS label 1..63 octets, the whole name at most 255.
void check_label_name(const std::string& label, const std::string& origin,
                      const std::string& path) {
    if (label.empty()) {
        return;  // the apex
    }
    size_t start = 0;
    while (start <= label.size()) {
        const size_t end = std::min(label.find('.', start), label.size());
        if (end - start == 0 || end - start > 63) {
            const std::string part = label.substr(start, end - start);
            fail("value", path,
                 "label '" + part + "'" + (part == label ? "" : " of '" + label + "'") + " is " +
                     std::to_string(end - start) + " octets; DNS labels are 1 to 63");
        }
        start = end + 1;
    }
    if (!dns::name_from_text(label + "." + origin)) {
        fail("value", path, "'" + label + "." + origin + "' is not a valid domain name");
    }
}

}  // namespace

std::string origin_from_file_name(const std::string& path) {
    const auto slash = path.rfind('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.size() <= 5 || base.compare(base.size() - 5, 5, ".json") != 0) {
        return {};
    }
    return base.substr(0, base.size() - 5);
}

GeodnsZone parse_geodns_zone(std::string_view json_text, const std::string& origin,
                             const std::string& source) {
    const json doc = parse_document(json_text, source);
    try {
        expect_object(doc, "(top level)");
        GeodnsZone out;
        image::ZoneModel& z = out.zone;
        z.origin = expect_dns_name(json(origin), "origin");
        // geodns's defaults for a zone file that leaves them out.
        z.ttl = 120;
        z.max_hosts = 2;
        std::string contact = "hostmaster." + z.origin;
        for (const auto& [key, value] : doc.items()) {
            if (key == "ttl") {
                z.ttl = static_cast<uint32_t>(lenient_int(value, key, 1, 86400 * 7));
            } else if (key == "serial") {
                out.serial = static_cast<uint32_t>(lenient_int(value, key, 0, UINT32_MAX));
            } else if (key == "contact") {
                contact = contact_to_rname(value, key);
            } else if (key == "max_hosts") {
                z.max_hosts = static_cast<uint16_t>(
                    lenient_int(value, key, 1, image::format::kMaxHostsLimit));
            } else if (key == "targeting") {
                z.targeting = parse_targeting(expect_string(value, key));
            } else if (key == "origin") {
                // geodns names a zone by its file and reads no "origin" either.
                out.warnings.push_back("origin: ignored, as geodns ignores it (the zone is " +
                                       z.origin + ")");
            } else if (key == "closest") {
                if (expect_bool(value, key)) {
                    fail("value", key, "\"closest\" targeting (by distance) is not supported");
                }
            } else if (key != "logging" && key != "data") {
                fail("schema", key, "unknown zone option");
            }
        }
        const json& data = expect_object(require(doc, "data", ""), "data");
        for (const auto& [name, value] : data.items()) {
            std::string label = name;
            std::transform(label.begin(), label.end(), label.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            const std::string path = "data." + (name.empty() ? std::string("\"\"") : name);
            check_label_name(label, z.origin, path);
            parse_label(value, path, z.origin, z.labels[label]);
        }
        z.ns_ttl = 86400;  // geodns: NS records default to a day, not the zone TTL
        const auto apex = z.labels.find("");
        z.soa.mname = apex != z.labels.end() && !apex->second.ns.empty() ? apex->second.ns.front()
                                                                         : "ns." + z.origin;
        z.soa.rname = contact;
        z.soa.ttl = std::min<uint32_t>(z.ttl * 10, 3600);
        z.soa.serial = out.serial.value_or(0);
        return out;
    } catch (const base::InputError& e) {
        throw base::InputError(e.reason(), source + ": " + e.what());
    }
}

}  // namespace pooledge::control
