"""Real Redis for tests: the machine's (skip when none answers) or a redis-server of the test's own.

Under MASTHEAD_REQUIRE_REDIS=1 (set by .ci/run) a missing Redis fails the test instead of skipping it.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis


def _missing(why: str) -> None:
    if os.environ.get("MASTHEAD_REQUIRE_REDIS") == "1":
        pytest.fail(f"MASTHEAD_REQUIRE_REDIS=1 but {why}")
    pytest.skip(f"{why} (set REDIS_URL, or MASTHEAD_REQUIRE_REDIS=1 to make this fail)")


def redis_or_skip(url: str) -> redis.Redis:
    """A client of the Redis at `url`, which answers; otherwise the test skips (or fails, see above)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        _missing(f"no Redis server answers at {url}: {exc}")
    return client


def commands_processed(client: redis.Redis) -> int:
    """How many commands the server has run so far (this call's INFO included)."""
    return int(client.info("stats")["total_commands_processed"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server process of one test, on a free port, with its data in `folder`: stop() saves
    and start() reloads it (a restart with persistence); kill() loses it (a crash without)."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            _missing("redis-server is not installed (these tests start and stop their own)")
        self.folder, self.port = folder, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> redis.Redis:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return client
            except redis.BusyLoadingError:
                time.sleep(0.05)
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Shut down after writing the data to disk, as a restarting Redis with persistence does."""
        with contextlib.suppress(redis.ConnectionError):  # the connection closes as the server exits
            redis.Redis.from_url(self.url).shutdown(save=True)
        self.proc.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)  # a hung server: connections open, nothing answers

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Gone at once with whatever it held, as a crash (or a restart without persistence) loses it."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)
