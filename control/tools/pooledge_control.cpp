// pooledge-control: ingest the pool's registry data, compile signed zone images, push them.
//
//   pooledge-control run --config FILE [--force]
//   pooledge-control compile (--pool-data SRC [--scores SRC] | --geodns-json SRC [--origin Z])
//                            --geoip MMDB --key KEY --out IMAGE [options]
//   pooledge-control keygen --out PREFIX
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "pooledge/base/file_io.hpp"
#include "pooledge/base/input_error.hpp"
#include "pooledge/base/log.hpp"
#include "pooledge/base/signals.hpp"
#include "pooledge/control/config.hpp"
#include "pooledge/control/controller.hpp"
#include "pooledge/control/fetch.hpp"
#include "pooledge/control/geodns_json.hpp"
#include "pooledge/control/geoip.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/metrics.hpp"
#include "pooledge/control/pool_compiler.hpp"
#include "pooledge/control/pool_data.hpp"
#include "pooledge/control/pusher.hpp"
#include "pooledge/image/signature.hpp"

namespace pc = pooledge::control;
namespace base = pooledge::base;
namespace image = pooledge::image;

namespace {

// The longest a stop may take (SIGTERM, SIGINT) before the process ends regardless.
constexpr std::chrono::seconds kStopGrace{20};

constexpr const char* kUsage =
    "usage:\n"
    "  pooledge-control run --config FILE [--force]\n"
    "      ingest on the configured interval, compile when the input changed, push to every\n"
    "      target; --force accepts the first update even if a guard rail would refuse it.\n"
    "      SIGHUP rereads the configuration and the key; SIGTERM/SIGINT stop.\n"
    "  pooledge-control compile (--pool-data FILE|URL [--scores FILE|URL]\n"
    "                            | --geodns-json FILE|URL [--origin ZONE])\n"
    "                           --geoip MMDB --key KEY --out IMAGE\n"
    "                           [--override PREFIX=REGION]... [--seed N] [--min-score X]\n"
    "                           [--now UNIX] [--max-age SECONDS] [--token-file FILE]\n"
    "      one compile; prints a summary on stderr.\n"
    "  pooledge-control keygen --out PREFIX\n"
    "      writes PREFIX.key (private, mode 0600) and PREFIX.pub.\n";

[[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(stderr, "pooledge-control: %s\n%s", what.c_str(), kUsage);
    std::exit(2);
}

// --name value pairs and bare --flags.
struct Args {
    std::vector<std::pair<std::string, std::string>> opts;
    std::vector<std::string> flags;

    Args(int argc, char** argv, int first, std::initializer_list<const char*> flag_names) {
        for (int i = first; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "-h" || a == "--help") {
                std::fputs(kUsage, stdout);
                std::exit(0);
            }
            bool is_flag = false;
            for (const char* f : flag_names) {
                is_flag = is_flag || a == f;
            }
            if (is_flag) {
                flags.push_back(a);
            } else if (a.starts_with("--") && i + 1 < argc) {
                opts.emplace_back(a, argv[++i]);
            } else {
                usage_error("unexpected argument '" + a + "'");
            }
        }
    }
    [[nodiscard]] std::string get(const std::string& name) const {
        std::string v;
        for (const auto& [k, val] : opts) {
            if (k == name) {
                v = val;
            }
        }
        return v;
    }
    [[nodiscard]] std::vector<std::string> all(const std::string& name) const {
        std::vector<std::string> v;
        for (const auto& [k, val] : opts) {
            if (k == name) {
                v.push_back(val);
            }
        }
        return v;
    }
    [[nodiscard]] bool has(const std::string& flag) const {
        return std::find(flags.begin(), flags.end(), flag) != flags.end();
    }
    void only(std::initializer_list<const char*> known) const {
        for (const auto& [k, v] : opts) {
            bool ok = false;
            for (const char* n : known) {
                ok = ok || k == n;
            }
            if (!ok) {
                usage_error("unknown option '" + k + "'");
            }
        }
    }
};

int64_t number_arg(const Args& a, const std::string& name, int64_t fallback) {
    const std::string v = a.get(name);
    if (v.empty()) {
        return fallback;
    }
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (*end != '\0' || errno != 0 || n < 0) {
        usage_error(name + ": '" + v + "' is not a non-negative integer");
    }
    return n;
}

double decimal_arg(const Args& a, const std::string& name, double fallback) {
    const std::string v = a.get(name);
    if (v.empty()) {
        return fallback;
    }
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (*end != '\0' || !std::isfinite(d)) {
        usage_error(name + ": '" + v + "' is not a number");
    }
    return d;
}

int keygen(const Args& a) {
    a.only({"--out"});
    const std::string prefix = a.get("--out");
    if (prefix.empty()) {
        usage_error("keygen needs --out PREFIX");
    }
    std::string why;
    const auto key = image::SigningKey::generate(&why);
    if (!key || !key->save(prefix + ".key", prefix + ".pub", &why)) {
        std::fprintf(stderr, "pooledge-control keygen: %s\n", why.c_str());
        return 1;
    }
    std::printf("wrote %s.key and %s.pub, key id %s\n", prefix.c_str(), prefix.c_str(),
                image::to_hex(key->key_id()).c_str());
    return 0;
}

int compile(const Args& a) {
    a.only({"--pool-data", "--scores", "--geodns-json", "--origin", "--geoip", "--key", "--out",
            "--override", "--seed", "--min-score", "--now", "--max-age", "--token-file"});
    const std::string pool = a.get("--pool-data"), geodns = a.get("--geodns-json");
    if (pool.empty() == geodns.empty()) {
        usage_error("compile needs exactly one of --pool-data and --geodns-json");
    }
    for (const char* required : {"--geoip", "--key", "--out"}) {
        if (a.get(required).empty()) {
            usage_error(std::string("compile needs ") + required);
        }
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        std::string why;
        const auto key = image::SigningKey::load(a.get("--key"), &why);
        if (!key) {
            throw base::InputError("config", why);
        }
        pc::FetchOptions fo;
        fo.token_file = a.get("--token-file");
        pc::Fetcher fetcher(fo);
        const int64_t now = number_arg(a, "--now", std::time(nullptr));
        const int64_t max_age = number_arg(a, "--max-age", 0);
        pc::ImageInputs in;
        uint64_t servers = 0;
        if (!pool.empty()) {
            pc::PoolData data = pc::parse_pool_data(fetcher.fetch(pool).body, pool);
            if (max_age > 0) {
                pc::check_freshness(data.generated, now, max_age, pool);
            }
            if (const std::string scores = a.get("--scores"); !scores.empty()) {
                const auto feed = pc::parse_score_feed(fetcher.fetch(scores).body, scores);
                if (max_age > 0) {
                    pc::check_freshness(feed.generated, now, max_age, scores);
                }
                const auto m = pc::apply_scores(data, feed);
                std::fprintf(stderr, "scores: %zu applied, %zu older, %zu unknown servers\n",
                             m.applied, m.older, m.unknown_server);
            }
            pc::PoolCompileOptions opts;
            opts.now = now;
            opts.seed = static_cast<uint64_t>(number_arg(a, "--seed", 0));
            opts.min_score = decimal_arg(a, "--min-score", opts.min_score);
            auto r = pc::compile_pool(data, opts);
            servers = r.eligible;
            std::fprintf(stderr,
                         "pool data: %zu servers, %llu eligible (ineligible: %zu not in pool, "
                         "%zu low score, %zu no netspeed, %zu being deleted)\n",
                         data.servers.size(), static_cast<unsigned long long>(r.eligible),
                         r.ineligible.not_in_pool, r.ineligible.low_score, r.ineligible.no_netspeed,
                         r.ineligible.deleting);
            in.zones.push_back(std::move(r.zone));
        } else {
            std::string origin = a.get("--origin");
            if (origin.empty()) {
                origin = pc::origin_from_file_name(geodns);
            }
            if (origin.empty()) {
                usage_error("--origin is needed: '" + geodns + "' does not end in <zone>.json");
            }
            auto z = pc::parse_geodns_zone(fetcher.fetch(geodns).body, origin, geodns);
            for (const std::string& w : z.warnings) {
                std::fprintf(stderr, "%s: warning: %s\n", geodns.c_str(), w.c_str());
            }
            if (z.zone.soa.serial == 0) {
                z.zone.soa.serial = static_cast<uint32_t>(now);
            }
            servers = pc::summarize_zone(z.zone).total;
            if (servers == 0) {
                throw base::InputError("empty", geodns + ": no A or AAAA address in any label");
            }
            in.zones.push_back(std::move(z.zone));
        }
        pc::GeoIpOptions go;
        go.path = a.get("--geoip");
        go.subdivisions = !geodns.empty();  // geodns JSON may target regions
        const pc::GeoTable geo = pc::read_geoip(go);
        std::fprintf(stderr,
                     "geoip: %zu prefixes (%llu by country, %llu by continent, %llu unmapped)\n",
                     geo.prefixes.size(), static_cast<unsigned long long>(geo.stats.mapped_country),
                     static_cast<unsigned long long>(geo.stats.mapped_continent),
                     static_cast<unsigned long long>(geo.stats.unknown_country) +
                         static_cast<unsigned long long>(geo.stats.no_location));
        for (const std::string& o : a.all("--override")) {
            const auto eq = o.find('=');
            if (eq == std::string::npos) {
                usage_error("--override wants PREFIX=REGION, got '" + o + "'");
            }
            in.overrides.push_back(pc::parse_override(o.substr(0, eq), o.substr(eq + 1)));
        }
        in.geo = &geo;
        in.serial = static_cast<uint64_t>(now);
        in.build_time = static_cast<uint64_t>(now);
        const auto image = pc::build_signed_image(in, *key);
        if (!base::write_file_atomic(a.get("--out"), image, &why)) {
            throw base::InputError("state", why);
        }
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "wrote %s: serial %lld, %zu bytes, %llu servers, %.2f s\n",
                     a.get("--out").c_str(), static_cast<long long>(now), image.size(),
                     static_cast<unsigned long long>(servers), secs);
        return 0;
    } catch (const base::InputError& e) {
        std::fprintf(stderr, "pooledge-control compile: %s (%s)\n", e.what(), e.reason().c_str());
        return 1;
    }
}

