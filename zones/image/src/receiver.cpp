#include "pooledge/image/receiver.hpp"

#include <string>

namespace pooledge::image {

Judgement judge(std::span<const uint8_t> bytes, std::span<const TrustedKey> keys,
                const std::optional<ServingImage>& serving) {
    using push::Status;
    const uint64_t current = serving ? serving->serial : 0;
    std::string why;
    LoadFailure failure = LoadFailure::None;
    const auto view = load_trusted(bytes, keys, &why, &failure);
    if (!view) {
        return {{Status::Refused, current, why}, failure, std::nullopt};
    }
    const auto& h = view->header();
    if (serving && h.serial == serving->serial && h.checksum == serving->checksum) {
        return {{Status::Current, current, "already serving this image"},
                LoadFailure::None,
                std::nullopt};
    }
    if (serving && h.serial <= serving->serial) {
        return {{Status::Stale, current,
                 "serial " + std::to_string(h.serial) + " is not newer than the serving " +
                     std::to_string(serving->serial)},
                LoadFailure::None,
                std::nullopt};
    }
    return {{Status::Accepted, h.serial, ""}, LoadFailure::None, view};
}

push::Reply judge_image(std::span<const uint8_t> bytes, std::span<const TrustedKey> keys,
                        const std::optional<ServingImage>& serving) {
    return judge(bytes, keys, serving).reply;
}

}  // namespace pooledge::image
