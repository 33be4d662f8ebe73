// SeqSlot: a reader gets nothing before the first publish, the latest value after, and never
// a torn one while the writer republishes as fast as it can.
#include "pooledge/dataplane/worker/seq_slot.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

namespace pooledge::dataplane {
namespace {

// Several words, so that a torn copy (some words from one publish, some from the next) shows.
struct Value {
    std::array<uint64_t, 6> words{};
};

Value filled(uint64_t n) {
    Value v;
    v.words.fill(n);
    return v;
}

TEST(SeqSlotTest, NothingBeforeTheFirstPublish) {
    const SeqSlot<Value> slot;
    Value copy = filled(7);
    uint64_t seen = 0;
    EXPECT_FALSE(slot.refresh(copy, seen));
    EXPECT_EQ(copy.words[0], 7U);  // untouched
}

TEST(SeqSlotTest, CopiesTheLatestValueOnce) {
    SeqSlot<Value> slot;
    Value copy;
    uint64_t seen = 0;
    slot.publish(filled(1));
    slot.publish(filled(2));
    ASSERT_TRUE(slot.refresh(copy, seen));
    EXPECT_EQ(copy.words, filled(2).words);
    const uint64_t first = seen;
    // Nothing new: the copy stays, and says so.
    copy = filled(99);
    ASSERT_TRUE(slot.refresh(copy, seen));
    EXPECT_EQ(copy.words[0], 99U);
    EXPECT_EQ(seen, first);
    slot.publish(filled(3));
    ASSERT_TRUE(slot.refresh(copy, seen));
    EXPECT_EQ(copy.words, filled(3).words);
    EXPECT_GT(seen, first);
}

TEST(SeqSlotTest, NeverATornCopyUnderConcurrentPublishes) {
    SeqSlot<Value> slot;
    slot.publish(filled(1));
    constexpr uint64_t kPublishes = 200000;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (uint64_t n = 2; n <= kPublishes; ++n) {
            slot.publish(filled(n));
        }
        done.store(true, std::memory_order_release);
    });
    Value copy;
    uint64_t seen = 0;
    uint64_t last = 0;
    uint64_t torn = 0;
    uint64_t backwards = 0;
    auto check = [&] {
        ASSERT_TRUE(slot.refresh(copy, seen));
        for (const uint64_t w : copy.words) {
            torn += w != copy.words[0] ? 1 : 0;
        }
        backwards += copy.words[0] < last ? 1 : 0;
        last = copy.words[0];
    };
    while (!done.load(std::memory_order_acquire)) {
        check();
    }
    writer.join();
    check();  // the writer is done: this copy is the last value
    EXPECT_EQ(torn, 0U);
    EXPECT_EQ(backwards, 0U);
    EXPECT_EQ(last, kPublishes);
}

}  // namespace
}  // namespace pooledge::dataplane