int run(const Args& a) {
    a.only({"--config"});
    const std::string path = a.get("--config");
    if (path.empty()) {
        usage_error("run needs --config FILE");
    }
    // Signals go to one thread that turns them into stop/poke; every other thread (pushers,
    // the metrics server) inherits the blocked mask.
    const sigset_t set = base::block_control_signals();

    try {
        pc::ControlConfig config = pc::load_config(path);
        pc::ControlMetrics metrics(config.metrics_listen);
        pc::Pusher pusher(config.push, metrics);
        base::Stopper stopper;
        pc::Controller controller(config, metrics, pusher, stopper, a.has("--force"));
        std::atomic<bool> reload{false};
        std::atomic<bool> finished{false};  // the main loop is done: the signal thread may go
        std::thread signals([&] {
            for (;;) {
                int sig = 0;
                if (sigwait(&set, &sig) != 0) {
                    continue;
                }
                if (finished.load()) {
                    return;
                }
                if (sig == SIGHUP) {
                    reload = true;
                    stopper.poke();
                    continue;
                }
                base::log::info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                ", stopping");
                stopper.stop();
                break;
            }
            // Stopping is bounded whatever the registry or the targets do: fetches and pushes
            // are cancelled, and as a last resort the process ends after kStopGrace. A second
            // SIGTERM or SIGINT ends it at once.
            const auto until = std::chrono::steady_clock::now() + kStopGrace;
            while (!finished.load()) {
                const timespec slice{0, 200'000'000};
                const int sig = sigtimedwait(&set, nullptr, &slice);
                if (finished.load()) {
                    return;
                }
                if (sig == SIGTERM || sig == SIGINT) {
                    base::log::error("second signal: exiting now, without a clean stop");
                    std::_Exit(1);
                }
                if (std::chrono::steady_clock::now() >= until) {
                    base::log::error("did not stop within " + std::to_string(kStopGrace.count()) +
                                     " s: exiting now");
                    std::_Exit(1);
                }
            }
        });
        // However the loop ends, the signal thread ends with it.
        struct JoinSignals {
            std::thread& t;
            std::atomic<bool>& finished;
            ~JoinSignals() {
                if (t.joinable()) {
                    finished.store(true);
                    // Wakes the sigwait() of the signal thread, which then returns.
                    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
                    pthread_kill(t.native_handle(), SIGTERM);
                    t.join();
                }
            }
        } join_signals{signals, finished};
        base::log::info(
            "pooledge-control running: " +
            std::string(config.registry.pool_data.empty() ? "geodns JSON " : "pool data ") +
            (config.registry.pool_data.empty() ? config.registry.geodns_json
                                               : config.registry.pool_data) +
            ", " + std::to_string(config.push.targets.size()) + " push targets" +
            (config.metrics_listen.empty() ? "" : ", metrics on " + config.metrics_listen));
        controller.restore();
        while (!stopper.stopped()) {
            controller.cycle();
            stopper.wait_or_poke(controller.config().registry.interval);
            if (stopper.take_poke() && reload.exchange(false)) {
                try {
                    controller.reconfigure(pc::load_config(path));
                    base::log::info("configuration reloaded from " + path);
                } catch (const std::exception& e) {
                    base::log::error(std::string("reload: ") + e.what() +
                                     "; keeping the running configuration");
                }
            }
        }
        pusher.stop();  // while the stop watchdog still runs
        base::log::info("stopped");
        return 0;
    } catch (const base::InputError& e) {
        std::fprintf(stderr, "pooledge-control: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        // prometheus-cpp throws when metrics.listen cannot be bound.
        std::fprintf(stderr, "pooledge-control: %s\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage_error("no command");
    }
    const std::string cmd = argv[1];
    if (cmd == "run") {
        return run(Args(argc, argv, 2, {"--force"}));
    }
    if (cmd == "compile") {
        return compile(Args(argc, argv, 2, {}));
    }
    if (cmd == "keygen") {
        return keygen(Args(argc, argv, 2, {}));
    }
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    usage_error("unknown command '" + cmd + "'");
}
