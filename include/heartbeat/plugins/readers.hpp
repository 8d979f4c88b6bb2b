// Every pure reader and parser of plugins/ in one include (what hbc_mini and
// the client plugins use). Standard library and POSIX only.
#pragma once

#include "heartbeat/plugins/argv.hpp"
#include "heartbeat/plugins/cpu.hpp"
#include "heartbeat/plugins/disk.hpp"
#include "heartbeat/plugins/memory.hpp"
#include "heartbeat/plugins/nagios.hpp"
#include "heartbeat/plugins/network.hpp"
#include "heartbeat/plugins/os_info.hpp"
#include "heartbeat/plugins/ping.hpp"
#include "heartbeat/plugins/proc.hpp"
#include "heartbeat/plugins/zfs.hpp"
