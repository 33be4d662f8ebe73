// The management thread: receives pushed images (control/PUSH.md) on unix and TCP sockets,
// judges them like every receiver (zones/receiver.hpp: bounds, checksum, trusted signature,
// newer serial), writes an accepted image to the image directory (temp + fsync + rename),
// then swaps it in with RCU. A refused image changes nothing and is counted by reason.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "pooledge/dataplane/worker/config.hpp"
#include "pooledge/dataplane/worker/image_slot.hpp"
#include "pooledge/image/push_server.hpp"

namespace pooledge::dataplane {

struct ImageStats {
    // What serves, for metrics and health (the metrics thread is not an RCU reader).
    std::atomic<uint64_t> serial{0};  // 0 = nothing serves
    std::atomic<uint64_t> build_time{0};
    std::atomic<uint64_t> loaded_unix{0};
    std::atomic<uint64_t> size_bytes{0};
    std::atomic<uint64_t> geo_index_bytes{0};  // the serving image's lookup tables
    std::mutex zone_names_mu;
    std::vector<std::string> zone_names;  // by zone index, for the zone label
    std::atomic<uint64_t> swaps{0};
    std::atomic<uint64_t> last_swap_ns{0};
    std::atomic<uint64_t> swap_ns_total{0};
    // Outcomes by image::push::Status (accepted, current, refused, stale, too_large, ...).
    std::array<std::atomic<uint64_t>, 8> pushes_by_status{};
    // Refused images by what failed: checksum, signature, invalid (bounds, format).
    std::atomic<uint64_t> refused_checksum{0};
    std::atomic<uint64_t> refused_signature{0};
    std::atomic<uint64_t> refused_invalid{0};
};

class Management {
  public:
    Management(const DataplaneConfig& config, ImageSlot& slot, ImageStats& stats);
    ~Management();  // stops and joins the thread
    Management(const Management&) = delete;
    Management& operator=(const Management&) = delete;

    // The last good image from the image directory, served before any control plane
    // connects. False (and a log line) when there is none that verifies.
    bool load_from_disk();

    // Opens the listening sockets (throws std::runtime_error) and starts serving them:
    // connections concurrently, images installed one at a time, Status never waiting.
    void start();

    // Rereads the trusted keys (SIGHUP); keeps the old ones when a file fails to load.
    void reload_keys();

  private:
    // Takes the body of an accepted image (the push server then starts a fresh buffer).
    image::push::Reply handle(image::push::RequestType type, std::vector<uint8_t>& body);
    // Serves `bytes`, already validated as `view` (which points into them).
    void install(std::vector<uint8_t> bytes, const image::ImageView& view, const char* how);

    DataplaneConfig config_;
    ImageSlot& slot_;
    ImageStats& stats_;
    std::mutex keys_mu_;
    std::vector<image::TrustedKey> keys_;
    std::mutex install_mu_;  // one image judged and installed at a time
    // Where the last image went (huge pages or not), so the log says it when it changes.
    std::optional<bool> in_hugepages_;
    std::unique_ptr<image::push::Server> server_;
};

}  // namespace pooledge::dataplane
