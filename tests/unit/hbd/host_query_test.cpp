// GET /api/0/hosts?q=&state=&role=&sort=&order= over a real registry: every combination against an
// oracle that sorts the whole parsed list the way web/static/js/live.js did in the browser, and the
// backend's generic default (over JSON entries) against the registry's own reading of hosts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "heartbeat/hbd/registry_backend.hpp"

namespace hs = heartbeat::server;
namespace api = heartbeat::api;
using heartbeat::json::value;

namespace {

// The live view's sort values of one entry (live.js COLUMNS), written independently of the server.
double js_key(const value& x, const std::string& col) {
  auto rank = [](const std::string& s) {
    if (s == "DOWN") return 0.0;
    if (s == "LATE") return 1.0;
    if (s == "UNKNOWN") return 2.0;
    if (s == "STOPPED") return 3.0;
    if (s == "UP") return 4.0;
    return 9.0;
  };
  const auto& conns = x.find("connections")->as_array();
  auto conn = [&](const char* f) -> const value* {
    for (const auto& c : conns)
      if (c.string_or("family", "") == f) return &c;
    return nullptr;
  };
  if (col == "state") return rank(x.string_or("state", ""));
  if (col == "ipv4" || col == "ipv6") {
    const value* c = conn(col.c_str());
    return c ? rank(c->string_or("state", "")) : 10;
  }
  if (col == "rtt") {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& c : conns)
      if (c.find("rtt")->is_number()) best = std::min(best, c.find("rtt")->as_number());
    return best;
  }
  if (col == "loss") return conns.empty() ? -1 : x.number_or("loss", 0);
  if (col == "last_seen") return x.find("last_seen")->is_number() ? -x.find("last_seen")->as_number() : 0;
  return 0;
}

struct HostQuery : ::testing::Test {
  hs::config cfg;
  hs::stats st;
  std::unique_ptr<hs::host_registry> reg;
  std::unique_ptr<heartbeat::hbd::registry_backend> be;
  api::user mona{"mona", "", "", "", false, {}};
  const double t0 = 1'000'000;

  void SetUp() override {
    cfg.interval = 10;
    reg = std::make_unique<hs::host_registry>(cfg, st, t0);
    const hs::host_state states[] = {hs::host_state::up, hs::host_state::late, hs::host_state::down,
                                     hs::host_state::stopped, hs::host_state::unknown};
    for (int i = 0; i < 240; ++i) {
      // Names out of order, mixed case; sort values with many ties.
      std::string name = (i % 3 ? "Web-" : "db-") + std::to_string((i * 37) % 240);
      hs::host& h = reg->restore_host(name, t0);
      h.state = states[i % 5];
      h.last_seen = i % 7 == 0 ? 0 : t0 + (i % 11) + 0.25;
      if (i % 4 != 3) {
        auto& c = h.conn(hs::address_family::ipv4);
        c.present = true;
        c.state = states[(i / 2) % 3];
        if (i % 6) c.rtt = 0.5 * (i % 9);
        c.received = 10;
        c.lost = static_cast<std::uint64_t>(i % 3);
      }
      if (i % 5 == 1) {
        auto& c = h.conn(hs::address_family::ipv6);
        c.present = true;
        c.state = states[(i / 3) % 3];
        c.rtt = 0.25 * (i % 13);
        c.received = 7;
      }
      if (i % 4 == 0) h.owner = "mona";
      if (i % 4 == 1) h.managers = {"mona"};
      if (i % 4 == 2) h.monitors = {"mona"};
    }
    be = std::make_unique<heartbeat::hbd::registry_backend>(*reg, st, cfg);
  }

