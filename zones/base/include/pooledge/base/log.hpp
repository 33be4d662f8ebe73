// One line per event on stderr, with time and level: journald and container runtimes
// collect stderr, and operators grep it. Thread-safe (one write per line).
#pragma once

#include <string_view>

namespace pooledge::base::log {

void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

}  // namespace pooledge::base::log
