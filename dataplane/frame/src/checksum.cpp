#include "pooledge/dataplane/frame/checksum.hpp"

#include "bytes.hpp"

namespace pooledge::dataplane {
namespace {
constexpr uint8_t kProtoUdp = 17;
}  // namespace

uint64_t ones_sum(const uint8_t* p, size_t n, uint64_t acc) noexcept {
    for (; n >= 2; p += 2, n -= 2) {
        acc += bytes::get16(p);
    }
    if (n == 1) {
        acc += static_cast<uint64_t>(p[0]) << 8;
    }
    return acc;
}

uint16_t fold_sum(uint64_t acc) noexcept {
    while (acc >> 16) {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    return static_cast<uint16_t>(acc);
}

uint64_t pseudo_header_sum(const FrameLayout& l, const uint8_t* frame,
                           uint16_t udp_length) noexcept {
    const uint8_t* ip = frame + l.l3_offset;
    if (l.ip_version == 4) {
        return ones_sum(ip + 12, 8) + kProtoUdp + udp_length;
    }
    return ones_sum(ip + 8, 32) + kProtoUdp + udp_length;
}

uint16_t ipv4_header_checksum(const uint8_t* header, size_t length) noexcept {
    return static_cast<uint16_t>(~fold_sum(ones_sum(header, length)));
}

uint16_t udp_checksum(const FrameLayout& l, const uint8_t* frame, uint16_t udp_length) noexcept {
    const uint16_t c = static_cast<uint16_t>(~fold_sum(
        ones_sum(frame + l.l4_offset, udp_length, pseudo_header_sum(l, frame, udp_length))));
    return c == 0 ? 0xFFFF : c;  // 0 means "no checksum" on the wire
}

}  // namespace pooledge::dataplane
