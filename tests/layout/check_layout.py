#!/usr/bin/env python3
"""The layout rules of docs/ARCHITECTURE.md, checked over the #include lines.

1. Folders under include/heartbeat/ form layers; a header may include its own
   folder and folders of lower layers only (so the folder graph is a DAG).
2. Some folders must not reach certain third-party headers, even transitively:
   server/ knows nothing of HTTP, OpenSSL or libcurl; the dependency-free
   folders include only the standard library and POSIX.
3. No file under include/ or src/ is longer than MAX_LINES.
Exits 1 and prints every violation.
"""
import os
import re
import sys

MAX_LINES = 600

# Bottom to top. A folder may include folders listed before it.
LAYERS = [
    "core",      # result, json, log, clock, queues: standard library only
    "config",    # typed config readers with key paths
    "protocol",  # messages and the codec
    "readers",   # pure /proc and tool-output readers
    "net",       # Asio and the subprocess runner
    "bus",       # event types and the event bus
    "alert",     # threshold rules and the alert engine
    "server",    # host state, ingest, monitor, journal, store, DNS
    "checks",    # active checks (http, tcp, icmp, dns, tls, nagios), scheduler, services, rotas
    "remote_write",  # Prometheus remote write: encoder, spool, senders
    "notify",    # notification pipeline and channels
    "api",       # HTTP API, WebSocket, auth
    "client",    # hbc: plugins, scheduler, transport
    "mini",      # hbc_mini
    "hbd",       # hbd's composition root
]

# Third-party headers a folder must never reach, directly or through what it includes.
FORBIDDEN = {
    "server": ["restinio/", "openssl/", "curl/"],
    "core": ["asio", "restinio/", "openssl/", "curl/", "zlib.h", "yaml-cpp/", "sqlite3.h"],
    "readers": ["asio", "restinio/", "openssl/", "curl/", "zlib.h", "yaml-cpp/", "sqlite3.h"],
    "mini": ["asio", "restinio/", "openssl/", "curl/", "zlib.h", "yaml-cpp/", "sqlite3.h"],
}
# Headers that are allowed to pull in a dependency for their folder (policies kept apart).
EXEMPT = {"protocol/system_policy.hpp", "config/yaml.hpp"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def read_includes(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = INCLUDE_RE.match(line)
            if m:
                out.append((m.group(1), m.group(2)))
    return out


def main(root):
    inc_root = os.path.join(root, "include", "heartbeat")
    problems = []
    headers = {}
    for dirpath, _, files in os.walk(inc_root):
        for name in files:
            if name.endswith(".hpp"):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, inc_root)
                headers[rel] = read_includes(full)

    rank = {name: i for i, name in enumerate(LAYERS)}
    for rel, incs in sorted(headers.items()):
        folder = rel.split("/")[0] if "/" in rel else None
        if folder is not None and folder not in rank:
            problems.append(f"{rel}: folder '{folder}' is not a layer in tests/layout/check_layout.py")
            continue
        for kind, target in incs:
            if kind != '"' or not target.startswith("heartbeat/"):
                continue
            trel = target[len("heartbeat/"):]
            if trel not in headers:
                problems.append(f"{rel}: includes missing header {target}")
                continue
            tfolder = trel.split("/")[0] if "/" in trel else None
            if folder is None or tfolder is None or tfolder == folder:
                continue
            if rank.get(tfolder, 999) > rank[folder]:
                problems.append(f"{rel}: '{folder}' includes {target} from the higher layer '{tfolder}'")

    # Transitive third-party reach.
    memo = {}

    def reach(rel, stack=()):
        if rel in memo:
            return memo[rel]
        out = set()
        for kind, target in headers.get(rel, []):
            if target.startswith("heartbeat/"):
                trel = target[len("heartbeat/"):]
                if trel in headers and trel not in stack and trel not in EXEMPT:
                    out |= reach(trel, stack + (rel,))
            elif kind == "<":
                out.add(target)
        memo[rel] = out
        return out

    for rel in sorted(headers):
        if rel in EXEMPT or "/" not in rel:
            continue
        folder = rel.split("/")[0]
        for bad in FORBIDDEN.get(folder, []):
            hits = sorted(h for h in reach(rel) if h.startswith(bad))
            if hits:
                problems.append(f"{rel}: '{folder}' must not reach <{hits[0]}>")

    for base in (os.path.join(root, "include"), os.path.join(root, "src")):
        for dirpath, _, files in os.walk(base):
            for name in files:
                full = os.path.join(dirpath, name)
                with open(full, encoding="utf-8") as f:
                    n = sum(1 for _ in f)
                if n > MAX_LINES:
                    problems.append(f"{os.path.relpath(full, root)}: {n} lines (at most {MAX_LINES})")

    for p in problems:
        print(p)
    if problems:
        print(f"layout: {len(problems)} problem(s)")
        return 1
    print(f"layout: {len(headers)} headers, {len(LAYERS)} layers, no problem")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")))
