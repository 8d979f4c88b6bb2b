// libFuzzer target for the configuration loaders (tests/fuzz/run.sh builds it with ASan and
// UBSan): text as YAML or JSON (config/file.hpp's rule: '{' first means JSON), then hbd's whole
// load_config (server keys, admission, HTTP guard, thresholds, maintenance, notifiers) and the
// client loader hbc and hbc_mini share. Every problem must come back as a diagnostic with a key
// path, never as a crash or an exception.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "heartbeat/client/config.hpp"
#include "heartbeat/config/yaml.hpp"
#include "heartbeat/hbd/config.hpp"

namespace {

using namespace heartbeat;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t i = text.find_first_not_of(" \t\r\n");
  result<json::value> tree = i != std::string::npos && text[i] == '{' ? json::parse(text) : config::parse_yaml(text);
  if (!tree) return 0;
  config::diagnostics d;
  hbd::config c = hbd::load_config(*tree, d);
  for (const auto& item : d.items) check(!item.message.empty(), "a diagnostic without a message");
  (void)c.effective_default_owner();
  config::diagnostics cd;
  client::client_config cc = client::load_client_config(*tree, cd);
  (void)cc;
  return 0;
}
