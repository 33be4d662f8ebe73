// geodns's debug names, answered where the zone has no label of that name:
//   _country.<zone> TXT  how this node sees the client: its address, the address it was
//                        located by (ECS or the source), the regions tried, the ECS scope, the
//                        node. To anyone, TTL 1.
//   _status.<zone> TXT   the image being served: serial, age, build time, software version,
//                        zones. Only to loopback and Identity::status_clients.
// Part of the engine, so they allocate nothing and make no system call either.
#pragma once

#include <cstdint>

#include "pooledge/base/ip.hpp"
#include "pooledge/dns/query.hpp"
#include "pooledge/dns/wire.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::engine::debug {

enum class Name : uint8_t { None, Country, Status };

// Which debug name the query's first label is ("_country", "_status", any case).
[[nodiscard]] Name name_of(const dns::Query& q) noexcept;

// Whether `client` may see _status: loopback, or inside one of the configured prefixes.
[[nodiscard]] bool status_allowed(const Identity& id, const base::IpAddress& client) noexcept;

// Where the engine located a client, as _country reports it.
struct Location {
    base::IpAddress source;      // the packet's source address
    base::IpAddress located_by;  // the ECS address, or the source
    uint16_t region = 0;
    uint8_t scope = 0;
};

// The rdata (character-strings) of the two TXT answers.
void write_country(dns::WireWriter& w, const image::ImageView& img, const Location& loc,
                   const Identity& id) noexcept;
void write_status(dns::WireWriter& w, const image::ImageView& img, uint32_t now,
                  const Identity& id) noexcept;

}  // namespace pooledge::engine::debug
