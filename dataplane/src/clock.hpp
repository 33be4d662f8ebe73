// The NTP clock state's publisher: a thread that reads the kernel's clock discipline state
// (adjtimex, no modes: it only reads) four times a second, or the configured override in its
// place, derives what NTP answers carry (zones/ntp/clock_state.hpp) and publishes it to the
// workers through a sequence counter (seq_slot.hpp, ClockSlot). The fast path never asks the
// kernel.
#pragma once

#include <mutex>
#include <string>
#include <thread>

#include "pooledge/base/stopper.hpp"
#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/worker.hpp"

namespace pooledge::dataplane {

class ClockPublisher {
  public:
    ClockPublisher(const NtpConfig& config, ClockSlot& slot);
    ~ClockPublisher();
    ClockPublisher(const ClockPublisher&) = delete;
    ClockPublisher& operator=(const ClockPublisher&) = delete;

    // Publishes the first state at once (so the workers start with one), then starts the
    // thread.
    void start();
    void stop();

    // The last state published, for /metrics and /health.
    [[nodiscard]] ntp::ClockState latest() const;
    // "the kernel (adjtimex)" or "the configured override (ntp.clock_override)".
    [[nodiscard]] const char* source() const noexcept;

  private:
    void publish_once();

    const NtpConfig& config_;
    ntp::ClockPolicy policy_;  // the config's, with the precision measured here
    ClockSlot& slot_;
    base::Stopper stopper_;
    std::thread thread_;
    mutable std::mutex mu_;
    ntp::ClockState latest_;
    bool logged_ = false;
    bool was_synchronised_ = false;
};

}  // namespace pooledge::dataplane
