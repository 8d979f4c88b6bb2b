"""A real PostgreSQL for the tests of hbd on PostgreSQL (tests/integration/test_cluster_*.py) and
the cluster benchmark: Debian's initdb and pg_ctl (/usr/lib/postgresql/<version>/bin) in a
temporary directory, listening on a free loopback port, run as an unprivileged user (PostgreSQL
refuses to run as root: as root the server runs as `nobody` through runuser), stopped at the end.

    from pg_support import Postgres

    with Postgres() as pg:
        db = pg.create_database()          # a fresh database per test
        hbd_config = {"store": pg.conninfo(db)}
        pg.query(db, "SELECT count(*) FROM hosts")   # rows as lists of strings

A pytest fixture shared by a module:  pg = pytest.fixture(scope="module")(postgres_fixture)
"""

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import time

from hbtest import free_port, wait_until


def pg_bin_dir():
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, or None."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            try:
                found.append((int(d.split("/")[-2].split(".")[0]), d))
            except ValueError:
                pass
    return max(found)[1] if found else None


class Postgres:
    """One PostgreSQL server (its own data directory, port and unix socket directory)."""

    _names = itertools.count(1)

    def __init__(self, settings=None):
        self.bin = pg_bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs postgresql)")
        self.dir = tempfile.mkdtemp(prefix="hbpg-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.port = free_port("tcp")
        self.user = "hb"  # the database superuser (trust authentication on loopback only)
        self.settings = dict(settings or {})
        self.as_user = "nobody" if os.geteuid() == 0 else None
        if self.as_user:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, self.as_user)
        self._run(["initdb", "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync",
                   "--no-instructions"], timeout=120)

    def _cmd(self, args):
        cmd = [os.path.join(self.bin, args[0])] + list(args[1:])
        return (["runuser", "-u", self.as_user, "--"] + cmd) if self.as_user else cmd

    def _run(self, args, timeout=60, check=True):
        r = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if check and r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({r.returncode}): {r.stderr.strip()}\n{self.log()[-2000:]}")
        return r

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self, timeout=60):
        opts = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.dir}"]
        opts += [f"-c {k}={v}" for k, v in self.settings.items()]
        self._run(["pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", str(timeout), "-o", " ".join(opts),
                   "start"], timeout=timeout + 10)
        return self

    def stop(self, mode="fast"):
        """Stops the server (mode fast: sessions are cut; immediate: like a crash)."""
        self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], check=False)

    def restart(self, mode="fast"):
        self.stop(mode)
        return self.start()

    def running(self):
        return self._run(["pg_ctl", "-D", self.data, "status"], check=False).returncode == 0

    def cleanup(self):
        if os.path.exists(self.data):
            self.stop("immediate")
        if not os.environ.get("HB_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    def conninfo(self, db):
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name=None):
        name = name or f"hb{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def psql(self, db, sql):
        r = self._run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", db, "-X", "-q",
                       "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        return r.stdout

    def query(self, db, sql):
        """Rows of `sql` as lists of strings."""
        out = self.psql(db, sql)
        return [line.split("\t") for line in out.splitlines() if line]

    def wait_query(self, db, sql, ok, timeout=10, what=None):
        """Polls `sql` until ok(rows) holds; returns the rows."""
        def probe():
            try:
                return self.query(db, sql)
            except RuntimeError as e:
                return f"error: {e}"
        return wait_until(probe, lambda rows: not isinstance(rows, str) and ok(rows), timeout, what or sql,
                          interval=0.1)


def postgres_fixture():
    """Body of a module-scoped pytest fixture: one server for a test module."""
    pg = Postgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.cleanup()


def elapsed_since(t0):
    return time.time() - t0
