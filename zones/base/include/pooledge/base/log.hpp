// One line per event on stderr, with time and level: journald and container runtimes
// collect stderr, and operators grep it. Thread-safe (one write per line). Messages often
// quote input (registry values, file names, peers' reasons): control characters in them are
// escaped, so no input can forge a log line or drive the operator's terminal.
#pragma once

#include <string>
#include <string_view>

namespace pooledge::base::log {

// `message` with bytes below 0x20 and 0x7F written as \xNN (a backslash stays as it is).
[[nodiscard]] std::string escape(std::string_view message);

void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

}  // namespace pooledge::base::log
