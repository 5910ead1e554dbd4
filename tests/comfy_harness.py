"""Start and stop real ComfyUI servers for the tests (the pinned ``.comfyui/`` of the checkout).

Each server gets its own ``--base-directory`` with the pack symlinked as ``custom_nodes/draw-to-video``, so the
ComfyUI folder itself stays untouched and one copy serves every test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from draw_to_video.cli.client import ComfyClient

REPO = Path(__file__).resolve().parent.parent
COMFY = REPO / ".comfyui"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_base(base: Path) -> Path:
    """A ComfyUI base directory holding only this pack, with the first-run tutorial switched off."""
    (base / "custom_nodes").mkdir(parents=True, exist_ok=True)
    link = base / "custom_nodes" / "draw-to-video"
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    for d in ("input", "output", "models/checkpoints", "user/default"):
        (base / d).mkdir(parents=True, exist_ok=True)
    (base / "user" / "default" / "comfy.settings.json").write_text(
        json.dumps({"Comfy.TutorialCompleted": True}), encoding="utf-8")
    return base


@dataclass
class Server:
    base: Path
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> ComfyClient:
        return ComfyClient(self.url)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """Kill the server by its PID, as a crash would."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def start_server(base: Path, port: int | None = None, extra_args: tuple[str, ...] = (), timeout: float = 120.0) -> Server:
    if not (COMFY / "main.py").is_file():
        raise RuntimeError(f"{COMFY} is missing: run scripts/setup.sh --test first")
    make_base(base)
    port = port or free_port()
    log = base / f"server-{port}.log"
    cmd = [sys.executable, str(COMFY / "main.py"), "--cpu", "--listen", "127.0.0.1", "--port", str(port),
           "--base-directory", str(base), "--disable-api-nodes", "--database-url", "sqlite:///:memory:",
           "--disable-auto-launch", *extra_args]
    fh = log.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=COMFY, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(base, port, proc, log)
    client = ComfyClient(srv.url, timeout=2.0)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"ComfyUI exited with {proc.returncode} during start-up:\n{srv.log_tail()}")
        try:
            status, _ = client.request("GET", "/system_stats")
            if status == 200:
                return srv
        except OSError:
            pass
        time.sleep(0.3)
    srv.kill()
    raise RuntimeError(f"ComfyUI did not answer /system_stats within {timeout:.0f} s:\n{srv.log_tail()}")
