// Big-endian 16-bit access for the frame code (private to the frame library).
#pragma once

#include <cstdint>

namespace pooledge::dataplane::bytes {

[[nodiscard]] inline uint16_t get16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline void put16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

}  // namespace pooledge::dataplane::bytes
