#include "pooledge/dataplane/frame/classify.hpp"

#include <cstring>
#include <optional>

#include "bytes.hpp"
#include "pooledge/dataplane/frame/checksum.hpp"

namespace pooledge::dataplane {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp6 = 58;
constexpr uint8_t kIcmp6RouterSolicit = 133;
constexpr uint8_t kIcmp6Redirect = 137;
constexpr uint8_t kOnLinkHopLimit = 255;

std::optional<Service> service_of_port(uint16_t port, bool ntp) noexcept {
    if (port == kDnsPort) {
        return Service::Dns;
    }
    if (port == kNtpPort && ntp) {
        return Service::Ntp;
    }
    return std::nullopt;
}

bool is_bad_source_v4(const uint8_t* a) noexcept {
    // 0/8 (this network), 127/8 (loopback), 224/4 multicast and 240/4 (incl. broadcast):
    // none of them sends a genuine query, and answering would reflect at something.
    return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

bool is_bad_source_v6(const uint8_t* a) noexcept {
    static constexpr uint8_t kZero[16] = {};
    if (a[0] == 0xFF) {
        return true;  // multicast
    }
    // :: and ::1
    return std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1);
}

template <size_t N>
bool in(std::span<const std::array<uint8_t, N>> set, const uint8_t* addr) noexcept {
    for (const auto& a : set) {
        if (std::memcmp(a.data(), addr, N) == 0) {
            return true;
        }
    }
    return false;
}

Classified drop(DropReason r) noexcept {
    return Classified{Verdict::Drop, r, Service::Dns, {}};
}
Classified exception() noexcept {
    return Classified{Verdict::Exception, DropReason::None, Service::Dns, {}};
}

}  // namespace

bool is_neighbour_discovery(std::span<const uint8_t> frame) noexcept {
    const uint8_t* f = frame.data();
    size_t off = 12;
    if (frame.size() < off + 2) {
        return false;
    }
    uint16_t type = bytes::get16(f + off);
    off += 2;
    if (type == kEtherVlan) {
        if (frame.size() < off + 4) {
            return false;
        }
        type = bytes::get16(f + off + 2);
        off += 4;
    }
    if (type == kEtherArp) {
        return true;
    }
    // Fixed IPv6 header, then the ICMPv6 type: ND carries no extension headers.
    if (type != kEtherIpv6 || frame.size() < off + 41) {
        return false;
    }
    const uint8_t* ip = f + off;
    const uint8_t icmp_type = ip[40];
    return ip[6] == kProtoIcmp6 && ip[7] == kOnLinkHopLimit && icmp_type >= kIcmp6RouterSolicit &&
           icmp_type <= kIcmp6Redirect;
}

Classified classify(std::span<const uint8_t> frame, const ServiceAddresses& svc,
                    RxChecks checks) noexcept {
    const uint8_t* f = frame.data();
    const size_t n = frame.size();
    if (n < 14) {
        return drop(DropReason::Runt);
    }
    if (std::memcmp(f + 6, svc.mac.data(), 6) == 0) {
        // Our own frame coming back: an af_packet socket also captures what is sent on its
        // interface. Passing it on would loop kernel broadcasts (and fail IPv6 DAD).
        return drop(DropReason::OwnFrame);
    }
    if ((f[0] & 1) != 0) {
        return exception();  // broadcast and multicast: ARP, ND, routing protocols
    }
    if (std::memcmp(f, svc.mac.data(), 6) != 0) {
        return drop(DropReason::NotForUs);
    }
    size_t off = 12;
    uint16_t type = bytes::get16(f + off);
    off += 2;
    if (type == kEtherVlan) {
        if (n < 18) {
            return drop(DropReason::Runt);
        }
        type = bytes::get16(f + 16);
        off = 18;
    }
    FrameLayout l;
    l.l3_offset = static_cast<uint16_t>(off);
    const uint8_t* ip = f + off;
    const size_t avail = n - off;
    size_t l4, l3_end;
    if (type == kEtherIpv4) {
        if (avail < 20) {
            return drop(DropReason::Runt);
        }
        const size_t ihl = static_cast<size_t>(ip[0] & 0x0F) * 4;
        const size_t total = bytes::get16(ip + 2);
        if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > avail) {
            return drop(total > avail && ihl >= 20 ? DropReason::Runt : DropReason::BadIpHeader);
        }
        if (!in<4>(svc.v4, ip + 16)) {
            return exception();  // the kernel's, or a broadcast
        }
        if (!checks.ip_checksum_good && fold_sum(ones_sum(ip, ihl)) != 0xFFFF) {
            return drop(DropReason::BadIpChecksum);
        }
        if ((bytes::get16(ip + 6) & 0x3FFF) != 0 || ip[9] != kProtoUdp) {
            return exception();  // fragments (the kernel reassembles), ICMP, TCP, ...
        }
        if (is_bad_source_v4(ip + 12) || in<4>(svc.v4, ip + 12)) {
            return drop(DropReason::BadSource);
        }
        l.ip_version = 4;
        l.source.family = 4;
        std::memcpy(l.source.bytes.data(), ip + 12, 4);
        l4 = off + ihl;
        l3_end = off + total;
    } else if (type == kEtherIpv6) {
        if (avail < 40) {
            return drop(DropReason::Runt);
        }
        const size_t payload = bytes::get16(ip + 4);
        if ((ip[0] >> 4) != 6) {
            return drop(DropReason::BadIpHeader);
        }
        if (40 + payload > avail) {
            return drop(DropReason::Runt);
        }
        if (!in<16>(svc.v6, ip + 24)) {
            return exception();
        }
        if (ip[6] != kProtoUdp) {
            return exception();  // ICMPv6 (ND, ping), TCP, extension headers, fragments
        }
        if (is_bad_source_v6(ip + 8) || in<16>(svc.v6, ip + 8)) {
            return drop(DropReason::BadSource);
        }
        l.ip_version = 6;
        l.source.family = 6;
        std::memcpy(l.source.bytes.data(), ip + 8, 16);
        l4 = off + 40;
        l3_end = l4 + payload;
    } else {
        return exception();  // ARP and anything else
    }
    if (l3_end - l4 < 8) {
        return drop(DropReason::BadUdpHeader);
    }
    const uint8_t* udp = f + l4;
    const std::optional<Service> service = service_of_port(bytes::get16(udp + 2), svc.ntp);
    if (!service) {
        return exception();  // every other port is the kernel's
    }
    const size_t udp_len = bytes::get16(udp + 4);
    if (udp_len < 8 || udp_len > l3_end - l4) {
        return drop(DropReason::BadUdpHeader);
    }
    l.l4_offset = static_cast<uint16_t>(l4);
    l.payload_offset = static_cast<uint16_t>(l4 + 8);
    l.payload_length = static_cast<uint16_t>(udp_len - 8);
    const uint16_t csum = bytes::get16(udp + 6);
    if (csum == 0) {
        if (l.ip_version == 6) {
            return drop(DropReason::BadUdpChecksum);  // RFC 8200: mandatory over IPv6
        }
    } else if (!checks.l4_checksum_good &&
               fold_sum(ones_sum(udp, udp_len,
                                 pseudo_header_sum(l, f, static_cast<uint16_t>(udp_len)))) !=
                   0xFFFF) {
        return drop(DropReason::BadUdpChecksum);
    }
    if (bytes::get16(udp) == 0) {
        return drop(DropReason::SourcePortZero);
    }
    return Classified{Verdict::FastPath, DropReason::None, *service, l};
}

}  // namespace pooledge::dataplane
