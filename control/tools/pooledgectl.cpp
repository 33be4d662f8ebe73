// pooledgectl: look inside zone images.
//
//   pooledgectl inspect IMAGE [--key PUB]...
//   pooledgectl answer --image IMAGE --client IP [--ecs PREFIX] [--tcp] [--nsid] QNAME [QTYPE]
//   pooledgectl addresses IMAGE
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pooledge/base/file_io.hpp"
#include "pooledge/dns/dname.hpp"
#include "pooledge/dns/message.hpp"
#include "pooledge/dns/protocol.hpp"
#include "pooledge/engine/answer.hpp"
#include "pooledge/image/geo_index.hpp"
#include "pooledge/image/reader.hpp"
#include "pooledge/image/signature.hpp"

namespace base = pooledge::base;
namespace dns = pooledge::dns;
namespace engine = pooledge::engine;
namespace image = pooledge::image;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  pooledgectl inspect IMAGE [--key PUB]...\n"
    "      header, serial, build time, counts per zone, signature status (checked against\n"
    "      the given public keys).\n"
    "  pooledgectl answer --image IMAGE --client IP [--ecs PREFIX] [--tcp] [--nsid]\n"
    "                     QNAME [QTYPE [CLASS]]\n"
    "      what a dataplane serving IMAGE answers this client, in dig's format.\n"
    "  pooledgectl addresses IMAGE\n"
    "      every name's A and AAAA address sets, per region where the name answers by\n"
    "      location, as JSON (perf/peers.sh builds the other servers' zones from it).\n";

