#include "pooledge/base/log.hpp"

#include <gtest/gtest.h>

namespace pooledge::base::log {
namespace {

// Registry values and peers' reasons end up in log messages: no byte of theirs may start a
// new line or reach the terminal as a control sequence.
TEST(Log, ControlCharactersAreEscaped) {
    EXPECT_EQ(escape("plain text, quotes \"x\" and \\ stay"),
              "plain text, quotes \"x\" and \\ stay");
    EXPECT_EQ(escape("a\nb"), "a\\x0ab");
    EXPECT_EQ(escape(std::string_view("\x1b[31mred\x7f\0", 10)), "\\x1b[31mred\\x7f\\x00");
    EXPECT_EQ(escape("tab\there\r"), "tab\\x09here\\x0d");
    EXPECT_EQ(escape("ünïcode stays"), "ünïcode stays");
}

}  // namespace
}  // namespace pooledge::base::log
