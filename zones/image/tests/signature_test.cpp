#include "pooledge/image/signature.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pooledge/base/file_io.hpp"
#include "pooledge/image/receiver.hpp"
#include "test_util.hpp"

namespace pooledge::image {
namespace {

namespace fs = std::filesystem;

class SignatureTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("pooledge-sig-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        image_ = compile_image(testkit::small_model(), 42, 1763740800);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::pair<SigningKey, TrustedKey> make_key(const std::string& name) {
        auto key = SigningKey::generate();
        EXPECT_TRUE(key.has_value());
        const std::string priv = (dir_ / (name + ".key")).string();
        const std::string pub = (dir_ / (name + ".pub")).string();
        std::string why;
        EXPECT_TRUE(key->save(priv, pub, &why)) << why;
        auto loaded = SigningKey::load(priv, &why);
        EXPECT_TRUE(loaded.has_value()) << why;
        auto trusted = TrustedKey::load(pub, &why);
        EXPECT_TRUE(trusted.has_value()) << why;
        return {std::move(*loaded), *trusted};
    }

    fs::path dir_;
    std::vector<uint8_t> image_;
};

TEST_F(SignatureTest, SignedImageVerifiesWithItsKey) {
    auto [key, trusted] = make_key("a");
    ASSERT_TRUE(sign_image(image_, key));
    std::string why;
    const std::vector<TrustedKey> keys = {trusted};
    const auto view = load_trusted(image_, keys, &why);
    ASSERT_TRUE(view.has_value()) << why;
    EXPECT_EQ(view->header().key_id, trusted.id);
    EXPECT_EQ(check_signature(*view, keys), SignatureStatus::Valid);
}

// Receivers count refusals by the check that failed, from the loader, not from the text.
TEST_F(SignatureTest, JudgeNamesTheFailedCheck) {
    auto [key, trusted] = make_key("a");
    auto [other, other_trusted] = make_key("b");
    const std::vector<TrustedKey> keys = {trusted};
    ASSERT_TRUE(sign_image(image_, key));
    EXPECT_EQ(judge(image_, keys, std::nullopt).refusal, LoadFailure::None);
    EXPECT_EQ(judge(image_, keys, std::nullopt).reply.status, push::Status::Accepted);
    // The accepted view is over the very bytes judged, ready to serve without a second check.
    const auto accepted = judge(image_, keys, std::nullopt);
    ASSERT_TRUE(accepted.view.has_value());
    EXPECT_EQ(accepted.view->bytes().data(), image_.data());
    auto corrupt = image_;
    corrupt[corrupt.size() - 10] ^= 1;
    EXPECT_EQ(judge(corrupt, keys, std::nullopt).refusal, LoadFailure::Checksum);
    EXPECT_FALSE(judge(corrupt, keys, std::nullopt).view.has_value());
    auto cut = std::vector<uint8_t>(image_.begin(), image_.begin() + 100);
    EXPECT_EQ(judge(cut, keys, std::nullopt).refusal, LoadFailure::Invalid);
    auto foreign = image_;
    ASSERT_TRUE(sign_image(foreign, other));
    const auto j = judge(foreign, keys, std::nullopt);
    EXPECT_EQ(j.reply.status, push::Status::Refused);
    EXPECT_EQ(j.refusal, LoadFailure::Signature);
}

TEST_F(SignatureTest, UnsignedImageIsRefused) {
    auto [key, trusted] = make_key("a");
    std::string why;
    const std::vector<TrustedKey> keys = {trusted};
    EXPECT_FALSE(load_trusted(image_, keys, &why).has_value());
    EXPECT_EQ(why, "image is not signed");
}

TEST_F(SignatureTest, WrongKeyIsRefused) {
    auto [key_a, trusted_a] = make_key("a");
    auto [key_b, trusted_b] = make_key("b");
    ASSERT_TRUE(sign_image(image_, key_a));
    std::string why;
    const std::vector<TrustedKey> only_b = {trusted_b};
    EXPECT_FALSE(load_trusted(image_, only_b, &why).has_value());
    EXPECT_NE(why.find("not trusted"), std::string::npos) << why;
    // Several trusted keys (a key rotation): either one is enough.
    const std::vector<TrustedKey> both = {trusted_b, trusted_a};
    EXPECT_TRUE(load_trusted(image_, both, &why).has_value()) << why;
}

TEST_F(SignatureTest, AlteredImageIsRefusedEvenWithResealedChecksum) {
    auto [key, trusted] = make_key("a");
    ASSERT_TRUE(sign_image(image_, key));
    const std::vector<TrustedKey> keys = {trusted};
    // A forger who edits the body and recomputes the checksum still cannot sign it.
    auto forged = image_;
    auto* h = reinterpret_cast<format::Header*>(forged.data());
    h->serial += 1;
    ASSERT_TRUE(seal_image_checksum(forged));
    std::string why;
    EXPECT_FALSE(load_trusted(forged, keys, &why).has_value());
    EXPECT_NE(why.find("forged"), std::string::npos) << why;
    // Without resealing, the checksum catches it first.
    auto edited = image_;
    edited[edited.size() - 1] ^= 1;
    EXPECT_FALSE(load_trusted(edited, keys, &why).has_value());
    // A flipped signature bit.
    auto flipped = image_;
    reinterpret_cast<format::Header*>(flipped.data())->signature[7] ^= 0x10;
    EXPECT_FALSE(load_trusted(flipped, keys, &why).has_value());
    EXPECT_NE(why.find("forged"), std::string::npos) << why;
}

TEST_F(SignatureTest, TruncatedImageIsRefused) {
    auto [key, trusted] = make_key("a");
    ASSERT_TRUE(sign_image(image_, key));
    const std::vector<TrustedKey> keys = {trusted};
    for (const size_t len : {size_t{0}, size_t{16}, sizeof(format::Header), image_.size() - 1}) {
        std::string why;
        EXPECT_FALSE(
            load_trusted(std::span<const uint8_t>(image_.data(), len), keys, &why).has_value())
            << len;
        EXPECT_FALSE(why.empty());
    }
}

TEST_F(SignatureTest, KeyFilesAreCheckedAndNeverOverwritten) {
    auto [key, trusted] = make_key("a");
    std::string why;
    // keygen refuses to replace an existing key.
    EXPECT_FALSE(key.save((dir_ / "a.key").string(), (dir_ / "other.pub").string(), &why));
    // A private key others can read is refused.
    ASSERT_EQ(::chmod((dir_ / "a.key").c_str(), 0644), 0);
    EXPECT_FALSE(SigningKey::load((dir_ / "a.key").string(), &why).has_value());
    EXPECT_NE(why.find("chmod 600"), std::string::npos) << why;
    // A public key file is not a private key and the reverse.
    EXPECT_FALSE(TrustedKey::load((dir_ / "missing.pub").string(), &why).has_value());
    ASSERT_TRUE(base::write_file_atomic((dir_ / "junk.pub").string(),
                                        std::vector<uint8_t>{'n', 'o', 'p', 'e'}, &why));
    EXPECT_FALSE(TrustedKey::load((dir_ / "junk.pub").string(), &why).has_value());
    EXPECT_NE(why.find("not a PEM public key"), std::string::npos) << why;
}

TEST_F(SignatureTest, OpensslGeneratedKeysWork) {
    // Operators may make keys with the openssl CLI instead of pooledge-control keygen.
    const std::string priv = (dir_ / "ossl.key").string();
    const std::string pub = (dir_ / "ossl.pub").string();
    const std::string cmd = "openssl genpkey -algorithm ed25519 -out " + priv +
                            " 2>/dev/null && chmod 600 " + priv + " && openssl pkey -in " + priv +
                            " -pubout -out " + pub + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) {
        GTEST_SKIP() << "openssl CLI not available";
    }
    std::string why;
    auto key = SigningKey::load(priv, &why);
    ASSERT_TRUE(key.has_value()) << why;
    auto trusted = TrustedKey::load(pub, &why);
    ASSERT_TRUE(trusted.has_value()) << why;
    ASSERT_TRUE(sign_image(image_, *key));
    const std::vector<TrustedKey> keys = {*trusted};
    EXPECT_TRUE(load_trusted(image_, keys, &why).has_value()) << why;
}

