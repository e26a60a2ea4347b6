// `vmcrypt kmip replay`: runs OASIS KMIP test cases (XML, or the JSON
// encoding) against a KMIP server and says which pass. The comparison rules
// are those of kmip/replay.h, documented in docs/kmip-replay.md.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/kmip_io.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/replay.h"

namespace vmcrypt::cli {
namespace {

struct ReplayOptions {
  std::string server;
  std::string ca;
  std::string cert;
  std::string key;
  std::string server_name;
  double timeout_seconds = 30;
  bool json = false;
  std::vector<std::string> files;
};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<kmip::ClientOptions> MakeClientOptions(const ReplayOptions& o) {
  kmip::ClientOptions co;
  const size_t colon = o.server.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--server must be HOST:PORT");
  co.host = o.server.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(o.server.substr(colon + 1));
  } catch (const std::exception&) {
    port = 0;
  }
  if (port <= 0 || port > 65535) return InvalidArgumentError("bad port in --server");
  co.port = static_cast<uint16_t>(port);
  co.ca_file = o.ca;
  co.cert_file = o.cert;
  co.key_file = o.key;
  co.server_name = o.server_name;
  co.io_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000));
  co.connect_timeout = co.io_timeout;
  return co;
}

// Replays one file over `client` (connected on first use, kept open between
// messages and files).
kmip::ReplayOutcome ReplayFile(const std::string& path, kmip::Client& client) {
  Result<std::string> text = ReadInput(path);
  if (!text.ok()) return {false, text.status().message()};
  Result<std::vector<ttlv::Item>> messages = ParseText(*text, "auto");
  if (!messages.ok()) return {false, messages.status().message()};
  // Each request goes out in its own protocol version (KMIP 1.4 §6.1).
  kmip::SendFn send = [&client](const kmip::RequestMessage& request) {
    client.set_version(request.version);
    return client.Send(request);
  };
  return kmip::ReplayDocument(*messages, send, NowSeconds);
}

int RunReplay(const ReplayOptions& o) {
  Result<kmip::ClientOptions> options = MakeClientOptions(o);
  Result<std::unique_ptr<kmip::Client>> client =
      options.ok() ? kmip::Client::Create(*options)
                   : Result<std::unique_ptr<kmip::Client>>(options.status());
  int passed = 0;
  int failed = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& file : o.files) {
    kmip::ReplayOutcome outcome =
        client.ok()
            ? ReplayFile(file, **client)
            : kmip::ReplayOutcome{false, "cannot create a client: " + client.status().message()};
    outcome.passed ? ++passed : ++failed;
    if (o.json) {
      results.push_back({{"file", file}, {"passed", outcome.passed}, {"failure", outcome.failure}});
    } else if (outcome.passed) {
      std::cout << "PASS " << file << "\n";
    } else {
      std::cout << "FAIL " << file << ": " << outcome.failure << "\n";
    }
    std::cout.flush();
  }
  if (o.json) {
    nlohmann::json doc = {{"results", results}, {"passed", passed}, {"failed", failed}};
    std::cout << doc.dump(2) << "\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

void AddKmipReplayCommand(CLI::App& kmip, Action* action) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* replay = kmip.add_subcommand("replay",
                                         "run OASIS KMIP test cases against a server (see "
                                         "docs/kmip-replay.md)");
  replay->add_option("--server", o->server, "HOST:PORT of the KMIP server")->required();
  replay->add_option("--ca", o->ca, "CA certificate(s) that sign the server certificate (PEM)")
      ->required();
  replay->add_option("--cert", o->cert, "client certificate (PEM)");
  replay->add_option("--key", o->key, "client private key (PEM)");
  replay->add_option("--server-name", o->server_name, "name to check in the server certificate");
  replay->add_option("--timeout", o->timeout_seconds, "connect and I/O timeout, seconds");
  replay->add_flag("--json", o->json, "print the results as one JSON document");
  replay->add_option("files", o->files, "test-case files (KMIP XML or JSON)")->required();
  replay->callback([action, o] { *action = [o] { return RunReplay(*o); }; });
}

}  // namespace vmcrypt::cli
