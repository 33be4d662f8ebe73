// Bounds-checked cursors over DNS wire data.
//
// Every parse and every write in pooledge goes through these two types. The error is sticky:
// once a read or write would cross the end, the cursor stops moving, every later read returns
// zero and every later write is dropped, and ok() stays false. Callers check ok() once at the
// points where a decision depends on it instead of after each field, which keeps handlers
// linear and still never touches a byte outside the span. A record of fixed size can be
// claimed whole with one check (WireWriter::claim) and filled with the stores below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace pooledge::dns {

// Big-endian stores into bytes claimed from a WireWriter.
inline void store16(uint8_t* p, uint16_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void store32(uint8_t* p, uint32_t v) noexcept {
    store16(p, static_cast<uint16_t>(v >> 16));
    store16(p + 2, static_cast<uint16_t>(v));
}

class WireReader {
  public:
    constexpr WireReader() noexcept = default;
    explicit constexpr WireReader(std::span<const uint8_t> data) noexcept : data_(data) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] size_t pos() const noexcept { return pos_; }
    [[nodiscard]] size_t size() const noexcept { return data_.size(); }
    [[nodiscard]] size_t remaining() const noexcept { return ok_ ? data_.size() - pos_ : 0; }
    [[nodiscard]] std::span<const uint8_t> data() const noexcept { return data_; }

    // Marks the cursor failed; used by parsers for semantic errors found mid-record.
    void fail() noexcept { ok_ = false; }

    [[nodiscard]] bool can_read(size_t n) const noexcept { return ok_ && n <= data_.size() - pos_; }

    uint8_t u8() noexcept {
        if (!can_read(1)) {
            return fail_zero();
        }
        return data_[pos_++];
    }

    uint16_t u16() noexcept {
        if (!can_read(2)) {
            return fail_zero();
        }
        const uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
        pos_ += 2;
        return v;
    }

    uint32_t u32() noexcept {
        if (!can_read(4)) {
            return fail_zero();
        }
        const uint32_t v = uint32_t{data_[pos_]} << 24 | uint32_t{data_[pos_ + 1]} << 16 |
                           uint32_t{data_[pos_ + 2]} << 8 | uint32_t{data_[pos_ + 3]};
        pos_ += 4;
        return v;
    }

    // Returns a view of the next n bytes and moves past them; empty on failure.
    std::span<const uint8_t> bytes(size_t n) noexcept {
        if (!can_read(n)) {
            fail_zero();
            return {};
        }
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    void skip(size_t n) noexcept { (void)bytes(n); }

    // Peeks without moving; zero when out of bounds (and the cursor is not failed by a peek).
    [[nodiscard]] uint8_t peek_u8() const noexcept { return can_read(1) ? data_[pos_] : 0; }

  private:
    uint8_t fail_zero() noexcept {
        ok_ = false;
        return 0;
    }

    std::span<const uint8_t> data_{};
    size_t pos_ = 0;
    bool ok_ = true;
};

class WireWriter {
  public:
    explicit constexpr WireWriter(std::span<uint8_t> buf) noexcept : buf_(buf) {}
    // Continues a message whose first `pos` bytes are already written.
    constexpr WireWriter(std::span<uint8_t> buf, size_t pos) noexcept
        : buf_(buf), pos_(pos <= buf.size() ? pos : 0), ok_(pos <= buf.size()) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] size_t pos() const noexcept { return pos_; }
    [[nodiscard]] size_t capacity() const noexcept { return buf_.size(); }
    [[nodiscard]] size_t remaining() const noexcept { return ok_ ? buf_.size() - pos_ : 0; }
    [[nodiscard]] std::span<const uint8_t> written() const noexcept {
        return std::span<const uint8_t>(buf_.data(), pos_);
    }

    [[nodiscard]] bool can_write(size_t n) const noexcept { return ok_ && n <= buf_.size() - pos_; }

    void u8(uint8_t v) noexcept {
        if (reserve(1)) {
            buf_[pos_++] = v;
        }
    }

    void u16(uint16_t v) noexcept {
        if (reserve(2)) {
            buf_[pos_] = static_cast<uint8_t>(v >> 8);
            buf_[pos_ + 1] = static_cast<uint8_t>(v);
            pos_ += 2;
        }
    }

    void u32(uint32_t v) noexcept {
        if (reserve(4)) {
            buf_[pos_] = static_cast<uint8_t>(v >> 24);
            buf_[pos_ + 1] = static_cast<uint8_t>(v >> 16);
            buf_[pos_ + 2] = static_cast<uint8_t>(v >> 8);
            buf_[pos_ + 3] = static_cast<uint8_t>(v);
            pos_ += 4;
        }
    }

    // memmove, not memcpy: the answer engine may write a response over its own query.
    void bytes(std::span<const uint8_t> src) noexcept {
        if (reserve(src.size()) && !src.empty()) {
            std::memmove(buf_.data() + pos_, src.data(), src.size());
            pos_ += src.size();
        }
    }

    // Claims the next `n` bytes for the caller to fill, with one bounds check: a record of
    // fixed size is then written whole. nullptr (and the writer failed) if they do not fit.
    [[nodiscard]] uint8_t* claim(size_t n) noexcept {
        if (!reserve(n)) {
            return nullptr;
        }
        uint8_t* p = buf_.data() + pos_;
        pos_ += n;
        return p;
    }

    // Overwrites a 16-bit field written earlier (lengths and counts known only afterwards).
    void patch_u16(size_t at, uint16_t v) noexcept {
        if (ok_ && at + 2 <= pos_) {
            buf_[at] = static_cast<uint8_t>(v >> 8);
            buf_[at + 1] = static_cast<uint8_t>(v);
        }
    }

    // Moves the end back to an earlier position (to drop a record that did not fit) and
    // clears the error, so the caller can finish a truncated message.
    void rewind(size_t to) noexcept {
        if (to <= pos_) {
            pos_ = to;
            ok_ = true;
        }
    }

    void fail() noexcept { ok_ = false; }

  private:
    bool reserve(size_t n) noexcept {
        if (!can_write(n)) {
            ok_ = false;
            return false;
        }
        return true;
    }

    std::span<uint8_t> buf_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace pooledge::dns
