#include "debug_names.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "pooledge/dns/dname.hpp"

namespace pooledge::engine::debug {
namespace {

constexpr std::string_view kCountry = "_country";
constexpr std::string_view kStatus = "_status";

bool first_label_is(const dns::Query& q, std::string_view label) noexcept {
    if (q.qname_len == 0 || q.qname[0] != label.size()) {
        return false;
    }
    for (size_t i = 0; i < label.size(); ++i) {
        if (dns::fold_byte(q.qname[1 + i]) != static_cast<uint8_t>(label[i])) {
            return false;
        }
    }
    return true;
}

// Builds one character-string (RFC 1035 3.3: a length byte, then up to 255 bytes) from pieces.
class Text {
  public:
    Text& add(std::string_view s) noexcept {
        const size_t n = std::min(s.size(), sizeof buf_ - len_);
        std::copy_n(s.data(), n, buf_ + len_);
        len_ += n;
        return *this;
    }
    Text& add(uint64_t v) noexcept {
        char digits[20];
        const auto r = std::to_chars(digits, digits + sizeof digits, v);
        return add(std::string_view(digits, static_cast<size_t>(r.ptr - digits)));
    }
    Text& add(const base::IpAddress& a) noexcept {
        char text[INET6_ADDRSTRLEN] = "?";
        (void)inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.bytes.data(), text, sizeof text);
        return add(std::string_view(text));
    }
    void write(dns::WireWriter& w) const noexcept {
        w.u8(static_cast<uint8_t>(len_));
        w.bytes({reinterpret_cast<const uint8_t*>(buf_), len_});
    }

  private:
    char buf_[255];
    size_t len_ = 0;
};

}  // namespace

Name name_of(const dns::Query& q) noexcept {
    if (first_label_is(q, kCountry)) {
        return Name::Country;
    }
    return first_label_is(q, kStatus) ? Name::Status : Name::None;
}

bool status_allowed(const Identity& id, const base::IpAddress& client) noexcept {
    return base::is_loopback(client) ||
           std::any_of(id.status_clients.begin(), id.status_clients.end(),
                       [&](const base::IpPrefix& p) { return p.contains(client); });
}

void write_country(dns::WireWriter& w, const image::ImageView& img, const Location& loc,
                   const Identity& id) noexcept {
    Text().add(loc.source).write(w);
    Text().add(loc.located_by).write(w);
    // The regions the search tries, most specific first, as geodns lists its targets.
    Text targets;
    const auto regions = img.regions();
    for (uint16_t r = loc.region, hops = 0; r != 0 && r < regions.size() && hops < 16;
         r = regions[r].parent, ++hops) {
        targets.add(std::string_view(regions[r].name.data(), regions[r].name_len)).add(" ");
    }
    targets.add("@").write(w);
    Text().add("/").add(loc.scope).write(w);
    Text().add(id.server_id.empty() ? id.nsid : id.server_id).write(w);
}

void write_status(dns::WireWriter& w, const image::ImageView& img, uint32_t now,
                  const Identity& id) noexcept {
    const auto& h = img.header();
    Text().add("serial ").add(h.serial).write(w);
    Text().add("age ").add(now > h.build_time ? now - h.build_time : 0).add("s").write(w);
    Text().add("built ").add(h.build_time).write(w);
    Text().add("zones ").add(img.zones().size()).write(w);
    Text().add("version ").add(id.version.empty() ? std::string_view("-") : id.version).write(w);
}

}  // namespace pooledge::engine::debug