  // What the browser showed: the visible list filtered, sorted whole, then sliced.
  std::pair<std::vector<std::string>, std::size_t> oracle(const api::user* who, const std::string& q,
                                                          const std::string& state, bool managed,
                                                          const std::string& sort, bool desc,
                                                          std::size_t offset, std::size_t limit) const {
    std::string all;
    be->write_hosts_json(all, who);
    auto list = heartbeat::json::parse(all);
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& x : list->as_array()) {
      std::string name = x.string_or("name", ""), lower = name;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (managed && who) {
        bool mgr = x.string_or("owner", "") == who->name;
        for (const auto& m : x.find("managers")->as_array()) mgr = mgr || m.as_string() == who->name;
        if (!mgr) continue;
      }
      if (!state.empty() && x.string_or("state", "") != state) continue;
      if (lower.find(q) == std::string::npos) continue;
      rows.emplace_back(sort == "name" ? 0 : js_key(x, sort), name);
    }
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      if (sort == "name") return desc ? a.second > b.second : a.second < b.second;
      if (a.first != b.first) return desc ? a.first > b.first : a.first < b.first;
      return a.second < b.second;
    });
    std::vector<std::string> names;
    for (std::size_t i = offset; i < rows.size() && i - offset < limit; ++i) names.push_back(rows[i].second);
    return {names, rows.size()};
  }

  static std::vector<std::string> names_of(const std::string& body) {
    std::vector<std::string> out;
    auto list = heartbeat::json::parse(body);
    for (const auto& x : list->as_array()) out.push_back(x.string_or("name", ""));
    return out;
  }
};

TEST_F(HostQuery, EveryFilterAndSortMatchesTheWholeListSortedAsTheBrowserDid) {
  int checked = 0;
  for (const api::user* who : {static_cast<const api::user*>(nullptr), static_cast<const api::user*>(&mona)})
    for (std::string sort : {"name", "state", "ipv4", "ipv6", "rtt", "loss", "last_seen"})
      for (bool desc : {false, true})
        for (std::string q : {"", "web-1", "B-2"})
          for (int st = -1; st < 5; st += 2)
            for (bool managed : {false, true})
              for (auto [offset, limit] :
                   {std::pair<std::size_t, std::size_t>{0, 25}, {30, 17}, {200, 100}}) {
                api::host_query query;
                for (char ch : q) query.q.push_back(api::ascii_lower(ch));
                query.state = st;
                query.at_least = managed ? api::role::manager : api::role::none;
                query.sort = *api::parse_host_sort(sort);
                query.desc = desc;
                query.offset = offset;
                query.limit = limit;
                std::string state =
                    st >= 0 ? std::string(api::query_states[static_cast<std::size_t>(st)]) : "";
                auto [want, total] = oracle(who, query.q, state, managed, sort, desc, offset, limit);
                std::string fast, generic;
                api::host_query_result r, rg;
                be->write_hosts_query(fast, who, query, r);
                be->api::backend::write_hosts_query(generic, who, query, rg);
                std::string ctx = sort + (desc ? " desc" : " asc") + " q=" + q + " state=" + state +
                                  (managed ? " managed" : "") + (who ? " mona" : " all") + " @" +
                                  std::to_string(offset);
                ASSERT_EQ(names_of(fast), want) << ctx;
                ASSERT_EQ(names_of(generic), want) << ctx;
                ASSERT_EQ(r.total, total) << ctx;
                ASSERT_EQ(rg.total, total) << ctx;
                ASSERT_EQ(rg.states, r.states) << ctx;
                ++checked;
              }
  EXPECT_EQ(checked, 1512);
}

TEST_F(HostQuery, StateCountsIgnoreTheStateFilterButNotTheOthers) {
  api::host_query all;
  api::host_query_result r;
  std::string out;
  be->write_hosts_query(out, nullptr, all, r);
  EXPECT_EQ(r.total, 240u);
  EXPECT_EQ(api::state_counts_header(r), "UP=48,LATE=48,DOWN=48,STOPPED=48,UNKNOWN=48");
  api::host_query down;
  down.state = *api::parse_query_state("DOWN");
  down.at_least = api::role::manager;
  api::host_query_result rd;
  out.clear();
  be->write_hosts_query(out, &mona, down, rd);
  std::size_t sum = 0;
  for (auto n : rd.states) sum += n;
  EXPECT_EQ(sum, 120u);  // owner or manager: half the hosts, in every state
  EXPECT_EQ(rd.total, rd.states[2]);
  EXPECT_EQ(names_of(out).size(), rd.total);
}

