#include "pooledge/ntp/packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace pooledge::ntp {
namespace {

std::vector<uint8_t> request(uint8_t version, uint8_t mode, size_t length = kHeaderSize) {
    std::vector<uint8_t> p(length, 0);
    if (length > 0) {
        p[0] = static_cast<uint8_t>(version << 3 | mode);
    }
    return p;
}

// An RFC 7822 extension field of `length` bytes.
void add_extension(std::vector<uint8_t>& p, uint16_t type, uint16_t length) {
    const size_t at = p.size();
    p.resize(at + length, 0xAB);
    p[at] = static_cast<uint8_t>(type >> 8);
    p[at + 1] = static_cast<uint8_t>(type);
    p[at + 2] = static_cast<uint8_t>(length >> 8);
    p[at + 3] = static_cast<uint8_t>(length);
}

uint32_t get32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}
uint64_t get64(const uint8_t* p) {
    return static_cast<uint64_t>(get32(p)) << 32 | get32(p + 4);
}

TEST(NtpClassify, ClientRequestsOfVersionsOneToFourAreAnswered) {
    for (uint8_t v = 1; v <= 4; ++v) {
        const auto r = classify(request(v, 3), 40000);
        EXPECT_EQ(r.verdict, Verdict::Answer) << int(v);
        EXPECT_EQ(r.version, v);
        EXPECT_EQ(r.mode, Mode::Client);
    }
}

TEST(NtpClassify, EveryOtherVersionIsDropped) {
    for (uint8_t v : {0, 5, 6, 7}) {
        const auto r = classify(request(v, 3), 40000);
        EXPECT_EQ(r.verdict, Verdict::Drop) << int(v);
        EXPECT_EQ(r.reason, DropReason::BadVersion) << int(v);
    }
}

TEST(NtpClassify, EachModeHasItsVerdict) {
    const std::array<std::pair<uint8_t, DropReason>, 5> drops = {{
        {1, DropReason::Symmetric},
        {2, DropReason::Symmetric},
        {5, DropReason::Broadcast},
        {6, DropReason::Control},
        {7, DropReason::Private},
    }};
    for (const auto& [mode, why] : drops) {
        const auto r = classify(request(4, mode), 40000);
        EXPECT_EQ(r.verdict, Verdict::Drop) << int(mode);
        EXPECT_EQ(r.reason, why) << int(mode);
        // Named by their mode whatever their length or version: ntpq's READVAR is 12 bytes.
        EXPECT_EQ(classify(request(2, mode, 12), 40000).reason, why) << int(mode);
        EXPECT_EQ(classify(request(0, mode, 49), 40000).reason, why) << int(mode);
    }
    // Replies to the host's own client are the kernel's, whatever their version.
    for (uint8_t v = 0; v < 8; ++v) {
        EXPECT_EQ(classify(request(v, 4), 123).verdict, Verdict::Kernel) << int(v);
    }
}

TEST(NtpClassify, ModeZeroIsAnsweredOnlyAsAnNtpV1ClientRequest) {
    EXPECT_EQ(classify(request(1, 0), 40000).verdict, Verdict::Answer);
    EXPECT_EQ(classify(request(1, 0), kPort).reason, DropReason::Reserved);
    EXPECT_EQ(classify(request(2, 0), 40000).reason, DropReason::Reserved);
    EXPECT_EQ(classify(request(4, 0), 40000).reason, DropReason::Reserved);
}

TEST(NtpClassify, LengthsMustBeAHeaderAndWholeWords) {
    EXPECT_EQ(classify(request(4, 3, 47), 40000).reason, DropReason::BadLength);
    EXPECT_EQ(classify(request(4, 3, 0), 40000).reason, DropReason::BadLength);
    EXPECT_EQ(classify(request(4, 3, 50), 40000).reason, DropReason::BadLength);
    EXPECT_EQ(classify(request(4, 4, 47), 40000).reason, DropReason::BadLength);
}

TEST(NtpClassify, ExtensionFieldsAreSkippedAndAMacIsDropped) {
    auto ext = request(4, 3);
    add_extension(ext, 0x0104, 36);  // an NTS unique-identifier-sized field
    EXPECT_EQ(classify(ext, 40000).verdict, Verdict::Answer);
    add_extension(ext, 0x0204, 16);
    EXPECT_EQ(classify(ext, 40000).verdict, Verdict::Answer);

    for (size_t mac : {20u, 24u}) {
        EXPECT_EQ(classify(request(4, 3, kHeaderSize + mac), 40000).reason,
                  DropReason::Authenticated)
            << mac;
        auto both = request(4, 3);
        add_extension(both, 0x0104, 16);
        both.resize(both.size() + mac);
        EXPECT_EQ(classify(both, 40000).reason, DropReason::Authenticated) << mac;
    }
}

