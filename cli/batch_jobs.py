"""Read and check a batch's jobs file (JSON Lines) and build each job's API graph.

One job per line::

    {"id": "shot-01", "image": "photos/a.jpg", "stroke": {...} | "strokes/a.json", "preset": "orbit", "seed": 3,
     "depth": "photos/a_depth.png", "overrides": {"<node title>": {"<input>": value}}}

``id``, ``image`` and ``stroke`` are required (``stroke``: an object, its JSON text, or a file); relative paths are taken from the jobs file's folder. The fields patch
the workflow by node title (``image`` -> "Image".image, ``depth`` -> "Depth map".image, ``stroke`` ->
"Stroke".strokes, ``preset``/``seed`` -> "Camera trajectory"), then ``overrides`` apply last. Every problem of every
line is collected (with its line number) before anything reaches a server; :func:`graph_problems` then checks the
patched graphs against a server's ``/object_info``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..trajectory.stroke.format import parse_strokes
from .errors import CLIError
from .workflow import nodes_by_title, patch, use_depth_map

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
KEYS = ("id", "image", "stroke", "preset", "seed", "depth", "overrides")
#: job field -> (node title, input name) it sets
TARGETS = {"image": ("Image", "image"), "depth": ("Depth map", "image"), "stroke": ("Stroke", "strokes"),
           "preset": ("Camera trajectory", "preset"), "seed": ("Camera trajectory", "seed")}


@dataclass(frozen=True)
class Upload:
    """A local file the job sends with ``/upload/image`` under ``name`` before queueing, for ``node_id.input``."""

    node_id: str
    input: str
    path: Path
    name: str


@dataclass(frozen=True)
class Job:
    id: str
    line: int
    graph: dict
    uploads: tuple[Upload, ...] = ()
    digest: str = ""


def _file(base: Path, value: object, what: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a file path (string), got {json.dumps(value)[:40]}")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ValueError(f"{what} file not found: {path}")
    return path


#: Image formats a job's "image" and "depth" may be: ComfyUI's LoadImage opens them with PIL.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
MAX_IMAGE_PIXELS = 1 << 28


def _image_file(base: Path, value: object, what: str) -> Path:
    """A path that is an image file: its header decodes as one of :data:`IMAGE_FORMATS` with a sane size (so no
    other file, e.g. /etc/passwd, is ever uploaded to a server)."""
    from PIL import Image, UnidentifiedImageError

    path = _file(base, value, what)
    try:
        with Image.open(path) as img:  # reads the header only
            fmt, (w, h) = img.format, img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValueError(f"{what} is not an image file ({', '.join(IMAGE_FORMATS)}): {path}") from None
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"{what} is a {fmt} file; give one of {', '.join(IMAGE_FORMATS)}: {path}")
    if w < 1 or h < 1 or w * h > MAX_IMAGE_PIXELS:
        raise ValueError(f"{what} has an unusable size {w}x{h}: {path}")
    return path


def _upload_name(job_id: str, field_name: str, path: Path) -> str:
    """Unique per job and content, so concurrent jobs (and batches) never overwrite each other's inputs."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"dtvb_{job_id}_{field_name}_{digest}{path.suffix.lower() or '.png'}"


def _stroke_text(base: Path, value: object) -> str:
    if isinstance(value, Mapping):
        text = json.dumps(value)
    elif isinstance(value, str) and value.lstrip().startswith("{"):
        text = value  # the stroke JSON given as a string
    else:
        text = _file(base, value, "stroke").read_text(encoding="utf-8")
    try:
        parse_strokes(text)
    except ValueError as exc:
        raise ValueError(f"bad stroke: {exc}") from None
    return text


def build_job(spec: Mapping[str, object], line: int, base: Path, workflow: Mapping[str, Mapping]) -> Job:
    """One validated job; raises ``ValueError`` with every problem of the line joined by '; '."""
    problems: list[str] = []
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(KEYS)}")
    job_id = spec.get("id")
    if not isinstance(job_id, str) or not ID_RE.match(job_id):
        problems.append("missing id" if job_id is None else
                        f"id must be 1-100 of A-Z a-z 0-9 . _ - (not starting with . _ -), got {json.dumps(job_id)[:40]}")
        job_id = f"line{line}"
    for key in ("image", "stroke"):
        if key not in spec:
            problems.append(f"missing {key!r}")
    titles = nodes_by_title(workflow)
    if "depth" in spec and TARGETS["depth"][0] not in titles and "Depth" in titles:
        workflow = use_depth_map(workflow)  # the prior's "Depth" node becomes a depth map reader
        titles = nodes_by_title(workflow)
    first: dict[str, dict[str, object]] = {}
    uploads: list[tuple[str, str, Path, str]] = []

    def put(key: str, value: object) -> None:
        title, inp = TARGETS[key]
        if title not in titles:
            problems.append(f"{key!r} needs a node titled {title!r} in the workflow; it has none")
            return
        first.setdefault(title, {})[inp] = value

    for key in ("image", "depth"):
        if key in spec:
            try:
                path = _image_file(base, spec[key], key)
                name = _upload_name(str(job_id), key, path)
                uploads.append((*TARGETS[key], path, name))
                put(key, name)
            except ValueError as exc:
                problems.append(str(exc))
    if "stroke" in spec:
        try:
            put("stroke", _stroke_text(base, spec["stroke"]))
        except (ValueError, OSError) as exc:
            problems.append(str(exc))
    if "preset" in spec:
        if isinstance(spec["preset"], str) and spec["preset"]:
            put("preset", spec["preset"])
        else:
            problems.append(f"preset must be a non-empty string, got {json.dumps(spec['preset'])[:40]}")
    if "seed" in spec:
        seed = spec["seed"]
        if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
            put("seed", seed)
        else:
            problems.append(f"seed must be an integer >= 0, got {json.dumps(seed)[:40]}")
    overrides = spec.get("overrides", {})
    if not isinstance(overrides, Mapping) or not all(isinstance(v, Mapping) for v in overrides.values()):
        problems.append('overrides must be {"<node title>": {"<input>": value}}')
        overrides = {}
    depth_title, depth_input = TARGETS["depth"]
    if depth_title in titles and "depth" not in spec and depth_input not in overrides.get(depth_title, {}):
        problems.append(f"the workflow has a {depth_title!r} node: give 'depth' (a depth map image)")
    graph: dict = {}
    try:
        graph = patch(patch(workflow, first), overrides) if not problems else {}
    except CLIError as exc:
        problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    graph = _prefix_outputs(graph, str(job_id), overrides)
    digest = hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest()[:16]
    ups = tuple(Upload(titles[t], i, p, n) for t, i, p, n in uploads)
    return Job(str(job_id), line, graph, ups, digest)


