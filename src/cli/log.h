// Logging and failure reporting shared by the long-running commands (kms
// serve, host serve, disk serve). Internal to the binary.
#ifndef VMCRYPT_SRC_CLI_LOG_H_
#define VMCRYPT_SRC_CLI_LOG_H_

#include <string>

namespace vmcrypt::cli {

// Writes "2026-11-22T17:00:50Z vmcrypt WHO: LINE" to stderr and flushes.
void LogLine(const char* who, const std::string& line);

// For servers: blocks SIGTERM and SIGINT in this thread (and so in every
// thread started after the call: they are taken by WaitForStopSignal, not by
// whichever thread they hit), and ignores SIGPIPE. Call before starting
// threads.
void BlockStopSignals();
// Waits for SIGTERM or SIGINT; returns "SIGTERM" or "SIGINT".
const char* WaitForStopSignal();

// Writes "vmcrypt COMMAND: MESSAGE" to stderr; returns 1 (the exit code).
int FailCommand(const std::string& command, const std::string& message);

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_LOG_H_
