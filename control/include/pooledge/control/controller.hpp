// The heart of `pooledge-control run`: ingest, validate, compile, guard, sign, store, push.
//
// Every step that can fail on bad input throws base::InputError, which cycle() turns into a log
// line and a metric; the last good image is untouched on disk and keeps being pushed. The
// last good image and its server summary live in state_dir, written atomically, so a
// restart re-pushes what was serving and the guard rails still know what "before" was.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pooledge/base/stopper.hpp"
#include "pooledge/control/config.hpp"
#include "pooledge/control/fetch.hpp"
#include "pooledge/control/geoip.hpp"
#include "pooledge/control/guard.hpp"
#include "pooledge/control/metrics.hpp"
#include "pooledge/control/pusher.hpp"
#include "pooledge/image/signature.hpp"

namespace pooledge::control {

class Controller {
  public:
    // Throws base::InputError (reason "config") when the signing key cannot be loaded or the state
    // directory cannot be created.
    Controller(ControlConfig config, ControlMetrics& metrics, Pusher& pusher,
               base::Stopper& stopper, bool force_first);

    // Publishes the last good image from state_dir, if there is one that verifies.
    void restore();

    // One round. True when a new image was made and published.
    bool cycle();

    // A new configuration (SIGHUP): takes effect at the next cycle, which recompiles.
    void reconfigure(ControlConfig config);

    [[nodiscard]] const ControlConfig& config() const noexcept { return config_; }

  private:
    [[nodiscard]] std::optional<std::string> fetch_source(const std::string& source,
                                                          const std::string& location,
                                                          std::string& cache);
    void refresh_geoip();
    // A source's body passed parsing and validation; `generated` (unix seconds) bounds how
    // long the same body counts as valid again (registry.max_age).
    void mark_valid(const std::string& source, const std::string& body, int64_t generated);
    // Fetched again (a 304 included) with the body last found valid: also a success.
    void refetched(const std::string& source, const std::string& body, int64_t now);
    [[nodiscard]] std::string image_path() const;
    [[nodiscard]] std::string summary_path() const;
    [[nodiscard]] std::string keys_path() const;  // signing_keys.hpp's record
    // Adds the current signing key to the record, so restore() trusts it after a rotation.
    void remember_key();

    ControlConfig config_;
    ControlMetrics& metrics_;
    Pusher& pusher_;
    std::optional<image::SigningKey> key_;
    base::Stopper& stopper_;
    std::unique_ptr<Fetcher> fetcher_;
    bool force_next_;

    std::string pool_body_, scores_body_, geodns_body_;
    std::optional<GeoTable> geo_;
    std::string geo_stamp_;
    std::string last_fingerprint_;     // inputs of the serving image
    std::string refused_fingerprint_;  // inputs refused last time: not recompiled until changed
    std::optional<ServerSummary> last_summary_;
    int64_t last_generated_ = 0;  // pool data "generated" of the serving image
    bool stale_reported_ = false;
    struct Validated {
        std::string fingerprint;
        int64_t generated = 0;
    };
    std::map<std::string, Validated> validated_;  // per source
    uint64_t last_serial_ = 0;
};

}  // namespace pooledge::control
