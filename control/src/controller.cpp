#include "pooledge/control/controller.hpp"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "pooledge/base/file_io.hpp"
#include "pooledge/base/input_error.hpp"
#include "pooledge/base/log.hpp"
#include "pooledge/control/geodns_json.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/pool_compiler.hpp"
#include "pooledge/control/pool_data.hpp"
#include "pooledge/control/regions.hpp"
#include "pooledge/control/signing_keys.hpp"

namespace pooledge::control {
namespace {

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

FetchOptions fetch_options(const RegistryConfig& r) {
    FetchOptions f;
    f.token_file = r.token_file;
    f.timeout = r.timeout;
    f.retries = r.retries;
    f.max_bytes = r.max_bytes;
    return f;
}

// SHA-256 over the inputs of a compile; the lengths keep "ab"+"c" apart from "a"+"bc".
std::string fingerprint(std::initializer_list<const std::string*> parts) {
    std::string joined;
    for (const std::string* p : parts) {
        joined.append(std::to_string(p->size())).append(":").append(*p);
    }
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), d);
    return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

// Only zones the pool has (global, continents, countries) become metric labels: a geodns
// export can have thousands of labels.
std::map<std::string, uint64_t> bounded(const std::map<std::string, uint64_t>& per_zone) {
    std::map<std::string, uint64_t> out;
    for (const std::string& z : pool_zones()) {
        const auto it = per_zone.find(z);
        out[z] = it == per_zone.end() ? 0 : it->second;
    }
    return out;
}

}  // namespace

Controller::Controller(ControlConfig config, ControlMetrics& metrics, Pusher& pusher,
                       base::Stopper& stopper, bool force_first)
    : config_(std::move(config)),
      metrics_(metrics),
      pusher_(pusher),
      stopper_(stopper),
      fetcher_(std::make_unique<Fetcher>(fetch_options(config_.registry), &stopper)),
      force_next_(force_first) {
    std::string why;
    key_ = image::SigningKey::load(config_.key_file, &why);
    if (!key_) {
        throw base::InputError("config", "signing.key: " + why);
    }
    std::error_code ec;
    std::filesystem::create_directories(config_.state_dir, ec);
    if (ec) {
        throw base::InputError("config", "state_dir: " + config_.state_dir + ": " + ec.message());
    }
    remember_key();
}

void Controller::remember_key() {
    std::string why;
    if (!record_key(keys_path(), key_->public_key(), &why)) {
        base::log::warn("cannot record the signing key in state_dir (" + why +
                        "): after a key rotation the last good image would not be restored");
    }
}

std::string Controller::image_path() const {
    return config_.state_dir + "/last-good.img";
}
std::string Controller::summary_path() const {
    return config_.state_dir + "/last-good.summary.json";
}
std::string Controller::keys_path() const {
    return config_.state_dir + "/signing-keys";
}

void Controller::restore() {
    size_t stale = 0;
    for (const std::string& p : {image_path(), summary_path()}) {
        stale += base::remove_stale_temp_files(p);
    }
    if (stale > 0) {
        base::log::info("removed " + std::to_string(stale) +
                        " temporary files an earlier crash left in " + config_.state_dir);
    }
    std::string why;
    // The summary first: the guard rails hold across a restart even when the image cannot
    // be restored (a rotated key, say).
    if (const auto text = base::read_file(summary_path(), 64 << 20, &why)) {
        last_summary_ = ServerSummary::from_json(
            std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
    }
    if (last_summary_) {
        metrics_.eligible(bounded(last_summary_->per_zone));
    } else {
        base::log::warn("no server summary in state_dir: guard rails start with the next update");
    }
    auto bytes = base::read_file(image_path(), uint64_t{4} << 30, &why);
    if (!bytes) {
        base::log::info("no last good image to restore (" + why + ")");
        return;
    }
    // Checked like any receiver checks it: a damaged or foreign file is not pushed. Signed by
    // a key this control plane had before a rotation, it is re-signed with the current one.
    std::vector<image::TrustedKey> keys = {{key_->public_key(), key_->key_id(), config_.key_file}};
    std::string record_why;
    for (auto& k : recorded_keys(keys_path(), &record_why)) {
        keys.push_back(std::move(k));
    }
    if (!record_why.empty()) {
        base::log::warn("signing key record: " + record_why + "; trusting the current key only");
    }
    const auto view = image::load_trusted(*bytes, keys, &why);
    if (!view) {
        base::log::warn("last good image " + image_path() + " not restored: " + why);
        return;
    }
    if (view->header().key_id != key_->key_id()) {
        const std::string old_id = image::to_hex(view->header().key_id);
        if (!image::sign_image(*bytes, *key_, &why) ||
            !base::write_file_atomic(image_path(), *bytes, &why)) {
            base::log::warn("last good image " + image_path() +
                            " not restored: re-signing it: " + why);
            return;
        }
        base::log::info("last good image was signed by the earlier key " + old_id +
                        "; re-signed with the current key " + image::to_hex(key_->key_id()));
    }
    last_serial_ = view->header().serial;
    metrics_.image(last_serial_, bytes->size(), -1);
    base::log::info("restored last good image, serial " + std::to_string(last_serial_) + ", " +
                    std::to_string(bytes->size()) + " bytes");
    pusher_.publish(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)), last_serial_);
}

