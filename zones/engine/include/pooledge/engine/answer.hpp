// The answer engine: (image, client address, query bytes) -> response bytes.
//
// One call per packet on the fast path. It writes into a caller-given buffer, which may be the
// very buffer holding the query (the dataplane answers in the received mbuf), and it allocates
// nothing, locks nothing, makes no system call and never throws: the caller supplies the clock
// and the random generator.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "pooledge/base/ip.hpp"
#include "pooledge/base/rng.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/dns/query.hpp"

namespace pooledge::image {
class ImageView;
namespace format {
struct Node;
}
}  // namespace pooledge::image

namespace pooledge::engine {

// Who this node is, for NSID (RFC 5001) and the CH TXT names anycast operators use to tell
// nodes apart. Empty strings switch the matching feature off (REFUSED / no option).
struct Identity {
    std::string_view nsid;                           // NSID payload
    std::string_view server_id;                      // id.server. and hostname.bind.
    std::string_view version;                        // version.bind. and version.server.
    uint16_t edns_udp_size = dns::kDefaultEdnsSize;  // advertised, and the most sent over UDP
    // RFC 9018 server cookie secret; all zero means cookies are not answered.
    std::array<uint8_t, 16> cookie_secret{};
    // Who may ask for _status.<zone> besides loopback (debug_names.hpp); none by default.
    std::span<const base::IpPrefix> status_clients{};
};

enum class Transport : uint8_t { Udp, Tcp };

struct Client {
    base::IpAddress addr;
    Transport transport = Transport::Udp;
};

// What happened, for counters: size 0 means drop.
struct Response {
    uint16_t size = 0;
    dns::Rcode rcode = dns::Rcode::NoError;
    uint16_t qtype = 0;
    int16_t zone = -1;  // zone index in the image, -1 when none
    bool truncated = false;
};

struct AnswerContext {
    const image::ImageView* image = nullptr;  // nullptr: no image yet, pool names get SERVFAIL
    const Identity* identity = nullptr;
    base::Rng* rng = nullptr;
    uint32_t now = 0;  // unix seconds, for cookies; the caller reads the clock once per burst
};

// Parses `query` and writes the response into `out` (which may alias `query`).
[[nodiscard]] Response answer(const AnswerContext& ctx, const Client& client,
                              std::span<const uint8_t> query, std::span<uint8_t> out) noexcept;

// answer() in three stages, for a caller with a burst of queries (the worker), so the cache
// misses of one query overlap the work on the others (the group-prefetch pattern):
//   1. parse_query + prefetch: parse, hash, and prefetch the name-index slot and the geo
//      table line of the address that locates the client;
//   2. resolve: find the node, the region and the rrset, and prefetch the records the
//      answer's draw reads first;
//   3. answer_parsed: draw and write.
// Each stage runs over the whole burst before the next starts. answer() is parse_query +
// answer_parsed, which resolves inline when resolve() was not called.
struct Resolution {
    bool done = false;  // resolve() ran for this parse: the fields below hold
    const image::format::Node* node = nullptr;
    int zone = -1;       // -1: no zone of the image holds the name
    uint32_t rrset = 0;  // of node for qtype from the client's region; 0: none (NODATA)
    uint8_t ecs_scope = 0;
    // The draw's own generator, seeded from the context's in resolve(): its first words
    // chose the records resolve() prefetched, and answer_parsed() replays them.
    base::Rng rng{0};
};
struct Parsed {
    dns::ParseResult result = dns::ParseResult::Drop;
    dns::Query q;
    Resolution res;
};
void parse_query(std::span<const uint8_t> query, Parsed& out) noexcept;
void prefetch(const AnswerContext& ctx, const Client& client, const Parsed& p) noexcept;
void resolve(const AnswerContext& ctx, const Client& client, Parsed& p) noexcept;
[[nodiscard]] Response answer_parsed(const AnswerContext& ctx, const Client& client,
                                     const Parsed& p, std::span<const uint8_t> query,
                                     std::span<uint8_t> out) noexcept;

// Cuts a response answer_parsed() wrote for `p` down to its header and question, with TC=1
// and no records: the "slip" a rate limiter sends so that a real client retries over TCP
// (never longer than the query). Returns the new size; 0 when the query had no question
// (nothing to slip: drop it).
[[nodiscard]] uint16_t truncate_to_question(std::span<uint8_t> response, const Parsed& p) noexcept;

}  // namespace pooledge::engine
