#include "pooledge/dataplane/worker/image_slot.hpp"

#include <rte_malloc.h>
#include <urcu-qsbr.h>

namespace pooledge::dataplane {

void EalFree::operator()(uint8_t* p) const noexcept {
    rte_free(p);
}

ImageSlot::~ImageSlot() {
    // Workers are stopped by now; nothing reads the pointer any more.
    delete current_;
}

const LoadedImage* ImageSlot::get() const noexcept {
    return rcu_dereference(current_);
}

std::chrono::nanoseconds ImageSlot::publish(std::unique_ptr<LoadedImage> next) {
    const auto t0 = std::chrono::steady_clock::now();
    LoadedImage* old = current_;
    rcu_assign_pointer(current_, next.release());
    synchronize_rcu();
    delete old;
    return std::chrono::steady_clock::now() - t0;
}

}  // namespace pooledge::dataplane