[[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(stderr, "pooledgectl: %s\n%s", what.c_str(), kUsage);
    std::exit(2);
}

constexpr uint64_t kMaxImage = uint64_t{4} << 30;

std::vector<uint8_t> read_image(const std::string& path) {
    std::string why;
    auto bytes = base::read_file(path, kMaxImage, &why);
    if (!bytes) {
        std::fprintf(stderr, "pooledgectl: %s\n", why.c_str());
        std::exit(1);
    }
    return std::move(*bytes);
}

std::string iso_time(uint64_t t) {
    const time_t tt = static_cast<time_t>(t);
    tm utc{};
    gmtime_r(&tt, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

int inspect(int argc, char** argv) {
    std::string path;
    std::vector<image::TrustedKey> keys;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--key" && i + 1 < argc) {
            std::string why;
            auto k = image::TrustedKey::load(argv[++i], &why);
            if (!k) {
                std::fprintf(stderr, "pooledgectl: %s\n", why.c_str());
                return 1;
            }
            keys.push_back(*k);
        } else if (path.empty() && !a.starts_with("--")) {
            path = a;
        } else {
            usage_error("unexpected argument '" + a + "'");
        }
    }
    if (path.empty()) {
        usage_error("inspect needs an IMAGE");
    }
    const auto bytes = read_image(path);
    std::string why;
    const auto view = image::ImageView::load(bytes, &why);
    if (!view) {
        std::printf("image:       %s\nvalid:       no: %s\n", path.c_str(), why.c_str());
        return 1;
    }
    const auto& h = view->header();
    std::printf("image:       %s\n", path.c_str());
    std::printf("valid:       yes (bounds and checksum)\n");
    std::printf("format:      %.8s version %u\n", h.magic.data(), h.version);
    std::printf("serial:      %llu\n", static_cast<unsigned long long>(h.serial));
    std::printf("build time:  %s (%llu)\n", iso_time(h.build_time).c_str(),
                static_cast<unsigned long long>(h.build_time));
    std::printf("size:        %llu bytes\n", static_cast<unsigned long long>(h.total_size));
    std::printf("checksum:    %s\n", image::to_hex(h.checksum).c_str());
    if (h.sig_alg != image::format::SigAlg::Ed25519) {
        std::printf("signature:   none (unsigned: dataplanes refuse it)\n");
    } else if (keys.empty()) {
        std::printf("signature:   Ed25519, key id %s (not checked: no --key given)\n",
                    image::to_hex(h.key_id).c_str());
    } else {
        std::printf("signature:   Ed25519, key id %s: %s\n", image::to_hex(h.key_id).c_str(),
                    image::to_string(image::check_signature(*view, keys)));
    }
    std::printf("regions:     %zu\n", view->regions().size());
    std::printf("geo ranges:  %zu IPv4, %zu IPv6\n", view->geo4_ranges(), view->geo6_ranges());
    std::printf("addresses:   %zu IPv4, %zu IPv6 (entries in all address sets)\n",
                view->draw4().size(), view->draw6().size());
    std::printf("rrsets:      %zu\n", view->rrset_count());
    // Per zone: names, and the names that answer by the client's location.
    std::map<int, std::pair<size_t, size_t>> per_zone;
    for (const auto& n : view->nodes()) {
        auto& [names, geo] = per_zone[n.zone];
        ++names;
        for (const auto& e : view->entries(n)) {
            if (e.kind == image::format::EntryKind::Geo) {
                ++geo;
                break;
            }
        }
    }
    std::printf("zones:       %zu\n", view->zones().size());
    for (size_t z = 0; z < view->zones().size(); ++z) {
        const auto& apex = view->nodes()[view->zones()[z].apex_node];
        const auto [names, geo] = per_zone[static_cast<int>(z)];
        std::printf("  %-30s %zu names, %zu answer by location\n",
                    dns::name_to_text(view->node_name(apex)).c_str(), names, geo);
    }
    if (!keys.empty() && image::check_signature(*view, keys) != image::SignatureStatus::Valid) {
        return 1;
    }
    return 0;
}

uint16_t type_from_text(const std::string& t) {
    static const std::map<std::string, uint16_t> kTypes = {
        {"A", dns::rrtype::A},       {"NS", dns::rrtype::NS},   {"CNAME", dns::rrtype::CNAME},
        {"SOA", dns::rrtype::SOA},   {"MX", dns::rrtype::MX},   {"TXT", dns::rrtype::TXT},
        {"AAAA", dns::rrtype::AAAA}, {"ANY", dns::rrtype::ANY}, {"HINFO", dns::rrtype::HINFO}};
    std::string up;
    for (const char c : t) {
        up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (const auto it = kTypes.find(up); it != kTypes.end()) {
        return it->second;
    }
    if (up.starts_with("TYPE")) {
        return static_cast<uint16_t>(std::strtoul(up.c_str() + 4, nullptr, 10));
    }
    usage_error("unknown query type '" + t + "'");
}

int answer_cmd(int argc, char** argv) {
    std::string image_path, client, ecs;
    std::vector<std::string> positional;
    bool tcp = false, nsid = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--image" && i + 1 < argc) {
            image_path = argv[++i];
        } else if (a == "--client" && i + 1 < argc) {
            client = argv[++i];
        } else if (a == "--ecs" && i + 1 < argc) {
            ecs = argv[++i];
        } else if (a == "--tcp") {
            tcp = true;
        } else if (a == "--nsid") {
            nsid = true;
        } else if (!a.starts_with("--")) {
            positional.push_back(a);
        } else {
            usage_error("unexpected argument '" + a + "'");
        }
    }
    if (image_path.empty() || client.empty() || positional.empty() || positional.size() > 3) {
        usage_error("answer needs --image, --client and a QNAME");
    }
    const auto addr = base::IpAddress::parse(client);
    if (!addr) {
        usage_error("--client: '" + client + "' is not an IP address");
    }
    dns::QueryOptions q;
    q.qtype = positional.size() > 1 ? type_from_text(positional[1]) : dns::rrtype::A;
    if (positional.size() > 2) {
        q.qclass =
            positional[2] == "CH" || positional[2] == "ch" ? dns::rrclass::CH : dns::rrclass::IN;
    }
    q.edns = true;  // as dig sends by default
    q.nsid = nsid;
    if (!ecs.empty()) {
        q.ecs = ecs;
    }
    const auto query = dns::build_query(positional[0], q);
    if (!query) {
        usage_error("bad query name '" + positional[0] + "' or ECS prefix '" + ecs + "'");
    }
    const auto bytes = read_image(image_path);
    std::string why;
    auto view = image::ImageView::load(bytes, &why);
    if (!view) {
        std::fprintf(stderr, "pooledgectl: %s: %s\n", image_path.c_str(), why.c_str());
        return 1;
    }
    // The lookup tables a dataplane builds, so the answer is the dataplane's, path included.
    if (!image::attach_geo_index(*view, &why)) {
        std::fprintf(stderr, "pooledgectl: %s: no geo index (%s): using the range search\n",
                     image_path.c_str(), why.c_str());
    }
    const engine::Identity identity{
        .nsid = "pooledgectl", .server_id = "pooledgectl", .version = "pooledge"};
    base::Rng rng(static_cast<uint64_t>(std::time(nullptr)));
    const engine::AnswerContext ctx{&*view, &identity, &rng,
                                    static_cast<uint32_t>(std::time(nullptr))};
    std::vector<uint8_t> out(65535);
    const auto r = engine::answer(
        ctx, engine::Client{*addr, tcp ? engine::Transport::Tcp : engine::Transport::Udp}, *query,
        out);
    if (r.size == 0) {
        std::printf(";; no answer: the dataplane drops this query\n");
        return 0;
    }
    out.resize(r.size);
    const auto m = dns::decode(out);
    std::printf("; pooledgectl answer: image serial %llu, client %s%s%s, %s\n",
                static_cast<unsigned long long>(view->header().serial), client.c_str(),
                ecs.empty() ? "" : ", ECS ", ecs.c_str(), tcp ? "TCP" : "UDP");
    std::fputs(dns::to_dig_text(m).c_str(), stdout);
    std::printf("\n;; MSG SIZE  rcvd: %u\n", r.size);
    return m.ok ? 0 : 1;
}

