// Splits a configured command string into argv with simple shell-like quoting,
// so that `command: /usr/lib/nagios/plugins/check_disk -w 20% -p "/my disk"`
// runs without a shell. Standard library only (hbc_mini shares it); pure.
//
// Rules: blanks separate words; 'single quotes' keep everything literally;
// "double quotes" keep everything except \" \\ \$ \` which drop the backslash;
// outside quotes a backslash keeps the next character literally. Nothing is
// expanded: no variables, globs, pipes, redirections or ~.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "heartbeat/core/result.hpp"

namespace heartbeat::readers {

inline result<std::vector<std::string>> split_command(std::string_view s) {
  std::vector<std::string> argv;
  std::string cur;
  bool in_word = false;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) {
        argv.push_back(std::move(cur));
        cur.clear();
        in_word = false;
      }
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      std::size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) return make_error("bad_command", "unterminated single quote");
      cur.append(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          cur.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        cur.push_back(d);
        ++i;
      }
      if (!closed) return make_error("bad_command", "unterminated double quote");
    } else if (c == '\\') {
      if (i + 1 >= s.size()) return make_error("bad_command", "trailing backslash");
      cur.push_back(s[i + 1]);
      i += 2;
    } else {
      cur.push_back(c);
      ++i;
    }
  }
  if (in_word) argv.push_back(std::move(cur));
  if (argv.empty()) return make_error("bad_command", "empty command");
  return argv;
}

}  // namespace heartbeat::readers
