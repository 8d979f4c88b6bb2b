// Uses the installed headers: parses a heartbeat-shaped JSON text.
#include <heartbeat/core/json.hpp>

#include <cstdio>

int main() {
  auto v = heartbeat::json::parse(R"({"ID":"HTB","name":"web01","seq":42})");
  if (!v || v->string_or("name", "") != "web01") return 1;
  std::printf("parsed %s\n", v->dump().c_str());
  return 0;
}
