#include "pooledge/dataplane/worker/image_slot.hpp"

#include <rte_malloc.h>

namespace pooledge::dataplane {

void EalFree::operator()(uint8_t* p) const noexcept {
    rte_free(p);
}

}  // namespace pooledge::dataplane
