// Allow / deny prefix lists for one service (DNS, NTP). The longest listed prefix holding a
// client decides; a client in no listed prefix is allowed when the allow list is empty,
// denied otherwise (an allow list means "only these").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pooledge/base/ip.hpp"
#include "pooledge/limit/prefix_table.hpp"

namespace pooledge::limit {

struct AclConfig {
    std::vector<base::IpPrefix> allow;
    std::vector<base::IpPrefix> deny;
    [[nodiscard]] bool empty() const noexcept { return allow.empty() && deny.empty(); }
};

inline constexpr uint8_t kAclAllow = 0;
inline constexpr uint8_t kAclDeny = 1;

// A PrefixTable whose lookup() is kAclAllow or kAclDeny; nothing (with `why`) when a prefix
// is listed twice, in one list or both.
[[nodiscard]] std::optional<PrefixTable> build_acl(const AclConfig& config, std::string* why);

// Every service's list, swapped as one on SIGHUP.
struct Acls {
    PrefixTable dns{kAclAllow};
    PrefixTable ntp{kAclAllow};
};

}  // namespace pooledge::limit