TEST_F(HostQuery, TheNameIndexFollowsHostsThatComeAndGo) {
  api::host_query q;
  q.q = "-23";
  auto run = [&] {
    std::string out;
    api::host_query_result r;
    be->write_hosts_query(out, nullptr, q, r);
    return names_of(out);
  };
  auto before = run();
  ASSERT_EQ(before, oracle(nullptr, q.q, "", false, "name", false, 0, 1000).first);
  ASSERT_EQ(before.size(), 11u);  // -23 and -230 ... -239
  reg->restore_host("A-230", t0);
  ASSERT_TRUE(reg->drop_host(before[0], t0));
  auto after = run();
  EXPECT_EQ(after, oracle(nullptr, q.q, "", false, "name", false, 0, 1000).first);
  EXPECT_EQ(after.front(), "A-230");
  EXPECT_EQ(after.size(), 11u);
  q.q = "a-23";
  EXPECT_EQ(run(), std::vector<std::string>{"A-230"});
  q.q = "9\nweb";  // never across two names
  EXPECT_EQ(run(), std::vector<std::string>{});
}

TEST(HostOrder, HostsComingAndGoingKeepTheNameOrder) {
  hs::config cfg;
  hs::stats st;
  hs::host_registry reg(cfg, st, 1000);
  std::vector<std::string> names;
  std::uint32_t x = 12345;
  auto next = [&] { return x = x * 1103515245u + 12345u; };
  for (int round = 0; round < 60; ++round) {
    // Rounds of 1, 5 and 100 new hosts (a batch past 64 sorts all), some dropped.
    int adds = round % 3 == 0 ? 100 : round % 3 == 1 ? 5 : 1;
    for (int i = 0; i < adds; ++i) {
      // Short names, and long ones alike in their first 16 bytes (the sort's key, then the name).
      names.push_back((next() % 2 ? "h" : "h-eu-west-1-prod-web-") + std::to_string(next() % 100000));
      reg.restore_host(names.back(), 1000);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (int i = 0; i < round % 4 && !names.empty(); ++i) {
      std::size_t k = next() % names.size();
      reg.drop_host(names[k], 1000);
      names.erase(names.begin() + static_cast<std::ptrdiff_t>(k));
    }
    std::vector<std::string> got;
    for (const hs::host* h : reg.hosts()) got.push_back(h->name);
    ASSERT_EQ(got, names) << "round " << round;
    // The names block follows the same changes (built in round 0, merged and erased after).
    for (std::string q : {"h1", "99", "h"}) {
      std::vector<std::uint32_t> found, want;
      reg.find_names(q, found);
      for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i].find(q) != std::string::npos) want.push_back(static_cast<std::uint32_t>(i));
      ASSERT_EQ(found, want) << "round " << round << " q=" << q;
    }
  }
}

TEST(HostQueryParse, NamesAndCase) {
  EXPECT_EQ(api::parse_query_state("STOPPED"), 3);
  EXPECT_FALSE(api::parse_query_state("up"));
  EXPECT_EQ(api::parse_host_sort("last_seen"), api::host_sort::last_seen);
  EXPECT_FALSE(api::parse_host_sort("Name"));
  EXPECT_EQ(api::parse_query_role("manager"), api::role::manager);
  EXPECT_FALSE(api::parse_query_role("none"));
  EXPECT_TRUE(api::name_contains("Web-01.Example", "b-01.ex"));
  EXPECT_TRUE(api::name_contains("abc", ""));
  EXPECT_FALSE(api::name_contains("ab", "abc"));
  EXPECT_FALSE(api::name_contains("aab", "abb"));
}

}  // namespace
