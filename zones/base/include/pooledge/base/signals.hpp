// Both processes take SIGTERM, SIGINT and SIGHUP in one thread with sigwait(): block them
// in the calling thread before any other thread starts (threads inherit the mask), and
// ignore SIGPIPE (a peer that goes away is an error return, not a death).
#pragma once

#include <signal.h>

namespace pooledge::base {

// Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE; returns the set to sigwait() on.
[[nodiscard]] sigset_t block_control_signals();

// Blocks every asynchronous signal in the calling thread (faults stay deliverable): for
// busy-polling threads, where a handler would be a system call and a stall. The process
// must keep another thread that takes what a library signals (net_tap's SIGIO).
void block_async_signals();

}  // namespace pooledge::base
