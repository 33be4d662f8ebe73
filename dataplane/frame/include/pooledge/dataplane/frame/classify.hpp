// Frame classification: fast path (and for which service), kernel, or drop (and why).
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane {

// UDP destination ports of the fast-path services.
inline constexpr uint16_t kDnsPort = 53;
inline constexpr uint16_t kNtpPort = 123;

// Whether a frame for the kernel is neighbour discovery from the link itself: ARP, or an
// ICMPv6 router/neighbour solicitation, advertisement or redirect (types 133-137) with hop
// limit 255, which no router forwards (RFC 4861 7.1.1). These pass the exception path's rate
// limits (the XDP filter has the same rule): a junk flood must not starve the router's ARP
// and ND, or the node would fall off the link; and nobody off the link can send them.
[[nodiscard]] bool is_neighbour_discovery(std::span<const uint8_t> frame) noexcept;

[[nodiscard]] Classified classify(std::span<const uint8_t> frame, const ServiceAddresses& svc,
                                  RxChecks checks = {}) noexcept;

}  // namespace pooledge::dataplane
