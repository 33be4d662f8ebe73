// libFuzzer target: the NTP request classifier and, for what it answers, the answer written
// in place, as the dataplane's NTP step does. Input: the client's UDP source port (2 bytes,
// big-endian), then the UDP payload.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pooledge/ntp/packet.hpp"

using namespace pooledge::ntp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const auto port = static_cast<uint16_t>(data[0] << 8 | data[1]);
    // A buffer of exactly the payload, so ASan sees any read or write past it.
    std::vector<uint8_t> p(data + 2, data + size);
    const Request r = classify(p, port);
    if (r.verdict != Verdict::Answer) {
        if (r.verdict == Verdict::Drop && r.reason == DropReason::None) {
            std::abort();  // every drop has a reason
        }
        return 0;
    }
    if (p.size() < kHeaderSize || r.version < 1 || r.version > 4) {
        std::abort();  // answered something that is not a v1-v4 request
    }
    ClockState clock;
    clock.synchronised = true;
    clock.leap = Leap::None;
    clock.stratum = 2;
    uint8_t origin[8];
    std::memcpy(origin, p.data() + 40, 8);
    const size_t n = write_answer(p, r, clock, 0x0102030405060708);
    stamp_transmit({p.data(), n}, 0x1112131415161718);
    if (n != kHeaderSize || n > size - 2 || (p[0] & 7) != 4 ||
        std::memcmp(p.data() + 24, origin, 8) != 0) {
        std::abort();  // an answer is 48 bytes, mode 4, its origin the request's transmit time
    }
    return 0;
}