TEST(FileIo, AtomicWriteReplacesAndReadRespectsLimit) {
    const auto dir = fs::temp_directory_path() / ("pooledge-io-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "f").string();
    std::string why;
    ASSERT_TRUE(base::write_file_atomic(path, std::vector<uint8_t>(100, 1), &why)) << why;
    ASSERT_TRUE(base::write_file_atomic(path, std::vector<uint8_t>(10, 2), &why)) << why;
    const auto got = base::read_file(path, 1000, &why);
    ASSERT_TRUE(got.has_value()) << why;
    EXPECT_EQ(*got, std::vector<uint8_t>(10, 2));
    EXPECT_FALSE(base::read_file(path, 9, &why).has_value());
    EXPECT_NE(why.find("limit"), std::string::npos);
    // No temporary files are left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
    EXPECT_FALSE(base::write_file_atomic((dir / "no/such/dir/f").string(), {}, &why));
    // What a crash mid-write leaves is removed at the next start; nothing else is.
    for (const char* name : {"f.tmp.a1B2c3", "f.tmp.Zz9yX8", "f.tmp.short", "g.tmp.a1B2c3"}) {
        std::ofstream(dir / name) << "x";
    }
    EXPECT_EQ(base::remove_stale_temp_files(path), 2u);
    EXPECT_TRUE(fs::exists(path));
    EXPECT_TRUE(fs::exists(dir / "f.tmp.short"));
    EXPECT_TRUE(fs::exists(dir / "g.tmp.a1B2c3"));
    fs::remove_all(dir);
}

}  // namespace
}  // namespace pooledge::image
