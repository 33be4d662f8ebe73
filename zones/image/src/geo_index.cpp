#include "pooledge/image/geo_index.hpp"

#include <sys/mman.h>

#include <cstdint>

#include "pooledge/base/fd.hpp"

namespace pooledge::image {
namespace {

constexpr size_t kTbl24Entries = size_t{1} << 24;
constexpr size_t kMaxLeaves = 0x8000;  // 15 bits
constexpr size_t kMaxBlocks = 0x8000;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr unsigned kScopes = 33;  // 0 .. 32

// Distinct {region, scope} pairs, numbered as they are first met.
class Leaves {
  public:
    explicit Leaves(size_t regions) : ids_(regions * kScopes, kNone) {}

    // The pair's number; when the table is full, the pair with scope `fallback` (24 for a
    // whole /24, 32 for an address), which is reserved for every region up front.
    uint16_t id(uint16_t region, uint8_t scope, uint8_t fallback, size_t& widened) {
        uint16_t& slot = ids_[size_t{region} * kScopes + scope];
        if (slot == kNone) {
            if (leaves_.size() >= kMaxLeaves) {
                ++widened;
                return ids_[size_t{region} * kScopes + fallback];
            }
            slot = static_cast<uint16_t>(leaves_.size());
            leaves_.push_back({region, scope});
        }
        return slot;
    }
    // Reserves the widened pairs of every region; false when even they do not fit.
    bool reserve_fallbacks(size_t regions) {
        if (2 * regions > kMaxLeaves) {
            return false;
        }
        size_t unused = 0;
        for (size_t r = 0; r < regions; ++r) {
            (void)id(static_cast<uint16_t>(r), 24, 24, unused);
            (void)id(static_cast<uint16_t>(r), 32, 32, unused);
        }
        return true;
    }
    std::vector<GeoMatch> take() { return std::move(leaves_); }

  private:
    static constexpr uint16_t kNone = 0xFFFF;
    std::vector<uint16_t> ids_;
    std::vector<GeoMatch> leaves_;
};

}  // namespace

namespace {

// The direct table in an anonymous mapping of its own, its start rounded up to a huge-page
// boundary and advised to transparent huge pages before any page is touched, so the kernel
// can back all of it with 2 MiB pages (an aligned_alloc block got 20 of its 32 MiB).
void* map_table(size_t bytes) {
    const size_t len = bytes + kHugePage;
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return nullptr;
    }
    const auto start = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) {
        ::munmap(p, aligned - start);
    }
    const uintptr_t end = start + len, used_end = aligned + bytes;
    if (end > used_end) {
        ::munmap(reinterpret_cast<void*>(used_end), end - used_end);
    }
    (void)::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);  // advice only
    return reinterpret_cast<void*>(aligned);
}

void unmap_table(void* p, size_t bytes) {
    ::munmap(p, bytes);
}

}  // namespace

const TableMemory& anonymous_table_memory() noexcept {
    static constexpr TableMemory kAnonymous{map_table, unmap_table, "transparent huge pages"};
    return kAnonymous;
}

void GeoIndex::FreeDeleter::operator()(uint16_t* p) const noexcept {
    release(p, kTbl24Entries * sizeof(uint16_t));
}

