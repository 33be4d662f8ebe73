// Test frames: Ethernet/IPv4/IPv6/802.1Q/UDP around a payload, with valid checksums unless
// asked otherwise. Shared by the frame tests and the worker test.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "pooledge/dataplane/frame/checksum.hpp"
#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane::test_frames {

inline constexpr std::array<uint8_t, 6> kOurMac = {0x02, 0, 0, 0, 0, 0x53};
inline constexpr std::array<uint8_t, 6> kPeerMac = {0x02, 0, 0, 0, 0, 0x01};
inline const std::array<uint8_t, 4> kSvc4[] = {{192, 0, 2, 53}};
inline const std::array<uint8_t, 16> kSvc6[] = {
    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};

inline ServiceAddresses svc() {
    return ServiceAddresses{kOurMac, kSvc4, kSvc6};
}

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}

struct FrameOptions {
    int ip = 4;
    bool vlan = false;
    std::array<uint8_t, 6> dst_mac = kOurMac;
    std::vector<uint8_t> src = {198, 51, 100, 7};
    std::vector<uint8_t> dst = {192, 0, 2, 53};
    uint8_t proto = 17;
    uint16_t sport = 40000;
    uint16_t dport = 53;
    uint16_t frag = 0;
    size_t ip_options = 0;  // IPv4 option bytes (NOPs)
    bool checksum = true;
};

inline std::vector<uint8_t> frame(const std::vector<uint8_t>& payload, FrameOptions o = {}) {
    std::vector<uint8_t> f(o.dst_mac.begin(), o.dst_mac.end());
    f.insert(f.end(), kPeerMac.begin(), kPeerMac.end());
    if (o.vlan) {
        put16(f, 0x8100);
        put16(f, 42);
    }
    put16(f, o.ip == 4 ? 0x0800 : 0x86DD);
    const size_t l3 = f.size();
    const uint16_t udp_len = static_cast<uint16_t>(8 + payload.size());
    if (o.ip == 4) {
        const size_t ihl = 20 + o.ip_options;
        f.push_back(static_cast<uint8_t>(0x40 | ihl / 4));
        f.push_back(0);
        put16(f, static_cast<uint16_t>(ihl + udp_len));
        put16(f, 0x1234);
        put16(f, o.frag);
        f.push_back(64);
        f.push_back(o.proto);
        put16(f, 0);
        f.insert(f.end(), o.src.begin(), o.src.end());
        f.insert(f.end(), o.dst.begin(), o.dst.end());
        f.insert(f.end(), o.ip_options, 1);  // NOP options
        const uint16_t c = ipv4_header_checksum(f.data() + l3, ihl);
        f[l3 + 10] = static_cast<uint8_t>(c >> 8);
        f[l3 + 11] = static_cast<uint8_t>(c);
    } else {
        put16(f, 0x6000);
        put16(f, 0);
        put16(f, udp_len);
        f.push_back(o.proto);
        f.push_back(64);
        f.insert(f.end(), o.src.begin(), o.src.end());
        f.insert(f.end(), o.dst.begin(), o.dst.end());
    }
    const size_t l4 = f.size();
    put16(f, o.sport);
    put16(f, o.dport);
    put16(f, udp_len);
    put16(f, 0);
    f.insert(f.end(), payload.begin(), payload.end());
    if (o.checksum) {
        FrameLayout l;
        l.l3_offset = static_cast<uint16_t>(l3);
        l.l4_offset = static_cast<uint16_t>(l4);
        l.ip_version = static_cast<uint8_t>(o.ip);
        const uint16_t c = udp_checksum(l, f.data(), udp_len);
        f[l4 + 6] = static_cast<uint8_t>(c >> 8);
        f[l4 + 7] = static_cast<uint8_t>(c);
    }
    return f;
}

inline std::vector<uint8_t> v6(std::initializer_list<uint8_t> head, uint8_t last) {
    std::vector<uint8_t> a(head);
    a.resize(15, 0);
    a.push_back(last);
    return a;
}

}  // namespace pooledge::dataplane::test_frames