TEST(NtpClassify, BrokenExtensionFieldsAreDropped) {
    EXPECT_EQ(classify(request(4, 3, kHeaderSize + 8), 40000).reason, DropReason::BadExtension);
    EXPECT_EQ(classify(request(4, 3, kHeaderSize + 4), 40000).reason, DropReason::BadExtension);
    auto shortfield = request(4, 3);
    add_extension(shortfield, 1, 28);
    shortfield[kHeaderSize + 3] = 12;  // under the 16-byte minimum
    EXPECT_EQ(classify(shortfield, 40000).reason, DropReason::BadExtension);
    auto oddfield = request(4, 3);
    add_extension(oddfield, 1, 28);
    oddfield[kHeaderSize + 3] = 26;  // not whole words
    EXPECT_EQ(classify(oddfield, 40000).reason, DropReason::BadExtension);
    auto past = request(4, 3);
    add_extension(past, 1, 28);
    past[kHeaderSize + 3] = 32;  // past the end
    EXPECT_EQ(classify(past, 40000).reason, DropReason::BadExtension);
}

ClockState synchronised_clock() {
    ClockState c;
    c.synchronised = true;
    c.leap = Leap::Insert;
    c.stratum = 2;
    c.precision = -24;
    c.root_delay = 0x00000123;
    c.root_dispersion = 0x00004567;
    const uint8_t refid[4] = {'G', 'P', 'S', 0};
    std::memcpy(&c.reference_id, refid, 4);
    c.reference_time = 0xEA00000012345678;
    return c;
}

TEST(NtpAnswer, EveryFieldComesFromTheRequestTheClockOrTheTimestamps) {
    auto p = request(3, 3);
    p[1] = 9;     // the client's stratum: not echoed
    p[2] = 0x0A;  // poll: echoed
    p[3] = 0xEC;  // the client's precision: not echoed
    for (size_t i = 0; i < 8; ++i) {
        p[24 + i] = 0x11;               // the client's origin: replaced
        p[32 + i] = 0x22;               // the client's receive: replaced
        p[40 + i] = uint8_t(0xC0 + i);  // the client's transmit: becomes our origin
    }
    const auto r = classify(p, 40000);
    ASSERT_EQ(r.verdict, Verdict::Answer);
    const ClockState c = synchronised_clock();
    ASSERT_EQ(write_answer(p, r, c, 0xEA000001AAAAAAAA), kHeaderSize);
    stamp_transmit(p, 0xEA000001BBBBBBBB);

    EXPECT_EQ(p[0], 1 << 6 | 3 << 3 | 4);  // LI insert, version 3, mode 4
    EXPECT_EQ(p[1], 2);
    EXPECT_EQ(p[2], 0x0A);
    EXPECT_EQ(static_cast<int8_t>(p[3]), -24);
    EXPECT_EQ(get32(&p[4]), 0x123u);
    EXPECT_EQ(get32(&p[8]), 0x4567u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&p[12]), 3), "GPS");
    EXPECT_EQ(p[15], 0);
    EXPECT_EQ(get64(&p[16]), 0xEA00000012345678u);
    EXPECT_EQ(get64(&p[24]), 0xC0C1C2C3C4C5C6C7u);
    EXPECT_EQ(get64(&p[32]), 0xEA000001AAAAAAAAu);
    EXPECT_EQ(get64(&p[40]), 0xEA000001BBBBBBBBu);
}

TEST(NtpAnswer, AnNtpV1RequestGetsAVersionOneServerAnswer) {
    auto p = request(1, 0);
    const auto r = classify(p, 40000);
    ASSERT_EQ(write_answer(p, r, synchronised_clock(), 1), kHeaderSize);
    EXPECT_EQ(p[0] & 0x3F, 1 << 3 | 4);
}

TEST(NtpAnswer, ASilentClockWritesNothing) {
    auto p = request(4, 3);
    const auto before = p;
    ClockState c;
    c.silent = true;
    EXPECT_EQ(write_answer(p, classify(p, 40000), c, 1), 0u);
    EXPECT_EQ(p, before);
}

TEST(NtpAnswer, TheAnswerIsNeverLongerThanTheRequest) {
    auto p = request(4, 3);
    add_extension(p, 0x0104, 64);
    const auto r = classify(p, 40000);
    ASSERT_EQ(r.verdict, Verdict::Answer);
    EXPECT_LE(write_answer(p, r, synchronised_clock(), 1), p.size());
}

TEST(NtpDropReason, EveryReasonHasALabel) {
    for (size_t i = 0; i < static_cast<size_t>(DropReason::Count); ++i) {
        EXPECT_STRNE(to_string(static_cast<DropReason>(i)), "unknown") << i;
    }
}

}  // namespace
}  // namespace pooledge::ntp
