// Umbrella header of hbc: the plugin framework, the built-in plugins, the
// transport, the application and its start-up (src/main_client.cpp only parses argv).
#pragma once

#include "heartbeat/client/app.hpp"
#include "heartbeat/client/builtin.hpp"
#include "heartbeat/client/cli.hpp"
#include "heartbeat/client/commands.hpp"
#include "heartbeat/client/config.hpp"
#include "heartbeat/client/plugin.hpp"
#include "heartbeat/client/scheduler.hpp"
#include "heartbeat/client/serve.hpp"
#include "heartbeat/client/transport.hpp"
