// The project's version, reported by --version and in the HTB `agent` field.
#pragma once

namespace heartbeat {
inline constexpr const char* version = "1.0.0";
inline constexpr int protocol_version = 1;
}  // namespace heartbeat
