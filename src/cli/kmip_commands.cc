// `vmcrypt kmip decode|encode|call|replay`: tools for anyone who debugs a KMS.
#include <cstdio>
#include <iostream>
#include <string>

#include "src/cli/commands.h"
#include "src/cli/kmip_io.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/codec.h"

namespace vmcrypt::cli {
namespace {

int Fail(const Status& s, const char* command) {
  std::fprintf(stderr, "vmcrypt kmip %s: %s\n", command, s.message().c_str());
  return 1;
}

struct DecodeOptions {
  std::string from = "hex";
  std::string to = "xml";
  std::string input = "-";
};

int RunDecode(const DecodeOptions& o) {
  auto data = ReadInput(o.input);
  if (!data.ok()) return Fail(data.status(), "decode");
  auto items = o.from == "bin" ? DecodeBinary(*data) : DecodeHexLines(*data);
  if (!items.ok()) return Fail(items.status(), "decode");
  std::cout << FormatText(*items, o.to);
  return 0;
}

struct EncodeOptions {
  std::string from = "auto";
  std::string to = "hex";
  std::string input = "-";
};

int RunEncode(const EncodeOptions& o) {
  auto text = ReadInput(o.input);
  if (!text.ok()) return Fail(text.status(), "encode");
  auto items = ParseText(*text, o.from);
  if (!items.ok()) return Fail(items.status(), "encode");
  // Test-case placeholders ($NOW, $DATA_0, ...) get stand-in values.
  ttlv::PlaceholderMap placeholders;
  for (size_t i = 0; i < items->size(); ++i) {
    auto wire = ttlv::Encode((*items)[i], &placeholders);
    if (!wire.ok()) {
      return Fail(wire.status().WithContext("message " + std::to_string(i + 1)), "encode");
    }
    if (o.to == "bin") {
      std::cout.write(reinterpret_cast<const char*>(wire->data()),
                      static_cast<std::streamsize>(wire->size()));
    } else {
      std::cout << HexEncode(*wire) << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace

void AddKmipCommands(CLI::App& app, Action* action) {
  CLI::App* kmip = app.add_subcommand("kmip", "KMIP protocol tools");
  kmip->require_subcommand(1);

  auto decode = std::make_shared<DecodeOptions>();
  CLI::App* dec = kmip->add_subcommand("decode", "pretty-print TTLV as XML or JSON");
  dec->add_option("--from", decode->from, "input form")->check(CLI::IsMember({"hex", "bin"}));
  dec->add_option("--to", decode->to, "output form")->check(CLI::IsMember({"xml", "json"}));
  dec->add_option("input", decode->input, "FILE or - for standard input");
  dec->callback([action, decode] { *action = [decode] { return RunDecode(*decode); }; });

  auto encode = std::make_shared<EncodeOptions>();
  CLI::App* enc = kmip->add_subcommand("encode", "turn KMIP XML or JSON into TTLV");
  enc->add_option("--from", encode->from, "input form (default: guess)")
      ->check(CLI::IsMember({"auto", "xml", "json"}));
  enc->add_option("--to", encode->to, "output form")->check(CLI::IsMember({"hex", "bin"}));
  enc->add_option("input", encode->input, "FILE or - for standard input");
  enc->callback([action, encode] { *action = [encode] { return RunEncode(*encode); }; });

  AddKmipCallCommand(*kmip, action);
  AddKmipReplayCommand(*kmip, action);
}

}  // namespace vmcrypt::cli
