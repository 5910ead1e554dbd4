"""Camera-guided Stable Video Diffusion: stock SVD / SVD-XT follows the drawn camera, without training.

The depth-warp renderer's frames (IMAGE ``[F,H,W,3]``) and visibility (MASK ``[F,H,W]``, 1 = seen) are VAE-encoded
once; while sampling, the denoised estimate is pulled towards them on visible cells at high noise and released at
low noise (:mod:`draw_to_video.trajectory.guidance`). Three ways in: a MODEL patch for the stock KSampler (a post-CFG function,
so it composes with VideoLinearCFGGuidance), a GUIDER for SamplerCustomAdvanced, and a windowed sampler for videos
longer than SVD's 25 frames. An SDEdit-style start latent is also offered.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import comfy.model_management
import comfy.patcher_extension
import comfy.sample
import comfy.samplers
import comfy.supported_models
import comfy.utils
import torch
from comfy_api.latest import io

from ..trajectory.checks import check_shape
from ..trajectory.guidance import LatentGuidance, crossfade_into, latent_mask, plan_windows
from .base import CATEGORY, PREFIX, DTVNode

#: Key of the pre-sampling shape check this pack adds to a model (OUTER_SAMPLE wrapper).
WRAPPER_KEY = "draw_to_video.camera_guidance"
COMPILE_KEY = "draw_to_video.compile"

#: One compiled wrapper per diffusion model and backend, kept across node runs so a new seed, stroke or strength
#: reuses the compiled code (only the weakly referenced module's identity is the key).
_COMPILED: dict[tuple[int, str], tuple[weakref.ref, torch.nn.Module]] = {}


# ---------------------------------------------------------------------------------------------------------------
# helpers (shared by the nodes)
# ---------------------------------------------------------------------------------------------------------------
def require_svd(model) -> None:
    """One-line ValueError unless ``model`` is a Stable Video Diffusion model (SVD, SVD-XT, SV3D)."""
    base = getattr(model, "model", None)
    config = getattr(base, "model_config", None)
    if not isinstance(config, comfy.supported_models.SVD_img2vid):
        raise ValueError(f"camera guidance needs a Stable Video Diffusion model (SVD / SVD-XT, loaded with "
                         f"ImageOnlyCheckpointLoader), got {type(config).__name__ if config else type(model).__name__}")
    channels = getattr(getattr(base, "latent_format", None), "latent_channels", None)
    if channels != 4:
        raise ValueError(f"camera guidance needs SVD's 4-channel latents, this model uses {channels}")


def require_vae(vae) -> None:
    if getattr(vae, "latent_channels", None) != 4 or vae.spacial_compression_encode() != 8:
        raise ValueError("camera guidance needs SVD's VAE (4 latent channels, 8x downscale): use the VAE output of "
                         "ImageOnlyCheckpointLoader")


def check_frames(images: torch.Tensor, what: str = "target frames") -> None:
    size = check_shape(images, "F H W 3|4", what)
    h, w = size["H"], size["W"]
    if h % 8 or w % 8:
        raise ValueError(f"{what} are {w}x{h} px: width and height must be multiples of 8 (SVD latents are 1/8)")


def encode_targets(model, vae, images: torch.Tensor) -> torch.Tensor:
    """Target frames -> VAE latents in the model's sampling space (``process_latent_in``), ``[F,4,H/8,W/8]``."""
    check_frames(images)
    raw = vae.encode(images[..., :3])
    return model.model.process_latent_in(raw.float()).cpu()


