// A small value that one writer republishes a few times a second and many readers copy:
// the NTP clock state (worker.hpp, ClockSlot). A sequence counter guards it (a seqlock, as
// the kernel's vDSO time data is published): the writer makes the count odd, stores the
// words, makes it even again; a reader copies the words between two equal even counts.
//
// Why not RcuSlot: its writer waits for a grace period after every publish, and a QSBR reader
// that finds the writer asleep in that wait wakes it with a futex call from its quiescent
// state. Four publishes a second would put four system calls a second on every worker. Here
// the writer never waits and a reader never loops: a reader that catches a write under way
// keeps the copy it has and tries again on its next pass.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace pooledge::dataplane {

template <typename T>
class SeqSlot {
    static_assert(std::is_trivially_copyable_v<T>, "a SeqSlot value is copied word by word");

  public:
    // Writer side: one thread.
    void publish(const T& value) noexcept {
        uint64_t w[kWords] = {};
        std::memcpy(w, &value, sizeof(T));
        const uint64_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        for (unsigned i = 0; i < kWords; ++i) {
            words_[i].store(w[i], std::memory_order_relaxed);
        }
        seq_.store(s + 2, std::memory_order_release);
    }

    // Reader side, wait-free. `seen` is the reader's own: 0 before its first copy, then the
    // count its `copy` was taken at. Copies a newer complete value into `copy` if there is
    // one; returns whether `copy` holds a value (false until the first publish).
    bool refresh(T& copy, uint64_t& seen) const noexcept {
        const uint64_t s = seq_.load(std::memory_order_acquire);
        if (s == seen || (s & 1U) != 0) {
            return seen != 0;  // nothing new, or a write under way: keep the copy
        }
        uint64_t w[kWords];
        for (unsigned i = 0; i < kWords; ++i) {
            w[i] = words_[i].load(std::memory_order_relaxed);
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (seq_.load(std::memory_order_relaxed) != s) {
            return seen != 0;  // overwritten while we copied
        }
        std::memcpy(&copy, w, sizeof(T));
        seen = s;
        return true;
    }

  private:
    static constexpr unsigned kWords = (sizeof(T) + 7) / 8;

    std::atomic<uint64_t> seq_{0};
    std::atomic<uint64_t> words_[kWords] = {};
};

}  // namespace pooledge::dataplane
