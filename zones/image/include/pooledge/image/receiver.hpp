// What every receiver of a pushed image decides before storing or serving it: the image must
// load (bounds, checksum), carry a signature by a trusted key, and be newer than what serves.
// Shared by the dataplane's management thread and the test receiver, so both judge alike.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "pooledge/image/push.hpp"
#include "pooledge/image/reader.hpp"
#include "pooledge/image/signature.hpp"

namespace pooledge::image {

struct ServingImage {
    uint64_t serial = 0;
    std::array<uint8_t, 32> checksum{};
};

// Accepted: valid, trusted and newer (the caller stores it, then serves it); Current: the
// very image already serving; Stale: a lower serial, or the same serial with other contents
// (a replay or a second control plane must not roll a node back or sideways); Refused: the
// reason says which check failed. The reply's serial is the one serving afterwards, assuming
// the caller goes on to serve an Accepted image.
[[nodiscard]] push::Reply judge_image(std::span<const uint8_t> bytes,
                                      std::span<const TrustedKey> keys,
                                      const std::optional<ServingImage>& serving);

struct Judgement {
    push::Reply reply;
    // What failed, for a Refused reply: counters key on this, not on the reason text.
    LoadFailure refusal = LoadFailure::None;
    // For an Accepted reply, the validated view over the bytes judged: a receiver serves it
    // as it is (the bytes must stay where they are), without hashing the image a second time.
    std::optional<ImageView> view;
};

// judge_image, saying which check refused the image.
[[nodiscard]] Judgement judge(std::span<const uint8_t> bytes, std::span<const TrustedKey> keys,
                              const std::optional<ServingImage>& serving);

}  // namespace pooledge::image
