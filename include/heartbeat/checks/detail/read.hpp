// Small helpers of the checks' config readers: whether a reader added errors, a readable file,
// a port number. Thread of the config load.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "heartbeat/config/reader.hpp"

namespace heartbeat::checks::detail {

// Whether errors were added to `d` since it held `before` items.
inline bool errors_since(const config::diagnostics& d, std::size_t before) {
  for (std::size_t i = before; i < d.items.size(); ++i)
    if (d.items[i].is_error) return true;
  return false;
}

// `key` names a file hbd can read (a CA bundle), else an error.
inline void readable_file(config::object_reader& r, std::string_view key, const std::string& path) {
  if (path.empty()) return;
  if (std::FILE* f = std::fopen(path.c_str(), "r"))
    std::fclose(f);
  else
    r.diag().error(r.key_path(key), "cannot read " + path + ": " + std::strerror(errno));
}

// A required address and a port (1..65535), with `default_port` when the type has one.
inline void address_port(config::object_reader& r, std::string& address, unsigned& port,
                         unsigned default_port) {
  r.get("address", address);
  if (address.empty()) r.diag().error(r.key_path("address"), "is required (a host name or an IP address)");
  port = default_port;
  r.get("port", port, 1, 65535);
  if (port == 0) r.diag().error(r.key_path("port"), "is required (1..65535)");
}

}  // namespace heartbeat::checks::detail
