// DNS query parsing: one pass over the received bytes, no allocation, no exceptions.
//
// The parser decides whether a packet deserves an answer at all (QR=1 and runts are dropped:
// answering them would make us a reflector), whether it is malformed (FORMERR), and otherwise
// extracts everything the answer engine needs: a case-folded, hashed copy of the question name
// for lookup, the length of the original question so the answer can echo it byte for byte, and
// the EDNS fields. Options are copied out, so the answer may be written over the query.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "pooledge/dns/protocol.hpp"

namespace pooledge::dns {

enum class ParseResult : uint8_t {
    Ok,       // answer it
    FormErr,  // answer FORMERR (question echoed when it was parsed)
    NotImp,   // opcode other than QUERY
    // No question, an OPT with a COOKIE: a client learning a server cookie (RFC 7873 5.4).
    CookieOnly,
    Drop,  // no answer: too short to carry a header, or a response (QR=1)
};

struct EcsOption {
    bool present = false;
    uint16_t family = 0;  // 1 = IPv4, 2 = IPv6
    uint8_t source_prefix = 0;
    uint8_t scope_prefix = 0;
    std::array<uint8_t, 16> address{};  // bits past source_prefix are zero (checked)
};

struct CookieOption {
    bool present = false;
    uint8_t server_len = 0;  // 0, or 8..32
    std::array<uint8_t, 8> client{};
    std::array<uint8_t, 32> server{};
};

struct EdnsInfo {
    bool present = false;
    bool dnssec_ok = false;
    bool nsid = false;
    uint8_t version = 0;
    uint16_t udp_size = 0;  // as sent; the engine clamps it
    EcsOption ecs;
    CookieOption cookie;
};

// A TSIG RR (RFC 8945) on the query: where its parts sit in the received packet, so the
// answer can name the key and echo the time. This node holds no keys, so every signed query
// is answered NOTAUTH/BADKEY, unsigned. Offsets are into the query bytes; an answer written
// over them must copy what it needs first.
struct TsigInfo {
    bool present = false;
    uint16_t key_offset = 0;  // the RR's owner name (uncompressed, checked)
    uint16_t key_len = 0;
    uint16_t alg_offset = 0;  // the algorithm name, in the rdata
    uint16_t alg_len = 0;
    uint16_t time_offset = 0;  // time signed (6 bytes) and fudge (2)
    uint16_t original_id = 0;
};

struct Query {
    uint16_t id = 0;
    uint16_t flags = 0;  // header flags word as received
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    // Bytes from the start of the message to the end of the question: the part an answer
    // echoes unchanged. Zero when the question could not be parsed.
    uint16_t question_end = 0;
    uint8_t qname_len = 0;    // wire length of the question name, root label included
    uint8_t label_count = 0;  // labels before the root
    uint64_t qname_hash = 0;
    EdnsInfo edns;
    TsigInfo tsig;
    // Case-folded question name, zero-padded past qname_len so name_hash_padded can read words.
    // Not value-initialised: parse_query writes what it uses, and zeroing 400 bytes per packet
    // would cost more than the rest of the parse.
    alignas(8) std::array<uint8_t, kMaxNameLen + 9> qname;
    // Offset of each label within qname (the same offsets hold in the original question,
    // which starts at byte 12).
    std::array<uint8_t, kMaxLabels> label_offsets;

    [[nodiscard]] std::span<const uint8_t> name() const noexcept {
        return {qname.data(), qname_len};
    }
};

[[nodiscard]] ParseResult parse_query(std::span<const uint8_t> packet, Query& out) noexcept;

}  // namespace pooledge::dns
