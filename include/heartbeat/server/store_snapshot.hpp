// What the store's load() returns for the registry, the alert engine and the
// users overlay to restore from, and the queries that read it from the
// database. Runs once on the starting thread, before ingest starts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/server/detail/sqlite.hpp"

namespace heartbeat::server {

struct history_sample {
  double ts = 0;
  std::string data_json;  // the plugin's `data` object as JSON text
};

struct stored_plugin {
  std::string name;
  double ts = 0;                        // timestamp of the latest sample
  std::string data_json;                // latest data
  std::vector<history_sample> history;  // last history_samples samples, oldest first (latest included)
};

struct stored_host {
  std::string name;
  json::value json;  // the host as last published (event data, /api/0/hosts shape), connections included
  std::vector<stored_plugin> plugins;  // by plugin name
};

// What load() returns for the registry (and the alert engine) to restore from.
struct store_snapshot {
  std::vector<stored_host> hosts;     // by name; every host with a row or plugin data
  std::vector<json::value> alerts;    // alert records as published in alert events, by host and metric_path
  std::vector<json::value> commands;  // command records as published in command events, oldest first
  std::vector<json::value> messages;  // the last messages_loaded message records, oldest first
  std::map<std::string, std::string> state;  // put_state() key/value pairs (e.g. an alert engine export)
  // API user changes (the overlay on the config's users, see docs/USERS.md): name -> record as
  // put_user() wrote it (a deleted user is a record with "deleted": true).
  std::map<std::string, json::value> users;
};

namespace detail {

// Every host (from its row, its connections and its plugin data), the last
// `history_samples` samples per plugin, alerts, commands, the last
// `messages_loaded` messages, state pairs and API user changes.
inline result<store_snapshot> read_store_snapshot(sqlite_db& db, std::size_t history_samples,
                                                  std::size_t messages_loaded) {
  store_snapshot snap;
  std::map<std::string, stored_host> hosts;
  auto host_entry = [&](std::string_view name) -> stored_host& {
    auto [it, fresh] = hosts.try_emplace(std::string(name));
    if (fresh) {
      it->second.name = std::string(name);
      it->second.json = json::value::object({{"name", json::value(name)}});
    }
    return it->second;
  };
  auto parse_or_null = [](std::string_view text) {
    auto r = json::parse(text);
    return r ? std::move(*r) : json::value();
  };
  {
    auto st = db.prepare("SELECT name, json FROM hosts ORDER BY name");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      stored_host& h = host_entry(st->text(0));
      json::value v = parse_or_null(st->text(1));
      if (v.is_object()) h.json = std::move(v);
      h.json.erase("connections");
      h.json.set("connections", json::value::array());
    }
  }
  {
    auto st = db.prepare("SELECT host, json FROM connections ORDER BY host, family");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      stored_host& h = host_entry(st->text(0));
      json::value c = parse_or_null(st->text(1));
      if (!c.is_object()) continue;
      json::value* arr = h.json.find("connections");
      if (!arr || !arr->is_array()) arr = &h.json.set("connections", json::value::array());
      arr->push_back(std::move(c));
    }
  }
  // Each series with its latest sample, then (index order, newest first) its last samples.
  std::map<std::pair<std::string, std::string>, stored_plugin> plugins;
  {
    auto st = db.prepare(
        "SELECT se.id, se.host, se.plugin, sa.ts, sa.data FROM series se JOIN samples sa ON sa.id = "
        "se.last_id"
        " ORDER BY se.host, se.plugin");
    if (!st) return st.err();
    auto hist =
        db.prepare("SELECT ts, data FROM samples WHERE series = ?1 ORDER BY ts DESC, id DESC LIMIT ?2");
    if (!hist) return hist.err();
    while (st->step() == SQLITE_ROW) {
      stored_plugin p;
      p.name = std::string(st->text(2));
      p.ts = st->real(3);
      p.data_json = std::string(st->text(4));
      if (history_samples > 0) {
        hist->bind(1, st->integer(0)).bind(2, static_cast<std::int64_t>(history_samples));
        while (hist->step() == SQLITE_ROW)
          p.history.push_back(history_sample{hist->real(0), std::string(hist->text(1))});
        hist->reset();
        std::reverse(p.history.begin(), p.history.end());  // oldest first
      }
      plugins.emplace(std::pair{std::string(st->text(1)), p.name}, std::move(p));
    }
  }
  for (auto& [key, p] : plugins) host_entry(key.first).plugins.push_back(std::move(p));
  {
    auto st = db.prepare("SELECT json FROM alerts ORDER BY host, metric_path");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      json::value v = parse_or_null(st->text(0));
      if (v.is_object()) snap.alerts.push_back(std::move(v));
    }
  }
  {
    auto st = db.prepare("SELECT json FROM commands ORDER BY updated, id");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      json::value v = parse_or_null(st->text(0));
      if (v.is_object()) snap.commands.push_back(std::move(v));
    }
  }
  {
    auto st =
        db.prepare("SELECT json FROM (SELECT id, json FROM messages ORDER BY id DESC LIMIT ?1) ORDER BY id");
    if (!st) return st.err();
    st->bind(1, static_cast<std::int64_t>(messages_loaded));
    while (st->step() == SQLITE_ROW) {
      json::value v = parse_or_null(st->text(0));
      if (!v.is_null()) snap.messages.push_back(std::move(v));
    }
  }
  {
    auto st = db.prepare("SELECT key, value FROM state ORDER BY key");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) snap.state.emplace(std::string(st->text(0)), std::string(st->text(1)));
  }
  {
    auto st = db.prepare("SELECT name, json FROM users ORDER BY name");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      json::value v = parse_or_null(st->text(1));
      if (v.is_object()) snap.users.emplace(std::string(st->text(0)), std::move(v));
    }
  }
  snap.hosts.reserve(hosts.size());
  for (auto& [name, h] : hosts) snap.hosts.push_back(std::move(h));
  return snap;
}

}  // namespace detail
}  // namespace heartbeat::server
