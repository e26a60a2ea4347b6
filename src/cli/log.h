// Logging and failure reporting shared by the long-running commands (kms
// serve, host serve, disk serve). Internal to the binary.
#ifndef VMCRYPT_SRC_CLI_LOG_H_
#define VMCRYPT_SRC_CLI_LOG_H_

#include <string>

namespace vmcrypt::cli {

// Writes "2026-11-22T17:00:50Z vmcrypt WHO: LINE" to stderr and flushes.
void LogLine(const char* who, const std::string& line);

// Writes "vmcrypt COMMAND: MESSAGE" to stderr; returns 1 (the exit code).
int FailCommand(const std::string& command, const std::string& message);

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_LOG_H_
