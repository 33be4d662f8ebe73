// The public keys this control plane has signed with, recorded in state_dir, so that the
// last good image survives a key rotation: at start it is restored when signed by any of
// them and re-signed with the current key (the dataplanes then trust the new key only).
//
// The record (state_dir/signing-keys) is one hex raw Ed25519 public key per line, newest
// last, at most kMaxRecordedKeys. It is as trusted as the image beside it: both live in the
// control plane's own directory. A missing record is an empty one.
#pragma once

#include <string>
#include <vector>

#include "pooledge/image/signature.hpp"

namespace pooledge::control {

inline constexpr size_t kMaxRecordedKeys = 16;

// The recorded keys; nothing (and a reason) when the file exists but is damaged.
[[nodiscard]] std::vector<image::TrustedKey> recorded_keys(const std::string& path,
                                                           std::string* why);

// Adds `key` (if new) as the newest, dropping the oldest past kMaxRecordedKeys; written
// atomically. False and a reason when it cannot be written.
[[nodiscard]] bool record_key(const std::string& path, const std::array<uint8_t, 32>& key,
                              std::string* why);

}  // namespace pooledge::control
