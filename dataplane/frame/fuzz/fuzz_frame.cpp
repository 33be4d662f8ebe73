// libFuzzer target: whole Ethernet frames through classify() and, for the fast path, the
// service's answer step (answer_dns_in_place() over a real image, or the NTP step's two
// halves), as a worker handles them. The first byte picks the room the reply may grow
// into (an mbuf's tailroom varies) and, with 0x20, the abuse protection's paths: DNS through
// a rate limiter that holds nearly everything back (slip to TC=1, cookie verification), NTP
// answered as a KoD RATE. Neither may ever send more than it received.
#include <cstdint>
#include <cstring>
#include <vector>

#include "pooledge/dataplane/frame/classify.hpp"
#include "pooledge/dataplane/frame/dns_answer.hpp"
#include "pooledge/dataplane/frame/ntp_answer.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/model.hpp"
#include "pooledge/image/reader.hpp"

using namespace pooledge;

namespace {

struct Fixture {
    std::vector<uint8_t> bytes;
    std::optional<image::ImageView> view;
    engine::Identity identity{.nsid = "fuzz", .server_id = "fuzz", .version = "fuzz"};
    base::Rng rng{7};
    std::array<uint8_t, 4> v4[1] = {{192, 0, 2, 53}};
    std::array<uint8_t, 16> v6[1] = {
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
    dataplane::ServiceAddresses svc{{0x02, 0, 0, 0, 0, 0x53}, v4, v6, true};
    ntp::ClockState clock = [] {
        ntp::ClockState c;
        c.synchronised = true;
        c.leap = ntp::Leap::None;
        c.stratum = 2;
        return c;
    }();

    limit::Rrl rrl = [] {
        limit::RrlConfig c;
        c.rate = {0.01, 0.01, 0.01};
        c.window = 1;
        c.slip = 1;  // every limited response slipped
        c.table_entries = 64;
        return limit::Rrl(c, 1, 0);
    }();
    limit::RrlWorker rrl_state{1000, 1};

    Fixture() {
        identity.cookie_secret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        image::ImageModel m;
        m.regions = {{"europe", ""}, {"de", "europe"}};
        m.prefixes = {{*base::IpPrefix::parse("198.51.100.0/24"), "de", true}};
        image::ZoneModel z;
        z.origin = "pool.ntp.org";
        z.soa = image::SoaRecord{"ns1.pool.ntp.org", "h.pool.ntp.org", 1, 1, 1, 1, 1, 1};
        z.labels[""].ns = {"ns1.pool.ntp.org"};
        z.labels["0"].a = {{*base::IpAddress::parse("203.0.113.1"), 1},
                           {*base::IpAddress::parse("203.0.113.2"), 1}};
        z.labels["0.de"].a = {{*base::IpAddress::parse("203.0.113.49"), 1}};
        z.labels["2"].aaaa = {{*base::IpAddress::parse("2001:db8::123"), 1}};
        m.zones.push_back(z);
        bytes = image::compile_image(m, 1, 1);
        view = image::ImageView::load(bytes);
        (void)image::attach_geo_index(*view);  // the fast path's lookups, as a dataplane has
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture f;
    if (size < 2) {
        return 0;
    }
    const size_t room = 64u * (data[0] & 0x1F);
    std::vector<uint8_t> buf(size - 1 + room);
    std::memcpy(buf.data(), data + 1, size - 1);
    const bool limits = (data[0] & 0x20) != 0;
    const auto c = dataplane::classify({buf.data(), size - 1}, f.svc);
    if (c.verdict == dataplane::Verdict::FastPath && c.service == dataplane::Service::Ntp) {
        const auto p = dataplane::prepare_ntp_in_place(buf, c.layout, f.clock, 1);
        if (p.request.verdict == ntp::Verdict::Answer) {
            if (limits) {
                dataplane::kod_in_place(buf, p.reply, 10);
            }
            if (dataplane::finish_ntp_in_place(buf, p.reply, 2) > size - 1) {
                __builtin_trap();  // an NTP answer (a KoD too) is never longer than its request
            }
        }
    } else if (c.verdict == dataplane::Verdict::FastPath && limits) {
        const engine::AnswerContext ctx{&*f.view, &f.identity, &f.rng, 1700000000};
        const dataplane::DnsLimits l{&f.rrl, &f.rrl_state, 1000000000};
        dataplane::DnsPrepared p;
        dataplane::prepare_dns_in_place(buf, c.layout, ctx, p, &l);
        dataplane::resolve_dns(p, ctx);
        const auto a = dataplane::finish_dns_in_place(buf, p, ctx, true, &l);
        if (a.rrl.action == limit::Action::Slip && !a.cookie_bypass && a.length > size - 1) {
            __builtin_trap();  // a slipped answer is never longer than its query
        }
        if (a.length > buf.size()) {
            __builtin_trap();
        }
    } else if (c.verdict == dataplane::Verdict::FastPath) {
        const engine::AnswerContext ctx{&*f.view, &f.identity, &f.rng, 1};
        const auto a = dataplane::answer_dns_in_place(buf, c.layout, ctx);
        if (a.length > buf.size()) {
            __builtin_trap();
        }
    }
    return 0;
}
