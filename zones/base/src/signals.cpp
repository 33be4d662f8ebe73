#include "pooledge/base/signals.hpp"

#include <pthread.h>

#include <initializer_list>

namespace pooledge::base {

sigset_t block_control_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int s : {SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&set, s);
    }
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return set;
}

void block_async_signals() {
    sigset_t set;
    sigfillset(&set);
    for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
        sigdelset(&set, fault);
    }
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace pooledge::base
