// One immutable object that readers use while a writer replaces it, with RCU (liburcu QSBR):
// the serving zone image (image_slot.hpp). (The NTP clock state, republished four times a
// second, uses seq_slot.hpp instead: see there why.)
//
// Readers (workers, the TCP thread) take the pointer once per loop iteration with
// rcu_dereference() and announce a quiescent state between iterations; the one writer
// publishes a new object with rcu_assign_pointer(), waits for every reader to pass a
// quiescent state (synchronize_rcu) and only then frees the old one. Readers never lock,
// never wait, and never see a half-built or freed object.
#pragma once

#include <urcu-qsbr.h>

#include <chrono>
#include <memory>

namespace pooledge::dataplane {

template <typename T>
class RcuSlot {
  public:
    RcuSlot() = default;
    // Readers are stopped by now; nothing reads the pointer any more.
    ~RcuSlot() { delete current_; }
    RcuSlot(const RcuSlot&) = delete;
    RcuSlot& operator=(const RcuSlot&) = delete;

    // Reader side: a registered QSBR reader, between quiescent states. May be null.
    [[nodiscard]] const T* get() const noexcept { return rcu_dereference(current_); }

    // Writer side (one thread, not an RCU reader): publishes `next`, waits a grace period,
    // frees the previous object. Returns how long that took.
    std::chrono::nanoseconds publish(std::unique_ptr<T> next) {
        const auto t0 = std::chrono::steady_clock::now();
        T* old = current_;
        rcu_assign_pointer(current_, next.release());
        synchronize_rcu();
        delete old;
        return std::chrono::steady_clock::now() - t0;
    }

    // For the writer and metrics: the current object without RCU protection (only the
    // writer replaces it, so the writer may look at it freely).
    [[nodiscard]] const T* writer_view() const noexcept { return current_; }

  private:
    T* current_ = nullptr;
};

}  // namespace pooledge::dataplane
