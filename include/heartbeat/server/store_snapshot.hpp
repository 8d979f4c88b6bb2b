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
  // The host as last published (event data, /api/0/hosts shape), connections included: as JSON
  // text (the SQLite store), parsed one host at a time by entry() while hbd restores, or as a
  // value (`text` empty). A million hosts' entries as values at once took ~5 GB.
  std::string text;
  json::value json;
  std::vector<stored_plugin> plugins;  // by plugin name

  json::value entry() const {
    if (text.empty()) return json;
    auto v = json::parse(text);
    return v && v->is_object() ? std::move(*v) : json::value::object({{"name", json::value(name)}});
  }
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
  // Host rows stay text, each with its connections (family order: the key's) spliced in.
  {
    auto st = db.prepare(
        "SELECT h.name, h.json, (SELECT group_concat(c.json, ',') FROM connections c WHERE c.host = "
        "h.name) FROM hosts h ORDER BY h.name");
    if (!st) return st.err();
    while (st->step() == SQLITE_ROW) {
      stored_host& h = host_entry(st->text(0));
      std::string_view text = st->text(1);
      std::string reparsed;
      if (text.find("\"connections\"") != std::string_view::npos || text.empty() || text.front() != '{') {
        json::value v = parse_or_null(text);  // an entry as put_host() got it
        if (v.is_object()) h.json = std::move(v);
        h.json.erase("connections");
        reparsed = h.json.dump();
        text = reparsed;
      }
      h.json = json::value();
      h.text.reserve(text.size() + st->text(2).size() + 20);
      h.text.assign(text.substr(0, text.size() - 1));
      h.text += h.text.size() > 1 ? ",\"connections\":[" : "\"connections\":[";
      h.text.append(st->text(2));
      h.text += "]}";
    }
  }
  // Each series with its latest sample, then (index order, newest first) its last samples; in
  // host and plugin order, as the hosts' plugin lists keep them.
  {
    auto st = db.prepare(
        "SELECT se.id, se.host, se.plugin, sa.ts, sa.data FROM series se JOIN samples sa ON sa.id = "
        "se.last_id"
        " ORDER BY se.host, se.plugin");
    if (!st) return st.err();
    auto hist =
        db.prepare("SELECT ts, data FROM samples WHERE series = ?1 ORDER BY ts DESC, id DESC LIMIT ?2");
    if (!hist) return hist.err();
    stored_host* h = nullptr;
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
      if (!h || h->name != st->text(1)) h = &host_entry(st->text(1));
      h->plugins.push_back(std::move(p));
    }
  }
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
