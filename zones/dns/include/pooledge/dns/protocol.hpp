// DNS protocol constants shared by the parser, the answer engine and the image builder.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pooledge::dns {

namespace rrtype {
inline constexpr uint16_t A = 1;
inline constexpr uint16_t NS = 2;
inline constexpr uint16_t CNAME = 5;
inline constexpr uint16_t SOA = 6;
inline constexpr uint16_t HINFO = 13;
inline constexpr uint16_t MX = 15;
inline constexpr uint16_t TXT = 16;
inline constexpr uint16_t AAAA = 28;
inline constexpr uint16_t OPT = 41;
inline constexpr uint16_t TSIG = 250;
inline constexpr uint16_t IXFR = 251;
inline constexpr uint16_t AXFR = 252;
inline constexpr uint16_t ANY = 255;
}  // namespace rrtype

namespace rrclass {
inline constexpr uint16_t IN = 1;
inline constexpr uint16_t CH = 3;
inline constexpr uint16_t ANY = 255;
}  // namespace rrclass

enum class Rcode : uint16_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
    NotAuth = 9,   // RFC 8945: with a TSIG error (BADKEY) in the response's TSIG RR
    BadVers = 16,  // extended: upper 8 bits go into the OPT TTL
};

namespace opcode {
inline constexpr uint8_t QUERY = 0;
}

namespace edns {
inline constexpr uint16_t NSID = 3;
inline constexpr uint16_t ECS = 8;
inline constexpr uint16_t COOKIE = 10;
}  // namespace edns

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameLen = 255;  // wire length, root label included
inline constexpr size_t kMaxLabelLen = 63;
inline constexpr size_t kMaxLabels = 128;
// Without EDNS a UDP answer must fit RFC 1035's 512 bytes.
inline constexpr uint16_t kClassicUdpSize = 512;
// DNS flag day 2020: the size that avoids IP fragmentation on practically every path.
inline constexpr uint16_t kDefaultEdnsSize = 1232;

// Header flag bits in the 16-bit flags word.
namespace flag {
inline constexpr uint16_t QR = 0x8000;
inline constexpr uint16_t AA = 0x0400;
inline constexpr uint16_t TC = 0x0200;
inline constexpr uint16_t RD = 0x0100;
inline constexpr uint16_t RA = 0x0080;
inline constexpr uint16_t AD = 0x0020;
inline constexpr uint16_t CD = 0x0010;
inline constexpr uint16_t OPCODE_MASK = 0x7800;
inline constexpr uint16_t RCODE_MASK = 0x000f;
}  // namespace flag

}  // namespace pooledge::dns
