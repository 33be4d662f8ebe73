#include "management.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "pooledge/base/file_io.hpp"
#include "pooledge/base/log.hpp"
#include "pooledge/dataplane/worker/image_memory.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/push_server.hpp"
#include "pooledge/image/receiver.hpp"

namespace pooledge::dataplane {

namespace log = base::log;

namespace {

std::string image_path(const DataplaneConfig& c) {
    return c.image_dir + "/current.img";
}

}  // namespace

Management::Management(const DataplaneConfig& config, ImageSlot& slot, ImageStats& stats)
    : config_(config), slot_(slot), stats_(stats), keys_(config.trusted_keys) {}

Management::~Management() = default;  // the server stops and joins its connections

void Management::install(std::vector<uint8_t> bytes, const image::ImageView& view,
                         const char* how) {
    auto img = std::make_unique<LoadedImage>();
    // Moving a vector keeps its buffer, so the view, validated over these bytes where they
    // arrived, still points at them: no copy (the serving image plus the new one is the
    // peak), no second SHA-256 pass.
    img->bytes = std::move(bytes);
    img->view = view;
    // Into huge pages where the EAL has them (image_memory.hpp): one copy, before the swap.
    std::string memory_why;
    const bool huge = move_to_hugepages(*img, &memory_why);
    if (huge != in_hugepages_) {
        in_hugepages_ = huge;
        base::log::info(huge ? std::string("images live in the EAL's huge pages")
                             : "images live in ordinary memory: " + memory_why);
    }
    // The fast path's geo tables, built here before the swap (image/geo_index.hpp); their
    // direct table in huge pages too when the image went there, else (or when they are full)
    // in memory advised to transparent huge pages.
    const auto t0 = std::chrono::steady_clock::now();
    std::string why;
    const bool indexed = (huge && image::attach_geo_index(*img->view, &why, eal_table_memory())) ||
                         image::attach_geo_index(*img->view, &why);
    if (!indexed) {
        base::log::warn(std::string("image ") + how + ": no geo index (" + why +
                        "): client addresses are located by binary search, more slowly");
    }
    const auto build_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    const image::GeoIndex* geo = img->view->geo_index();
    stats_.geo_index_bytes.store(geo != nullptr ? geo->stats().bytes : 0);
    img->loaded_unix = static_cast<uint64_t>(std::time(nullptr));
    const uint64_t serial = view.header().serial;
    {
        std::vector<std::string> names;
        for (const auto& z : view.zones()) {
            names.push_back(dns::name_to_text(view.node_name(view.nodes()[z.apex_node])));
        }
        std::lock_guard lock(stats_.zone_names_mu);
        stats_.zone_names = std::move(names);
    }
    stats_.serial.store(serial);
    stats_.build_time.store(view.header().build_time);
    stats_.loaded_unix.store(img->loaded_unix);
    stats_.size_bytes.store(img->view->bytes().size());
    const auto took = slot_.publish(std::move(img));
    stats_.swaps.fetch_add(1, std::memory_order_relaxed);
    stats_.last_swap_ns.store(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
    stats_.swap_ns_total.fetch_add(static_cast<uint64_t>(took.count()), std::memory_order_relaxed);
    base::log::info(std::string("image serial ") + std::to_string(serial) + " serving (" + how +
                    "), geo index " +
                    (geo != nullptr
                         ? std::to_string(geo->stats().bytes >> 20) + " MiB, " +
                               std::to_string(geo->stats().split_blocks) +
                               " split /24s, built in " + std::to_string(build_us) + " us"
                         : std::string("none")) +
                    ", swap took " + std::to_string(took.count() / 1000) + " us");
}

bool Management::load_from_disk() {
    if (const size_t n = base::remove_stale_temp_files(image_path(config_)); n > 0) {
        base::log::info("removed " + std::to_string(n) + " temporary image files an earlier " +
                        "crash left in " + config_.image_dir);
    }
    std::string why;
    auto bytes = base::read_file(image_path(config_), config_.max_image_size, &why);
    if (!bytes) {
        base::log::warn("no image on disk yet (" + why + "): not ready until one is pushed");
        return false;
    }
    std::vector<image::TrustedKey> keys;
    {
        std::lock_guard lock(keys_mu_);
        keys = keys_;
    }
    const auto view = image::load_trusted(*bytes, keys, &why);
    if (!view) {
        base::log::error(image_path(config_) + " not served: " + why);
        return false;
    }
    install(std::move(*bytes), *view, "from disk");
    return true;
}

void Management::reload_keys() {
    std::vector<image::TrustedKey> keys;
    for (const auto& f : config_.trusted_key_files) {
        std::string why;
        auto k = image::TrustedKey::load(f, &why);
        if (!k) {
            base::log::error("SIGHUP: " + why + "; keeping the trusted keys loaded before");
            return;
        }
        keys.push_back(*k);
    }
    std::lock_guard lock(keys_mu_);
    keys_ = std::move(keys);
    base::log::info("SIGHUP: " + std::to_string(keys_.size()) + " trusted keys reloaded");
}

void Management::start() {
    std::vector<base::Fd> listeners;
    for (const auto& e : config_.management) {
        std::string why;
        base::Fd fd(image::push::listen_on(e, &why));
        if (fd.get() < 0) {
            throw std::runtime_error("management.listen: " + why);
        }
        listeners.push_back(std::move(fd));
        base::log::info("accepting images on " + e.to_string());
    }
    image::push::ServerOptions options;
    options.limits.max_image_size = config_.max_image_size;
    options.allow = config_.management_allow;
    server_ = std::make_unique<image::push::Server>(
        std::move(listeners), options,
        [this](image::push::RequestType type, std::vector<uint8_t>& body) {
            return handle(type, body);
        });
}

image::push::Reply Management::handle(image::push::RequestType type, std::vector<uint8_t>& body) {
    using image::push::Status;
    if (type == image::push::RequestType::Status) {
        // From the published serial, never waiting behind an install.
        const uint64_t serial = stats_.serial.load();
        return image::push::Reply{Status::Accepted, serial, serial != 0 ? "serving" : "no image"};
    }
    // Images are judged and installed one at a time, in arrival order.
    std::lock_guard install_lock(install_mu_);
    const LoadedImage* cur = slot_.writer_view();
    std::optional<image::ServingImage> serving;
    if (cur != nullptr) {
        serving = image::ServingImage{cur->view->header().serial, cur->view->header().checksum};
    }
    std::vector<image::TrustedKey> keys;
    {
        std::lock_guard lock(keys_mu_);
        keys = keys_;
    }
    auto [reply, refusal, view] = image::judge(body, keys, serving);
    if (reply.status == Status::Accepted) {
        std::string why;
        // On disk first: a restart serves what was last accepted.
        if (!base::write_file_atomic(image_path(config_), body, &why)) {
            reply = {Status::Failed, serving ? serving->serial : 0,
                     "cannot store the image: " + why};
        } else {
            install(std::move(body), *view, "pushed");
        }
    } else {
        base::log::warn(std::string("push ") + image::push::to_string(reply.status) + ": " +
                        reply.reason);
        if (reply.status == Status::Refused) {
            auto& counter = refusal == image::LoadFailure::Checksum    ? stats_.refused_checksum
                            : refusal == image::LoadFailure::Signature ? stats_.refused_signature
                                                                       : stats_.refused_invalid;
            counter.fetch_add(1, std::memory_order_relaxed);
        }
    }
    stats_.pushes_by_status[static_cast<size_t>(reply.status)].fetch_add(1,
                                                                         std::memory_order_relaxed);
    return reply;
}

}  // namespace pooledge::dataplane
