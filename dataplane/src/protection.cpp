#include "protection.hpp"

#include <sys/random.h>

#include <stdexcept>

#include "pooledge/base/input_error.hpp"
#include "pooledge/base/log.hpp"

namespace pooledge::dataplane {
namespace {

uint64_t random_key() {
    uint64_t k = 0;
    if (::getrandom(&k, sizeof k, 0) != static_cast<ssize_t>(sizeof k)) {
        throw std::runtime_error("getrandom failed");
    }
    return k;
}

std::string levels(const std::vector<limit::PrefixLevel>& ls) {
    std::string s;
    for (const auto& l : ls) {
        char m[32];
        std::snprintf(m, sizeof m, "%g", l.multiplier);
        s += (s.empty() ? "/" : ", /") + std::to_string(l.length) +
             (l.multiplier != 1.0 ? std::string(" x") + m : "");
    }
    return s;
}

std::string mib(size_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

Protection::Protection(const DataplaneConfig& config) {
    const uint64_t epoch = limiter_clock_ns();
    if (config.rrl.enabled) {
        rrl_ = std::make_unique<limit::Rrl>(config.rrl, random_key(), epoch);
        const auto& r = config.rrl;
        char rate[96];
        std::snprintf(rate, sizeof rate, "%g answers, %g NXDOMAIN, %g errors a second", r.rate[0],
                      r.rate[1], r.rate[2]);
        base::log::info(std::string("rrl") + (r.log_only ? " (log only)" : "") + ": " + rate +
                        " per " + levels(r.v4) + " (IPv4) and " + levels(r.v6) +
                        " (IPv6), window " + std::to_string(r.window) + " s, slip " +
                        std::to_string(r.slip) + ", " + std::to_string(r.exempt.size()) +
                        " exempt prefixes, table " + std::to_string(rrl_->table().entries()) +
                        " entries (" + mib(rrl_->table().bytes()) + ")");
    } else {
        base::log::info("rrl: off (rrl.enabled false): every parsable query is answered");
    }
    const auto& n = config.ntp.rate_limit;
    if (config.ntp.enabled && n.enabled) {
        ntp_limit_ = std::make_unique<limit::NtpLimiter>(n, random_key(), epoch);
        base::log::info("ntp rate limit: interval 2^" + std::to_string(n.interval) + " s, burst " +
                        std::to_string(n.burst) + ", leak " + std::to_string(n.leak) + ", kod " +
                        std::to_string(n.kod) + " per /" + std::to_string(n.v4_prefix) + " and /" +
                        std::to_string(n.v6_prefix) + ", table " +
                        std::to_string(ntp_limit_->table().entries()) + " entries");
    }
    publish(config.acl);
}

void Protection::publish(const AclConfigs& config) {
    auto acls = std::make_unique<limit::Acls>(build_acls(config));
    acl_stats_.dns_rules = acls->dns.rules();
    acl_stats_.ntp_rules = acls->ntp.rules();
    acls_.publish(std::move(acls));
    base::log::info("acl: dns " + std::to_string(config.dns.allow.size()) + " allow, " +
                    std::to_string(config.dns.deny.size()) + " deny; ntp " +
                    std::to_string(config.ntp.allow.size()) + " allow, " +
                    std::to_string(config.ntp.deny.size()) + " deny");
}

void Protection::reload_acls(const std::string& config_path) {
    AclConfigs next;
    try {
        next = load_config(config_path).acl;
    } catch (const base::InputError& e) {
        ++acl_stats_.refused;
        base::log::error(std::string("SIGHUP: ") + e.what() + "; keeping the ACLs in force");
        return;
    }
    publish(next);
    ++acl_stats_.reloads;
}

}  // namespace pooledge::dataplane