def visibility_mask(mask: torch.Tensor | None, images: torch.Tensor, erode: int, feather: int) -> torch.Tensor:
    """MASK ``[F|1,H,W]`` (1 = visible; None = all visible) -> blend mask ``[F,1,H/8,W/8]``."""
    f, h, w, _ = images.shape
    if mask is None:
        return torch.ones(f, 1, h // 8, w // 8)
    if mask.ndim == 2:
        mask = mask[None]
    if check_shape(mask, "N H W", "visibility mask")["N"] not in (1, f):
        raise ValueError(f"visibility mask must be [frames,H,W] with {f} frames (or 1), got {tuple(mask.shape)}")
    if tuple(mask.shape[1:]) != (h, w):
        raise ValueError(f"visibility mask is {mask.shape[2]}x{mask.shape[1]} px but the target frames are {w}x{h} px")
    lm = latent_mask(mask.float().cpu(), (h // 8, w // 8), erode, feather)
    return lm.expand(f, -1, -1, -1).contiguous()


def sigma_range(model) -> tuple[float, float]:
    ms = model.get_model_object("model_sampling")
    return float(ms.sigma_max), float(ms.sigma_min)


def make_guidance(model, vae, images, mask, strength, start, end, erode, feather) -> LatentGuidance:
    require_svd(model)
    require_vae(vae)
    check_frames(images)
    target = encode_targets(model, vae, images)
    smax, smin = sigma_range(model)
    return LatentGuidance(target, visibility_mask(mask, images, erode, feather), strength, start, end, smax, smin)


def guided_model(model, guidance: LatentGuidance):
    """A clone of ``model`` with ``guidance`` as post-CFG function plus a shape check before sampling starts."""
    m = model.clone()
    m.set_model_sampler_post_cfg_function(guidance)

    def check_before_sampling(executor, noise, *args, **kwargs):
        guidance.check_latent(noise.shape)
        return executor(noise, *args, **kwargs)

    m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, check_before_sampling)
    return m


def without_guidance(model):
    """A clone of ``model`` with this pack's camera guidance removed (the windowed sampler adds its own)."""
    m = model.clone()
    fns = m.model_options.get("sampler_post_cfg_function", [])
    m.model_options["sampler_post_cfg_function"] = [f for f in fns if not isinstance(f, LatentGuidance)]
    m.remove_wrappers_with_key(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, WRAPPER_KEY)
    return m


def compiled_module(module: torch.nn.Module, backend: str = "inductor") -> torch.nn.Module:
    """``torch.compile(module, dynamic=False)``, created once per module and backend (module-level cache)."""
    key = (id(module), backend)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0]() is module:
        return hit[1]
    compiled = torch.compile(module, backend=backend, dynamic=False)
    _COMPILED[key] = (weakref.ref(module), compiled)
    return compiled


def compile_count() -> int:
    """Frames torch.compile has compiled in this process (first compiles plus recompiles)."""
    from torch._dynamo.utils import counters

    return int(counters["frames"]["total"])


def with_compiled_model(model, backend: str = "inductor"):
    """A clone of ``model`` whose diffusion model runs compiled during ``apply_model`` (an APPLY_MODEL wrapper, as
    core's TorchCompileModel). Only the UNet is compiled: the camera guidance is a post-CFG function, outside it,
    so changing the seed, the stroke (targets) or the strength never invalidates the compiled code; a new frame
    count or size does (``dynamic=False``). ``torch._dynamo.utils.counters["frames"]`` counts compilations."""
    m = model.clone()
    compiled = compiled_module(m.get_model_object("diffusion_model"), backend)

    def apply_compiled(executor, *args, **kwargs):
        base = executor.class_obj
        original = base.diffusion_model
        before = compile_count()
        base.diffusion_model = compiled
        try:
            return executor(*args, **kwargs)
        finally:
            base.diffusion_model = original
            if compile_count() != before:
                logging.info("draw-to-video: torch.compile compiled the SVD UNet (%d compilation(s) so far in this "
                             "process)", compile_count())

    m.remove_wrappers_with_key(comfy.patcher_extension.WrappersMP.APPLY_MODEL, COMPILE_KEY)
    m.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.APPLY_MODEL, COMPILE_KEY, apply_compiled)
    return m