void Controller::reconfigure(ControlConfig config) {
    auto targets = [](const ControlConfig& c) {
        std::string t;
        for (const auto& e : c.push.targets) {
            t += e.to_string() + " ";
        }
        return t;
    };
    if (targets(config) != targets(config_) || config.metrics_listen != config_.metrics_listen) {
        base::log::warn(
            "SIGHUP: push and metrics settings are read at start only; restart "
            "pooledge-control to apply them");
    }
    std::error_code ec;
    std::filesystem::create_directories(config.state_dir, ec);
    if (ec) {
        base::log::error("SIGHUP: state_dir " + config.state_dir + ": " + ec.message() +
                         "; keeping the running configuration");
        return;
    }
    config_ = std::move(config);
    std::string why;
    if (auto key = image::SigningKey::load(config_.key_file, &why)) {
        key_ = std::move(key);
        remember_key();
    } else {
        base::log::error("signing.key: " + why + "; keeping the previous key");
    }
    fetcher_ = std::make_unique<Fetcher>(fetch_options(config_.registry), &stopper_);
    pool_body_.clear();
    scores_body_.clear();
    geodns_body_.clear();
    geo_stamp_.clear();
    last_fingerprint_.clear();
    refused_fingerprint_.clear();
}

std::optional<std::string> Controller::fetch_source(const std::string& source,
                                                    const std::string& location,
                                                    std::string& cache) {
    metrics_.ingest_attempt(source);
    try {
        Fetched f = fetcher_->fetch(location);
        if (!f.unchanged) {
            cache = std::move(f.body);
        }
        if (cache.empty()) {
            throw base::InputError("empty", location + ": empty response");
        }
        return cache;
    } catch (const base::InputError& e) {
        metrics_.ingest_failure(source, e.reason());
        base::log::error(e.what());
        return std::nullopt;
    }
}

void Controller::refresh_geoip() {
    struct stat st {};
    if (::stat(config_.geoip.path.c_str(), &st) != 0) {
        metrics_.ingest_failure("geoip", "geoip");
        base::log::error("geoip.path " + config_.geoip.path + ": cannot stat" +
                         (geo_ ? "; keeping the table read before" : ""));
        return;
    }
    const std::string stamp = std::to_string(st.st_mtim.tv_sec) + "." +
                              std::to_string(st.st_mtim.tv_nsec) + "/" +
                              std::to_string(st.st_size) + "/" + std::to_string(st.st_ino);
    if (geo_ && stamp == geo_stamp_) {
        return;
    }
    metrics_.ingest_attempt("geoip");
    try {
        const auto t0 = std::chrono::steady_clock::now();
        GeoIpOptions options = config_.geoip;
        // geodns JSON may target regions: read subdivisions where the database has them.
        options.subdivisions = config_.registry.pool_data.empty();
        GeoTable table = read_geoip(options);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        base::log::info("geoip " + config_.geoip.path + ": " +
                        std::to_string(table.prefixes.size()) + " prefixes (" +
                        std::to_string(table.stats.mapped_country) + " by country, " +
                        std::to_string(table.stats.mapped_continent) + " by continent, " +
                        std::to_string(table.stats.unknown_country + table.stats.no_location) +
                        " unmapped) in " + std::to_string(secs) + " s");
        metrics_.geoip(table.stats);
        metrics_.ingest_success("geoip", unix_now());
        geo_ = std::move(table);
        geo_stamp_ = stamp;
    } catch (const base::InputError& e) {
        metrics_.ingest_failure("geoip", e.reason());
        base::log::error(std::string(e.what()) + (geo_ ? "; keeping the table read before" : ""));
    }
}

