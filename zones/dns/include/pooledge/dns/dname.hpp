// Domain names in wire form: case folding, hashing, presentation conversion.
//
// The image's name index stores case-folded wire names and the 64-bit hash defined here; the
// query parser folds and hashes the question name the same way, so a lookup is one hash probe
// and one memcmp. The hash is part of the image format (zones/image/FORMAT.md): changing it changes
// the format version.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pooledge::dns {

// ASCII-only, as DNS is (RFC 4343): bytes outside 'A'..'Z' are left alone.
[[nodiscard]] constexpr uint8_t fold_byte(uint8_t c) noexcept {
    return static_cast<uint8_t>(c + ((static_cast<uint8_t>(c - 'A') < 26) << 5));
}

// fold_byte on eight bytes at once (SWAR): each byte in 'A'..'Z' gains 0x20, every other byte
// is left alone, so a whole wire name folds word by word, its length octets (below 64)
// included. No carry crosses a byte: each sum below stays under 0x100.
[[nodiscard]] constexpr uint64_t fold_word(uint64_t w) noexcept {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHigh = 0x80 * kOnes;
    const uint64_t low7 = w & ~kHigh;
    const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;   // high bit: byte >= 'A'
    const uint64_t past_z = low7 + (0x7F - 'Z') * kOnes;       // high bit: byte > 'Z'
    const uint64_t upper = at_least_a & ~past_z & ~w & kHigh;  // and ASCII to begin with
    return w | (upper >> 2);
}

// Hashes a wire name of `len` bytes. The buffer must be readable up to the next multiple of
// 8 bytes with zeroes after `len` (the parser and builder guarantee it) so the hash reads
// whole words; every word is mixed in with a multiply, which is enough for a table whose
// probe length the builder bounds.
[[nodiscard]] inline uint64_t name_hash_padded(const uint8_t* name, size_t len) noexcept {
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0x6A09E667F3BCC909ull ^ len;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w;
        std::memcpy(&w, name + i, 8);
        h = (h ^ w) * kMul;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

// Same hash for any buffer: copies into a padded scratch first (build time only).
[[nodiscard]] uint64_t name_hash(std::span<const uint8_t> name) noexcept;

// Lower-cases a wire name in place.
void fold_name(std::span<uint8_t> name) noexcept;

// Validates an uncompressed wire name that must fill `name` exactly.
[[nodiscard]] bool is_valid_wire_name(std::span<const uint8_t> name) noexcept;

// Presentation <-> wire, for the builder, tools and tests (not the fast path).
// Accepts "pool.ntp.org", "pool.ntp.org." and "." ; rejects empty labels and over-long names.
[[nodiscard]] std::optional<std::vector<uint8_t>> name_from_text(std::string_view text);
[[nodiscard]] std::string name_to_text(std::span<const uint8_t> wire);

// True when `name` ends with `suffix` at a label boundary (both folded wire names).
[[nodiscard]] bool name_is_subdomain(std::span<const uint8_t> name,
                                     std::span<const uint8_t> suffix) noexcept;

}  // namespace pooledge::dns
