// The signing-key record and restore() across a key rotation: the last good image, signed by
// the key before, is restored, re-signed with the current key and pushed to a real push
// server that trusts the current key only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "pooledge/base/file_io.hpp"
#include "pooledge/base/stopper.hpp"
#include "pooledge/control/controller.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/control/metrics.hpp"
#include "pooledge/control/pusher.hpp"
#include "pooledge/control/signing_keys.hpp"
#include "pooledge/image/push_server.hpp"
#include "pooledge/image/receiver.hpp"

namespace pooledge::control {
namespace {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("pooledge-restore-" + std::to_string(::getpid()));
    TempDir() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

// A key saved as files: the control plane loads its key from signing.key.
struct KeyFiles {
    std::string private_path, public_path;
    image::TrustedKey trusted;
    KeyFiles(const fs::path& dir, const std::string& name)
        : private_path((dir / (name + ".key")).string()),
          public_path((dir / (name + ".pub")).string()) {
        const auto key = image::SigningKey::generate();
        EXPECT_TRUE(key);
        std::string why;
        EXPECT_TRUE(key->save(private_path, public_path, &why)) << why;
        trusted = *image::TrustedKey::load(public_path, &why);
    }
};

std::vector<uint8_t> small_image(const image::SigningKey& key, uint64_t serial) {
    image::ZoneModel z;
    z.origin = "example.net";
    z.soa.mname = "ns.example.net";
    z.soa.rname = "hostmaster.example.net";
    z.labels[""];
    ImageInputs in;
    in.zones.push_back(std::move(z));
    in.serial = serial;
    in.build_time = 1795000000;
    return build_signed_image(in, key);
}

TEST(SigningKeys, RecordKeepsTheNewestLastAndIsBounded) {
    TempDir dir;
    const std::string path = (dir.path / "signing-keys").string();
    std::string why;
    EXPECT_TRUE(recorded_keys(path, &why).empty());
    EXPECT_TRUE(why.empty()) << "a missing record is an empty one, not an error";
    std::vector<std::array<uint8_t, 32>> keys(kMaxRecordedKeys + 4);
    for (size_t i = 0; i < keys.size(); ++i) {
        keys[i].fill(static_cast<uint8_t>(i));
        ASSERT_TRUE(record_key(path, keys[i], &why)) << why;
    }
    auto got = recorded_keys(path, &why);
    ASSERT_EQ(got.size(), kMaxRecordedKeys);
    EXPECT_EQ(got.front().raw, keys[4]);  // the oldest four dropped
    EXPECT_EQ(got.back().raw, keys.back());
    EXPECT_EQ(got.back().id, image::key_id_of(keys.back()));
    // Recording a known key again moves it to the end, once.
    ASSERT_TRUE(record_key(path, keys[10], &why));
    got = recorded_keys(path, &why);
    ASSERT_EQ(got.size(), kMaxRecordedKeys);
    EXPECT_EQ(got.back().raw, keys[10]);
    EXPECT_EQ(std::count_if(got.begin(), got.end(), [&](auto& k) { return k.raw == keys[10]; }), 1);
}

TEST(SigningKeys, DamagedRecordIsReportedAndStartsOver) {
    TempDir dir;
    const std::string path = (dir.path / "signing-keys").string();
    std::ofstream(path) << "not a key\n";
    std::string why;
    EXPECT_TRUE(recorded_keys(path, &why).empty());
    EXPECT_NE(why.find("signing-keys:1: not a hex Ed25519 public key"), std::string::npos) << why;
    std::array<uint8_t, 32> k{};
    k.fill(7);
    ASSERT_TRUE(record_key(path, k, &why)) << why;
    why.clear();
    const auto got = recorded_keys(path, &why);
    ASSERT_EQ(got.size(), 1u) << why;
    EXPECT_EQ(got[0].raw, k);
}

// Receives pushes and judges them with the given keys, as a dataplane would.
class Receiver {
  public:
    Receiver(const fs::path& dir, std::vector<image::TrustedKey> keys)
        : endpoint_(*image::push::Endpoint::parse("unix:" + (dir / "push.sock").string())),
          keys_(std::move(keys)) {
        std::vector<base::Fd> listeners;
        std::string why;
        listeners.emplace_back(image::push::listen_on(endpoint_, &why));
        EXPECT_GE(listeners.back().get(), 0) << why;
        server_ = std::make_unique<image::push::Server>(
            std::move(listeners), image::push::ServerOptions{},
            [this](image::push::RequestType type, std::vector<uint8_t>& body) {
                std::lock_guard lock(mu_);
                if (type == image::push::RequestType::Status) {
                    return image::push::Reply{image::push::Status::Accepted, 0, ""};
                }
                auto j = image::judge(body, keys_, std::nullopt);
                statuses_.push_back(j.reply.status);
                bodies_.push_back(body);
                return j.reply;
            });
    }
    [[nodiscard]] const image::push::Endpoint& endpoint() const { return endpoint_; }
    std::vector<image::push::Status> statuses() {
        std::lock_guard lock(mu_);
        return statuses_;
    }
    std::vector<std::vector<uint8_t>> bodies() {
        std::lock_guard lock(mu_);
        return bodies_;
    }

