// Pushes the current image to every configured dataplane, one thread per target, so a slow
// or dead node never holds up the others. A target that fails is retried with exponential
// back-off (push.retry_min .. push.retry_max) until it confirms the current image; a newer
// image replaces the pending one at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pooledge/control/config.hpp"
#include "pooledge/control/metrics.hpp"

namespace pooledge::control {

using ImagePtr = std::shared_ptr<const std::vector<uint8_t>>;

class Pusher {
  public:
    Pusher(const PushConfig& config, ControlMetrics& metrics);
    ~Pusher();  // stops and joins the target threads
    Pusher(const Pusher&) = delete;
    Pusher& operator=(const Pusher&) = delete;

    void publish(ImagePtr image, uint64_t serial);

    // Cancels the pushes in progress (each gives up within about 200 ms) and joins the
    // target threads; publish() does nothing afterwards. The destructor calls it.
    void stop();

  private:
    struct Target;
    void run(Target& t);
    // Asks a target that confirmed `serial` whether it still serves it.
    bool still_serving(const Target& t, uint64_t serial);

    PushConfig config_;
    ControlMetrics& metrics_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<bool> cancel_{false};  // read by pushes in progress, without the lock
    ImagePtr image_;
    uint64_t serial_ = 0;
    uint64_t generation_ = 0;
    std::vector<std::unique_ptr<Target>> targets_;
};

}  // namespace pooledge::control
