// The serving zone image, swapped with RCU (liburcu QSBR).
//
// Readers (workers, the TCP thread) take the pointer once per loop iteration with
// rcu_dereference() and announce a quiescent state between iterations; the management
// thread publishes a new image with rcu_assign_pointer(), waits for every reader to pass a
// quiescent state (synchronize_rcu) and only then frees the old one. Readers never lock,
// never wait, and never see a half-built or freed image.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class ImageSlot {
  public:
    ImageSlot() = default;
    ~ImageSlot();
    ImageSlot(const ImageSlot&) = delete;
    ImageSlot& operator=(const ImageSlot&) = delete;

    // Reader side: call between rcu_read_lock/quiescent states of a registered thread.
    [[nodiscard]] const LoadedImage* get() const noexcept;

    // Writer side (management thread only, not an RCU reader): publishes `next`, waits a
    // grace period, frees the previous image. Returns how long the swap took.
    std::chrono::nanoseconds publish(std::unique_ptr<LoadedImage> next);

    // For the writer side and metrics: the serving image without RCU protection (only the
    // writer replaces it, so the writer may look at it freely).
    [[nodiscard]] const LoadedImage* writer_view() const noexcept { return current_; }

  private:
    LoadedImage* current_ = nullptr;
};

}  // namespace pooledge::dataplane
