#include "pooledge/control/pusher.hpp"

#include <chrono>

#include "pooledge/base/log.hpp"

namespace pooledge::control {

struct Pusher::Target {
    image::push::Endpoint endpoint;
    std::string name;
    std::thread thread;
};

Pusher::Pusher(const PushConfig& config, ControlMetrics& metrics)
    : config_(config), metrics_(metrics) {
    for (const auto& e : config_.targets) {
        auto t = std::make_unique<Target>();
        t->endpoint = e;
        t->name = e.to_string();
        targets_.push_back(std::move(t));
    }
    for (auto& t : targets_) {
        t->thread = std::thread([this, &target = *t] { run(target); });
    }
}

Pusher::~Pusher() {
    stop();
}

void Pusher::stop() {
    cancel_.store(true);  // a push in progress gives up within about 200 ms
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : targets_) {
        if (t->thread.joinable()) {
            t->thread.join();
        }
    }
}

void Pusher::publish(ImagePtr image, uint64_t serial) {
    {
        std::lock_guard lock(mu_);
        image_ = std::move(image);
        serial_ = serial;
        ++generation_;
    }
    cv_.notify_all();
}

bool Pusher::still_serving(const Target& t, uint64_t serial) {
    image::push::ClientOptions options;
    options.timeout = std::chrono::duration_cast<image::push::Timeout>(config_.timeout);
    options.cancel = &cancel_;
    std::string why;
    const auto reply = image::push::query_status(t.endpoint, options, &why);
    if (cancel_.load()) {
        return true;  // stopping: nothing to push
    }
    if (reply && reply->serial == serial) {
        return true;
    }
    base::log::warn("push " + t.name + ": target " +
                    (reply ? "serves serial " + std::to_string(reply->serial)
                           : "does not answer (" + why + ")") +
                    ", not the confirmed " + std::to_string(serial) + ": pushing it again");
    return false;
}

void Pusher::run(Target& t) {
    using Clock = std::chrono::steady_clock;
    uint64_t done_generation = 0;    // the generation this target has confirmed
    uint64_t failed_generation = 0;  // the generation it last failed; retried after back-off
    auto backoff = config_.retry_min;
    Clock::time_point retry_at = Clock::time_point::min();
    Clock::time_point recheck_at = Clock::time_point::max();
    for (;;) {
        ImagePtr image;
        uint64_t serial = 0;
        uint64_t generation = 0;
        {
            std::unique_lock lock(mu_);
            // Wake to stop, for a new image (at once, even during a back-off: it may be what
            // the target was missing), or for a due retry.
            const auto ready = [&] {
                return stopping_ ||
                       (image_ != nullptr && generation_ != done_generation &&
                        (generation_ != failed_generation || Clock::now() >= retry_at));
            };
            const auto wake =
                std::min(retry_at > Clock::now() ? retry_at : Clock::time_point::max(),
                         done_generation == generation_ ? recheck_at : Clock::time_point::max());
            if (wake != Clock::time_point::max()) {
                cv_.wait_until(lock, wake, ready);
            } else {
                cv_.wait(lock, ready);
            }
            if (stopping_) {
                return;
            }
            if (!ready()) {
                if (done_generation == generation_ && Clock::now() >= recheck_at) {
                    const uint64_t want = serial_;
                    lock.unlock();
                    recheck_at = Clock::now() + config_.recheck;
                    if (!still_serving(t, want)) {
                        done_generation = 0;  // pushed again on the next turn
                    }
                }
                continue;
            }
            image = image_;
            serial = serial_;
            generation = generation_;
        }
        std::string why;
        image::push::ClientOptions options;
        options.timeout = std::chrono::duration_cast<image::push::Timeout>(config_.timeout);
        options.deadline = config_.deadline;
        options.cancel = &cancel_;
        const auto reply = image::push::send_image(t.endpoint, *image, options, &why);
        if (cancel_.load()) {
            return;
        }
        const std::string result = reply ? image::push::to_string(reply->status) : "error";
        metrics_.push_result(t.name, result);
        using image::push::Status;
        // Only Accepted and Current confirm: a Stale reply means the target refused our image
        // (it serves a newer serial, or other contents at ours), so it is not in sync with us
        // whatever serial it reports.
        const bool confirmed =
            reply && (reply->status == Status::Accepted || reply->status == Status::Current);
        if (reply && reply->status == Status::Stale) {
            base::log::warn("push " + t.name + ": target refuses serial " + std::to_string(serial) +
                            " as stale, it serves " + std::to_string(reply->serial) +
                            " (another control plane?)");
        }
        if (confirmed) {
            base::log::info("push " + t.name + ": serial " + std::to_string(serial) + " " + result);
            metrics_.push_acked(
                t.name, reply->serial,
                std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                    .count());
            done_generation = generation;
            failed_generation = 0;
            backoff = config_.retry_min;
            retry_at = Clock::time_point::min();
            recheck_at = config_.recheck.count() > 0 ? Clock::now() + config_.recheck
                                                     : Clock::time_point::max();
            continue;
        }
        if (failed_generation != generation) {
            backoff = config_.retry_min;  // a new image starts a new back-off
        }
        base::log::warn("push " + t.name + ": serial " + std::to_string(serial) + " " + result +
                        ": " + (reply ? reply->reason : why) + "; retrying in " +
                        std::to_string(backoff.count()) + " s");
        failed_generation = generation;
        retry_at = Clock::now() + backoff;
        backoff = std::min(backoff * 2, config_.retry_max);
    }
}

}  // namespace pooledge::control
