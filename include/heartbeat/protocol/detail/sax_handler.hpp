// The decoder's SAX handler: turns the JSON events of one datagram body into a
// `message`, validating every field of docs/PROTOCOL.md on the way. One per decoder
// (one thread); it reuses the strings of the target message and its own staging.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "heartbeat/protocol/detail/fields.hpp"

namespace heartbeat::protocol {
namespace detail {

// Staging for fields shared by several message types, swapped into place at the end.
struct staging {
  std::string name;
  std::string cmd_id;
  int ver = 0;
  std::uint64_t seq = 0;
  double interval = 0, ts = 0, rtt = 0, boot_time = 0, server_ts = 0;
  int rc = 0;
  int request_update = 0;
  msg_event event = msg_event::message;
};

class decode_handler {
 public:
  decode_handler(std::string_view text, message& out, staging& st) noexcept
      : text_(text), out_(out), st_(st) {
    st_.name.clear();
    st_.cmd_id.clear();
    out_.htb.agent.clear();
    out_.htb.owner.clear();
    out_.plg.plugin.clear();
    out_.plg.kind.clear();
    out_.plg.data_json.clear();
    out_.plg.leaf_count = 0;
    out_.msg.msg.clear();
    out_.res.output.clear();
    out_.cmd.command.clear();
    out_.upd.version.clear();
    out_.err.error.clear();
  }

  reject abort_reason() const noexcept { return abort_; }

  // Checks the fields against the message type and moves them into place.
  reject finish() {
    if (!root_object_) return reject::wrong_type;
    if (!(seen_ & bit(f_id))) return (wrong_ & bit(f_id)) ? reject::wrong_type : reject::missing_field;
    type_fields tf = fields_of(type_);
    std::uint32_t relevant = tf.required | tf.optional;
    if (wrong_ & relevant) return reject::wrong_type;
    if (long_ & relevant) return reject::too_long;
    if ((seen_ & tf.required) != tf.required) return reject::missing_field;
    if (is_client_type(type_) && !valid_host_name(st_.name)) return reject::bad_name;
    out_.type = type_;
    auto opt = [&](field f, double v) { return (seen_ & bit(f)) ? std::optional<double>(v) : std::nullopt; };
    switch (type_) {
      case msg_type::htb:
        st_.name.swap(out_.htb.name);
        out_.htb.ver = st_.ver;
        out_.htb.seq = st_.seq;
        out_.htb.interval = st_.interval;
        out_.htb.ts = opt(f_ts, st_.ts);
        out_.htb.rtt = opt(f_rtt, st_.rtt);
        out_.htb.boot_time = opt(f_boot_time, st_.boot_time);
        break;
      case msg_type::plg:
        if (out_.plg.plugin.empty()) return reject::bad_name;
        st_.name.swap(out_.plg.name);
        out_.plg.ts = opt(f_ts, st_.ts);
        out_.plg.interval = opt(f_interval, st_.interval);
        out_.plg.leaf_count = leaf_count_;
        break;
      case msg_type::msg:
        st_.name.swap(out_.msg.name);
        out_.msg.event = (seen_ & bit(f_event)) ? st_.event : msg_event::message;
        out_.msg.ts = opt(f_ts, st_.ts);
        break;
      case msg_type::res:
        st_.name.swap(out_.res.name);
        st_.cmd_id.swap(out_.res.cmd_id);
        out_.res.rc = st_.rc;
        out_.res.ts = opt(f_ts, st_.ts);
        break;
      case msg_type::ack:
        out_.ack.seq = st_.seq;
        out_.ack.ts = opt(f_ts, st_.ts);
        out_.ack.server_ts = st_.server_ts;
        out_.ack.request_update = (seen_ & bit(f_request_update)) ? st_.request_update : 0;
        break;
      case msg_type::cmd:
        st_.cmd_id.swap(out_.cmd.cmd_id);
        out_.cmd.args.resize(args_count_);
        break;
      case msg_type::upd: st_.cmd_id.swap(out_.upd.cmd_id); break;
      case msg_type::err: break;
    }
    ts_ = opt(f_ts, st_.ts);
    return reject::none;
  }

