#include "pooledge/dataplane/frame/checksum.hpp"

#include <bit>
#include <cstring>

namespace pooledge::dataplane {
namespace {
constexpr uint8_t kProtoUdp = 17;
}  // namespace

uint64_t ones_sum(const uint8_t* p, size_t n, uint64_t acc) noexcept {
    // 32-bit words in the host's byte order into a 64-bit sum (no carry is lost below 2^32
    // words), then one swap of the folded 16 bits: the ones' complement sum is byte-order
    // independent (RFC 1071, 2.B), so this equals the sum of big-endian 16-bit words, at a
    // quarter of the additions and without a byte swap per word.
    uint64_t s = 0;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + 4, 4);
        s += a;
        s += b;
    }
    if (n >= 4) {
        uint32_t a;
        std::memcpy(&a, p, 4);
        s += a;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t a;
        std::memcpy(&a, p, 2);
        s += a;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        // The odd byte is the high half of a big-endian word padded with zero.
        s += std::endian::native == std::endian::little ? p[0] : static_cast<uint64_t>(p[0]) << 8;
    }
    const uint16_t folded = fold_sum(s);
    if constexpr (std::endian::native == std::endian::little) {
        return acc + static_cast<uint16_t>(folded << 8 | folded >> 8);
    } else {
        return acc + folded;
    }
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
