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

void Pusher::run(Target& t) {
    using Clock = std::chrono::steady_clock;
    uint64_t done_generation = 0;    // the generation this target has confirmed
    uint64_t failed_generation = 0;  // the generation it last failed; retried after back-off
    auto backoff = config_.retry_min;
    Clock::time_point retry_at = Clock::time_point::min();
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
            if (retry_at > Clock::now()) {
                cv_.wait_until(lock, retry_at, ready);
            } else {
                cv_.wait(lock, ready);
            }
            if (stopping_) {
                return;
            }
            if (!ready()) {
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
