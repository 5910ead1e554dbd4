"""The pack's one model cache: one precision rule, one lock, one cache, and ComfyUI's model management for memory.

* :func:`resolve_dtype` is the only place a precision choice becomes a dtype (see :data:`PRECISIONS`).
* :func:`cached` loads a model once per ``(kind, path, dtype, device)`` under one lock, and again when the file's
  stamp (its modification time) changes. The cache is module-level: V3 clones node classes, so no node class holds
  state.
* Every cached model is wrapped in a ``comfy.model_patcher.ModelPatcher`` (its ``load_device`` the compute device,
  its ``offload_device`` ComfyUI's ``unet_offload_device()``: the CPU unless ``--highvram``/``--gpu-only``). A node
  calls :func:`use` right before running the model: that is ``comfy.model_management.load_models_gpu``, which frees
  memory for it (unloading other models if needed) and moves it to the GPU. Between runs ComfyUI's model management
  holds it like any checkpoint: it stays on the GPU while there is room and is moved back to the CPU when another
  model needs the memory, or when the user frees memory ("Unload models", ``POST /free``). The models are plain
  ``torch.nn.Module``s without ComfyUI's low-VRAM casting, so they are always loaded fully (``force_full_load``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

T = TypeVar("T")

#: The precision choices of every model loader node. auto = fp16 on CUDA, fp32 elsewhere.
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
PRECISION_TOOLTIP = ("auto: fp16 on an NVIDIA GPU, fp32 otherwise. fp16 and bf16 halve memory; fp16 is only used on "
                     "an NVIDIA GPU (fp32 anywhere else), bf16 on any device (on the CPU it is slower than fp32).")
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The one precision rule: ``precision`` (one of :data:`PRECISIONS`) on ``device`` -> the dtype to run in.

    auto is fp16 on CUDA and fp32 elsewhere; fp32 and bf16 are used as chosen. The one fp32 fallback: fp16 runs
    only on a CUDA device; anywhere else (CPU, MPS, ...) fp16 becomes fp32, because float16 convolutions there are
    missing or far slower (and the RIFE library refuses them on the CPU). bf16 works on every device.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r:.40}")
    dtype = torch.float16 if precision == "auto" else _DTYPES[precision]
    if dtype == torch.float16 and device.type != "cuda":
        return torch.float32
    return dtype


class _Holder(torch.nn.Module):
    """What the ModelPatcher manages: the model's weights in a plain container, so ComfyUI's bookkeeping attributes
    (``device``, ``model_loaded_weight_memory``, ...) land here and not on the model (a transformers model's
    ``device`` is a read-only property)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.inner = module


@dataclass(frozen=True)
class Managed(Generic[T]):
    """A cached model: ``value`` is what the node works with (e.g. an ``effects.rife.RIFE``), ``patcher`` the
    ``ModelPatcher`` ComfyUI's model management moves its weights with."""

    value: T
    patcher: object  # comfy.model_patcher.ModelPatcher
    stamp: float


Key = tuple[str, str, torch.dtype, torch.device]
_CACHE: dict[Key, Managed] = {}
_LOCK = threading.Lock()


def cached(kind: str, path: str, dtype: torch.dtype, device: torch.device, stamp: float,
           load: Callable[[], tuple[T, torch.nn.Module]]) -> Managed[T]:
    """The model of ``path`` as ``kind`` (e.g. "rife", "depth") in ``dtype`` on ``device``, loaded once.

    ``load()`` returns ``(value, module)``: what the node uses and the ``nn.Module`` holding all its weights, already
    in ``dtype`` (on any device; they are moved to the offload device and :func:`use` brings them to ``device``, so
    ``value`` must run its inputs on ``device``). A different ``stamp`` (the file changed) reloads it and drops the old entries of
    that file.
    """
    import comfy.model_management as mm
    import comfy.model_patcher

    key = (kind, path, dtype, device)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit.stamp == stamp:
            return hit
        for old in [k for k, v in _CACHE.items() if k[:2] == key[:2] and v.stamp != stamp]:
            del _CACHE[old]
        value, module = load()
        offload = mm.unet_offload_device()
        patcher = comfy.model_patcher.ModelPatcher(_Holder(module.to(offload)), load_device=device,
                                                   offload_device=offload)
        _CACHE[key] = entry = Managed(value, patcher, stamp)
        return entry


def use(model: Managed[T], memory_required: int = 0) -> T:
    """Make ``model`` ready to run: ComfyUI's ``load_models_gpu`` loads it fully on its device, freeing memory
    (``memory_required`` more bytes for activations) by offloading other models if needed. Call it right before each
    run; ComfyUI offloads the model again when the memory is needed elsewhere."""
    import comfy.model_management as mm

    mm.load_models_gpu([model.patcher], memory_required=memory_required, force_full_load=True)
    return model.value


def clear() -> None:
    """Forget every cached model (ComfyUI unloads them when it next cleans up)."""
    with _LOCK:
        _CACHE.clear()
