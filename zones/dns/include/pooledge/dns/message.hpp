// Decoding DNS responses and printing them the way dig does: for tests, and for
// `pooledgectl answer`, which shows what a dataplane would send. Not on any fast path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pooledge::dns {

// A query as a stub resolver or dig would send it.
struct QueryOptions {
    uint16_t id = 0x1234;
    uint16_t qtype = 1;       // A
    uint16_t qclass = 1;      // IN
    uint16_t flags = 0x0100;  // RD
    bool edns = false;
    uint16_t udp_size = 1232;
    uint8_t version = 0;
    bool nsid = false;
    bool dnssec_ok = false;
    std::optional<std::string> ecs{};  // "81.0.0.0/16"
    std::optional<std::vector<uint8_t>> cookie{};
};

struct Record {
    std::string owner;  // as written, case kept
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;  // names inside rdata are decompressed
    std::string text;            // A/AAAA address, names for NS/CNAME/MX/SOA, TXT string
};

struct Message {
    uint16_t id = 0;
    uint16_t flags = 0;
    uint16_t rcode = 0;  // with the OPT's extended bits
    std::string qname;
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    std::vector<Record> answer, authority, additional;
    bool has_opt = false;
    uint16_t opt_udp = 0;
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> options;
    bool ok = false;
};

// Nothing when the name or the ECS prefix is malformed.
[[nodiscard]] std::optional<std::vector<uint8_t>> build_query(const std::string& name,
                                                              const QueryOptions& o = {});

// Reads a possibly compressed name at `pos` and advances it (pointer loops and forward
// pointers fail).
[[nodiscard]] std::optional<std::string> read_name(std::span<const uint8_t> msg, size_t& pos);

// Decodes a whole message; `ok` is false when any part of it is malformed.
[[nodiscard]] Message decode(std::span<const uint8_t> msg);

// dig's presentation: header line, flags, OPT pseudosection, then the sections.
[[nodiscard]] std::string to_dig_text(const Message& m);

}  // namespace pooledge::dns
