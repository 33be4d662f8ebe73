// Ed25519 signatures over zone images (FORMAT.md section 8).
//
// The control plane signs the image checksum with its private key; a dataplane trusts only
// images signed by one of its configured public keys. The checksum covers everything but the
// signature block, so signing never changes what was hashed, and verifying costs one SHA-256
// pass (done by ImageView::load anyway) plus one Ed25519 verification.
//
// Keys are PEM files as OpenSSL writes them (`openssl genpkey -algorithm ed25519` gives an
// equivalent private key; `openssl pkey -pubout` its public half).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pooledge/image/reader.hpp"

namespace pooledge::image {

using KeyId = std::array<uint8_t, 8>;

// First 8 bytes of SHA-256 of the raw 32-byte public key: names the key in an image header,
// in logs and in `pooledgectl inspect`.
[[nodiscard]] KeyId key_id_of(const std::array<uint8_t, 32>& raw_public_key);
[[nodiscard]] std::string to_hex(std::span<const uint8_t> bytes);

class SigningKey {
  public:
    // A fresh key from the OpenSSL RNG; nothing when OpenSSL fails.
    [[nodiscard]] static std::optional<SigningKey> generate(std::string* why = nullptr);
    // A PEM private key file. Refuses files that group or others can read, as ssh does: a
    // leaked signing key lets anyone feed every dataplane.
    [[nodiscard]] static std::optional<SigningKey> load(const std::string& path,
                                                        std::string* why = nullptr);

    // Writes the private key (mode 0600, refusing to overwrite) and the public key (0644).
    [[nodiscard]] bool save(const std::string& private_path, const std::string& public_path,
                            std::string* why = nullptr) const;

    [[nodiscard]] const std::array<uint8_t, 32>& public_key() const noexcept { return public_; }
    [[nodiscard]] KeyId key_id() const { return key_id_of(public_); }

    // Ed25519 signature over `message`; nothing when OpenSSL fails.
    [[nodiscard]] std::optional<std::array<uint8_t, 64>> sign(
        std::span<const uint8_t> message) const;

    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;
    ~SigningKey();

  private:
    struct Impl;
    explicit SigningKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::array<uint8_t, 32> public_{};
};

struct TrustedKey {
    std::array<uint8_t, 32> raw{};
    KeyId id{};
    std::string source;  // file it came from, for messages

    // A PEM public key file (SubjectPublicKeyInfo), Ed25519 only.
    [[nodiscard]] static std::optional<TrustedKey> load(const std::string& path,
                                                        std::string* why = nullptr);
};

// Seals the checksum and fills the signature block. False (with a reason) on failure; the
// image is then unsigned.
[[nodiscard]] bool sign_image(std::span<uint8_t> image, const SigningKey& key,
                              std::string* why = nullptr);

enum class SignatureStatus { Valid, Unsigned, UnknownKey, Forged };
[[nodiscard]] const char* to_string(SignatureStatus s) noexcept;

// Checks the signature block of an image already validated by ImageView::load (so the
// checksum in the header is the image's real checksum).
[[nodiscard]] SignatureStatus check_signature(const ImageView& image,
                                              std::span<const TrustedKey> keys);

// ImageView::load, then the signature: what a receiver does with bytes off the wire or disk.
// The reason names what failed ("checksum mismatch", "signed by unknown key 0123...").
[[nodiscard]] std::optional<ImageView> load_trusted(std::span<const uint8_t> bytes,
                                                    std::span<const TrustedKey> keys,
                                                    std::string* why = nullptr,
                                                    LoadFailure* failure = nullptr);

}  // namespace pooledge::image
