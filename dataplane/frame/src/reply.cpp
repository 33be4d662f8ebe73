#include "pooledge/dataplane/frame/reply.hpp"

#include <algorithm>
#include <cstring>

#include "bytes.hpp"
#include "pooledge/dataplane/frame/checksum.hpp"

namespace pooledge::dataplane {
namespace {
constexpr uint8_t kReplyTtl = 64;
}  // namespace

ReplySpace begin_reply(std::span<uint8_t> buffer, const FrameLayout& layout) noexcept {
    FrameLayout l = layout;
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
    return ReplySpace{l, buffer.subspan(l.payload_offset, room)};
}

uint16_t finish_reply(std::span<uint8_t> buffer, const FrameLayout& l, uint16_t payload_length,
                      bool compute_l4_checksum) noexcept {
    using bytes::get16;
    using bytes::put16;
    uint8_t* f = buffer.data();
    uint8_t* ip = f + l.l3_offset;
    const uint16_t udp_len = static_cast<uint16_t>(8 + payload_length);

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
        put16(udp + 6, fold_sum(pseudo_header_sum(l, f, udp_len)));  // the NIC completes it
    }
    return static_cast<uint16_t>(l.payload_offset + payload_length);
}

}  // namespace pooledge::dataplane
