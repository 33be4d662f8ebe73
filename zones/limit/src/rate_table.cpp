#include "pooledge/limit/rate_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>

#include <sys/mman.h>

namespace pooledge::limit {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

RateTable::Limit RateTable::limit(double per_second, double burst) noexcept {
    const double unit = static_cast<double>(uint64_t{1} << kUnitShift) * 1e-9;  // seconds
    Limit l;
    // Rounded to the nearest unit: at 100k a second truncation made the rate 8% high.
    l.interval =
        std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(1.0 / (per_second * unit))));
    l.tolerance =
        static_cast<uint64_t>((std::max(burst, 1.0) - 1.0) * static_cast<double>(l.interval));
    return l;
}

RateTable::RateTable(size_t entries, uint64_t epoch_ns) : epoch_ns_(epoch_ns) {
    size_t buckets = 1;
    while (buckets * kWays < entries) {
        buckets <<= 1;
    }
    // Lookups land on random lines of a table of megabytes: with 4 KiB pages nearly every
    // one is also a TLB miss (measured: 43 ns a lookup, 2 MiB pages: see perf/README.md).
    // A table of a huge page or more is allocated on huge-page boundaries and offered to
    // transparent huge pages (the kernel's "madvise" mode, Debian's default).
    const size_t bytes = buckets * sizeof(Bucket);
    const size_t align = bytes >= kHugePage ? kHugePage : alignof(Bucket);
    buckets_ = static_cast<Bucket*>(std::aligned_alloc(align, (bytes + align - 1) / align * align));
    if (buckets_ == nullptr) {
        throw std::bad_alloc();
    }
    if (align == kHugePage) {
        (void)::madvise(buckets_, bytes, MADV_HUGEPAGE);  // a hint: fine if refused
    }
    // Every line written now, at start: the workers never take a page fault on it.
    for (size_t i = 0; i < buckets; ++i) {
        new (&buckets_[i]) Bucket{};
    }
    mask_ = buckets - 1;
}

RateTable::~RateTable() {
    std::free(buckets_);
}

base::TokenBucket backstop_share(double per_second, unsigned workers) noexcept {
    // A share below one a second is one a second: 0 would be TokenBucket's "no limit".
    const double share = per_second / std::max(workers, 1U);
    if (per_second <= 0) {
        return base::TokenBucket(0, 1);
    }
    return base::TokenBucket(std::max<uint64_t>(1, static_cast<uint64_t>(share)),
                             std::max<uint64_t>(1, static_cast<uint64_t>(share / 10)));
}

}  // namespace pooledge::limit
