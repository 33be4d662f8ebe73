#include "pooledge/dataplane/worker/image_memory.hpp"

#include <rte_eal.h>
#include <rte_malloc.h>

#include <cstring>

#include "pooledge/base/fd.hpp"  // set_why

namespace pooledge::dataplane {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

void* eal_allocate(size_t bytes) {
    return rte_malloc("pooledge_geo_index", bytes, kHugePage);
}

void eal_release(void* p, size_t /*bytes*/) {
    rte_free(p);
}

}  // namespace

bool move_to_hugepages(LoadedImage& img, std::string* why) {
    if (rte_eal_has_hugepages() == 0) {
        base::set_why(why, "the EAL has no huge pages (--no-huge)");
        return false;
    }
    const std::span<const uint8_t> bytes = img.view->bytes();
    auto* copy = static_cast<uint8_t*>(rte_malloc("pooledge_image", bytes.size(), 64));
    if (copy == nullptr) {
        base::set_why(why, "no " + std::to_string(bytes.size()) +
                               " bytes free in the EAL's huge pages (raise -m or --socket-mem)");
        return false;
    }
    std::unique_ptr<uint8_t[], EalFree> owned(copy);
    std::memcpy(copy, bytes.data(), bytes.size());
    auto moved = img.view->moved_to({copy, bytes.size()});
    if (!moved) {
        base::set_why(why, "the view cannot move (a geo index is attached already)");
        return false;
    }
    img.view = *moved;
    img.huge = std::move(owned);
    img.bytes = std::vector<uint8_t>();  // releases the received buffer
    return true;
}

const image::TableMemory& eal_table_memory() noexcept {
    static constexpr image::TableMemory kEal{eal_allocate, eal_release, "EAL huge pages"};
    return kEal;
}

}  // namespace pooledge::dataplane
