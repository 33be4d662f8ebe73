#include "pooledge/ntp/clock_state.hpp"

#include <sys/timex.h>

#include <algorithm>
#include <cmath>

namespace pooledge::ntp {
namespace {

// Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01 (Unix's).
constexpr int64_t kNtpToUnix = 2208988800;

}  // namespace

Timestamp to_ntp(const timespec& t) noexcept {
    const auto sec = static_cast<uint32_t>(static_cast<int64_t>(t.tv_sec) + kNtpToUnix);
    // nsec * 2^32 / 1e9, exact to the nanosecond, with no 128-bit arithmetic.
    const auto frac = static_cast<uint32_t>((static_cast<uint64_t>(t.tv_nsec) << 32) / 1000000000u);
    return static_cast<uint64_t>(sec) << 32 | frac;
}

timespec from_ntp(Timestamp t, int64_t near_unix_seconds) noexcept {
    // The era is the one that puts the time nearest `near_unix_seconds`.
    const auto low = static_cast<int64_t>(t >> 32);
    const int64_t near_ntp = near_unix_seconds + kNtpToUnix;
    int64_t sec = (near_ntp & ~int64_t{0xFFFFFFFF}) + low;
    if (sec - near_ntp > int64_t{1} << 31) {
        sec -= int64_t{1} << 32;
    } else if (near_ntp - sec > int64_t{1} << 31) {
        sec += int64_t{1} << 32;
    }
    timespec out{};
    out.tv_sec = static_cast<time_t>(sec - kNtpToUnix);
    out.tv_nsec = static_cast<long>(((t & 0xFFFFFFFFu) * 1000000000u + (uint64_t{1} << 31)) >> 32);
    if (out.tv_nsec >= 1000000000) {
        out.tv_nsec -= 1000000000;
        ++out.tv_sec;
    }
    return out;
}

uint32_t to_ntp_short(double seconds) noexcept {
    if (!(seconds > 0)) {
        return 0;
    }
    const double v = std::ceil(seconds * 65536.0);
    return v >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(v);
}

const char* to_string(Leap l) noexcept {
    switch (l) {
        case Leap::None:
            return "none";
        case Leap::Insert:
            return "insert";
        case Leap::Delete:
            return "delete";
        case Leap::Unsynchronised:
            return "unsynchronised";
    }
    return "unknown";
}

ClockState derive(const KernelClock& k, const ClockPolicy& policy, const timespec& now) noexcept {
    ClockState s;
    s.precision = policy.precision;
    s.max_error = k.max_error;
    s.est_error = k.est_error;
    s.root_dispersion = to_ntp_short(k.max_error);
    s.synchronised = k.state != TIME_ERROR && (k.status & STA_UNSYNC) == 0 &&
                     k.max_error <= policy.max_error_bound;
    if (!s.synchronised) {
        s.leap = Leap::Unsynchronised;
        s.silent = policy.silent_when_unsynchronised;
        return s;  // stratum 0, reference id and time 0
    }
    if (k.state == TIME_INS || k.state == TIME_OOP || (k.status & STA_INS) != 0) {
        s.leap = Leap::Insert;
    } else if (k.state == TIME_DEL || (k.status & STA_DEL) != 0) {
        s.leap = Leap::Delete;
    } else {
        s.leap = Leap::None;
    }
    s.stratum = policy.stratum;
    s.reference_id = policy.reference_id;
    s.reference_time = to_ntp(now);
    return s;
}

int8_t measure_precision() noexcept {
    // The smallest non-zero step over successive reads; a coarse clock shows its tick, a fine
    // one the cost of a read (both bound how exact a timestamp can be).
    int64_t best = 1000000000;
    timespec prev{};
    clock_gettime(CLOCK_REALTIME, &prev);
    for (int i = 0; i < 1000; ++i) {
        timespec t{};
        clock_gettime(CLOCK_REALTIME, &t);
        const int64_t d = (static_cast<int64_t>(t.tv_sec) - prev.tv_sec) * 1000000000 +
                          (t.tv_nsec - prev.tv_nsec);
        if (d > 0) {
            best = std::min(best, d);
        }
        prev = t;
    }
    const double p = std::ceil(std::log2(static_cast<double>(best) * 1e-9));
    return static_cast<int8_t>(std::clamp(p, -30.0, 0.0));
}

}  // namespace pooledge::ntp
