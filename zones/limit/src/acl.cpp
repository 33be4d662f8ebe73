#include "pooledge/limit/acl.hpp"

namespace pooledge::limit {

std::optional<PrefixTable> build_acl(const AclConfig& config, std::string* why) {
    std::vector<PrefixRule> rules;
    rules.reserve(config.allow.size() + config.deny.size());
    for (const auto& p : config.allow) {
        rules.push_back({p, kAclAllow});
    }
    for (const auto& p : config.deny) {
        rules.push_back({p, kAclDeny});
    }
    return PrefixTable::build(rules, config.allow.empty() ? kAclAllow : kAclDeny, why);
}

}  // namespace pooledge::limit
