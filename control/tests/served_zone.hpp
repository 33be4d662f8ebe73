// A compiled zone as a dataplane serves it, for tests: the real image builder, signature,
// reader and answer engine. GeoIP is replaced by prefix overrides (client address ->
// country), so each test says where its clients are.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pooledge/base/rng.hpp"
#include "pooledge/control/image_build.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/reader.hpp"

namespace pooledge::control::test {

class ServedZone {
  public:
    ServedZone(image::ZoneModel zone, std::vector<image::GeoPrefixModel> overrides,
               uint64_t build_time = 1795000000, const GeoTable* geo = nullptr) {
        ImageInputs in;
        in.zones.push_back(std::move(zone));
        in.overrides = std::move(overrides);
        in.geo = geo;
        in.serial = 5;
        in.build_time = build_time;
        const auto key = image::SigningKey::generate();
        EXPECT_TRUE(key);
        bytes_ = build_signed_image(in, *key);
        view_ = image::ImageView::load(bytes_);
        EXPECT_TRUE(view_);
    }

    engine::Identity& identity() { return id_; }
    void set_now(uint32_t now) { now_ = now; }

    dns::Message ask(const std::string& client, const std::string& name, uint16_t qtype = 1,
                     dns::QueryOptions o = {}) {
        o.qtype = qtype;
        const engine::AnswerContext ctx{&*view_, &id_, &rng_, now_};
        std::vector<uint8_t> out(1500);
        const auto resp =
            engine::answer(ctx, {*base::IpAddress::parse(client)}, *dns::build_query(name, o), out);
        out.resize(resp.size);
        return dns::decode(out);
    }

    std::set<std::string> addresses(const std::string& client, const std::string& name,
                                    uint16_t qtype = 1, const dns::QueryOptions& o = {}) {
        std::set<std::string> got;
        for (const auto& rec : ask(client, name, qtype, o).answer) {
            got.insert(rec.text);
        }
        return got;
    }

  private:
    std::vector<uint8_t> bytes_;
    std::optional<image::ImageView> view_;
    engine::Identity id_;
    base::Rng rng_{1};
    uint32_t now_ = 0;
};

}  // namespace pooledge::control::test
