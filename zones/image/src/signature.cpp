#include "pooledge/image/signature.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pooledge/base/fd.hpp"

namespace pooledge::image {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct FileClose {
    void operator()(FILE* f) const noexcept { std::fclose(f); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using FilePtr = std::unique_ptr<FILE, FileClose>;

// OpenSSL's own reason for the last failure, so an operator sees "bad decrypt", not "failed".
std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) {
        return "unknown OpenSSL error";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

std::optional<std::array<uint8_t, 32>> raw_public(EVP_PKEY* key) {
    std::array<uint8_t, 32> raw{};
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 || len != raw.size()) {
        return std::nullopt;
    }
    return raw;
}

bool write_pem(const std::string& path, mode_t mode, bool is_private, EVP_PKEY* key,
               std::string* why) {
    // O_EXCL: keygen must never silently replace a key that dataplanes already trust.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        base::set_why(why, path + ": " + std::strerror(errno));
        return false;
    }
    FilePtr f(::fdopen(fd, "w"));
    if (!f) {
        ::close(fd);
        base::set_why(why, path + ": " + std::strerror(errno));
        return false;
    }
    const int ok = is_private
                       ? PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_PUBKEY(f.get(), key);
    if (ok != 1 || std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0) {
        base::set_why(why, path + ": cannot write key: " + openssl_error());
        return false;
    }
    return true;
}

}  // namespace

struct SigningKey::Impl {
    PkeyPtr key;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
    public_ = raw_public(impl_->key.get()).value_or(std::array<uint8_t, 32>{});
}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

KeyId key_id_of(const std::array<uint8_t, 32>& raw_public_key) {
    std::array<uint8_t, SHA256_DIGEST_LENGTH> digest{};
    SHA256(raw_public_key.data(), raw_public_key.size(), digest.data());
    KeyId id{};
    std::memcpy(id.data(), digest.data(), id.size());
    return id;
}

std::string to_hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

std::optional<SigningKey> SigningKey::generate(std::string* why) {
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) {
        base::set_why(why, "cannot generate an Ed25519 key: " + openssl_error());
        return std::nullopt;
    }
    return SigningKey(std::make_unique<Impl>(Impl{std::move(key)}));
}

std::optional<SigningKey> SigningKey::load(const std::string& path, std::string* why) {
    FilePtr f(std::fopen(path.c_str(), "re"));
    if (!f) {
        base::set_why(why, path + ": " + std::strerror(errno));
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(::fileno(f.get()), &st) != 0) {
        base::set_why(why, path + ": " + std::strerror(errno));
        return std::nullopt;
    }
    if ((st.st_mode & 077) != 0) {
        base::set_why(why, path + ": private key is readable by group or others (chmod 600 it)");
        return std::nullopt;
    }
    PkeyPtr key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
    if (!key) {
        base::set_why(why, path + ": not a PEM private key: " + openssl_error());
        return std::nullopt;
    }
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
        base::set_why(why, path + ": not an Ed25519 key");
        return std::nullopt;
    }
    return SigningKey(std::make_unique<Impl>(Impl{std::move(key)}));
}

bool SigningKey::save(const std::string& private_path, const std::string& public_path,
                      std::string* why) const {
    return write_pem(private_path, 0600, true, impl_->key.get(), why) &&
           write_pem(public_path, 0644, false, impl_->key.get(), why);
}

std::optional<std::array<uint8_t, 64>> SigningKey::sign(std::span<const uint8_t> message) const {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::array<uint8_t, 64> sig{};
    size_t len = sig.size();
    // Ed25519 is a one-shot scheme: no digest, the whole message to DigestSign at once.
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
        len != sig.size()) {
        ERR_clear_error();
        return std::nullopt;
    }
    return sig;
}