  // The body's ts, when present (for the auth window).
  std::optional<double> ts() const noexcept { return ts_; }

  // SAX events ----------------------------------------------------------------
  bool on_key(std::string_view k) {
    if (depth_ == 1) {
      cur_ = lookup_field(k);
      return true;
    }
    if (mode_ == mode::data) {
      const frame& f = frames_[fsp_];
      std::size_t len = f.base + (f.base != 0) + k.size();
      if (len > max_leaf_path) return fail(reject::too_long);
      if (f.base) path_[f.base] = '.';
      std::memcpy(path_ + f.base + (f.base != 0), k.data(), k.size());
      path_len_ = len;
    }
    return true;
  }

  bool on_string(std::string_view s) {
    if (depth_ == 1) return top_string(s);
    if (mode_ == mode::data) {
      leaf* l = next_leaf();
      if (!l) return false;
      l->type = leaf::kind::string;
      l->number = 0;
      detail::assign(l->text, s);
      return true;
    }
    if (mode_ == mode::args) {
      if (depth_ != 2) return true;
      if (args_count_ >= max_args || s.size() > max_arg_bytes) {
        long_ |= bit(f_args);
        return true;
      }
      auto& args = out_.cmd.args;
      if (args_count_ < args.size())
        args[args_count_].assign(s);
      else
        args.emplace_back(s);
      ++args_count_;
    }
    return true;
  }

  bool on_number(double v, std::string_view raw) {
    if (depth_ == 1) return top_number(v, raw);
    if (mode_ == mode::data) {
      leaf* l = next_leaf();
      if (!l) return false;
      l->type = leaf::kind::number;
      l->number = v;
      l->text.clear();
      return true;
    }
    if (mode_ == mode::args) wrong_ |= bit(f_args);
    return true;
  }

  bool on_bool(bool b) {
    if (depth_ == 1) {
      if (cur_ == f_request_update) {
        st_.request_update = b ? 1 : 0;
        seen_ |= bit(f_request_update);
      } else if (cur_ != f_unknown) {
        wrong_ |= bit(cur_);
      }
      return true;
    }
    if (mode_ == mode::data) {
      leaf* l = next_leaf();
      if (!l) return false;
      l->type = leaf::kind::boolean;
      l->number = b ? 1 : 0;
      l->text.clear();
      return true;
    }
    if (mode_ == mode::args) wrong_ |= bit(f_args);
    return true;
  }

  // null at the top level means "absent" (senders written in Python send None).
  bool on_null() {
    if (depth_ == 1) return true;
    if (mode_ == mode::data) {
      leaf* l = next_leaf();
      if (!l) return false;
      l->type = leaf::kind::null;
      l->number = 0;
      l->text.clear();
      return true;
    }
    if (mode_ == mode::args) wrong_ |= bit(f_args);
    return true;
  }

  bool begin_object(std::size_t offset) {
    if (depth_ == 0) {
      depth_ = 1;
      root_object_ = true;
      return true;
    }
    if (depth_ == 1) {
      if (cur_ == f_data) {
        mode_ = mode::data;
        data_begin_ = offset;
        leaf_count_ = 0;
        path_len_ = 0;
        fsp_ = 0;
        frames_[0] = frame{0, false, 0};
      } else {
        if (cur_ != f_unknown) wrong_ |= bit(cur_);
        mode_ = mode::skip;
      }
    } else if (mode_ == mode::data) {
      if (!element_path()) return false;
      frames_[++fsp_] = frame{path_len_, false, 0};
    } else if (mode_ == mode::args) {
      wrong_ |= bit(f_args);
    }
    ++depth_;
    return true;
  }

