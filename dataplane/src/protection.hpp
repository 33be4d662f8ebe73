// The process's abuse protection: the DNS and NTP rate limiters, built once from the
// configuration (their tables are shared by every worker and live as long as the workers),
// and the allow / deny lists, published at start and again on SIGHUP, when the
// configuration file is reread: a file with any bad entry is refused whole and the lists in
// force stay.
#pragma once

#include <memory>
#include <string>

#include "metrics.hpp"
#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/worker.hpp"

namespace pooledge::dataplane {

class Protection {
  public:
    // Logs what is on. Throws std::runtime_error when randomness for the tables' hash key
    // cannot be had.
    explicit Protection(const DataplaneConfig& config);

    [[nodiscard]] limit::Rrl* rrl() noexcept { return rrl_.get(); }
    [[nodiscard]] limit::NtpLimiter* ntp_limit() noexcept { return ntp_limit_.get(); }
    [[nodiscard]] const AclSlot& acls() const noexcept { return acls_; }
    [[nodiscard]] const AclStats& acl_stats() const noexcept { return acl_stats_; }

    // SIGHUP, on the main thread (not an RCU reader): rereads `config_path`'s acl section.
    void reload_acls(const std::string& config_path);

  private:
    void publish(const AclConfigs& config);

    std::unique_ptr<limit::Rrl> rrl_;
    std::unique_ptr<limit::NtpLimiter> ntp_limit_;
    AclSlot acls_;
    AclStats acl_stats_;
};

}  // namespace pooledge::dataplane
