// Frame classification: fast path (and for which service), kernel, or drop (and why).
#pragma once

#include <cstdint>
#include <span>

#include "pooledge/dataplane/frame/frame.hpp"

namespace pooledge::dataplane {

// UDP destination ports of the fast-path services.
inline constexpr uint16_t kDnsPort = 53;
inline constexpr uint16_t kNtpPort = 123;

[[nodiscard]] Classified classify(std::span<const uint8_t> frame, const ServiceAddresses& svc,
                                  RxChecks checks = {}) noexcept;

}  // namespace pooledge::dataplane
