#include "clock.hpp"

#include <sys/timex.h>

#include <chrono>
#include <cstdio>

#include "pooledge/base/log.hpp"

namespace pooledge::dataplane {
namespace {

constexpr auto kInterval = std::chrono::milliseconds(250);

ntp::KernelClock read_kernel_clock() {
    timex tx{};  // modes 0: read only
    const int state = adjtimex(&tx);
    if (state < 0) {
        return ntp::KernelClock{};  // cannot tell: unsynchronised
    }
    return ntp::KernelClock{state, tx.status, static_cast<double>(tx.maxerror) * 1e-6,
                            static_cast<double>(tx.esterror) * 1e-6};
}

}  // namespace

ClockPublisher::ClockPublisher(const NtpConfig& config, ClockSlot& slot)
    : config_(config), policy_(config.policy), slot_(slot) {
    policy_.precision = ntp::measure_precision();
}

ClockPublisher::~ClockPublisher() {
    stop();
}

void ClockPublisher::start() {
    publish_once();
    base::log::info("NTP clock state from " + std::string(source()) + ", precision 2^" +
                    std::to_string(policy_.precision) + " s");
    thread_ = std::thread([this] {
        while (!stopper_.wait_for(kInterval)) {
            publish_once();
        }
    });
}

void ClockPublisher::stop() {
    stopper_.stop();
    if (thread_.joinable()) {
        thread_.join();
    }
}

ntp::ClockState ClockPublisher::latest() const {
    std::lock_guard lock(mu_);
    return latest_;
}

const char* ClockPublisher::source() const noexcept {
    return config_.clock_override ? "the configured override (ntp.clock_override)"
                                  : "the kernel (adjtimex)";
}

void ClockPublisher::publish_once() {
    const ntp::KernelClock k =
        config_.clock_override ? *config_.clock_override : read_kernel_clock();
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const ntp::ClockState s = ntp::derive(k, policy_, now);
    slot_.publish(s);
    {
        std::lock_guard lock(mu_);
        latest_ = s;
    }
    if (!logged_ || s.synchronised != was_synchronised_) {
        char err[64];
        std::snprintf(err, sizeof err, "%.6f", s.max_error);
        if (s.synchronised) {
            base::log::info(std::string("NTP: the clock is synchronised (maximum error ") + err +
                            " s): answering at stratum " + std::to_string(s.stratum));
        } else {
            base::log::warn(std::string("NTP: the clock is not synchronised (maximum error ") +
                            err +
                            " s): " + (s.silent ? "not answering" : "answering LI=3, stratum 0"));
        }
        logged_ = true;
        was_synchronised_ = s.synchronised;
    }
}

}  // namespace pooledge::dataplane
