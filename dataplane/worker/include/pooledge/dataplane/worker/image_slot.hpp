// The serving zone image, swapped with RCU (rcu_slot.hpp): the management thread
// publishes, workers and the TCP thread read.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pooledge/dataplane/worker/rcu_slot.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::dataplane {

// Frees a buffer of the EAL's heap (rte_malloc).
struct EalFree {
    void operator()(uint8_t* p) const noexcept;
};

struct LoadedImage {
    // The bytes the view reads: `bytes` as received, or `huge`, their copy in the EAL's huge
    // pages (image_memory.hpp), after which `bytes` is empty.
    std::vector<uint8_t> bytes;
    std::unique_ptr<uint8_t[], EalFree> huge;
    std::optional<image::ImageView> view;  // always set once published
    uint64_t loaded_unix = 0;
};

using ImageSlot = RcuSlot<LoadedImage>;

}  // namespace pooledge::dataplane
