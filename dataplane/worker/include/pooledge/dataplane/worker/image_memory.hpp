// Where a loaded image lives: in the EAL's huge pages where it has them, else in ordinary
// memory.
//
// The fast path reads the image and its geo index at random (a name slot, a node, a geo
// line, four address records per query, over 8 MiB of image and a 32 MiB direct table), so
// with 4 KiB pages most of those reads would also miss the TLB. Where the EAL was given huge
// pages, the image is copied into its heap once at install (before the swap, off the fast
// path) and the geo index puts its direct table there too. With --no-huge (the test
// machines), or when the huge pages are full, the image stays where it arrived and the
// direct table goes to an anonymous mapping advised to transparent huge pages: the same
// answers, the TLB as the kernel manages it.
#pragma once

#include <string>

#include "pooledge/dataplane/worker/image_slot.hpp"
#include "pooledge/image/geo_index.hpp"

namespace pooledge::dataplane {

// Copies `img`'s bytes into the EAL's huge pages and moves its view there (no second
// validation), releasing the received buffer. Call before a geo index is attached. False,
// with the reason, when the EAL has no huge pages or not enough free; `img` is unchanged.
bool move_to_hugepages(LoadedImage& img, std::string* why);

// TableMemory of the EAL's heap (rte_malloc, 2 MiB aligned), for the geo index's direct
// table once the image itself is in huge pages.
[[nodiscard]] const image::TableMemory& eal_table_memory() noexcept;

}  // namespace pooledge::dataplane