class CameraCFGGuider(comfy.samplers.CFGGuider):
    """CFG guider whose denoised prediction is pulled towards the camera targets (same blend as the patch)."""

    def __init__(self, model_patcher, guidance: LatentGuidance) -> None:
        super().__init__(model_patcher)
        self.guidance = guidance

    def predict_noise(self, x, timestep, model_options={}, seed=None):  # noqa: B006 (ComfyUI's signature)
        return self.guidance.apply(super().predict_noise(x, timestep, model_options, seed), timestep)

    def sample(self, noise, latent_image, sampler, sigmas, *args, **kwargs):
        self.guidance.check_latent(noise.shape)
        return super().sample(noise, latent_image, sampler, sigmas, *args, **kwargs)


def _schedule_error(values: dict[str, Any]) -> str | None:
    start, end = values.get("start"), values.get("end")
    if start is None or end is None or start <= end:
        return None
    return f"start ({start}) must not be after end ({end}): lower start or raise end"


def guidance_inputs() -> list:
    """Inputs shared by every guided node: targets, visibility and the schedule."""
    return [
        io.Image.Input("targets", tooltip="Depth-warped frames of the drawn camera path (the renderer's IMAGE "
                                          "[frames,H,W,3]); frames = video frames, size = the video's width x height."),
        io.Mask.Input("visibility", optional=True,
                      tooltip="The renderer's visibility MASK (1 = seen in the source image, 0 = disocclusion/hole). "
                              "Holes are left to the model. Not connected = everything trusted."),
        io.Float.Input("strength", default=0.8, min=0.0, max=1.0, step=0.01,
                       tooltip="How hard the denoised estimate is pulled to the targets on visible cells (0 = stock "
                               "SVD, bit for bit; 1 = replaced while active)."),
        io.Float.Input("start", default=0.0, min=0.0, max=1.0, step=0.01,
                       tooltip="Where guidance starts, as a fraction of the noise schedule in log-sigma "
                               "(0 = the noisiest step)."),
        io.Float.Input("end", default=0.45, min=0.0, max=1.0, step=0.01,
                       tooltip="Where guidance is released (it then fades out over 0.1): the model alone finishes "
                               "the details at low noise."),
        io.Int.Input("mask_erode", default=1, min=0, max=16,
                     tooltip="Shrink the trusted area by this many latent cells (8 px each) so hole edges stay free."),
        io.Int.Input("mask_feather", default=2, min=0, max=16,
                     tooltip="Soft ramp, in latent cells, from untrusted to fully trusted."),
    ]


# ---------------------------------------------------------------------------------------------------------------
# nodes
# ---------------------------------------------------------------------------------------------------------------
class CameraGuidance(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraGuidance",
            display_name="Draw to Video: camera guidance (SVD model patch)",
            category=f"{CATEGORY}/svd",
            description="Patches an SVD / SVD-XT model so the stock KSampler follows the drawn camera: the targets "
                        "are VAE-encoded once and the denoised estimate is blended towards them on visible cells at "
                        "high noise. A post-CFG function, so it stacks with VideoLinearCFGGuidance.",
            inputs=[io.Model.Input("model", tooltip="The SVD model (ImageOnlyCheckpointLoader)."),
                    io.Vae.Input("vae", tooltip="SVD's VAE, to encode the target frames."),
                    *guidance_inputs(),
                    io.Boolean.Input("compile_model", default=False, optional=True,
                                     tooltip="Opt-in (GPU): torch.compile the diffusion model once (inductor, "
                                             "static shapes). The first run compiles (minutes); later runs with "
                                             "another seed, stroke or strength reuse it. A new frame count or size "
                                             "recompiles. The server log counts compilations.")],
            outputs=[io.Model.Output(display_name="model")],
        )

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        return _schedule_error(values)

    @classmethod
    def execute(cls, model, vae, targets, strength, start, end, mask_erode, mask_feather, visibility=None,
                compile_model: bool = False) -> io.NodeOutput:
        g = make_guidance(model, vae, targets, visibility, strength, start, end, mask_erode, mask_feather)
        return io.NodeOutput(guided_model(with_compiled_model(model) if compile_model else model, g))


