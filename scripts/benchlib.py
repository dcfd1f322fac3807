"""Shared parts of the benchmark scripts: the local mail rig, a fresh database and config, reading
routedesk's database and its resident memory."""
import imaplib, os, re, sqlite3, subprocess, tempfile, time
from pathlib import Path

root = Path(__file__).resolve().parent.parent
binary = Path(os.environ.get("BENCH_BIN", root / "target" / "release" / "routedesk"))
fixtures = sorted((root / "tests" / "fixtures" / "reports").glob("*.eml"))


def rig_env():
    if not binary.exists():
        raise SystemExit("build first: cargo build --release --features bench")
    subprocess.run([root / "scripts" / "rig", "start"], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([root / "scripts" / "rig", "env"], capture_output=True, text=True).stdout
    return dict(l.split("=", 1) for l in out.replace("export ", "").split())


def unique(raw: bytes, tag: str, i: int) -> bytes:
    """A fixture made unique (Message-ID and subject), so it is a new report."""
    raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*", f"Message-ID: <{tag}-{i}@bench>".encode(), raw, count=1)
    return re.sub(rb"(?im)^Subject: ", f"Subject: [{i}] ".encode(), raw, count=1)


def imap(env, mailbox):
    c = imaplib.IMAP4("127.0.0.1", int(env["RIG_IMAP_PORT"]))
    c.login(mailbox, env["RIG_PASSWORD"])
    return c


class Psql:
    """One psql session kept open for the benchmark's polling: a new psql process and server
    backend for every poll would cost ~30 ms of CPU each, taken from the system measured."""

    end = "__routedesk_bench_end__"

    def __init__(self, url):
        self.proc = subprocess.Popen(["psql", url, "-XtAq"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def value(self, sql):
        """The first value of the result, or 0 when there is none (the table not there yet)."""
        self.proc.stdin.write(f"{sql.rstrip(';')};\n\\echo {self.end}\n")
        self.proc.stdin.flush()
        lines = []
        while (line := self.proc.stdout.readline()) != "":
            if line.rstrip("\n") == self.end:
                return lines[0] if lines and lines[0] else 0
            lines.append(line.rstrip("\n"))
        raise SystemExit("psql ended before answering")


class Instance:
    """A fresh database and config for `mailbox`, and `routedesk serve` running on them."""

    def __init__(self, env, mailbox, backend, tag, extra_args=(), web_port=None, before_start=None, extra_config="",
                 smtp_port=None):
        self.backend = backend
        self.work = Path(tempfile.mkdtemp(prefix="routedesk-bench-"))
        if backend == "postgres":
            db = f"rdbench_{tag}"
            subprocess.run(["psql", "postgres://postgres@127.0.0.1/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
            self.url = f"postgres://postgres@127.0.0.1/{db}"
            if os.environ.get("BENCH_PG_SOCKET"):
                # The server's Unix socket instead of TCP (see docs/benchmarks.md: sqlx 0.9.0 and Nagle).
                self.url += f"?host={os.environ['BENCH_PG_SOCKET']}"
        else:
            self.url = f"sqlite://{self.work}/routedesk.db"
        (self.work / "routedesk.toml").write_text(f"""
mailbox = "{mailbox}"
database_url = "{self.url}"
# The fixtures are written to these: the helpdesk's aliases, so every reporter may be answered.
addressed_as = ["pureservice@gjovik.kommune.no", "helpdesk@routedesk.test"]
[imap]
url = "imap://127.0.0.1:{env['RIG_IMAP_PORT']}"
user = "{mailbox}"
password = "{env['RIG_PASSWORD']}"
batch = 200
[smtp]
url = "smtp://127.0.0.1:{smtp_port or env['RIG_SMTP_PORT']}"
[web]
bind = "{f'127.0.0.1:{web_port}' if web_port else ''}"
{extra_config}""")
        if before_start:
            before_start(self)
        self.log = self.work / "log"
        self.start(extra_args)

    def start(self, extra_args=()):
        """Starts `routedesk serve` (again) on this instance's config and database."""
        self.started = time.time()
        self.proc = subprocess.Popen([binary, "serve", *extra_args, "--config", self.work / "routedesk.toml"],
                                     stderr=open(self.log, "a"), env={**os.environ, "ROUTEDESK_LOG": os.environ.get("ROUTEDESK_LOG", "info,routedesk::intake=debug")})

    def execute(self, sql):
        """One statement on routedesk's database (routedesk stopped or not)."""
        if self.backend == "postgres":
            subprocess.run(["psql", self.url.split("?")[0], "-qc", sql], check=True)
        else:
            c = sqlite3.connect(f"{self.work}/routedesk.db", timeout=10)
            c.execute(sql)
            c.commit()
            c.close()

    def run(self, *args, stdin=None):
        """A routedesk command on this instance's config."""
        command, *rest = args
        subprocess.run([binary, command, "--config", self.work / "routedesk.toml", *rest], input=stdin, text=True,
                       check=True)

    def query(self, sql):
        """One value from routedesk's database (0 when it cannot be read yet)."""
        if self.backend == "postgres":
            if not hasattr(self, "psql"):
                self.psql = Psql(self.url.split("?")[0])
            return self.psql.value(sql)
        try:
            c = sqlite3.connect(f"file:{self.work}/routedesk.db?mode=ro", uri=True, timeout=1)
            row = c.execute(sql).fetchone()
            c.close()
            return row[0] if row else 0
        except sqlite3.Error:
            return 0

    def wait_ready(self, timeout=30):
        while time.time() - self.started < timeout:
            if "watching the helpdesk mailbox" in self.log.read_text():
                return
            time.sleep(0.05)
        raise SystemExit(f"routedesk did not start; see {self.log}")

    def rss_kb(self, field="VmRSS"):
        try:
            for line in open(f"/proc/{self.proc.pid}/status"):
                if line.startswith(field):
                    return int(line.split()[1])
        except OSError:
            return 0
        return 0

    def cpu_seconds(self):
        """routedesk's CPU time so far, user and system."""
        try:
            fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
