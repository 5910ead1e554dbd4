"""Find the ComfyUI the CLI uses and run API prompts through its real executor in a child process.

Which ComfyUI: ``$DTV_COMFYUI`` if set; else the ComfyUI this pack sits in (``ComfyUI/custom_nodes/<pack>``);
else the pinned copy ``.comfyui/`` that ``scripts/setup.sh`` extracts next to the code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import CLIError

PACK_ROOT = Path(__file__).resolve().parent.parent
PACK_DIR_NAME = "draw-to-video"
#: the ``models/`` sub-folders of the CLI's ComfyUI that a render (in-process or ``serve``) may load weights from
MODEL_FOLDERS = ("checkpoints", "vae", "clip_vision", "text_encoders", "diffusion_models", "loras", "upscale_models",
                 "depth", "interpolation", "luts")
_RUNNER = Path(__file__).resolve().parent / "comfy_runner.py"
#: Runs a script file as __main__ with the working directory (the ComfyUI root) first on the module path, exactly as
#: ComfyUI's own ``python main.py`` has its folder there; nothing of the pack is put on the path.
_BOOT = "import runpy, sys; sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name='__main__')"


def find_comfyui() -> Path:
    """The ComfyUI root the CLI uses (see module docstring); raises CLIError when there is none."""
    env = os.environ.get("DTV_COMFYUI")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / "main.py").is_file():
            raise CLIError(f"DTV_COMFYUI={env} is not a ComfyUI folder (no main.py)")
        return root
    if PACK_ROOT.parent.name == "custom_nodes" and (PACK_ROOT.parent.parent / "main.py").is_file():
        return PACK_ROOT.parent.parent
    pinned = PACK_ROOT / ".comfyui"
    if (pinned / "main.py").is_file():
        return pinned
    raise CLIError("no ComfyUI found: run scripts/setup.sh, install the pack into ComfyUI/custom_nodes, or set DTV_COMFYUI")


def comfyui_version(root: Path) -> str:
    text = (root / "comfyui_version.py").read_text(encoding="utf-8") if (root / "comfyui_version.py").exists() else ""
    m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return m.group(1) if m else "unknown"


@dataclass(frozen=True)
class RunResult:
    """Outputs of one executed prompt: node id -> ComfyUI ui dict; files already copied to ``out_dir``."""

    outputs: dict
    files: list[Path]


def _progress_line(msg: Mapping[str, object], state: dict) -> None:
    if not sys.stderr.isatty() and msg.get("event") != "executing":
        # keep logs readable when piped: one line per node, none per step
        return
    if msg.get("event") == "executing" and msg.get("node") is not None:
        state["node"] = msg["node"]
        sys.stderr.write(f"\rrunning node {msg['node']}" + " " * 20 + ("\n" if not sys.stderr.isatty() else ""))
    elif msg.get("event") == "progress":
        v, m = int(msg.get("value", 0)), max(int(msg.get("max", 1)), 1)
        bar = "#" * int(30 * v / m)
        sys.stderr.write(f"\rnode {state.get('node', '?')}: [{bar:<30}] {v}/{m}")
    sys.stderr.flush()


def run_prompt(
    prompt: Mapping[str, object],
    *,
    out_dir: Path,
    inputs: Mapping[str, Path] | None = None,
    comfy_root: Path | None = None,
    cpu: bool | None = None,
    verbose: bool = False,
    server: str | None = None,
) -> RunResult:
    """Execute an API-format prompt with ComfyUI's executor; copy every output file into ``out_dir``.

    ``inputs`` maps names (as referenced by LoadImage & co.) to files placed in the run's input folder. With
    ``server`` (a URL) the prompt runs on that running ComfyUI instead of a freshly booted one (``cli/remote.py``).
    """
    if server:
        from .remote import run_on_server

        outputs, files = run_on_server(server, prompt, out_dir=out_dir, inputs=inputs, progress=_progress_line)
        return RunResult(outputs=outputs, files=files)
    root = comfy_root or find_comfyui()
    if cpu is None:
        cpu = os.environ.get("DTV_CPU", "") == "1" or not _cuda_available()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dtv-run-") as tmp:
        base = Path(tmp)
        (base / "custom_nodes").mkdir()
        (base / "custom_nodes" / PACK_DIR_NAME).symlink_to(PACK_ROOT, target_is_directory=True)
        (base / "input").mkdir()
        for name, src in (inputs or {}).items():
            shutil.copyfile(src, base / "input" / name)
        job = base / "job.json"
        job.write_text(json.dumps({"prompt": prompt, "model_folders": MODEL_FOLDERS}), encoding="utf-8")
        cmd = [sys.executable, "-c", _BOOT,
               str(_RUNNER), "--job", str(job), "--base-directory", str(base), "--model-root", str(root / "models")]
        if cpu:
            cmd.append("--cpu")
        log = base / "comfyui.log"  # a file, not a pipe: a chatty child can never block on a full stderr pipe
        with log.open("w", encoding="utf-8") as log_fh:
            proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=None if verbose else log_fh,
                                    text=True)
        result: dict | None = None
        state: dict = {}
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if msg.get("event") == "result":
                    result = msg
                else:
                    _progress_line(msg, state)
            proc.wait()
        except BaseException:  # Ctrl-C, SIGTERM/SIGHUP (cli.errors.Terminated) or any failure: no orphan child
            stop_child(proc)
            raise
        finally:
            proc.stdout.close()
        sys.stderr.write("\n" if state else "")
        if result is None:
            tail = "" if verbose else "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
            raise CLIError(f"ComfyUI exited (code {proc.returncode}) without a result; last log lines:\n{tail}")
        if not result.get("ok"):
            raise CLIError(str(result.get("error") or "ComfyUI failed"))
        files = _collect(result.get("outputs", {}), Path(result.get("output_dir", base / "output")), out_dir)
        return RunResult(outputs=result.get("outputs", {}), files=files)


def stop_child(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop the ComfyUI child: SIGTERM, then SIGKILL after ``grace`` seconds; waits until it is gone."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _collect(outputs: Mapping[str, object], output_dir: Path, out_dir: Path) -> list[Path]:
    files: list[Path] = []
    for node_out in outputs.values():
        if not isinstance(node_out, Mapping):
            continue
        for items in node_out.values():
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, Mapping) and item.get("type") == "output" and "filename" in item:
                    src = output_dir / str(item.get("subfolder", "")) / str(item["filename"])
                    if src.is_file():
                        dst = out_dir / src.name
                        shutil.move(str(src), dst)
                        files.append(dst)
    return files


def _cuda_available() -> bool:
    """Whether ComfyUI would find a CUDA device, without importing torch here (that alone costs seconds of the
    CLI's start-up, and the child imports it anyway): torch must be a CUDA build (its ``version.py`` names a CUDA
    version), and the driver must report a device (``cuInit`` + ``cuDeviceGetCount`` through ctypes)."""
    import ctypes
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    version = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    if not version.is_file() or not re.search(r"^cuda\s*(:[^=]*)?=\s*['\"]\d", version.read_text(), re.M):
        return False
    try:
        cuda = ctypes.CDLL("libcuda.so.1" if sys.platform.startswith("linux") else "nvcuda.dll")
        count = ctypes.c_int(0)
        return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0
    except (OSError, AttributeError):
        return False