  private:
    image::push::Endpoint endpoint_;
    std::vector<image::TrustedKey> keys_;
    std::mutex mu_;
    std::vector<image::push::Status> statuses_;
    std::vector<std::vector<uint8_t>> bodies_;
    std::unique_ptr<image::push::Server> server_;
};

ControlConfig config_for(const fs::path& dir, const KeyFiles& key,
                         const image::push::Endpoint& target) {
    ControlConfig c;
    c.key_file = key.private_path;
    c.state_dir = (dir / "state").string();
    c.push.targets = {target};
    c.push.timeout = std::chrono::seconds(5);
    return c;
}

TEST(Restore, LastGoodImageSurvivesAKeyRotation) {
    TempDir dir;
    KeyFiles before(dir.path, "before"), after(dir.path, "after");
    Receiver receiver(dir.path, {after.trusted});  // the dataplanes trust the new key only
    ControlMetrics metrics("");
    base::Stopper stopper;
    std::string why;
    {
        // A control plane running with the key before records it, and leaves an image.
        Pusher pusher(ControlConfig{}.push, metrics);
        Controller first(config_for(dir.path, before, receiver.endpoint()), metrics, pusher,
                         stopper, false);
        const auto key = image::SigningKey::load(before.private_path, &why);
        ASSERT_TRUE(key) << why;
        ASSERT_TRUE(base::write_file_atomic((dir.path / "state" / "last-good.img").string(),
                                            small_image(*key, 77), &why))
            << why;
    }
    const auto stored = *base::read_file((dir.path / "state" / "last-good.img").string(), 1 << 30);
    {
        // Restarted with the new key.
        const ControlConfig config = config_for(dir.path, after, receiver.endpoint());
        Pusher pusher(config.push, metrics);
        Controller second(config, metrics, pusher, stopper, false);
        second.restore();
        for (int i = 0; i < 100 && receiver.statuses().empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    const auto statuses = receiver.statuses();
    ASSERT_FALSE(statuses.empty()) << "the restored image was not pushed";
    EXPECT_EQ(statuses[0], image::push::Status::Accepted);
    const auto pushed = receiver.bodies()[0];
    const auto view = image::load_trusted(pushed, std::vector{after.trusted}, &why);
    ASSERT_TRUE(view) << why;
    EXPECT_EQ(view->header().serial, 77u);
    const auto old_view = image::ImageView::load(stored);
    ASSERT_TRUE(old_view);
    EXPECT_EQ(view->header().checksum, old_view->header().checksum)
        << "re-signing changes the signature, never the contents";
    // And the file in state_dir is the re-signed one, for the next restart.
    EXPECT_EQ(*base::read_file((dir.path / "state" / "last-good.img").string(), 1 << 30), pushed);
}

TEST(Restore, ImageOfAnUnknownKeyIsNotRestored) {
    TempDir dir;
    KeyFiles foreign(dir.path, "foreign"), own(dir.path, "own");
    Receiver receiver(dir.path, {own.trusted, foreign.trusted});
    ControlMetrics metrics("");
    base::Stopper stopper;
    std::string why;
    fs::create_directories(dir.path / "state");
    const auto key = image::SigningKey::load(foreign.private_path, &why);
    ASSERT_TRUE(base::write_file_atomic((dir.path / "state" / "last-good.img").string(),
                                        small_image(*key, 78), &why));
    {
        const ControlConfig config = config_for(dir.path, own, receiver.endpoint());
        Pusher pusher(config.push, metrics);
        Controller c(config, metrics, pusher, stopper, false);
        c.restore();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    EXPECT_TRUE(receiver.statuses().empty()) << "an image by a key never recorded was pushed";
}

}  // namespace
}  // namespace pooledge::control