std::optional<TrustedKey> TrustedKey::load(const std::string& path, std::string* why) {
    FilePtr f(std::fopen(path.c_str(), "re"));
    if (!f) {
        base::set_why(why, path + ": " + std::strerror(errno));
        return std::nullopt;
    }
    PkeyPtr key(PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr));
    if (!key) {
        base::set_why(why, path + ": not a PEM public key: " + openssl_error());
        return std::nullopt;
    }
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
        base::set_why(why, path + ": not an Ed25519 key");
        return std::nullopt;
    }
    const auto raw = raw_public(key.get());
    if (!raw) {
        base::set_why(why, path + ": cannot read the raw public key: " + openssl_error());
        return std::nullopt;
    }
    return TrustedKey{*raw, key_id_of(*raw), path};
}

bool sign_image(std::span<uint8_t> image, const SigningKey& key, std::string* why) {
    if (image.size() < sizeof(format::Header)) {
        base::set_why(why, "image is shorter than its header");
        return false;
    }
    if (!seal_image_checksum(image)) {
        base::set_why(why, "cannot compute the image checksum");
        return false;
    }
    format::Header h;
    std::memcpy(&h, image.data(), sizeof h);
    const auto sig = key.sign(h.checksum);
    if (!sig) {
        base::set_why(why, "Ed25519 signing failed");
        return false;
    }
    h.sig_alg = format::SigAlg::Ed25519;
    h.reserved0 = 0;
    h.key_id = key.key_id();
    h.signature = *sig;
    std::memcpy(image.data(), &h, sizeof h);
    return true;
}

const char* to_string(SignatureStatus s) noexcept {
    switch (s) {
        case SignatureStatus::Valid:
            return "valid";
        case SignatureStatus::Unsigned:
            return "unsigned";
        case SignatureStatus::UnknownKey:
            return "unknown key";
        case SignatureStatus::Forged:
            return "forged";
    }
    return "?";
}

SignatureStatus check_signature(const ImageView& image, std::span<const TrustedKey> keys) {
    const format::Header& h = image.header();
    if (h.sig_alg != format::SigAlg::Ed25519) {
        return SignatureStatus::Unsigned;
    }
    for (const TrustedKey& k : keys) {
        if (k.id != h.key_id) {
            continue;
        }
        PkeyPtr key(
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, k.raw.data(), k.raw.size()));
        MdCtxPtr ctx(EVP_MD_CTX_new());
        const bool ok =
            key && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), h.signature.data(), h.signature.size(), h.checksum.data(),
                             h.checksum.size()) == 1;
        ERR_clear_error();
        // A key id is a hint, not an identity: only the signature check decides, and a
        // colliding id of an honest key must not mask a match further down the list.
        if (ok) {
            return SignatureStatus::Valid;
        }
    }
    for (const TrustedKey& k : keys) {
        if (k.id == h.key_id) {
            return SignatureStatus::Forged;
        }
    }
    return SignatureStatus::UnknownKey;
}

std::optional<ImageView> load_trusted(std::span<const uint8_t> bytes,
                                      std::span<const TrustedKey> keys, std::string* why,
                                      LoadFailure* failure) {
    auto view = ImageView::load(bytes, why, failure);
    if (!view) {
        return std::nullopt;
    }
    if (failure != nullptr) {
        *failure = LoadFailure::Signature;  // unless it verifies, below
    }
    switch (check_signature(*view, keys)) {
        case SignatureStatus::Valid:
            if (failure != nullptr) {
                *failure = LoadFailure::None;
            }
            return view;
        case SignatureStatus::Unsigned:
            base::set_why(why, "image is not signed");
            break;
        case SignatureStatus::UnknownKey:
            base::set_why(why, "image is signed by key " + to_hex(view->header().key_id) +
                                   ", which is not trusted");
            break;
        case SignatureStatus::Forged:
            base::set_why(why, "signature does not verify with key " +
                                   to_hex(view->header().key_id) + " (forged or altered image)");
            break;
    }
    return std::nullopt;
}

}  // namespace pooledge::image
