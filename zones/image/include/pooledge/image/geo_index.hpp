// The geo lookup tables a reader builds from an image's range lists when it loads it: the
// fast path's one or two cache lines per client address, instead of a binary search.
//
// IPv4 is DIR-24-8 (the DPDK LPM / Gupta-Lin-McKeown layout): a direct table of 2^24 16-bit
// entries, one per /24, and 256-entry blocks for the /24s that ranges split. An entry is a
// leaf (bit 15 clear: an index into a small table of distinct {region, ECS scope} pairs) or
// a block number (bit 15 set). A /24 inside one range has one scope for all its addresses
// (every prefix of 24 bits or fewer around any of them is the same block), so a leaf per /24
// is exact. IPv6 keeps a direct index on the top 16 bits into its ranges and a binary search
// within the bucket.
//
// Why at load and not in the signed image: the tables are a function of the ranges the image
// already carries (and signs), 40-odd MiB against the image's 8; pushing, storing, hashing
// and verifying them on every node would cost more than building them (80-170 ms on the
// management thread, before the swap, off the fast path), and their layout can change
// without an image format change. While a swap runs two images and two index sets are alive.
//
// Lookups return exactly what ImageView's range search returns (geo_test checks it), except
// when the table of distinct pairs would overflow 15 bits: then the scope of that /24 (or
// split address) is widened to 24 (or 32), which is still a correct, narrower ECS scope.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/image/reader.hpp"

namespace pooledge::image {

// Where an index puts its direct table, the 32 MiB every IPv4 lookup reads one random line
// of: by default an anonymous mapping advised to transparent huge pages
// (anonymous_table_memory); the dataplane passes the EAL's huge-page heap where it has one.
// `release` gets back what `allocate` returned, with the same size; `allocate` returns
// nullptr when it cannot.
struct TableMemory {
    void* (*allocate)(size_t bytes) = nullptr;
    void (*release)(void* p, size_t bytes) = nullptr;
    const char* name = "";  // for logs
};
[[nodiscard]] const TableMemory& anonymous_table_memory() noexcept;

class GeoIndex {
  public:
    struct Stats {
        size_t split_blocks = 0;  // /24s more than one range touches
        size_t leaves = 0;        // distinct {region, scope} pairs
        size_t widened = 0;       // /24s or addresses whose scope was widened (table full)
        size_t bytes = 0;         // memory of all tables
    };

    // Builds the tables for `view`'s ranges (which ImageView::load validated). Nothing, and
    // a reason, when the IPv4 ranges split more /24s than 15-bit block numbers can name; the
    // reader then keeps its binary search.
    [[nodiscard]] static std::shared_ptr<const GeoIndex> build(
        const ImageView& view, std::string* why = nullptr,
        const TableMemory& memory = anonymous_table_memory());

    [[nodiscard]] GeoMatch lookup4(uint32_t addr) const noexcept {
        uint16_t e = tbl24_.get()[addr >> 8];
        if ((e & kBlockFlag) != 0) {
            e = tbl8_[static_cast<size_t>(e & ~kBlockFlag) << 8 | (addr & 0xFF)];
        }
        return leaves_[e];
    }
    [[nodiscard]] GeoMatch lookup6(uint64_t hi, uint64_t lo) const noexcept;

    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

    // Prefetches the direct-table line of `addr`: a burst engine issues it for every packet
    // before it looks any up.
    void prefetch4(uint32_t addr) const noexcept { __builtin_prefetch(tbl24_.get() + (addr >> 8)); }

  private:
    static constexpr uint16_t kBlockFlag = 0x8000;
    struct FreeDeleter {
        void (*release)(void* p, size_t bytes);  // TableMemory::release
        void operator()(uint16_t* p) const noexcept;
    };
    GeoIndex() = default;

    std::unique_ptr<uint16_t[], FreeDeleter> tbl24_;  // 2^24 entries, huge-page aligned
    std::vector<uint16_t> tbl8_;                      // 256 entries per split /24
    std::vector<GeoMatch> leaves_;
    // IPv6: ranges of bucket k (top 16 bits) are index6_[k] .. index6_[k + 1] inclusive.
    std::vector<uint32_t> index6_;
    std::span<const format::Geo6Key> start6_;
    std::span<const uint16_t> region6_;
    Stats stats_;
};

// Builds the index of `view` and attaches it. False (and the reason) when it cannot be built:
// the view then keeps its range search, which answers the same, only slower.
bool attach_geo_index(ImageView& view, std::string* why = nullptr,
                      const TableMemory& memory = anonymous_table_memory());

}  // namespace pooledge::image
