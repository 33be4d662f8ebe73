#include "pooledge/ntp/packet.hpp"

#include <algorithm>
#include <cstring>

namespace pooledge::ntp {
namespace {

uint16_t get16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

void put32(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

void put64(uint8_t* p, uint64_t v) noexcept {
    put32(p, static_cast<uint32_t>(v >> 32));
    put32(p + 4, static_cast<uint32_t>(v));
}

Request drop(const Request& r, DropReason why) noexcept {
    Request out = r;
    out.verdict = Verdict::Drop;
    out.reason = why;
    return out;
}

// RFC 7822, section 7.5: what follows the header is a run of extension fields (type,
// length >= 16 and a multiple of 4, in bounds), then nothing or a MAC: 20 or 24 bytes (key id
// and MD5 or SHA-1 digest). A remainder of exactly 20 or 24 bytes is read as the MAC (RFC 7822
// makes a last field without MAC at least 28 bytes so that it cannot be mistaken for one);
// a shorter last field, which NTS (RFC 8915) allows, is still read as a field.
DropReason check_trailer(std::span<const uint8_t> p) noexcept {
    size_t off = kHeaderSize;
    for (;;) {
        const size_t rest = p.size() - off;
        if (rest == 0) {
            return DropReason::None;
        }
        if (rest == 20 || rest == 24) {
            return DropReason::Authenticated;
        }
        if (rest < 16) {
            return DropReason::BadExtension;
        }
        const size_t len = get16(p.data() + off + 2);
        if (len < 16 || len % 4 != 0 || len > rest) {
            return DropReason::BadExtension;
        }
        off += len;
    }
}

}  // namespace

const char* to_string(DropReason r) noexcept {
    switch (r) {
        case DropReason::None:
            return "none";
        case DropReason::BadLength:
            return "bad_length";
        case DropReason::BadVersion:
            return "bad_version";
        case DropReason::Symmetric:
            return "symmetric";
        case DropReason::Broadcast:
            return "broadcast";
        case DropReason::Control:
            return "control";
        case DropReason::Private:
            return "private";
        case DropReason::Reserved:
            return "reserved_mode";
        case DropReason::Authenticated:
            return "authenticated";
        case DropReason::BadExtension:
            return "bad_extension";
        case DropReason::Unsynchronised:
            return "unsynchronised";
        case DropReason::Count:
            break;
    }
    return "unknown";
}

Request classify(std::span<const uint8_t> p, uint16_t source_port) noexcept {
    Request r;
    if (p.empty()) {
        return drop(r, DropReason::BadLength);
    }
    r.version = static_cast<uint8_t>((p[0] >> 3) & 7);
    r.mode = static_cast<Mode>(p[0] & 7);
    // The modes we never answer are told apart first, whatever their length or version, so
    // the counters name what was sent (ntpq's READVAR is 12 bytes, not an NTP header).
    switch (r.mode) {
        case Mode::SymmetricActive:
        case Mode::SymmetricPassive:
            return drop(r, DropReason::Symmetric);
        case Mode::Broadcast:
            return drop(r, DropReason::Broadcast);
        case Mode::Control:
            return drop(r, DropReason::Control);
        case Mode::Private:
            return drop(r, DropReason::Private);
        case Mode::Reserved:
        case Mode::Client:
        case Mode::Server:
            break;
    }
    if (p.size() < kHeaderSize) {
        return drop(r, DropReason::BadLength);
    }
    if (r.mode == Mode::Server) {
        r.verdict = Verdict::Kernel;  // a reply to the host's own client: not ours to judge
        return r;
    }
    if (p.size() % 4 != 0) {
        return drop(r, DropReason::BadLength);
    }
    if (r.version < 1 || r.version > 4) {
        return drop(r, DropReason::BadVersion);
    }
    // NTPv1 had no mode field: a v1 request from a client port is a client's.
    if (r.mode == Mode::Reserved && (r.version != 1 || source_port == kPort)) {
        return drop(r, DropReason::Reserved);
    }
    if (const DropReason why = check_trailer(p); why != DropReason::None) {
        return drop(r, why);
    }
    r.verdict = Verdict::Answer;
    return r;
}

size_t write_answer(std::span<uint8_t> p, const Request& request, const ClockState& clock,
                    Timestamp receive) noexcept {
    if (clock.silent) {
        return 0;
    }
    uint8_t* a = p.data();
    // The client's transmit timestamp becomes our origin timestamp: read it before the
    // header is overwritten (they overlap only in place, never as bytes 24..31).
    uint8_t origin[8];
    std::memcpy(origin, a + 40, 8);
    a[0] = static_cast<uint8_t>(static_cast<uint8_t>(clock.leap) << 6 | request.version << 3 |
                                static_cast<uint8_t>(Mode::Server));
    a[1] = clock.stratum;
    // a[2], the poll interval, is echoed as the client sent it.
    a[3] = static_cast<uint8_t>(clock.precision);
    put32(a + 4, clock.root_delay);
    put32(a + 8, clock.root_dispersion);
    std::memcpy(a + 12, &clock.reference_id, 4);
    put64(a + 16, clock.reference_time);
    std::memcpy(a + 24, origin, 8);
    put64(a + 32, receive);
    std::memset(a + 40, 0, 8);
    return kHeaderSize;
}

void make_kod_rate(std::span<uint8_t> answer, int8_t min_poll) noexcept {
    uint8_t* a = answer.data();
    a[0] = static_cast<uint8_t>(static_cast<uint8_t>(Leap::Unsynchronised) << 6 | (a[0] & 0x3F));
    a[1] = 0;
    a[2] = static_cast<uint8_t>(std::max(static_cast<int8_t>(a[2]), min_poll));
    put32(a + 4, 0);
    put32(a + 8, 0);
    std::memcpy(a + 12, "RATE", 4);
    put64(a + 16, 0);
}

void stamp_transmit(std::span<uint8_t> answer, Timestamp transmit) noexcept {
    put64(answer.data() + 40, transmit);
}

}  // namespace pooledge::ntp
