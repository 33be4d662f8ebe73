// A stop flag that sleeping threads can wait on, so SIGTERM ends a retry back-off or an
// ingest interval at once instead of after it; poke() wakes the main loop early (SIGHUP).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace pooledge::base {

class Stopper {
  public:
    void stop() {
        {
            std::lock_guard lock(mu_);
            stopped_ = true;
        }
        cv_.notify_all();
    }
    void poke() {
        {
            std::lock_guard lock(mu_);
            poked_ = true;
        }
        cv_.notify_all();
    }
    // Whether poke() was called since the last take_poke().
    bool take_poke() {
        std::lock_guard lock(mu_);
        return std::exchange(poked_, false);
    }
    [[nodiscard]] bool stopped() const {
        std::lock_guard lock(mu_);
        return stopped_;
    }
    // Sleeps up to `d`; true when stopped meanwhile.
    template <typename Rep, typename Period>
    bool wait_for(std::chrono::duration<Rep, Period> d) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, d, [this] { return stopped_; });
    }
    // Sleeps up to `d`, or until stopped or poked.
    template <typename Rep, typename Period>
    void wait_or_poke(std::chrono::duration<Rep, Period> d) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, d, [this] { return stopped_ || poked_; });
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopped_ = false;
    bool poked_ = false;
};

}  // namespace pooledge::base
