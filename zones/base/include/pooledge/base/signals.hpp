// Both processes take SIGTERM, SIGINT and SIGHUP in one thread with sigwait(): block them
// in the calling thread before any other thread starts (threads inherit the mask), and
// ignore SIGPIPE (a peer that goes away is an error return, not a death).
#pragma once

#include <signal.h>

namespace pooledge::base {

// Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE; returns the set to sigwait() on.
[[nodiscard]] sigset_t block_control_signals();

}  // namespace pooledge::base
