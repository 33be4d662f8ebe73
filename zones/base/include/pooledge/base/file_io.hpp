// Whole-file reads and crash-safe writes for images, keys' neighbours and state files.
//
// An image on disk is either the old one or the new one, never half of either: write a
// temporary file in the same directory, fsync it, rename it over the target, fsync the
// directory (so the rename itself survives a power cut).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pooledge::base {

[[nodiscard]] bool write_file_atomic(const std::string& path, std::span<const uint8_t> bytes,
                                     std::string* why = nullptr);

// Removes the temporary files a write_file_atomic(path, ...) interrupted by a crash left
// behind (`path.tmp.XXXXXX`), which would otherwise pile up, an image's size each. Returns
// how many it removed. Call it at start, before anything writes `path`.
size_t remove_stale_temp_files(const std::string& path);

// The file's bytes, refusing files larger than `max_size` (a corrupt or hostile file must
// not make us allocate without bound). The buffer is suitably aligned for ImageView.
[[nodiscard]] std::optional<std::vector<uint8_t>> read_file(const std::string& path,
                                                            uint64_t max_size,
                                                            std::string* why = nullptr);

}  // namespace pooledge::base
