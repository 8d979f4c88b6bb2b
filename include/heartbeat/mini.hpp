// Umbrella header of hbc_mini: everything the single-file client needs, all of
// it standard library and POSIX only (no Asio, zlib, OpenSSL or YAML).
#pragma once

#ifndef HB_CONFIG_NO_YAML
#define HB_CONFIG_NO_YAML 1
#endif

#include "heartbeat/mini/app.hpp"
#include "heartbeat/mini/cli.hpp"
#include "heartbeat/mini/plugins.hpp"
#include "heartbeat/mini/process.hpp"
#include "heartbeat/mini/resolve.hpp"