void Controller::mark_valid(const std::string& source, const std::string& body, int64_t generated) {
    validated_[source] = Validated{fingerprint({&body}), generated};
    metrics_.ingest_success(source, unix_now());
}

void Controller::refetched(const std::string& source, const std::string& body, int64_t now) {
    const auto it = validated_.find(source);
    if (it != validated_.end() && it->second.fingerprint == fingerprint({&body}) &&
        it->second.generated + config_.registry.max_age.count() >= now) {
        metrics_.ingest_success(source, unix_now());
    }
}

bool Controller::cycle() {
    const RegistryConfig& reg = config_.registry;
    const bool pool_input = !reg.pool_data.empty();
    const int64_t fetched_at = static_cast<int64_t>(unix_now());
    if (pool_input) {
        // Each source on its own: a failed pool-data fetch does not skip this round's scores
        // (the last pool data read takes them), and a failed score feed does not hold back a
        // server list update (the pool data's own scores, or the last feed read, stand in).
        const bool pool_ok = fetch_source("pool_data", reg.pool_data, pool_body_).has_value();
        const bool scores_ok =
            !reg.scores.empty() && fetch_source("scores", reg.scores, scores_body_).has_value();
        if (pool_ok) {
            refetched("pool_data", pool_body_, fetched_at);
        }
        if (scores_ok) {
            refetched("scores", scores_body_, fetched_at);
        }
        if (pool_body_.empty()) {
            return false;  // no pool data yet at all
        }
    } else if (!fetch_source("geodns_json", reg.geodns_json, geodns_body_)) {
        return false;
    } else {
        refetched("geodns_json", geodns_body_, fetched_at);
    }
    refresh_geoip();
    if (!geo_) {
        return false;
    }
    const std::string fp = fingerprint({&pool_body_, &scores_body_, &geodns_body_, &geo_stamp_});
    if (!force_next_ && (fp == last_fingerprint_ || fp == refused_fingerprint_)) {
        // Nothing new since the last image (or the last refusal). A registry that keeps
        // serving the same export still ages: say so once it is older than max_age.
        const int64_t now = static_cast<int64_t>(unix_now());
        if (pool_input && last_generated_ > 0 && now > last_generated_ + reg.max_age.count()) {
            if (!stale_reported_) {
                metrics_.ingest_failure("pool_data", "stale");
                base::log::error(reg.pool_data + ": unchanged since it was generated " +
                                 std::to_string(now - last_generated_) +
                                 " s ago, more than registry.max_age (registry export stuck?); "
                                 "the last good image keeps serving");
                stale_reported_ = true;
            }
        }
        return false;
    }

    const auto t0 = std::chrono::steady_clock::now();
    const int64_t now = static_cast<int64_t>(unix_now());
    const std::string main_source = pool_input ? "pool_data" : "geodns_json";
    int64_t generated = 0;
    try {
        ImageInputs in;
        ServerSummary summary;
        if (pool_input) {
            PoolData data = parse_pool_data(pool_body_, reg.pool_data);
            check_freshness(data.generated, now, reg.max_age.count(), reg.pool_data);
            mark_valid("pool_data", pool_body_, data.generated);
            generated = data.generated;
            if (!scores_body_.empty()) {
                try {
                    const ScoreFeed feed = parse_score_feed(scores_body_, reg.scores);
                    check_freshness(feed.generated, now, reg.max_age.count(), reg.scores);
                    const ScoreMerge m = apply_scores(data, feed);
                    mark_valid("scores", scores_body_, feed.generated);
                    if (m.unknown_server > 0) {
                        base::log::info("score feed: " + std::to_string(m.unknown_server) +
                                        " scores for servers not in the pool data, ignored");
                    }
                } catch (const base::InputError& e) {
                    metrics_.ingest_failure("scores", e.reason());
                    base::log::error(std::string(e.what()) +
                                     "; compiling with the pool data's scores");
                } catch (const std::exception& e) {
                    // REGISTRY.md: a feed that fails to parse never holds back a pool-data
                    // update, whatever the failure.
                    metrics_.ingest_failure("scores", "json");
                    base::log::error(reg.scores + ": " + e.what() +
                                     "; compiling with the pool data's scores");
                }
            }
            PoolCompileOptions opts;
            opts.min_score = config_.compile.min_score;
            opts.seed = config_.compile.seed;
            opts.now = now;
            PoolCompileResult r = compile_pool(data, opts);
            summary.per_zone = r.eligible_per_zone;
            summary.total = r.eligible;
            in.zones.push_back(std::move(r.zone));
        } else {
            const std::string origin =
                !reg.origin.empty() ? reg.origin : origin_from_file_name(reg.geodns_json);
            if (origin.empty()) {
                throw base::InputError("config", "registry.origin is needed: '" + reg.geodns_json +
                                                     "' does not end in <zone>.json");
            }
            GeodnsZone z = parse_geodns_zone(geodns_body_, origin, reg.geodns_json);
            // geodns JSON has no export time: valid as long as it stays the same.
            mark_valid("geodns_json", geodns_body_, INT64_MAX / 2);
            for (const std::string& w : z.warnings) {
                base::log::warn(reg.geodns_json + ": " + w);
            }
            summary = summarize_zone(z.zone);
            in.zones.push_back(std::move(z.zone));
        }
        if (summary.total == 0) {
            throw base::InputError("empty", main_source + ": no eligible server at all");
        }
        if (last_summary_ && !force_next_) {
            if (const auto refusal = check_guard_rails(
                    *last_summary_, summary,
                    {config_.compile.max_drop_share, config_.compile.empty_zone_min_servers})) {
                metrics_.guard_refusal(refusal->rule);
                base::log::error("guard rail " + refusal->rule + ": " + refusal->message +
                                 "; keeping the last good image (restart with --force to accept)");
                refused_fingerprint_ = fp;
                return false;
            }
        }
        // Serials only go up, even when two compiles share a second.
        const uint64_t serial = std::max<uint64_t>(static_cast<uint64_t>(now), last_serial_ + 1);
        if (pool_input) {
            in.zones.front().soa.serial = static_cast<uint32_t>(serial);
        } else if (in.zones.front().soa.serial == 0) {
            in.zones.front().soa.serial = static_cast<uint32_t>(serial);
        }
        in.geo = &*geo_;
        in.overrides = config_.overrides;
        in.serial = serial;
        in.build_time = static_cast<uint64_t>(now);
        auto image = std::make_shared<std::vector<uint8_t>>(build_signed_image(in, *key_));
        std::string why;
        if (!base::write_file_atomic(image_path(), *image, &why)) {
            throw base::InputError("state", "cannot store the image: " + why);
        }
        const std::string text = summary.to_json();
        if (!base::write_file_atomic(
                summary_path(),
                std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), &why)) {
            base::log::warn("cannot store the server summary: " + why);
        }
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        metrics_.eligible(bounded(summary.per_zone));
        metrics_.image(serial, image->size(), secs);
        base::log::info("image serial " + std::to_string(serial) + ": " +
                        std::to_string(summary.total) + " servers, " +
                        std::to_string(image->size()) + " bytes, compiled in " +
                        std::to_string(secs) + " s");
        last_summary_ = std::move(summary);
        last_serial_ = serial;
        last_fingerprint_ = fp;
        last_generated_ = generated;
        stale_reported_ = false;
        refused_fingerprint_.clear();
        force_next_ = false;
        pusher_.publish(std::move(image), serial);
        return true;
    } catch (const base::InputError& e) {
        metrics_.ingest_failure(main_source, e.reason());
        base::log::error(std::string(e.what()) + "; keeping the last good image");
        // Bad input stays bad until it changes; a full disk or a signing failure does not:
        // those are retried on the next round.
        if (e.reason() != "state" && e.reason() != "compile") {
            refused_fingerprint_ = fp;
        }
        return false;
    } catch (const std::exception& e) {
        // Anything else (out of memory on a huge input, a builder invariant) must not end
        // the process: the last good image keeps being served and pushed.
        metrics_.ingest_failure(main_source, "compile");
        base::log::error(std::string("compile failed: ") + e.what() +
                         "; keeping the last good image");
        return false;
    }
}

}  // namespace pooledge::control