class CameraGuider(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}CameraGuider",
            display_name="Draw to Video: camera guider (SVD)",
            category=f"{CATEGORY}/svd",
            description="A CFG guider for SamplerCustomAdvanced that makes SVD follow the drawn camera: the same "
                        "target blend as the model patch, applied to the guider's denoised prediction.",
            inputs=[io.Model.Input("model", tooltip="The SVD model."),
                    io.Conditioning.Input("positive", tooltip="Positive conditioning of SVD_img2vid_Conditioning."),
                    io.Conditioning.Input("negative", tooltip="Negative conditioning of SVD_img2vid_Conditioning."),
                    io.Float.Input("cfg", default=2.5, min=0.0, max=100.0, step=0.1, round=0.01,
                                   tooltip="Classifier-free guidance scale."),
                    io.Vae.Input("vae", tooltip="SVD's VAE, to encode the target frames."),
                    *guidance_inputs()],
            outputs=[io.Guider.Output(display_name="guider")],
        )

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        return _schedule_error(values)

    @classmethod
    def execute(cls, model, positive, negative, cfg, vae, targets, strength, start, end, mask_erode, mask_feather,
                visibility=None) -> io.NodeOutput:
        g = make_guidance(model, vae, targets, visibility, strength, start, end, mask_erode, mask_feather)
        guider = CameraCFGGuider(model, g)
        guider.set_conds(positive, negative)
        guider.set_cfg(cfg)
        return io.NodeOutput(guider)


class GuidedInitLatent(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}GuidedInitLatent",
            display_name="Draw to Video: start from warped frames (SDEdit)",
            category=f"{CATEGORY}/svd",
            description="Encodes the warped frames as the starting latent, so sampling starts from them instead of "
                        "pure noise: wire the latent into KSampler with the given denoise (or KSamplerAdvanced with "
                        "start_at_step). KSampler adds the matching noise itself.",
            inputs=[io.Vae.Input("vae", tooltip="SVD's VAE."),
                    io.Image.Input("targets", tooltip="Depth-warped frames (the renderer's IMAGE)."),
                    io.Int.Input("steps", default=25, min=1, max=1000, tooltip="Sampling steps you will use."),
                    io.Float.Input("denoise", default=0.85, min=0.01, max=1.0, step=0.01,
                                   tooltip="How much of the schedule to run from the warped frames (lower keeps "
                                           "more of them, 1 = start from pure noise).")],
            outputs=[io.Latent.Output(display_name="latent"), io.Float.Output(display_name="denoise"),
                     io.Int.Output(display_name="start_at_step")],
        )

    @classmethod
    def execute(cls, vae, targets, steps, denoise) -> io.NodeOutput:
        require_vae(vae)
        check_frames(targets)
        latent = vae.encode(targets[..., :3]).float()
        return io.NodeOutput({"samples": latent}, float(denoise), int(round(steps * (1.0 - denoise))))


