#!/usr/bin/env bash
# Several hbd nodes on one PostgreSQL (docs/CLUSTER.md, "Figures"):
# 1. the store's write rate for plugin history, PostgreSQL beside SQLite in the same run
#    (target: 100,000 hosts x 9 plugins every 300 s = 3,000 rows/s, with >= 5x headroom:
#    15,000 rows/s);
# 2. failover time: kill -9 the leader, and a threshold crossing sent to both nodes at that
#    moment is notified by the new leader; kill -> webhook, median and max over 5 runs
#    (target: <= lease + 2 s). HB_CLUSTER_LEASE (default 5) sets the lease.
# A PostgreSQL 15 (Debian's) is started in a temporary directory and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="$(cd "${HB_BUILD_DIR:-build-bench}" && pwd)"  # absolute: the tests' helpers run hbd from elsewhere
TOOL="$BUILD/benchmarks/tool_store_rate"
[ -x "$TOOL" ] || { echo "tool_store_rate not built ($TOOL)"; exit 1; }
[ -x "$BUILD/hbd" ] || { echo "hbd not built ($BUILD/hbd)"; exit 1; }
export HB_BUILD_DIR="$BUILD" HB_SOURCE_DIR="$PWD" PYTHONDONTWRITEBYTECODE=1
HOSTS="${HB_STORE_BENCH_HOSTS:-5000}" ROUNDS="${HB_STORE_BENCH_ROUNDS:-4}"
LEASE="${HB_CLUSTER_LEASE:-5}"

/usr/bin/python3 - "$TOOL" "$HOSTS" "$ROUNDS" "$LEASE" <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.environ["HB_SOURCE_DIR"], "tests", "integration"))
from pg_support import Postgres
from cluster_support import Nodes
from hbtest import Client, wait_until
from notify_support import Receiver

tool, hosts, rounds, lease = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
target = 100000 * 9 / 300

with Postgres() as pg:
    db = pg.create_database()
    with tempfile.TemporaryDirectory() as tmp:
        for kind, where in (("sqlite", os.path.join(tmp, "rate.sqlite")), ("postgresql", pg.conninfo(db))):
            out = subprocess.run([tool, kind, where, str(hosts), "9", str(rounds)], capture_output=True, text=True,
                                 timeout=1800)
            line = (out.stdout or out.stderr).strip()
            print(f"store write rate, {line}")
            if out.returncode == 0:
                rate = float(line.split(" = ")[1].split()[0])
                print(f"  {kind}: {rate / target:.1f}x the 100,000 hosts x 9 plugins / 300 s load "
                      f"({target:.0f} rows/s); target >= 5x: {'met' if rate >= 5 * target else 'NOT met'}")

    hook = Receiver()
    db = pg.create_database()
    common = {"interval": 30, "grace": 30, "notifiers": {"hook": {"type": "webhook", "url": hook.url}},
              "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80.0, "critical": 90.0}}}}
    times = []
    with Nodes(pg, db, ("a", "b"), lease=lease, **common) as nodes:
        for run in range(5):
            leader = nodes.wait_leader(timeout=60)
            host = f"failover{run}"
            clients = [Client(host, n.hb_port, host=n.address) for _, n in nodes.items()]
            for c in clients:
                c.heartbeat(interval=30)
            nodes[leader].kill9()
            t0 = time.time()
            for c in clients:
                c.plg("cpu_monitor", {"cpu_percent": 95.0})
            wait_until(lambda: [r for r in hook.ok() if json.loads(r["body"]).get("host") == host], timeout=lease * 4 + 30,
                       what="the notification from the new leader", interval=0.01)
            times.append(time.time() - t0)
            nodes[leader].start()
            for c in clients:
                c.close()
    hook.close()
    print(f"failover (lease {lease:g} s), kill -9 -> first notification from the new leader over 5 runs: "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in times)}); target <= lease + 2 s = {lease + 2:g} s: "
          f"{'met' if max(times) <= lease + 2 else 'NOT met'}")
PY
