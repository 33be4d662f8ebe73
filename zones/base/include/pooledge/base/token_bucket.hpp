// A token bucket: `rate` tokens a second, at most `burst` held. The caller passes the time,
// so the bucket costs no clock read of its own and tests drive it with a fixed clock.
//
// Integer arithmetic in token-nanoseconds (one token = 1e9 units, and each elapsed
// nanosecond adds `rate` units): exact at any rate, no drift from rounding, no floating
// point on the fast path.
#pragma once

#include <algorithm>
#include <cstdint>

namespace pooledge::base {

class TokenBucket {
  public:
    // rate 0: no limit (take() grants everything). The bucket starts full.
    TokenBucket(uint64_t rate, uint64_t burst) noexcept
        : rate_(rate), cap_(std::max<uint64_t>(burst, 1) * kUnit), credit_(cap_) {}

    // Grants up to `n` tokens at `now_ns` (a monotonic clock); returns how many.
    uint64_t take(uint64_t n, uint64_t now_ns) noexcept {
        if (rate_ == 0) {
            return n;
        }
        if (now_ns > last_ns_) {
            // Past the time that refills the bucket, it is full: this also keeps the product
            // below from overflowing after a long quiet spell.
            const uint64_t dt = now_ns - last_ns_;
            const uint64_t full_after = (cap_ - credit_) / rate_ + 1;
            credit_ = dt >= full_after ? cap_ : credit_ + dt * rate_;
            last_ns_ = now_ns;
        }
        const uint64_t granted = std::min(n, credit_ / kUnit);
        credit_ -= granted * kUnit;
        return granted;
    }

  private:
    static constexpr uint64_t kUnit = 1000000000;

    uint64_t rate_;
    uint64_t cap_;
    uint64_t credit_;
    uint64_t last_ns_ = 0;
};

}  // namespace pooledge::base
