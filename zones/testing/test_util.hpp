// Helpers for the zones tests: building queries, decoding responses, a small known zone.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/dns/wire.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::testkit {

// A TCP port on 127.0.0.1 that was free a moment ago (bound, read back, released).
inline uint16_t free_loopback_port() {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    uint16_t port = 0;
    if (::bind(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        ::getsockname(probe, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    ::close(probe);
    return port;
}

// The tests' queries are always well formed.
using dns::QueryOptions;
inline std::vector<uint8_t> make_query(const std::string& name, const dns::QueryOptions& o = {}) {
    return *dns::build_query(name, o);
}

// A small zone with known geography:
//   regions: europe > de, fr (fr has no servers); north-america > us
//   81.0.0.0/16 and 2a01::/16 are in Germany, 82.0.0.0/16 in France, 24.0.0.0/16 in the US,
//   10.1.0.0/16 is overridden to Germany (private space: only the packet source can use it).
inline image::ImageModel small_model() {
    image::ImageModel m;
    m.regions = {{"europe", ""},
                 {"de", "europe"},
                 {"fr", "europe"},
                 {"north-america", ""},
                 {"us", "north-america"}};
    m.prefixes = {{*base::IpPrefix::parse("81.0.0.0/16"), "de", false},
                  {*base::IpPrefix::parse("82.0.0.0/16"), "fr", false},
                  {*base::IpPrefix::parse("24.0.0.0/16"), "us", false},
                  {*base::IpPrefix::parse("2a01::/16"), "de", false},
                  {*base::IpPrefix::parse("10.1.0.0/16"), "de", true}};
    image::ZoneModel z;
    z.origin = "pool.ntp.org";
    z.soa = image::SoaRecord{
        "ns1.pool.ntp.org", "hostmaster.pool.ntp.org", 7, 5400, 5400, 1209600, 300, 1500};
    auto addrs = [](std::initializer_list<const char*> list) {
        std::vector<image::WeightedAddress> v;
        uint64_t w = 1000;
        for (const char* a : list) {
            v.push_back({*base::IpAddress::parse(a), w});
            w += 1000;
        }
        return v;
    };
    z.labels[""].a = addrs({"192.0.2.1", "192.0.2.2"});
    z.labels[""].ns = {"ns1.pool.ntp.org", "ns2.pool.ntp.org"};
    z.labels[""].mx = {image::MxRecord{0, "."}};
    z.labels["0"].a = addrs({"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"});
    z.labels["2"].aaaa = addrs({"2001:db8::10", "2001:db8::11"});
    z.labels["de"].a = addrs({"198.51.100.1", "198.51.100.2", "198.51.100.3"});
    z.labels["0.de"].a = addrs({"198.51.100.1", "198.51.100.2"});
    z.labels["2.de"].aaaa = addrs({"2001:db8:de::1"});
    z.labels["europe"].a = addrs({"198.51.100.1", "203.0.113.50"});
    z.labels["0.europe"].a = addrs({"203.0.113.50", "203.0.113.51"});
    z.labels["us"].a = addrs({"203.0.113.1"});
    z.labels["0.us"].a = addrs({"203.0.113.1"});
    z.labels["0.debian"].alias = "0";
    z.labels["www"].cname = "www.ntppool.org";
    z.labels["info"].txt = {"pooledge test zone"};
    std::vector<image::WeightedAddress> many;
    for (int i = 0; i < 32; ++i) {
        many.push_back({base::IpAddress::v4(0xC6120000u + static_cast<uint32_t>(i)), 1});
    }
    z.labels["many"].a = many;
    z.labels["many"].max_hosts = 32;
    m.zones.push_back(z);
    return m;
}

struct ImageHolder {
    std::vector<uint8_t> bytes;
    image::ImageView view;
};

inline ImageHolder load_small() {
    auto bytes = image::compile_image(small_model(), 2026112101, 1763740800);
    std::string why;
    auto view = image::ImageView::load(bytes, &why);
    if (!view) {
        throw std::runtime_error(why);
    }
    return ImageHolder{std::move(bytes), *view};
}

}  // namespace pooledge::testkit
