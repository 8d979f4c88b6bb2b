// JSON for the whole project without third-party code: a validating SAX parser
// (json/sax.hpp), a small ordered DOM (json/value.hpp) and a writer
// (json/write.hpp). hbc_mini, hbc and hbd share it. Pure functions and value
// types: safe on any thread.
#pragma once

#include "heartbeat/core/json/sax.hpp"
#include "heartbeat/core/json/utf8.hpp"
#include "heartbeat/core/json/value.hpp"
#include "heartbeat/core/json/write.hpp"
