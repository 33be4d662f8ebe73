// Read-only view of a zone image, validated once before use.
//
// ImageView::load() checks everything a hostile or damaged blob could use to make a reader
// stray: magic, version, sizes, the checksum, every offset, count, index and name, the
// ordering the lookups rely on. After that the accessors below do no checks at all: they are
// the fast path, and the validator is what makes them safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "pooledge/image/format.hpp"
#include "pooledge/image/geo.hpp"
#include "pooledge/image/weighted.hpp"

namespace pooledge::dns {
struct Query;
}

namespace pooledge::image {

class GeoIndex;

// SHA-256 of an image with the checksum and the signature block (sig_alg, reserved0, key_id,
// signature) taken as zero; nothing when the image is shorter than a header or OpenSSL fails.
[[nodiscard]] std::optional<std::array<uint8_t, 32>> image_checksum(std::span<const uint8_t> image);

// Computes the checksum and stores it in the image's header (after the builder lays it out,
// after a signer or a test edits it). False when the image is shorter than a header or
// OpenSSL fails.
[[nodiscard]] bool seal_image_checksum(std::span<uint8_t> image);

// Which kind of check an image failed, for counters (the reason text is for people).
// Signature is load_trusted's (signature.hpp).
enum class LoadFailure : uint8_t { None, Invalid, Checksum, Signature };

class ImageView {
  public:
    // Validates `bytes` (which must stay mapped while the view is used; 8-byte aligned).
    // On failure returns nothing and, when `why` is given, a reason naming what is wrong;
    // `failure`, when given, says whether the checksum or another check failed.
    [[nodiscard]] static std::optional<ImageView> load(std::span<const uint8_t> bytes,
                                                       std::string* why = nullptr,
                                                       LoadFailure* failure = nullptr);

    // The same view over `copy`, a byte-for-byte copy of bytes() (8-byte aligned) that the
    // caller made, without validating again (one SHA-256 pass per image): for moving an image
    // into other memory, such as huge pages. Before a geo index is attached, since the index
    // points into the bytes too; nothing when one is, or the sizes differ.
    [[nodiscard]] std::optional<ImageView> moved_to(std::span<const uint8_t> copy) const noexcept;

    [[nodiscard]] const format::Header& header() const noexcept { return *header_; }
    [[nodiscard]] std::span<const uint8_t> bytes() const noexcept { return bytes_; }

    // Exact, case-folded lookup of the parsed question name.
    [[nodiscard]] const format::Node* find_node(const dns::Query& q) const noexcept;
    // Starts fetching the name-index slot find_node reads first for a name of this hash.
    void prefetch_node(uint64_t qname_hash) const noexcept {
        __builtin_prefetch(index_.data() + (qname_hash & (index_.size() - 1)));
    }
    // Index of the innermost zone the question name belongs to, or -1.
    [[nodiscard]] int find_zone(const dns::Query& q) const noexcept;

    [[nodiscard]] std::span<const format::Node> nodes() const noexcept { return nodes_; }
    [[nodiscard]] std::span<const format::Entry> entries(const format::Node& n) const noexcept {
        return entries_.subspan(n.first_entry, n.entry_count);
    }
    [[nodiscard]] std::span<const uint8_t> node_name(const format::Node& n) const noexcept {
        return names_.subspan(n.name_off, n.name_len);
    }
    // rrset ids are 1-based; 0 is never passed here.
    [[nodiscard]] const format::RRset& rrset(uint32_t id) const noexcept { return rrsets_[id - 1]; }
    [[nodiscard]] size_t rrset_count() const noexcept { return rrsets_.size(); }
    [[nodiscard]] uint32_t dispatch(uint32_t first, uint16_t region) const noexcept {
        return dispatch_[first + region];
    }
    [[nodiscard]] std::span<const uint8_t> rdata(uint32_t index) const noexcept {
        const auto& ref = rdata_index_[index];
        return rdata_.subspan(ref.offset, ref.length);
    }
    // Address sets: per host its address and alias-table column (Draw4/6), and the running
    // weight sums (read only by the exact fallback of a draw and by the weight-0 fill).
    [[nodiscard]] std::span<const format::Draw4> draw4() const noexcept { return draw4_; }
    [[nodiscard]] std::span<const uint64_t> cum4() const noexcept { return cum4_; }
    [[nodiscard]] std::span<const format::Draw6> draw6() const noexcept { return draw6_; }
    [[nodiscard]] std::span<const uint64_t> cum6() const noexcept { return cum6_; }
    [[nodiscard]] std::span<const format::Region> regions() const noexcept { return regions_; }
    [[nodiscard]] std::span<const format::Zone> zones() const noexcept { return zones_; }

    // Through the attached GeoIndex when there is one, else by binary search over the ranges
    // (geo_search4/6, the reference the index is tested against). Same results either way.
    [[nodiscard]] GeoMatch geo_lookup4(uint32_t addr) const noexcept;
    [[nodiscard]] GeoMatch geo_lookup6(uint64_t hi, uint64_t lo) const noexcept;
    [[nodiscard]] GeoMatch geo_search4(uint32_t addr) const noexcept;
    [[nodiscard]] GeoMatch geo_search6(uint64_t hi, uint64_t lo) const noexcept;
    [[nodiscard]] std::span<const uint32_t> geo4_starts() const noexcept { return geo4_start_; }
    [[nodiscard]] std::span<const uint16_t> geo4_regions() const noexcept { return geo4_region_; }
    [[nodiscard]] std::span<const format::Geo6Key> geo6_starts() const noexcept {
        return geo6_start_;
    }
    [[nodiscard]] std::span<const uint16_t> geo6_regions() const noexcept { return geo6_region_; }
    [[nodiscard]] size_t geo4_ranges() const noexcept { return geo4_start_.size(); }
    [[nodiscard]] size_t geo6_ranges() const noexcept { return geo6_start_.size(); }

    // Attaches lookup tables built from this view (GeoIndex::build); they point into the
    // same bytes, so they live no longer than those. Copies of the view share them.
    void use_geo_index(std::shared_ptr<const GeoIndex> index) noexcept;
    [[nodiscard]] const GeoIndex* geo_index() const noexcept { return geo_index_.get(); }

  private:
    ImageView() = default;
    [[nodiscard]] bool validate(std::string& why, bool& bad_checksum);

    std::span<const uint8_t> bytes_;
    const format::Header* header_ = nullptr;
    std::span<const uint8_t> names_;
    std::span<const format::IndexSlot> index_;
    std::span<const format::Node> nodes_;
    std::span<const format::Entry> entries_;
    std::span<const uint32_t> dispatch_;
    std::span<const format::RRset> rrsets_;
    std::span<const format::RdataRef> rdata_index_;
    std::span<const uint8_t> rdata_;
    std::span<const format::Draw4> draw4_;
    std::span<const uint64_t> cum4_;
    std::span<const format::Draw6> draw6_;
    std::span<const uint64_t> cum6_;
    std::span<const format::Region> regions_;
    std::span<const format::Zone> zones_;
    std::span<const uint32_t> geo4_start_;
    std::span<const uint16_t> geo4_region_;
    std::span<const format::Geo6Key> geo6_start_;
    std::span<const uint16_t> geo6_region_;
    std::shared_ptr<const GeoIndex> geo_index_;
};

}  // namespace pooledge::image