std::shared_ptr<const GeoIndex> GeoIndex::build(const ImageView& view, std::string* why,
                                                const TableMemory& memory) {
    const auto start = view.geo4_starts();
    const auto region = view.geo4_regions();
    const size_t regions = view.regions().size();
    std::shared_ptr<GeoIndex> g(new GeoIndex());
    Leaves leaves(regions);
    if (!leaves.reserve_fallbacks(regions)) {
        base::set_why(why, std::to_string(regions) + " regions: too many for the geo index");
        return nullptr;
    }

    // The direct table: 32 MiB in huge pages where there are any, since every lookup lands
    // on a random line of it and 4 KiB pages would miss the TLB most times.
    const size_t bytes24 = kTbl24Entries * sizeof(uint16_t);
    auto* raw = static_cast<uint16_t*>(memory.allocate(bytes24));
    if (raw == nullptr) {
        base::set_why(why, std::string("out of memory for the geo index (") + memory.name + ")");
        return nullptr;
    }
    g->tbl24_ = std::unique_ptr<uint16_t[], FreeDeleter>(raw, FreeDeleter{memory.release});

    // A /24 is split when a range starts inside it (not at its first address). Counted
    // first, so the blocks are allocated once, at their size: no doubling, no copy.
    const size_t n = start.size();
    size_t splits = 0;
    for (size_t r = 1, last = SIZE_MAX; r < n; ++r) {
        if ((start[r] & 0xFF) != 0 && start[r] >> 8 != last) {
            last = start[r] >> 8;
            ++splits;
        }
    }
    if (splits > kMaxBlocks) {
        base::set_why(why, "the IPv4 ranges split more than " + std::to_string(kMaxBlocks) +
                               " /24s: too many for the geo index");
        return nullptr;
    }
    g->tbl8_.reserve(splits << 8);

    // One pass over the /24s, with `i` the range holding the block's first address.
    size_t i = 0;
    for (size_t b = 0; b < kTbl24Entries; ++b) {
        const auto first = static_cast<uint32_t>(b << 8);
        const uint32_t last = first | 0xFF;
        while (i + 1 < n && start[i + 1] <= first) {
            ++i;
        }
        const bool split = i + 1 < n && start[i + 1] <= last;
        if (!split) {
            const uint32_t hi = i + 1 < n ? start[i + 1] - 1 : UINT32_MAX;
            raw[b] = leaves.id(region[i], geo_scope<uint32_t>(first, start[i], hi), 24,
                               g->stats_.widened);
            continue;
        }
        const size_t block = g->tbl8_.size() >> 8;
        raw[b] = static_cast<uint16_t>(kBlockFlag | block);
        size_t j = i;
        for (uint32_t a = first;; ++a) {
            while (j + 1 < n && start[j + 1] <= a) {
                ++j;
            }
            const uint32_t hi = j + 1 < n ? start[j + 1] - 1 : UINT32_MAX;
            g->tbl8_.push_back(
                leaves.id(region[j], geo_scope<uint32_t>(a, start[j], hi), 32, g->stats_.widened));
            if (a == last) {
                break;
            }
        }
        ++g->stats_.split_blocks;
    }
    g->leaves_ = leaves.take();

    // IPv6: the ranges of each top-16-bit bucket.
    g->start6_ = view.geo6_starts();
    g->region6_ = view.geo6_regions();
    g->index6_.resize((size_t{1} << 16) + 1);
    size_t k6 = 0;
    for (uint32_t k = 0; k <= (1u << 16); ++k) {
        // Bucket k holds keys up to k << 112; the sentinel bucket 2^16 holds every key.
        const u128 bound = k == (1u << 16) ? ~u128{0} : static_cast<u128>(k) << 112;
        while (k6 + 1 < g->start6_.size() && geo6_key(g->start6_[k6 + 1]) <= bound) {
            ++k6;
        }
        g->index6_[k] = static_cast<uint32_t>(k6);
    }

    g->stats_.leaves = g->leaves_.size();
    g->stats_.bytes = bytes24 + g->tbl8_.size() * sizeof(uint16_t) +
                      g->leaves_.size() * sizeof(GeoMatch) + g->index6_.size() * sizeof(uint32_t);
    return g;
}

bool attach_geo_index(ImageView& view, std::string* why, const TableMemory& memory) {
    auto index = GeoIndex::build(view, why, memory);
    if (!index) {
        return false;
    }
    view.use_geo_index(std::move(index));
    return true;
}

GeoMatch GeoIndex::lookup6(uint64_t hi, uint64_t lo) const noexcept {
    const auto k = static_cast<uint32_t>(hi >> 48);
    return geo_match6(start6_, region6_, index6_[k], size_t{index6_[k + 1]} + 1, hi, lo);
}

}  // namespace pooledge::image
