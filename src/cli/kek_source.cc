// KEK sources of `vmcrypt disk` (src/cli/kek_source.h).
#include "src/cli/kek_source.h"

#include <memory>
#include <string>

#include "vmcrypt/base/file_util.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/object.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::cli {
namespace {

constexpr size_t kKekSize = 32;  // AES-256 (docs/disk-format.md "Key safe")

// Parses HOST:PORT (an IPv6 host in brackets) into `options`.
Status ParseServer(const std::string& server, kmip::ClientOptions* options) {
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == server.size()) {
    return InvalidArgumentError("--kmip-server must be HOST:PORT, not \"" + server + "\"");
  }
  std::string host = server.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string digits = server.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("bad port in --kmip-server \"" + server + "\"");
  }
  const int port = std::stoi(digits);
  if (port <= 0 || port > 65535) {
    return InvalidArgumentError("bad port in --kmip-server \"" + server + "\"");
  }
  options->host = host;
  options->port = static_cast<uint16_t>(port);
  return OkStatus();
}

// The key bytes of a Get response: a Symmetric Key whose Key Block is in Raw
// format (1.4 §2.1.3) or Transparent Symmetric Key format (§2.1.7.1: Key
// Material { Key }), not wrapped, AES when the algorithm is given.
Result<SecretBytes> KeyBytes(const kmip::GetResponse& r, const std::string& key_id) {
  const std::string name = "key " + key_id;
  if (r.object.type != kmip::ObjectType::kSymmetricKey || !r.object.key_block) {
    return InvalidArgumentError(name + " is not a Symmetric Key");
  }
  const kmip::KeyBlock& b = *r.object.key_block;
  if (b.wrapped_key_value || b.key_wrapping_data) {
    return InvalidArgumentError(name + " came back wrapped; a KEK must be returned in the clear");
  }
  if (b.cryptographic_algorithm &&
      *b.cryptographic_algorithm != static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes)) {
    return InvalidArgumentError(name + " is not an AES key");
  }
  SecretBytes key;
  if (b.key_format_type == static_cast<uint32_t>(kmip::KeyFormatType::kRaw)) {
    key = b.key_material.Clone();
  } else if (b.key_format_type ==
                 static_cast<uint32_t>(kmip::KeyFormatType::kTransparentSymmetricKey) &&
             b.key_material_structure) {
    const ttlv::Item* k = b.key_material_structure->Find(ttlv::tag::kKey);
    if (k == nullptr || k->type() != ttlv::ItemType::kByteString) {
      return InvalidArgumentError(name + ": Transparent Symmetric Key without a Key");
    }
    key = SecretBytes(std::span<const uint8_t>(k->bytes().data(), k->bytes().size()));
  } else {
    return InvalidArgumentError(name + " has Key Format Type " + std::to_string(b.key_format_type) +
                                "; a KEK must be Raw or Transparent Symmetric Key");
  }
  if (key.size() != kKekSize) {
    return InvalidArgumentError(name + " is " + std::to_string(key.size()) + " bytes, a KEK is 32");
  }
  return key;
}

// Whether key `key_id` in `state` may serve `use` (kek_source.h KekUse).
Status CheckState(const kmip::Attribute* state, const std::string& key_id, KekUse use) {
  if (state == nullptr) return InvalidArgumentError("key " + key_id + " has no State attribute");
  const auto value = static_cast<kmip::State>(state->value.int_value());
  std::string name(kmip::StateName(value));
  if (name.empty()) name = "in state " + std::to_string(state->value.int_value());
  switch (value) {
    case kmip::State::kActive:
      return OkStatus();
    case kmip::State::kPreActive:
      return FailedPreconditionError("key " + key_id +
                                     " is Pre-Active: activate it on the KMIP server first");
    case kmip::State::kDeactivated:
    case kmip::State::kCompromised:
      if (use == KekUse::kUnwrap) return OkStatus();
      return FailedPreconditionError("key " + key_id + " is " + name +
                                     ": it may still unwrap existing DEKs, but new ones need "
                                     "an Active key");
    default:
      return FailedPreconditionError("key " + key_id + " is " + name);
  }
}

}  // namespace

Result<SecretBytes> LoadKmipKey(const KekSource& server, const std::string& key_id, KekUse use,
                                const std::string& what) {
  if (key_id.empty())
    return InvalidArgumentError("the " + what + " from --kmip-server needs its key id");
  if (server.ca.empty() || server.cert.empty() || server.key.empty()) {
    return InvalidArgumentError("--kmip-server needs --ca, --cert and --key (mutual TLS)");
  }
  kmip::ClientOptions options;
  RETURN_IF_ERROR(ParseServer(server.kmip_server, &options));
  options.ca_file = server.ca;
  options.cert_file = server.cert;
  options.key_file = server.key;
  const std::string prefix = "KMIP server " + server.kmip_server + ": ";
  auto client = kmip::Client::Create(options);
  if (!client.ok()) return client.status().WithContext(prefix.substr(0, prefix.size() - 2));
  kmip::GetRequest request;
  request.uid = key_id;
  kmip::GetAttributesRequest query;
  query.uid = key_id;
  query.names = {"State"};
  auto attrs = (*client)->GetAttributes(query);
  if (!attrs.ok()) {
    (*client)->Close();
    return Status(attrs.status().code(),
                  prefix + attrs.status().message() + " for key id " + key_id);
  }
  if (Status s = CheckState(kmip::FindAttribute(attrs->attributes, "State"), key_id, use);
      !s.ok()) {
    (*client)->Close();
    return Status(s.code(), prefix + s.message());
  }
  auto got = (*client)->Get(request);
  (*client)->Close();
  if (!got.ok()) {
    return Status(got.status().code(), prefix + got.status().message() + " for key id " + key_id);
  }
  auto key = KeyBytes(*got, key_id);
  if (!key.ok()) return Status(key.status().code(), prefix + key.status().message());
  return key;
}

Result<SecretBytes> KekSource::Load(KekUse use, const std::string& what) const {
  // The KEK, and the DEKs it unwraps, will live in this process.
  RETURN_IF_ERROR(DisableCoreDumps());
  LockProcessMemory();
  if (file.empty() == kmip_server.empty()) {
    return InvalidArgumentError("give the " + what +
                                " as --kek-file FILE or as --kmip-server HOST:PORT --key-id ID");
  }
  if (from_kmip()) return LoadKmipKey(*this, key_id, use, what);
  auto kek = ReadSecretFile(file);
  if (!kek.ok()) return kek.status().WithContext(what + " file " + file);
  if (kek->size() != kKekSize) {
    return InvalidArgumentError(what + " file " + file + " must hold 32 raw bytes, it holds " +
                                std::to_string(kek->size()));
  }
  return kek;
}

void AddKekSourceOptions(CLI::App* cmd, KekSource* source, const std::string& key_id_help) {
  cmd->add_option("--kek-file", source->file, "KEK: a file of 32 raw bytes, mode 0600");
  cmd->add_option("--kmip-server", source->kmip_server,
                  "or: get the KEK (a 256-bit AES key) from this KMIP server, HOST:PORT");
  cmd->add_option("--ca", source->ca, "with --kmip-server: the server's CA certificate (PEM)");
  cmd->add_option("--cert", source->cert, "with --kmip-server: client certificate (PEM)");
  cmd->add_option("--key", source->key, "with --kmip-server: client private key (PEM)");
  cmd->add_option("--key-id", source->key_id, key_id_help);
}

}  // namespace vmcrypt::cli