// The address set of an A or AAAA rrset, as text.
std::vector<std::string> rrset_addresses(const image::ImageView& view,
                                         const image::format::RRset& rr) {
    std::vector<std::string> out;
    out.reserve(rr.count);
    for (uint32_t i = 0; i < rr.count; ++i) {
        base::IpAddress a;
        if (rr.type == dns::rrtype::A) {
            a.family = 4;
            const auto& d = view.draw4()[rr.first + i].addr;
            std::copy(d.begin(), d.end(), a.bytes.begin());
        } else {
            a.family = 6;
            a.bytes = view.draw6()[rr.first + i].addr;
        }
        out.push_back(a.to_string());
    }
    return out;
}

// Prints what every name answers for A and AAAA: a static rrset, or one per region for a name
// that answers by location (the compiler has already folded each region's fallback into its
// slot). Rrsets are listed once and referred to by id. "located" lists the regions the geo
// table can place a client in, so a consumer can leave out the regions no client reaches.
int addresses_cmd(int argc, char** argv) {
    if (argc != 3 || std::string(argv[2]).starts_with("--")) {
        usage_error("addresses needs an IMAGE");
    }
    const auto bytes = read_image(argv[2]);
    std::string why;
    const auto view = image::ImageView::load(bytes, &why);
    if (!view) {
        std::fprintf(stderr, "pooledgectl: %s: %s\n", argv[2], why.c_str());
        return 1;
    }
    using nlohmann::ordered_json;
    ordered_json out = {{"serial", view->header().serial}};
    const auto regions = view->regions();
    ordered_json& jregions = out["regions"] = ordered_json::array();
    for (const auto& r : regions) {
        jregions.push_back(
            {{"name", std::string(r.name.data(), std::min<size_t>(r.name_len, r.name.size()))},
             {"parent", r.parent}});
    }
    std::set<uint16_t> located(view->geo4_regions().begin(), view->geo4_regions().end());
    located.insert(view->geo6_regions().begin(), view->geo6_regions().end());
    out["located"] = located;
    // Only address rrsets of the entry's own type: a CNAME node's per-type entries point at
    // its CNAME rrset, in every region or in some.
    const auto addresses_of = [&](uint32_t id, uint16_t qtype) {
        return id != 0 && view->rrset(id).type == qtype;
    };
    std::set<uint32_t> used;
    ordered_json& names = out["names"] = ordered_json::array();
    for (const auto& n : view->nodes()) {
        ordered_json name = {{"name", dns::name_to_text(view->node_name(n))}};
        for (const auto& e : view->entries(n)) {
            if (e.qtype != dns::rrtype::A && e.qtype != dns::rrtype::AAAA) {
                continue;
            }
            const char* type = e.qtype == dns::rrtype::A ? "A" : "AAAA";
            if (e.kind == image::format::EntryKind::Static) {
                if (addresses_of(e.ref, e.qtype)) {
                    name[type] = {{"static", e.ref}};
                    used.insert(e.ref);
                }
                continue;
            }
            ordered_json slots = ordered_json::object();
            for (size_t r = 0; r < regions.size(); ++r) {
                const uint32_t id = view->dispatch(e.ref, static_cast<uint16_t>(r));
                if (addresses_of(id, e.qtype)) {
                    slots[std::to_string(r)] = id;
                    used.insert(id);
                }
            }
            if (!slots.empty()) {
                name[type] = {{"by_region", std::move(slots)}};
            }
        }
        if (name.size() > 1) {
            names.push_back(std::move(name));
        }
    }
    ordered_json& rrsets = out["rrsets"] = ordered_json::object();
    for (const uint32_t id : used) {
        const auto& rr = view->rrset(id);
        rrsets[std::to_string(id)] = {
            {"ttl", rr.ttl}, {"hosts", rr.max_hosts}, {"addresses", rrset_addresses(*view, rr)}};
    }
    // A name may hold any byte: replace what is not UTF-8 rather than fail.
    std::puts(out.dump(-1, ' ', false, ordered_json::error_handler_t::replace).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage_error("no command");
    }
    const std::string cmd = argv[1];
    if (cmd == "inspect") {
        return inspect(argc, argv);
    }
    if (cmd == "answer") {
        return answer_cmd(argc, argv);
    }
    if (cmd == "addresses") {
        return addresses_cmd(argc, argv);
    }
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    usage_error("unknown command '" + cmd + "'");
}