class WindowedGuidedSampler(DTVNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=f"{PREFIX}WindowedGuidedSampler",
            display_name="Draw to Video: long camera-guided SVD (windows)",
            category=f"{CATEGORY}/svd",
            description="Samples as many frames as there are targets (e.g. 121) in overlapping SVD windows. Each "
                        "window after the first is conditioned (SVD_img2vid) on the frame where it starts, taken "
                        "from the previous window; its overlapping frames are guided to the previous result and "
                        "cross-faded in latent space. Outputs the LATENT of all frames (decode with VAEDecode).",
            inputs=[io.Model.Input("model", tooltip="The SVD model (may carry VideoLinearCFGGuidance)."),
                    io.ClipVision.Input("clip_vision", tooltip="The CLIP vision output of the loader."),
                    io.Vae.Input("vae", tooltip="SVD's VAE."),
                    *guidance_inputs(),
                    io.Image.Input("init_image", optional=True,
                                   tooltip="Conditioning image of the first window (default: the first target)."),
                    io.Int.Input("window_size", default=14, min=2, max=25, tooltip="Frames per SVD window."),
                    io.Int.Input("overlap", default=4, min=1, max=24, tooltip="Frames shared by neighbouring windows."),
                    io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=False,
                                 tooltip="Noise seed (window k uses seed + k)."),
                    io.Int.Input("steps", default=20, min=1, max=10000, tooltip="Sampling steps per window."),
                    io.Float.Input("cfg", default=2.5, min=0.0, max=100.0, step=0.1, round=0.01,
                                   tooltip="Classifier-free guidance scale."),
                    io.Combo.Input("sampler_name", options=comfy.samplers.SAMPLER_NAMES, default="euler",
                                   tooltip="Sampler."),
                    io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default="karras",
                                   tooltip="Noise schedule."),
                    io.Int.Input("motion_bucket_id", default=127, min=1, max=1023, tooltip="SVD motion amount."),
                    io.Int.Input("fps", default=6, min=1, max=1024, tooltip="SVD fps conditioning."),
                    io.Float.Input("augmentation_level", default=0.0, min=0.0, max=10.0, step=0.01,
                                   tooltip="Noise added to the conditioning image.")],
            outputs=[io.Latent.Output(display_name="latent")],
        )

    @classmethod
    def check_inputs(cls, values: dict[str, Any]) -> str | None:
        overlap, window_size = values.get("overlap"), values.get("window_size")
        if overlap is not None and window_size is not None and overlap >= window_size:
            return f"overlap ({overlap}) must be smaller than window_size ({window_size})"
        return _schedule_error(values)

    @classmethod
    def execute(cls, model, clip_vision, vae, targets, strength, start, end, mask_erode, mask_feather, window_size,
                overlap, seed, steps, cfg, sampler_name, scheduler, motion_bucket_id, fps, augmentation_level,
                visibility=None, init_image=None) -> io.NodeOutput:
        from comfy_extras.nodes_video_model import SVD_img2vid_Conditioning

        g = make_guidance(model, vae, targets, visibility, strength, start, end, mask_erode, mask_feather)
        base = without_guidance(model)
        frames, height, width = targets.shape[0], targets.shape[1], targets.shape[2]
        windows = plan_windows(frames, window_size, overlap)
        out = torch.zeros(g.target.shape)  # raw VAE latents of every frame
        done = 0
        pbar = comfy.utils.ProgressBar(len(windows))
        cond = SVD_img2vid_Conditioning()

        def step_callback(step, x0, x, total_steps):
            comfy.model_management.throw_exception_if_processing_interrupted()

        for k, (s, e) in enumerate(windows):
            comfy.model_management.throw_exception_if_processing_interrupted()
            if k == 0:
                init = init_image if init_image is not None else targets[:1]
            else:
                init = vae.decode(out[s:s + 1])[..., :3]
            positive, negative, latent = cond.encode(clip_vision, init[:1], vae, width, height, e - s,
                                                     motion_bucket_id, fps, augmentation_level)
            target, mask = g.target[s:e].clone(), g.mask[s:e].clone()
            ov = max(0, done - s)
            if ov:  # continuity: the shared frames are pulled to what the previous window made
                target[:ov] = model.model.process_latent_in(out[s:done])
                mask[:ov] = 1.0
            wg = LatentGuidance(target, mask, g.strength, g.start, g.end, g.sigma_max, g.sigma_min, g.fade)
            lat = latent["samples"]
            noise = comfy.sample.prepare_noise(lat, seed + k)
            samples = comfy.sample.sample(guided_model(base, wg), noise, steps, cfg, sampler_name, scheduler,
                                          positive, negative, lat, seed=seed + k, callback=step_callback,
                                          disable_pbar=True)
            crossfade_into(out, samples.float().cpu(), s, done)
            done = e
            pbar.update(1)
        return io.NodeOutput({"samples": out})


NODES = [CameraGuidance, CameraGuider, GuidedInitLatent, WindowedGuidedSampler]
