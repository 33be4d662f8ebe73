// The host clock as the NTP answers describe it, and where that description comes from.
//
// A publisher (the dataplane's clock thread) reads the kernel's clock discipline state a few
// times a second (adjtimex: sync status, leap, error estimates), or a configured override in
// its place, and derives a ClockState with the configured policy (stratum, reference id, the
// error bound, what to do when unsynchronised). The workers read the published ClockState per
// burst and copy its fields into answers; they never read the kernel's state themselves.
#pragma once

#include <cstdint>
#include <ctime>

namespace pooledge::ntp {

// NTP's 64-bit timestamp: seconds since 1900-01-01 in the high half, a binary fraction in
// the low half. Era 0 ends in 2036; the seconds wrap mod 2^32 then, as RFC 5905 intends.
using Timestamp = uint64_t;
[[nodiscard]] Timestamp to_ntp(const timespec& t) noexcept;
[[nodiscard]] timespec from_ntp(Timestamp t, int64_t near_unix_seconds) noexcept;

// NTP's 32-bit short format (16.16 seconds), saturating.
[[nodiscard]] uint32_t to_ntp_short(double seconds) noexcept;

enum class Leap : uint8_t { None = 0, Insert = 1, Delete = 2, Unsynchronised = 3 };
[[nodiscard]] const char* to_string(Leap l) noexcept;

// What the answers carry.
struct ClockState {
    bool synchronised = false;
    bool silent = false;  // unsynchronised and configured to stay silent: no answers
    Leap leap = Leap::Unsynchronised;
    uint8_t stratum = 0;
    int8_t precision = -20;   // log2 seconds
    uint32_t root_delay = 0;  // 16.16 seconds
    uint32_t root_dispersion = 0;
    uint32_t reference_id = 0;  // network order as the 4 bytes appear on the wire
    Timestamp reference_time = 0;
    // For metrics and /health, not the wire.
    double max_error = 16.0;  // seconds
    double est_error = 16.0;
};

// The kernel's view (adjtimex(2) with no modes set), or the override standing in for it.
struct KernelClock {
    int state = 5;            // adjtimex's return: TIME_OK .. TIME_ERROR (5)
    int status = 0x40;        // timex.status: STA_UNSYNC (0x40), STA_INS, STA_DEL, ...
    double max_error = 16.0;  // seconds (timex.maxerror is microseconds)
    double est_error = 16.0;
};

// How a KernelClock becomes a ClockState (configuration, dataplane/README.md "NTP").
struct ClockPolicy {
    uint8_t stratum = 3;           // answered when synchronised
    uint32_t reference_id = 0;     // answered when synchronised (wire order)
    double max_error_bound = 1.5;  // seconds; above it the clock counts as unsynchronised
    bool silent_when_unsynchronised = false;
    int8_t precision = -20;
};

// Synchronised = the kernel says so (not TIME_ERROR, no STA_UNSYNC) and its maximum error
// is within the bound. Then: the policy's stratum and reference id, the leap announced by
// the kernel, root dispersion = the kernel's maximum error and root delay 0 (chronyd and ntpd
// put root delay / 2 + root dispersion into maxerror, and the kernel grows it by 500 ppm
// between their updates, so the client's root distance comes out right), reference time =
// `now`, the last moment the clock was seen synchronised. Otherwise leap 3, stratum 0,
// reference id and time 0, root dispersion = the maximum error: the honest "do not use me".
[[nodiscard]] ClockState derive(const KernelClock& kernel, const ClockPolicy& policy,
                                const timespec& now) noexcept;

// The precision of CLOCK_REALTIME as read here (log2 seconds, rounded up): the smallest
// step between successive readings, as chrony measures it at start.
[[nodiscard]] int8_t measure_precision() noexcept;

}  // namespace pooledge::ntp
