// The NTP server's packet code (RFC 5905): what a datagram to port 123 is, and the mode 4
// answer written over it in place. No DPDK and no clock reads: the caller passes the
// published clock state (clock_state.hpp) and the timestamps it took, so every field of an
// answer is fixed by its inputs and unit-tested.
//
// What is answered, and why (chrony's server is the model):
//   - mode 3 (client), versions 1-4: a mode 4 answer, version and poll echoed;
//   - mode 0 with version 1 from a port other than 123: an NTPv1 client (v1 had no mode
//     field; chrony answers it the same way), answered as mode 3;
//   - mode 4 (server) goes to the kernel: a reply to the host's own NTP client on port 123;
//   - everything else is dropped and counted: versions 0 and 5-7, modes 1 and 2
//     (symmetric: we peer with nobody), 5 (broadcast), 6 (control: READVAR and friends) and
//     7 (private: monlist, the classic amplifier), malformed lengths and extension fields;
//   - a request with a MAC (symmetric-key authentication) is dropped: we hold no keys, the
//     client would discard an unauthenticated answer, and chrony drops it too;
//   - extension fields without a MAC (RFC 7822) are skipped, as RFC 7822 says for unknown
//     fields, and answered with a plain 48-byte header (an NTS client discards it; no
//     other field type asks for anything the server must echo).
// No answer is longer than its request: requests are at least 48 bytes, answers exactly 48.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pooledge/ntp/clock_state.hpp"

namespace pooledge::ntp {

inline constexpr size_t kHeaderSize = 48;
inline constexpr uint16_t kPort = 123;

enum class Mode : uint8_t {
    Reserved = 0,
    SymmetricActive = 1,
    SymmetricPassive = 2,
    Client = 3,
    Server = 4,
    Broadcast = 5,
    Control = 6,
    Private = 7,
};

enum class Verdict : uint8_t { Answer, Kernel, Drop };

// Why a request got no answer; every value is a metric label (ntp_drops_total{reason=...}).
enum class DropReason : uint8_t {
    None = 0,
    BadLength,       // under 48 bytes, or not a multiple of 4
    BadVersion,      // 0, 5, 6, 7
    Symmetric,       // modes 1 and 2
    Broadcast,       // mode 5
    Control,         // mode 6
    Private,         // mode 7
    Reserved,        // mode 0 that is not an NTPv1 client
    Authenticated,   // carries a MAC
    BadExtension,    // extension fields that do not parse
    Unsynchronised,  // the clock state says stay silent (clock_state.hpp)
    Count
};
[[nodiscard]] const char* to_string(DropReason r) noexcept;

struct Request {
    Verdict verdict = Verdict::Drop;
    DropReason reason = DropReason::None;
    uint8_t version = 0;  // 0-7 as received
    Mode mode = Mode::Reserved;
};

// `payload` is the UDP payload; `source_port` the client's UDP port.
[[nodiscard]] Request classify(std::span<const uint8_t> payload, uint16_t source_port) noexcept;

// Writes the answer's 48 bytes over the request in `payload` (at least 48 bytes long, and
// classified Answer): leap, version, mode 4, stratum, poll, precision, root delay and
// dispersion, reference id and time from `clock`, origin = the request's transmit
// timestamp, receive = `receive`. The transmit timestamp is left for stamp_transmit(), so
// the caller can take it as late as possible. Returns the answer's length (48), or 0 when
// `clock` says stay silent.
[[nodiscard]] size_t write_answer(std::span<uint8_t> payload, const Request& request,
                                  const ClockState& clock, Timestamp receive) noexcept;

// Turns an answer write_answer() wrote into a kiss-o'-death RATE (RFC 5905 7.4), as chrony
// sends it to a client over its rate limit: LI=3, stratum 0, reference id "RATE", poll at
// least `min_poll`, root delay, dispersion and reference time zero; version, mode 4, origin
// and receive timestamps stay, so the client can match it to its request.
void make_kod_rate(std::span<uint8_t> answer, int8_t min_poll) noexcept;

// The transmit timestamp of an answer write_answer() wrote.
void stamp_transmit(std::span<uint8_t> answer, Timestamp transmit) noexcept;

}  // namespace pooledge::ntp
