// The client's plugin model: InfoPlugin and MonitorPlugin as C++20 concepts
// (initialize, collect as an asio::awaitable coroutine, cleanup), the context a
// plugin is built with, a type-erased handle, and the plugin_catalog of plugin types
// the client knows by name. Everything runs on hbc's single io_context thread.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "heartbeat/config/reader.hpp"
#include "heartbeat/core/enum_names.hpp"
#include "heartbeat/core/json.hpp"
#include "heartbeat/core/result.hpp"
#include "heartbeat/net/asio.hpp"
#include "heartbeat/net/subprocess.hpp"

namespace heartbeat::client {

// Plugins await programs through the shared runner (net/subprocess.hpp).
using net::process_options;
using net::process_result;
using net::run_process;

enum class plugin_kind : std::uint8_t { info, monitor };

inline constexpr enum_names<plugin_kind::monitor> plugin_kind_names{{"info", "monitor"}, "monitor"};

inline const char* to_string(plugin_kind k) noexcept { return plugin_kind_names[k]; }

// What a plugin gets at construction: its instance name (the key under
// `plugins:`, also the PLG `plugin` field and the first word of its log lines),
// the executor to run on, and a reader on its options (diagnostics name the key
// path, e.g. `plugins.nagios_runner.commands.0.command`).
struct plugin_context {
  std::string name;
  asio::any_io_executor executor;
  config::object_reader& options;
};

// A plugin type: constructible from plugin_context&, with
//   static constexpr std::string_view type_name;       // "cpu_monitor"
//   static constexpr plugin_kind kind;                  // info or monitor
//   static constexpr double default_interval;           // seconds; 0 for info plugins
//   awaitable<result<void>> initialize();               // once; an error skips the plugin
//   awaitable<result<json::value>> collect();           // the data object of one PLG
//   awaitable<void> cleanup();                          // once at shutdown
template <class P>
concept plugin = std::constructible_from<P, plugin_context&> && requires(P& p) {
  { P::type_name } -> std::convertible_to<std::string_view>;
  { P::kind } -> std::convertible_to<plugin_kind>;
  { P::default_interval } -> std::convertible_to<double>;
  { p.initialize() } -> std::same_as<net::awaitable<result<void>>>;
  { p.collect() } -> std::same_as<net::awaitable<result<json::value>>>;
  { p.cleanup() } -> std::same_as<net::awaitable<void>>;
};

// A plugin type's name as a template argument (plugin_base<"cpu_monitor", ...>).
template <std::size_t N>
struct type_name_literal {
  char text[N]{};
  constexpr type_name_literal(const char (&s)[N]) noexcept {  // implicit: made from the literal
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
};

// What most plugin types share (a type derives from it): `type_name`, `kind`, `default_interval`
// (300 s for monitors, 0 for info plugins) and an initialize() and a cleanup() with nothing to
// do. A type declares its own where it needs more; the base is never used through a pointer.
template <type_name_literal Name, plugin_kind K>
struct plugin_base {
  static constexpr std::string_view type_name{Name.text, sizeof(Name.text) - 1};
  static constexpr plugin_kind kind = K;
  static constexpr double default_interval = K == plugin_kind::monitor ? 300 : 0;
  net::awaitable<result<void>> initialize() { co_return result<void>{}; }
  net::awaitable<void> cleanup() { co_return; }
};
template <type_name_literal Name>
using monitor_plugin_base = plugin_base<Name, plugin_kind::monitor>;
template <type_name_literal Name>
using info_plugin_base = plugin_base<Name, plugin_kind::info>;

// Collected once, cached, collected again when the server asks (ACK request_update).
template <class P>
concept info_plugin = plugin<P> &&(P::kind == plugin_kind::info);

// Collected every `interval` seconds at absolute deadlines.
template <class P>
concept monitor_plugin = plugin<P> &&(P::kind == plugin_kind::monitor);

// A type-erased plugin instance.
class any_plugin {
 public:
  template <plugin P>
  static std::unique_ptr<any_plugin> make(plugin_context& ctx) {
    return std::unique_ptr<any_plugin>(new any_plugin(std::make_unique<model<P>>(ctx)));
  }
  net::awaitable<result<void>> initialize() { return impl_->initialize(); }
  net::awaitable<result<json::value>> collect() { return impl_->collect(); }
  net::awaitable<void> cleanup() { return impl_->cleanup(); }

 private:
  struct base {
    virtual ~base() = default;
    virtual net::awaitable<result<void>> initialize() = 0;
    virtual net::awaitable<result<json::value>> collect() = 0;
    virtual net::awaitable<void> cleanup() = 0;
  };
  template <class P>
  struct model final : base {
    P p;
    explicit model(plugin_context& ctx) : p(ctx) {}
    net::awaitable<result<void>> initialize() override { return p.initialize(); }
    net::awaitable<result<json::value>> collect() override { return p.collect(); }
    net::awaitable<void> cleanup() override { return p.cleanup(); }
  };
  explicit any_plugin(std::unique_ptr<base> b) : impl_(std::move(b)) {}
  std::unique_ptr<base> impl_;
};

// Plugin types by type name. The built-ins are added by add_builtin_plugins()
// (client/builtin.hpp); your own build of hbc adds its classes with add<P>().
class plugin_catalog {
 public:
  struct entry {
    plugin_kind kind;
    double default_interval;
    bool on_by_default;  // runs without being listed under `plugins:`
    std::function<std::unique_ptr<any_plugin>(plugin_context&)> make;
  };

  template <plugin P>
  void add(bool on_by_default = false) {
    types_[std::string(P::type_name)] = entry{P::kind, P::default_interval, on_by_default,
                                              [](plugin_context& c) { return any_plugin::make<P>(c); }};
  }
  const entry* find(std::string_view type) const {
    auto it = types_.find(std::string(type));
    return it == types_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, entry>& types() const { return types_; }

 private:
  std::map<std::string, entry> types_;
};

}  // namespace heartbeat::client
