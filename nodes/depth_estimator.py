"""A built-in depth estimator: Depth Anything (V1/V2, relative or metric) through ``transformers``.

Models are Hugging Face format *folders* (``config.json`` + ``model.safetensors``, e.g. a copy of
``depth-anything/Depth-Anything-V2-Small-hf``) under ComfyUI's ``models/depth`` (:data:`FOLDER`, registered when the pack
loads, see ``nodes/__init__.py``). Nothing is ever downloaded: models load with ``local_files_only=True``.

Preprocessing is done in torch on the compute device, batched: the shorter side is resized to ``resolution`` (a
multiple of the 14-pixel patch, the longer side keeps the aspect ratio and is rounded to a multiple of 14), then
normalised with the model's mean/std (ImageNet unless its ``preprocessor_config.json`` says otherwise). The
prediction is resized back to the image size and converted to the pack's depth with
:func:`~draw_to_video.trajectory.render.depth.depth_from_map` (relative models give inverse depth, metric ones depth).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from comfy_api.latest import io

from ..trajectory.checks import check_shape
from ..trajectory.render.depth import DEFAULT_FAR, DEFAULT_NEAR, depth_from_map
from . import models
from .base import CATEGORY, PREFIX, Depth, DepthValue, DTVNode, depth_preview

FOLDER = "depth"
PATCH = 14
#: The combo entry shown while ``models/depth`` holds no model folder.
PLACEHOLDER = "(no depth model found)"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MAX_ASPECT = 4  # the longer processing side is capped at this many times the resolution
_MAX_SCAN_DEPTH = 3  # model folders may sit up to this many levels below a models/depth folder
_PIXELS_PER_CHUNK = 8 * 518 * 518  # processing pixels per model call on an accelerator (a quarter on the CPU)


def _where() -> str:
    import folder_paths

    return os.path.join(folder_paths.models_dir, FOLDER) + os.sep


def model_folders() -> list[str]:
    """Names (relative paths with ``/``) of the folders holding a ``config.json`` under every ``models/depth`` path.

    Scanned fresh on each call (a few directory listings), so a model copied in shows up at the next validation.
    """
    import folder_paths

    found: set[str] = set()
    for root in folder_paths.get_folder_paths(FOLDER):
        if not os.path.isdir(root):
            continue
        for dirpath, subdirs, files in os.walk(root, followlinks=True):
            rel = os.path.relpath(dirpath, root)
            if "config.json" in files and rel != ".":
                found.add(rel.replace(os.sep, "/"))
                subdirs[:] = []  # a model folder: its subfolders are the model's own
                continue
            depth = 0 if rel == "." else rel.count(os.sep) + 1
            subdirs[:] = [] if depth >= _MAX_SCAN_DEPTH else sorted(d for d in subdirs if not d.startswith("."))
    return sorted(found)


def model_path(name: str) -> str | None:
    """The full path of model folder ``name`` (first ``models/depth`` path holding it), or ``None``."""
    import folder_paths

    if not name or name == PLACEHOLDER:
        return None
    rel = os.path.relpath(os.path.join("/", name), "/")  # no escaping the models folder
    for root in folder_paths.get_folder_paths(FOLDER):
        path = os.path.join(root, rel)
        if os.path.isfile(os.path.join(path, "config.json")):
            return path
    return None


def missing_message(name: str) -> str:
    """One line: where to put a model (none installed) or which name was not found."""
    hint = ("put a Depth Anything model folder (Hugging Face format, e.g. Depth-Anything-V2-Small-hf with "
            f"config.json and model.safetensors) in {_where()} and refresh")
    if not model_folders():
        return f"no depth model found: {hint}"
    return f"depth model {name!r} not found: pick one from the list, or {hint}"


def processing_size(height: int, width: int, resolution: int) -> tuple[int, int]:
    """Model input size: shorter side ``resolution`` (snapped to a multiple of 14), aspect kept, both sides
    multiples of 14; the longer side is capped at ``MAX_ASPECT * resolution``."""
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1, got {height}x{width}")
    res = max(PATCH, round(resolution / PATCH) * PATCH)
    scale = res / min(height, width)
    scale = min(scale, MAX_ASPECT * res / max(height, width))

    def snap(n: int) -> int:
        return max(PATCH, round(n * scale / PATCH) * PATCH)

    return snap(height), snap(width)


def preprocess(images: torch.Tensor, size: tuple[int, int], mean: torch.Tensor, std: torch.Tensor,
               dtype: torch.dtype) -> torch.Tensor:
    """IMAGE ``[b,H,W,C]`` 0..1 (on the compute device) -> normalised ``[b,3,h,w]`` model input in ``dtype``."""
    x = images[..., :3] if images.shape[-1] >= 3 else images[..., :1].expand(*images.shape[:-1], 3)
    x = x.permute(0, 3, 1, 2).float()
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0.0, 1.0)
    x = (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    return x.to(dtype).contiguous()


def postprocess(pred: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Model output ``[b,h,w]`` -> float32 ``[b,H,W]`` at the image size (bilinear, antialiased when shrinking)."""
    p = pred.float()[:, None]
    if tuple(p.shape[-2:]) != (height, width):
        shrink = p.shape[-2] > height or p.shape[-1] > width
        p = F.interpolate(p, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink)
    return p[:, 0]


