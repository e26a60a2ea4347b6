#include "src/cli/log.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>

namespace vmcrypt::cli {

void LogLine(const char* who, const std::string& line) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(stderr, "%s vmcrypt %s: %s\n", stamp, who, line.c_str());
  std::fflush(stderr);
}

namespace {
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}
}  // namespace

void BlockStopSignals() {
  sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

const char* WaitForStopSignal() {
  sigset_t signals = StopSignals();
  int sig = 0;
  sigwait(&signals, &sig);
  return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

int FailCommand(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "vmcrypt %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

}  // namespace vmcrypt::cli
