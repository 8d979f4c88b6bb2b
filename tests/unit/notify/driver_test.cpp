// The integration tests' driver (tests/integration/test_notify_*.py): with
// HB_NOTIFY_SCRIPT set, runs the real notify::service with the real channels
// against the tests' local receivers and writes every journal record as JSONL.
// Skipped in a plain unit test run.
#include "heartbeat/notify/service.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "heartbeat/config/file.hpp"

#include "../wait_for.hpp"

using namespace heartbeat;
using namespace heartbeat::notify;

namespace {

notification from_json(const json::value& v) {
  notification n;
  n.host = v.string_or("host", "");
  std::string k = v.string_or("kind", "alert");
  for (auto c : {kind::host_down, kind::host_up, kind::host_stopped, kind::alert, kind::reminder})
    if (k == to_string(c)) n.kind = c;
  parse_level(v.string_or("level", "WARNING"), n.level);
  n.severity = n.level;
  parse_level(v.string_or("severity", to_string(n.level)), n.severity);
  n.metric_path = v.string_or("metric_path", "");
  if (const json::value* x = v.find("value")) n.value = x->as_number();
  n.text = v.string_or("text", "");
  if (n.text.empty()) n.text = alert_text(n.host, n.metric_path, "OK", to_string(n.level), n.value);
  n.ts = v.number_or("ts", clock::wall_now());
  return n;
}

}  // namespace

TEST(NotifyDriver, RunsAScriptAgainstRealReceivers) {
  const char* path = std::getenv("HB_NOTIFY_SCRIPT");
  if (!path) GTEST_SKIP() << "HB_NOTIFY_SCRIPT not set (used by tests/integration/test_notify_*.py)";
  auto text = config::read_text_file(path);
  ASSERT_TRUE(text) << text.err().message;
  auto script = json::parse(*text);
  ASSERT_TRUE(script) << script.err().message;

  config::diagnostics d;
  settings s = load_config(*script->find("config"), d);
  for (const auto& i : d.items) std::fprintf(stderr, "config: %s\n", i.text().c_str());
  ASSERT_FALSE(d.has_errors());

  std::mutex m;
  std::ofstream journal(script->string_or("journal", "/dev/null"));
  service svc(s, [&](const journal_record& r) {
    std::lock_guard lk(m);
    journal << r.to_json().dump() << "\n";
    journal.flush();
  });
  svc.start();
  double start = clock::wall_now();
  for (const auto& step : script->find("steps")->as_array()) {
    double at = start + step.number_or("at", 0);
    // Steps run at the script's times (rate limits, retries and digests depend on them).
    while (clock::wall_now() < at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (const json::value* n = step.find("notification")) {
      int repeat = static_cast<int>(step.number_or("repeat", 1));
      for (int i = 0; i < repeat; ++i) {
        notification x = from_json(*n);
        if (repeat > 1) {
          x.metric_path += "." + std::to_string(i);
          x.text = alert_text(x.host, x.metric_path, "OK", to_string(x.level), x.value);
        }
        svc.submit(std::move(x));
      }
    } else if (const json::value* e = step.find("event")) {
      bus::event ev;
      std::string k = e->string_or("kind", "host");
      ev.kind = k == "alert" ? bus::event_kind::alert : bus::event_kind::host;
      ev.host = e->string_or("host", "");
      ev.ts = e->number_or("ts", clock::wall_now());
      if (const json::value* dt = e->find("data")) ev.data = *dt;
      svc.on_event(ev);
    }
  }
  // idle() counts queued items, pending retries and held digests: once it holds, all is done.
  auto wait = std::chrono::milliseconds(static_cast<long long>(script->number_or("wait", 20) * 1000));
  hbtest::wait_for([&] { return svc.idle(); }, wait, std::chrono::milliseconds(5));
  svc.stop();
  EXPECT_TRUE(svc.idle()) << "awaited the notifier idle, still busy after " << wait.count()
                          << " ms; metrics:\n"
                          << svc.metrics_text();
  std::ofstream metrics(script->string_or("metrics", "/dev/null"));
  metrics << svc.metrics_text();
}