  bool end_object(std::size_t offset_after) {
    --depth_;
    if (mode_ == mode::data) {
      if (depth_ == 1) {
        out_.plg.data_json.assign(text_.substr(data_begin_, offset_after - data_begin_));
        seen_ |= bit(f_data);
        mode_ = mode::none;
      } else {
        --fsp_;
      }
    } else if (depth_ == 1) {
      mode_ = mode::none;
    }
    return true;
  }

  bool begin_array(std::size_t) {
    if (depth_ == 1) {
      if (cur_ == f_args) {
        mode_ = mode::args;
        args_count_ = 0;
      } else {
        if (cur_ != f_unknown) wrong_ |= bit(cur_);
        mode_ = mode::skip;
      }
    } else if (mode_ == mode::data) {
      if (!element_path()) return false;
      frames_[++fsp_] = frame{path_len_, true, 0};
    } else if (mode_ == mode::args) {
      wrong_ |= bit(f_args);
    }
    ++depth_;
    return true;
  }

  bool end_array(std::size_t) {
    --depth_;
    if (mode_ == mode::data) {
      --fsp_;
    } else if (depth_ == 1) {
      if (mode_ == mode::args) seen_ |= bit(f_args);
      mode_ = mode::none;
    }
    return true;
  }

 private:
  enum class mode : std::uint8_t { none, data, args, skip };
  struct frame {
    std::size_t base;  // path length of the container itself
    bool array;
    std::uint32_t index;
  };

  std::string_view text_;
  message& out_;
  staging& st_;
  std::size_t depth_ = 0;
  bool root_object_ = false;
  field cur_ = f_unknown;
  mode mode_ = mode::none;
  std::uint32_t seen_ = 0, wrong_ = 0, long_ = 0;
  msg_type type_ = msg_type::htb;
  reject abort_ = reject::bad_json;
  std::optional<double> ts_;
  // data
  std::size_t data_begin_ = 0;
  std::size_t leaf_count_ = 0;
  char path_[max_leaf_path + 16];  // the current leaf path (a fixed buffer: no calls per key)
  std::size_t path_len_ = 0;
  frame frames_[max_json_depth + 2];
  std::size_t fsp_ = 0;
  // args
  std::size_t args_count_ = 0;

  bool fail(reject r) noexcept {
    abort_ = r;
    return false;
  }

  // Inside an array of `data`, the element's path is the array's path plus its index.
  bool element_path() {
    frame& f = frames_[fsp_];
    if (!f.array) return true;
    char buf[12];
    auto r = std::to_chars(buf, buf + sizeof buf, f.index++);
    std::size_t n = static_cast<std::size_t>(r.ptr - buf);
    std::size_t len = f.base + (f.base != 0) + n;
    if (len > max_leaf_path) return fail(reject::too_long);
    if (f.base) path_[f.base] = '.';
    std::memcpy(path_ + f.base + (f.base != 0), buf, n);
    path_len_ = len;
    return true;
  }

  leaf* next_leaf() {
    if (leaf_count_ >= max_leaves) {
      fail(reject::too_large);
      return nullptr;
    }
    if (!element_path()) return nullptr;
    auto& leaves = out_.plg.leaves;
    if (leaf_count_ == leaves.size()) leaves.emplace_back();
    leaf& l = leaves[leaf_count_++];
    detail::assign(l.path, path_, path_len_);
    return &l;
  }

  bool store(std::string& dst, std::string_view s, field f, std::size_t limit) {
    if (s.size() > limit) {
      long_ |= bit(f);
      return true;
    }
    detail::assign(dst, s);
    seen_ |= bit(f);
    return true;
  }

