#include "pooledge/dataplane/packet.hpp"

#include <algorithm>
#include <cstring>

namespace pooledge::dataplane {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint8_t kProtoUdp = 17;
constexpr uint16_t kDnsPort = 53;
constexpr uint8_t kReplyTtl = 64;

uint16_t get16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
void put16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// One's complement sum of 16-bit big-endian words, not yet folded.
uint64_t sum16(const uint8_t* p, size_t n, uint64_t acc = 0) noexcept {
    for (; n >= 2; p += 2, n -= 2) {
        acc += get16(p);
    }
    if (n == 1) {
        acc += static_cast<uint64_t>(p[0]) << 8;
    }
    return acc;
}

uint16_t fold(uint64_t acc) noexcept {
    while (acc >> 16) {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    return static_cast<uint16_t>(acc);
}

// The UDP pseudo-header sum (RFC 768 / RFC 8200 8.1), unfolded.
uint64_t pseudo_sum(const FrameLayout& l, const uint8_t* frame, uint16_t udp_length) noexcept {
    const uint8_t* ip = frame + l.l3_offset;
    if (l.ip_version == 4) {
        return sum16(ip + 12, 8) + kProtoUdp + udp_length;
    }
    return sum16(ip + 8, 32) + kProtoUdp + udp_length;
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
    return Classified{Verdict::Drop, r, {}};
}
Classified exception() noexcept {
    return Classified{Verdict::Exception, DropReason::None, {}};
}

}  // namespace

const char* to_string(DropReason r) noexcept {
    switch (r) {
        case DropReason::None:
            return "none";
        case DropReason::Runt:
            return "runt";
        case DropReason::NotForUs:
            return "not_for_us";
        case DropReason::OwnFrame:
            return "own_frame";
        case DropReason::BadIpHeader:
            return "bad_ip_header";
        case DropReason::BadIpChecksum:
            return "bad_ip_checksum";
        case DropReason::BadUdpHeader:
            return "bad_udp_header";
        case DropReason::BadUdpChecksum:
            return "bad_udp_checksum";
        case DropReason::BadSource:
            return "bad_source";
        case DropReason::SourcePortZero:
            return "source_port_zero";
        case DropReason::DnsNoAnswer:
            return "dns_no_answer";
        case DropReason::Count:
            break;
    }
    return "unknown";
}

uint16_t ipv4_header_checksum(const uint8_t* header, size_t length) noexcept {
    return static_cast<uint16_t>(~fold(sum16(header, length)));
}

uint16_t udp_checksum(const FrameLayout& l, const uint8_t* frame, uint16_t udp_length) noexcept {
    const uint16_t c = static_cast<uint16_t>(
        ~fold(sum16(frame + l.l4_offset, udp_length, pseudo_sum(l, frame, udp_length))));
    return c == 0 ? 0xFFFF : c;  // 0 means "no checksum" on the wire
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
    uint16_t type = get16(f + off);
    off += 2;
    if (type == kEtherVlan) {
        if (n < 18) {
            return drop(DropReason::Runt);
        }
        type = get16(f + 16);
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
        const size_t total = get16(ip + 2);
        if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > avail) {
            return drop(total > avail && ihl >= 20 ? DropReason::Runt : DropReason::BadIpHeader);
        }
        if (!in<4>(svc.v4, ip + 16)) {
            return exception();  // the kernel's, or a broadcast
        }
        if (!checks.ip_checksum_good && fold(sum16(ip, ihl)) != 0xFFFF) {
            return drop(DropReason::BadIpChecksum);
        }
        if ((get16(ip + 6) & 0x3FFF) != 0 || ip[9] != kProtoUdp) {
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
        const size_t payload = get16(ip + 4);
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
    if (get16(udp + 2) != kDnsPort) {
        return exception();  // NTP comes with its own issue; everything else is the kernel's
    }
    const size_t udp_len = get16(udp + 4);
    if (udp_len < 8 || udp_len > l3_end - l4) {
        return drop(DropReason::BadUdpHeader);
    }
    l.l4_offset = static_cast<uint16_t>(l4);
    l.payload_offset = static_cast<uint16_t>(l4 + 8);
    l.payload_length = static_cast<uint16_t>(udp_len - 8);
    const uint16_t csum = get16(udp + 6);
    if (csum == 0) {
        if (l.ip_version == 6) {
            return drop(DropReason::BadUdpChecksum);  // RFC 8200: mandatory over IPv6
        }
    } else if (!checks.l4_checksum_good &&
               fold(sum16(udp, udp_len, pseudo_sum(l, f, static_cast<uint16_t>(udp_len)))) !=
                   0xFFFF) {
        return drop(DropReason::BadUdpChecksum);
    }
    if (get16(udp) == 0) {
        return drop(DropReason::SourcePortZero);
    }
    return Classified{Verdict::FastPath, DropReason::None, l};
}

Answered answer_in_place(std::span<uint8_t> buffer, const FrameLayout& in_layout,
                         const engine::AnswerContext& ctx, bool compute_l4_checksum) noexcept {
    Answered out;
    FrameLayout l = in_layout;
    uint8_t* f = buffer.data();
    uint8_t* ip = f + l.l3_offset;
    if (l.ip_version == 4 && l.l4_offset != l.l3_offset + 20) {
        // IPv4 options: the reply carries none (echoing a source route or a record-route
        // option would be wrong), so the UDP datagram moves up to follow a 20-byte header.
        const size_t shift = l.l4_offset - l.l3_offset - 20u;
        std::memmove(f + l.l3_offset + 20, f + l.l4_offset, 8u + l.payload_length);
        l.l4_offset = static_cast<uint16_t>(l.l4_offset - shift);
        l.payload_offset = static_cast<uint16_t>(l.payload_offset - shift);
        ip[0] = 0x45;
    }
    // The reply's IP datagram must fit 65535 bytes and the buffer.
    const size_t room = std::min<size_t>(buffer.size() - l.payload_offset,
                                         65535u - 8u - (l.ip_version == 4 ? 20u : 0u));
    const std::span<const uint8_t> query(f + l.payload_offset, l.payload_length);
    out.response = engine::answer(ctx, engine::Client{l.source, engine::Transport::Udp}, query,
                                  std::span<uint8_t>(f + l.payload_offset, room));
    if (out.response.size == 0) {
        out.reason = DropReason::DnsNoAnswer;
        return out;
    }
    const uint16_t dns_len = out.response.size;
    const uint16_t udp_len = static_cast<uint16_t>(8 + dns_len);

    uint8_t mac[6];
    std::memcpy(mac, f, 6);
    std::memcpy(f, f + 6, 6);
    std::memcpy(f + 6, mac, 6);

    if (l.ip_version == 4) {
        uint8_t a[4];
        std::memcpy(a, ip + 12, 4);
        std::memcpy(ip + 12, ip + 16, 4);
        std::memcpy(ip + 16, a, 4);
        put16(ip + 2, static_cast<uint16_t>(20 + udp_len));
        put16(ip + 6, 0);  // no fragmentation fields on a fresh datagram
        ip[8] = kReplyTtl;
        put16(ip + 10, 0);
        put16(ip + 10, ipv4_header_checksum(ip, 20));
    } else {
        uint8_t a[16];
        std::memcpy(a, ip + 8, 16);
        std::memcpy(ip + 8, ip + 24, 16);
        std::memcpy(ip + 24, a, 16);
        put16(ip + 4, udp_len);
        ip[7] = kReplyTtl;
    }
    uint8_t* udp = f + l.l4_offset;
    const uint16_t sport = get16(udp);
    put16(udp, get16(udp + 2));
    put16(udp + 2, sport);
    put16(udp + 4, udp_len);
    put16(udp + 6, 0);
    if (compute_l4_checksum) {
        put16(udp + 6, udp_checksum(l, f, udp_len));
    } else {
        put16(udp + 6, fold(pseudo_sum(l, f, udp_len)));  // the NIC completes it
    }
    out.length = static_cast<uint16_t>(l.payload_offset + dns_len);
    out.layout = l;
    return out;
}

}  // namespace pooledge::dataplane