def _prefix_outputs(graph: dict, job_id: str, overrides: Mapping[str, Mapping]) -> dict:
    """Save nodes write under ``<their prefix>/<job id>`` (unless the job overrides the prefix itself)."""
    titles = nodes_by_title(graph)
    for title, node_id in titles.items():
        inputs = graph[node_id]["inputs"]
        if isinstance(inputs.get("filename_prefix"), str) and "filename_prefix" not in overrides.get(title, {}):
            inputs["filename_prefix"] = f"{inputs['filename_prefix'].rstrip('/')}/{job_id}"
    return graph


def load_jobs(jobs_file: Path, workflow: Mapping[str, Mapping]) -> list[Job]:
    """Every job of ``jobs_file``; raises :class:`CLIError` listing every bad line (``line N: ...``)."""
    try:
        text = jobs_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read the jobs file {jobs_file}: {exc}") from None
    base = jobs_file.resolve().parent
    jobs: list[Job] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            spec = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"line {n}: a job must be a JSON object, got {type(spec).__name__}")
            continue
        job_id = spec.get("id")
        if isinstance(job_id, str) and job_id in seen:
            problems.append(f"line {n}: duplicate id {job_id!r} (first on line {seen[job_id]})")
            continue
        if isinstance(job_id, str):
            seen[job_id] = n
        try:
            jobs.append(build_job(spec, n, base, workflow))
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
    if problems:
        raise CLIError(f"{jobs_file}: {len(problems)} bad job line(s):\n  " + "\n  ".join(problems))
    if not jobs:
        raise CLIError(f"{jobs_file}: no jobs (one JSON object per line)")
    return jobs


# -- checks against a server's /object_info ------------------------------------------------------------------------
def _input_spec(spec: Mapping, name: str) -> tuple[object, dict] | None:
    for group in ("required", "optional"):
        entry = spec.get("input", {}).get(group, {}).get(name)
        if isinstance(entry, list) and entry:
            return entry[0], (entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {})
    return None


def node_problems(title: str, inputs: Mapping[str, object], spec: Mapping, skip_options: set[str]) -> list[str]:
    """What the server would refuse in one node's literal inputs (missing required inputs, combo values, ranges)."""
    problems = [f"{title}: missing required input {name!r}" for name in spec.get("input", {}).get("required", {})
                if name not in inputs]
    for name, value in inputs.items():
        found = _input_spec(spec, name)
        if found is None or isinstance(value, list):  # hidden inputs / links are the server's business
            continue
        typ, opts = found
        options = typ if isinstance(typ, list) else opts.get("options") if typ == "COMBO" else None
        if isinstance(options, list) and name not in skip_options:
            if value not in options:
                shown = ", ".join(map(str, options[:12])) + (", ..." if len(options) > 12 else "")
                problems.append(f"{title}.{name}: {value!r} is not one of {shown}")
        elif typ in ("INT", "FLOAT"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (typ == "INT" and value != int(value)):
                problems.append(f"{title}.{name}: expected {typ}, got {value!r}")
            elif "min" in opts and value < opts["min"] or "max" in opts and value > opts["max"]:
                problems.append(f"{title}.{name}: {value} is outside {opts.get('min')}..{opts.get('max')}")
    return problems


def graph_problems(job: Job, specs: Mapping[str, Mapping]) -> list[str]:
    """``line N: ...`` for everything in ``job.graph`` that ``specs`` (class -> object_info entry) refuses."""
    skip = {(u.node_id, u.input) for u in job.uploads}
    problems: list[str] = []
    for node_id, node in job.graph.items():
        title = node.get("_meta", {}).get("title") or node["class_type"]
        spec = specs.get(node["class_type"])
        if spec is None:
            problems.append(f"{title}: node class {node['class_type']!r} is not installed")
            continue
        skipped = {inp for nid, inp in skip if nid == node_id}
        problems += node_problems(title, node.get("inputs", {}), spec, skipped)
    return [f"line {job.line} ({job.id}): {p}" for p in problems]
