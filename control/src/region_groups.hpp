// geodns's region groups: the level between a subdivision ("us-ca") and its country ("us").
#pragma once

#include <string_view>

namespace pooledge::control {

// The group of a region such as "us-ca" ("us-west"), or empty when it has none (geodns
// groups only United States and Russian subdivisions).
[[nodiscard]] std::string_view region_group_of(std::string_view region);

}  // namespace pooledge::control
