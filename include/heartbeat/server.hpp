// Umbrella header of hbd: everything src/main_server.cpp needs (the app and
// its parts). Included once, by the server's translation unit and tests.
#pragma once

#include "heartbeat/server/app.hpp"
#include "heartbeat/server/config.hpp"
#include "heartbeat/server/events.hpp"
#include "heartbeat/server/host.hpp"
#include "heartbeat/server/ingest.hpp"
#include "heartbeat/server/monitor.hpp"
#include "heartbeat/server/registry.hpp"
#include "heartbeat/server/stats.hpp"