  bool top_string(std::string_view s) {
    switch (cur_) {
      case f_id: {
        if (s.size() != 3) return fail(reject::unknown_type);
        if (s == "HTB")
          type_ = msg_type::htb;
        else if (s == "PLG")
          type_ = msg_type::plg;
        else if (s == "MSG")
          type_ = msg_type::msg;
        else if (s == "RES")
          type_ = msg_type::res;
        else if (s == "ACK")
          type_ = msg_type::ack;
        else if (s == "CMD")
          type_ = msg_type::cmd;
        else if (s == "UPD")
          type_ = msg_type::upd;
        else if (s == "ERR")
          type_ = msg_type::err;
        else
          return fail(reject::unknown_type);
        seen_ |= bit(f_id);
        return true;
      }
      case f_name:
        // Over-long names are a bad name, not a long string: keep them short here.
        if (s.size() > max_name_length) s = std::string_view();
        detail::assign(st_.name, s);
        seen_ |= bit(f_name);
        return true;
      case f_agent: return store(out_.htb.agent, s, f_agent, max_short_string);
      case f_owner: return store(out_.htb.owner, s, f_owner, max_short_string);
      case f_plugin: return store(out_.plg.plugin, s, f_plugin, max_short_string);
      case f_kind:
        if (s != "info" && s != "monitor") {
          wrong_ |= bit(f_kind);
          return true;
        }
        return store(out_.plg.kind, s, f_kind, max_short_string);
      case f_msg:
        if (s.size() > max_msg_length && utf8_length(s) > max_msg_length) {
          long_ |= bit(f_msg);
          return true;
        }
        out_.msg.msg.assign(s);
        seen_ |= bit(f_msg);
        return true;
      case f_event:
        if (s == "message")
          st_.event = msg_event::message;
        else if (s == "boot")
          st_.event = msg_event::boot;
        else if (s == "shutdown")
          st_.event = msg_event::shutdown;
        else {
          wrong_ |= bit(f_event);
          return true;
        }
        seen_ |= bit(f_event);
        return true;
      case f_cmd_id: return store(st_.cmd_id, s, f_cmd_id, max_short_string);
      case f_output: return store(out_.res.output, s, f_output, max_output_bytes);
      case f_command: return store(out_.cmd.command, s, f_command, max_short_string);
      case f_version: return store(out_.upd.version, s, f_version, max_short_string);
      case f_error: return store(out_.err.error, s, f_error, max_error_length);
      case f_unknown: return true;
      default: wrong_ |= bit(cur_); return true;
    }
  }

  bool number_field(double v, field f, double& dst, bool positive, bool non_negative) {
    if (!std::isfinite(v) || (positive && !(v > 0)) || (non_negative && v < 0)) {
      wrong_ |= bit(f);
      return true;
    }
    dst = v;
    seen_ |= bit(f);
    return true;
  }

  template <class Int>
  bool int_field(double v, std::string_view raw, field f, Int& dst) {
    if (!as_integer(v, raw, dst)) {
      wrong_ |= bit(f);
      return true;
    }
    seen_ |= bit(f);
    return true;
  }

  bool top_number(double v, std::string_view raw) {
    switch (cur_) {
      case f_ver: return int_field(v, raw, f_ver, st_.ver);
      case f_seq: return int_field(v, raw, f_seq, st_.seq);
      case f_rc: return int_field(v, raw, f_rc, st_.rc);
      case f_request_update:
        if (!int_field(v, raw, f_request_update, st_.request_update)) return false;
        if (st_.request_update != 0 && st_.request_update != 1) {
          seen_ &= ~bit(f_request_update);
          wrong_ |= bit(f_request_update);
        }
        return true;
      case f_interval: return number_field(v, f_interval, st_.interval, true, false);
      case f_ts: return number_field(v, f_ts, st_.ts, false, false);
      case f_server_ts: return number_field(v, f_server_ts, st_.server_ts, false, false);
      case f_boot_time: return number_field(v, f_boot_time, st_.boot_time, false, false);
      case f_rtt: return number_field(v, f_rtt, st_.rtt, false, true);
      case f_unknown: return true;
      default: wrong_ |= bit(cur_); return true;
    }
  }
};

}  // namespace detail
}  // namespace heartbeat::protocol
