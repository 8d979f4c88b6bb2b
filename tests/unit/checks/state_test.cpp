// A check's state between runs: retries before failing, warnings, recovery, and the store record.
#include "heartbeat/checks/state.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using checks::check_result;
using checks::check_status;
using checks::outcome;

namespace {

check_result run(outcome o, double at, std::string error = "boom") {
  check_result r;
  r.outcome = o;
  r.checked_at = at;
  r.response_ms = 12.5;
  if (o != outcome::pass) r.error = std::move(error);
  return r;
}

}  // namespace

TEST(CheckState, RetriesAreToleratedFailures) {
  checks::check_def def;
  def.name = "x";
  def.retries = 1;
  checks::check_state st;
  EXPECT_EQ(st.status, check_status::unknown);
  EXPECT_FALSE(st.apply(run(outcome::fail, 1), def));  // first failure tolerated: still unknown
  EXPECT_EQ(st.status, check_status::unknown);
  EXPECT_TRUE(st.apply(run(outcome::fail, 2), def));
  EXPECT_EQ(st.status, check_status::failing);
  EXPECT_EQ(st.level, alert::level::critical);
  EXPECT_EQ(st.last_change, 2);
  EXPECT_TRUE(st.apply(run(outcome::warn, 3, "certificate expires in 15 days"), def));
  EXPECT_EQ(st.level, alert::level::warning);
  EXPECT_TRUE(st.apply(run(outcome::pass, 4), def));
  EXPECT_EQ(st.status, check_status::passing);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_FALSE(st.apply(run(outcome::fail, 5), def));  // tolerated again: still passing
  EXPECT_EQ(st.status, check_status::passing);
  EXPECT_EQ(st.error, "boom");
  EXPECT_EQ(st.history.size(), 5u);
}

TEST(CheckState, LevelWarningAndTheStoreRecord) {
  checks::check_def def;
  def.level = alert::level::warning;
  checks::check_state st;
  st.apply(run(outcome::fail, 1), def);
  EXPECT_EQ(st.level, alert::level::warning);
  for (int i = 0; i < 70; ++i) st.apply(run(i % 2 ? outcome::pass : outcome::fail, 10 + i), def);
  EXPECT_EQ(st.history.size(), checks::check_state::history_max);
  checks::check_state back;
  ASSERT_TRUE(back.restore(json::parse(st.to_store_json().dump()).value()));
  EXPECT_EQ(back.status, st.status);
  EXPECT_EQ(back.level, st.level);
  EXPECT_EQ(back.failures, st.failures);
  EXPECT_EQ(back.last_change, st.last_change);
  ASSERT_EQ(back.history.size(), st.history.size());
  EXPECT_EQ(back.history.back().checked_at, 79);
  EXPECT_EQ(back.history.back().outcome, outcome::pass);
  EXPECT_EQ(back.history.front().error, "boom");
}
