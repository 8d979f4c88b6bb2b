// Umbrella header of hbd: the composed server (hbd/) and every part it wires.
// Included once, by the server's translation unit and tests.
#pragma once

#include "heartbeat/bus/events.hpp"
#include "heartbeat/hbd/app.hpp"
#include "heartbeat/hbd/config.hpp"
#include "heartbeat/server/host.hpp"
#include "heartbeat/server/host_registry.hpp"
#include "heartbeat/server/ingest.hpp"
#include "heartbeat/server/monitor.hpp"
#include "heartbeat/server/stats.hpp"
