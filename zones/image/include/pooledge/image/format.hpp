// The zone image's on-disk layout. FORMAT.md is the prose version of this file; keep them in
// step, and bump kImageVersion for any change a reader of the old version would misread.
//
// Every structure is a fixed-size, trivially copyable record of little-endian integers at a
// naturally aligned offset, referenced by index or offset and never by pointer, so the blob
// can be mapped at any address and read in place.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace pooledge::image::format {

static_assert(std::endian::native == std::endian::little, "the image is little-endian");

inline constexpr std::array<char, 8> kMagic = {'P', 'E', 'D', 'G', 'E', 'I', 'M', 'G'};
// Version 2 dropped the top-16-bit geo indexes (Geo4Index, Geo6Index): readers build their
// lookup tables at load (geo_index.hpp); and it merged each address set's addresses into its
// alias table (Draw4, Draw6), so that a draw reads one record. A version-1 image comes from
// an older control plane.
inline constexpr uint32_t kImageVersion = 2;
inline constexpr uint32_t kSectionAlign = 64;  // a cache line: keeps hot tables line-aligned
inline constexpr uint16_t kMaxHostsLimit = 32;
inline constexpr size_t kRegionNameMax = 29;

enum class Section : uint32_t {
    Names,       // bytes: case-folded wire names of nodes and zones
    NameIndex,   // IndexSlot[], open addressing, power-of-two size
    Nodes,       // Node[]
    Entries,     // Entry[]: per node, what each qtype resolves to
    Dispatch,    // uint32[]: per geo entry, one rrset id per region
    RRsets,      // RRset[]
    RdataIndex,  // RdataRef[]
    Rdata,       // bytes: uncompressed wire rdata
    Draw4,       // Draw4[]: per IPv4 set, its alias table with the addresses
    Cum4,        // uint64[]: running weight sums, parallel to Draw4
    Draw6,       // Draw6[]
    Cum6,        // uint64[]
    Regions,     // Region[]
    Zones,       // Zone[]
    Geo4Start,   // uint32[]: range starts, ascending, first is 0
    Geo4Region,  // uint16[]: region of each range
    Geo6Start,   // Geo6Key[]
    Geo6Region,  // uint16[]
    Count
};
inline constexpr size_t kSectionCount = static_cast<size_t>(Section::Count);

struct SectionRef {
    uint64_t offset;
    uint64_t size;  // bytes
};

enum class SigAlg : uint32_t { None = 0, Ed25519 = 1 };

struct Header {
    std::array<char, 8> magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t total_size;
    uint64_t serial;
    uint64_t build_time;  // unix seconds
    uint32_t section_count;
    uint32_t region_count;
    uint32_t zone_count;
    uint32_t max_probe;  // longest probe sequence in the name index, for bounded lookups
    // SHA-256 over the whole image with `checksum` and the signature block zeroed.
    std::array<uint8_t, 32> checksum;
    // Signature block, filled by the control plane's signer (Ed25519 over `checksum`).
    SigAlg sig_alg;
    uint32_t reserved0;
    std::array<uint8_t, 8> key_id;  // first 8 bytes of SHA-256 of the public key
    std::array<uint8_t, 64> signature;
    std::array<SectionRef, kSectionCount> sections;
};

struct IndexSlot {
    uint32_t tag;            // upper 32 bits of the name hash
    uint32_t node_plus_one;  // 0 = empty slot
};

enum NodeFlags : uint8_t {
    kNodeApex = 1,
};

struct Node {
    uint32_t name_off;
    uint8_t name_len;
    uint8_t flags;
    uint16_t zone;
    uint32_t first_entry;
    uint32_t entry_count;
};

enum class EntryKind : uint16_t { Static = 0, Geo = 1 };

// rrset ids are 1-based so that 0 can mean "nothing of this type for this region".
struct Entry {
    uint16_t qtype;
    EntryKind kind;
    uint32_t ref;  // Static: rrset id; Geo: index of the first of region_count Dispatch slots
};

struct RRset {
    uint16_t type;
    uint16_t max_hosts;  // A/AAAA: answers drawn per query; otherwise unused (0)
    uint32_t ttl;
    uint32_t first;  // A: into Draw4/Cum4; AAAA: Draw6/Cum6; otherwise RdataIndex
    uint32_t count;
};

struct RdataRef {
    uint32_t offset;
    uint16_t length;
    uint16_t reserved;
};

struct Region {
    uint16_t parent;  // 0 = the world; a country's parent is its continent
    uint8_t name_len;
    std::array<char, kRegionNameMax> name;  // the zone label that serves it ("de", "europe")
};

struct Zone {
    uint32_t apex_node;
    uint32_t soa_rrset;
};

// One host of an address set: its address and its column of the set's Walker alias table,
// with the address the column yields when it does not keep its own host, so a draw reads
// this one record (a cache line holds two Draw4, one Draw6). A draw keeps this host when a
// 64-bit uniform fraction is below `keep`, else takes host `alias` of the same set, whose
// address is `alias_addr`.
struct Draw4 {
    uint64_t keep;
    uint32_t alias;
    std::array<uint8_t, 4> addr;  // network order
    std::array<uint8_t, 4> alias_addr;
    uint32_t reserved;
    uint64_t reserved2;
};

struct Draw6 {
    uint64_t keep;
    uint32_t alias;
    uint32_t reserved;
    std::array<uint8_t, 16> addr;
    std::array<uint8_t, 16> alias_addr;
    std::array<uint64_t, 2> reserved2;
};

struct Geo6Key {
    uint64_t hi;  // address bits 0..63 as a host integer
    uint64_t lo;
};

// FORMAT.md section 3 gives these offsets; a change here is a format change.
static_assert(std::is_trivially_copyable_v<Header> && sizeof(Header) == 456);
static_assert(offsetof(Header, checksum) == 56 && offsetof(Header, sections) == 168);
static_assert(sizeof(IndexSlot) == 8 && sizeof(Node) == 16 && sizeof(Entry) == 8);
static_assert(sizeof(RRset) == 16 && sizeof(RdataRef) == 8 && sizeof(Region) == 32);
static_assert(sizeof(Zone) == 8 && sizeof(Geo6Key) == 16);
static_assert(sizeof(Draw4) == 32 && sizeof(Draw6) == 64);
static_assert(offsetof(Draw4, addr) == 12 && offsetof(Draw6, addr) == 16);

}  // namespace pooledge::image::format