@dataclass(frozen=True)
class DepthModel:
    """A loaded Depth Anything model with what its preprocessing and conversion need."""

    model: torch.nn.Module
    mean: torch.Tensor  # [3] float32 (CPU)
    std: torch.Tensor
    kind: str  # depth_from_map kind of the raw prediction: "inverse_depth" (relative) or "depth" (metric)
    name: str
    dtype: torch.dtype
    device: torch.device  # where it runs (its weights are there after models.use)


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def _mean_std(path: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    pre = os.path.join(path, "preprocessor_config.json")
    if not os.path.isfile(pre):
        return IMAGENET_MEAN, IMAGENET_STD
    cfg = _read_json(pre)
    if cfg.get("do_normalize") is False:
        return (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    mean, std = cfg.get("image_mean", IMAGENET_MEAN), cfg.get("image_std", IMAGENET_STD)
    if not (isinstance(mean, list | tuple) and isinstance(std, list | tuple) and len(mean) == len(std) == 3):
        return IMAGENET_MEAN, IMAGENET_STD
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _load(path: str, name: str, dtype: torch.dtype, device: torch.device) -> DepthModel:
    cfg = _read_json(os.path.join(path, "config.json"))
    if cfg.get("model_type") != "depth_anything":
        raise ValueError(f"{name}: not a Depth Anything model (config.json model_type is "
                         f"{cfg.get('model_type')!r}, expected 'depth_anything')")
    from transformers import AutoModelForDepthEstimation

    try:
        model = AutoModelForDepthEstimation.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear line
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ValueError(f"could not load depth model {name!r} from {path}: {type(exc).__name__}: {first}") from None
    model = model.to(dtype=dtype).eval().requires_grad_(False)
    mean, std = _mean_std(path)
    kind = "depth" if cfg.get("depth_estimation_type") == "metric" else "inverse_depth"
    return DepthModel(model, torch.tensor(mean), torch.tensor(std), kind, name, dtype, device)


def load_cached(name: str, precision: str) -> models.Managed[DepthModel]:
    """The model of folder ``name`` in ``models/depth`` from the pack's model cache (see :mod:`.models`)."""
    import comfy.model_management as mm

    path = model_path(name)
    if path is None:
        raise ValueError(missing_message(name))
    device = mm.get_torch_device()
    dtype = models.resolve_dtype(precision, device)
    mtime = max(os.path.getmtime(os.path.join(path, f)) for f in os.listdir(path))

    def load() -> tuple[DepthModel, torch.nn.Module]:
        dm = _load(path, name, dtype, device)
        return dm, dm.model

    return models.cached("depth", path, dtype, device, mtime, load)


def _chunk_size(size: tuple[int, int], device: torch.device) -> int:
    budget = _PIXELS_PER_CHUNK if device.type != "cpu" else _PIXELS_PER_CHUNK // 4
    return max(1, min(16, budget // (size[0] * size[1])))


def estimate_raw(images: torch.Tensor, managed: models.Managed[DepthModel], resolution: int) -> torch.Tensor:
    """The model's raw prediction for an IMAGE batch, resized to the image size: float32 ``[B,H,W]`` on the
    intermediate device. One chunk per model call, with a progress step and the cancel check per chunk."""
    import comfy.model_management as mm
    import comfy.utils

    b, h, w, _ = images.shape
    dm = managed.value
    device = dm.device
    size = processing_size(h, w, resolution)
    n = _chunk_size(size, device)
    models.use(managed, memory_required=n * size[0] * size[1] * 1024)  # rough activation estimate
    mean, std = dm.mean.to(device), dm.std.to(device)
    pbar = comfy.utils.ProgressBar(math.ceil(b / n))
    out: list[torch.Tensor] = []
    with torch.inference_mode():
        for i in range(0, b, n):
            mm.throw_exception_if_processing_interrupted()
            x = preprocess(images[i:i + n].to(device, non_blocking=True), size, mean, std, dm.dtype)
            pred = dm.model(pixel_values=x).predicted_depth
            out.append(postprocess(pred, h, w).to(mm.intermediate_device()))
            pbar.update(1)
    return torch.cat(out)


class DepthEstimator(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}DepthEstimator",
            display_name="Draw to Video: depth estimator (Depth Anything)",
            category=f"{CATEGORY}/depth",
            description="Estimates depth with a Depth Anything model (V1 or V2, Hugging Face format folder in "
                        "models/depth, e.g. Depth-Anything-V2-Small-hf) and turns it into the pack's depth like "
                        "'depth from depth map' does. Works on batches. Nothing is downloaded.",
            inputs=[
                io.Image.Input("image", tooltip="The image(s) to estimate depth for; a batch gives a depth batch."),
                io.Combo.Input("model", options=model_folders() or [PLACEHOLDER],
                               tooltip="A model folder (config.json + model.safetensors) in models/depth, e.g. a "
                                       "copy of depth-anything/Depth-Anything-V2-Small-hf."),
                io.Int.Input("resolution", default=518, min=PATCH, max=2520, step=PATCH,
                             tooltip="Processing size of the shorter side (a multiple of 14; 518 is what the "
                                     "models were trained at). Higher = finer detail, slower. The longer side "
                                     f"keeps the aspect ratio (at most {MAX_ASPECT}x this)."),
                io.Float.Input("near", default=DEFAULT_NEAR, min=0.01, max=100.0, step=0.01,
                               tooltip="Scene depth of the nearest content (the subject is at 1.0)."),
                io.Float.Input("far", default=DEFAULT_FAR, min=1.01, max=10000.0, step=0.1,
                               tooltip="Scene depth of the farthest content (sky, background)."),
                io.Combo.Input("precision", options=list(models.PRECISIONS), default="auto",
                               tooltip=models.PRECISION_TOOLTIP),
            ],
            outputs=[Depth.Output(display_name="depth"), io.Mask.Output(display_name="preview"),
                     io.String.Output(display_name="info")],
        )

    @classmethod
    def validate_inputs(cls, model: str) -> bool | str:
        # only 'model' here: ComfyUI skips its own list check for the inputs named in validate_inputs
        if model_path(model) is None:
            return missing_message(model)
        return True

    @classmethod
    def execute(cls, image: torch.Tensor, model: str, resolution: int, near: float, far: float,
                precision: str = "auto") -> io.NodeOutput:
        check_shape(image, "B H W 1|3|4", "image")
        if not (near < 1.0 < far):
            raise ValueError(f"need near < 1.0 < far (the subject sits at 1.0), got near={near}, far={far}")
        managed = load_cached(model, precision)
        dm = managed.value
        raw = estimate_raw(image, managed, int(resolution))
        depth = depth_from_map(raw.cpu(), dm.kind, near=near, far=far)
        b, h, w = depth.shape
        ph, pw = processing_size(h, w, int(resolution))
        info = (f"{dm.name}: {dm.kind.replace('_', ' ')} model, {str(dm.dtype).removeprefix('torch.')} on "
                f"{dm.device}, processed at {ph}x{pw} (HxW); depth {b} x {h}x{w}, range "
                f"{float(depth.min()):.4g}..{float(depth.max()):.4g}")
        return io.NodeOutput(DepthValue(depth), depth_preview(depth), info)


NODES = [DepthEstimator]
