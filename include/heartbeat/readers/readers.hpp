// Every pure reader and parser of plugins/ in one include (what hbc_mini and
// the client plugins use). Standard library and POSIX only.
#pragma once

#include "heartbeat/readers/argv.hpp"
#include "heartbeat/readers/cpu.hpp"
#include "heartbeat/readers/disk.hpp"
#include "heartbeat/readers/memory.hpp"
#include "heartbeat/readers/nagios.hpp"
#include "heartbeat/readers/network.hpp"
#include "heartbeat/readers/os_info.hpp"
#include "heartbeat/readers/ping.hpp"
#include "heartbeat/readers/proc.hpp"
#include "heartbeat/readers/zfs.hpp"
