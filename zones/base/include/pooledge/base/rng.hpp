// A small, fast, seedable PRNG for the answer engine: one per worker thread, never shared.
//
// wyrand (Wang Yi): one add and one 64x64->128 multiply per number, passes PractRand and
// BigCrush, and a single 64-bit state, which keeps per-lcore state to one word. Not for
// secrets: it picks which servers a client sees, nothing an attacker gains by predicting.
#pragma once

#include <cstdint>

namespace pooledge::base {

class Rng {
  public:
    explicit constexpr Rng(uint64_t seed) noexcept : state_(seed) {}

    constexpr uint64_t next() noexcept {
        state_ += 0xA0761D6478BD642Full;
        const auto t = static_cast<unsigned __int128>(state_) * (state_ ^ 0xE7037ED1A0B428DBull);
        return static_cast<uint64_t>(t >> 64) ^ static_cast<uint64_t>(t);
    }

    // Uniform in [0, bound), bound > 0, without modulo bias (Lemire's multiply-and-reject).
    constexpr uint64_t below(uint64_t bound) noexcept {
        auto m = static_cast<unsigned __int128>(next()) * bound;
        auto low = static_cast<uint64_t>(m);
        if (low < bound) {
            const uint64_t threshold = (0 - bound) % bound;
            while (low < threshold) {
                m = static_cast<unsigned __int128>(next()) * bound;
                low = static_cast<uint64_t>(m);
            }
        }
        return static_cast<uint64_t>(m >> 64);
    }

  private:
    uint64_t state_;
};

}  // namespace pooledge::base
