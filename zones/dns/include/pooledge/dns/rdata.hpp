// Rdata of the static record types the image carries, and the names inside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace pooledge::dns {

// Length of the uncompressed wire name starting at `pos`, or 0 when there is none.
[[nodiscard]] size_t wire_name_length(std::span<const uint8_t> data, size_t pos) noexcept;

// Where the embedded domain names of a record type sit: SOA has two names followed by 20
// bytes, MX a 2-byte preference then a name, NS and CNAME one name; other types have none
// and are written as opaque bytes.
struct RdataShape {
    size_t prefix;   // bytes before the first name
    unsigned names;  // names in a row after the prefix
    size_t suffix;   // fixed bytes after the names
};
[[nodiscard]] RdataShape rdata_shape(uint16_t type) noexcept;

// Checks that rdata is well formed for its type (names valid and exactly filling it; TXT made
// of character-strings). The image reader refuses an image whose rdata fails this, so the
// answer engine can walk rdata names without checks.
[[nodiscard]] bool rdata_is_valid(uint16_t type, std::span<const uint8_t> rdata) noexcept;

}  // namespace pooledge::dns
