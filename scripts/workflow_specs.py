"""The shipped workflows, written once as API-format graphs (node id -> class_type, inputs, title).

``python scripts/build_workflows.py`` turns each into ``workflows/api/<name>.json`` (the API twin) and, through the
real frontend in Chromium, ``workflows/<name>.json`` (UI format, with notes and groups) plus a ``.jpg`` thumbnail.
Titles are the names batch jobs and ``draw-to-video render --set`` use to override inputs.

:data:`LAYOUTS` places each UI graph: columns left to right, nodes stacked top to bottom in a column (an entry
``(id, other)`` starts level with node ``other``, for rows); a group is the box around its nodes. :data:`SIZES` gives
the nodes that show an image or a drawing room for a 3:2 or 16:9 photo, so nothing overlaps once an image loads.
:data:`TEMPLATES` holds the title and one-sentence description the template browser shows.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STROKE = json.dumps({
    "version": 1, "canvas": {"width": 768, "height": 768},
    "strokes": [{"points": [[300, 640, 0], [330, 600, 80], [360, 560, 160], [385, 520, 240], [405, 480, 320],
                            [420, 440, 400]], "role": "camera"}],
})


#: the 2.5D render's supersample where it is the finished shot (steady outlines, about 5x the render time); where it
#: only guides a video model, which repaints, the node's fast default 1
FINISHED = 2


def node(class_type: str, title: str, group: str, **inputs) -> dict:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}, "group": group}


def ln(node_id: str, slot: int = 0) -> list:
    return [node_id, slot]


def _front(image: str = "example.png") -> dict:
    """Image, stroke and intent: the start every drawing workflow shares."""
    return {
        "1": node("LoadImage", "Image", "Draw", image=image),
        "2": node("DTV_StrokeInput", "Stroke", "Draw", strokes=DEFAULT_STROKE, preset="auto", image=ln("1")),
        "3": node("DTV_IntentAnalysis", "Intent", "Draw", strokes=ln("2")),
    }


def _trajectory(preset="auto", frames=49, size: tuple[int, int] | str = "image, long side 1024", strokes=True,
                depth="5", title="Camera trajectory", group="Camera", strength=1.0, budget=0.03) -> dict:
    """The camera node: ``size`` a fixed ``(width, height)`` (a video model's size) or a "follow the image" choice
    (the Load Image "1" is wired); strength auto within ``budget`` (3% for 2.5D output; looser where a model fills).
    2.5D output zooms in by overscan 0.95 (the node's default) so the uncovered border stays off screen; where a
    video model paints the unseen (a looser budget) frame 0 stays the whole photo (overscan 1)."""
    fixed = isinstance(size, tuple)
    w, h = size if fixed else (1024, 576)
    inputs = dict(preset=preset, frames=frames, fps=24.0, width=w, height=h, strength=strength,
                  easing="ease_in_out", fov_deg=50.0, shake=0.0, seed=0, strength_mode="auto",
                  coverage_budget=budget, overscan=0.95 if budget <= 0.03 else 1.0,
                  size="width x height" if fixed else size)
    if not fixed:
        inputs["image"] = ln("1")
    if strokes:
        inputs.update(strokes=ln("2"), intent=ln("3"))
    if depth:
        inputs["depth"] = ln(depth)
    return node("DTV_CameraTrajectory", title, group, **inputs)


def _save(images: str, prefix: str, fps: float = 24.0, group="Save") -> dict:
    return {
        "90": node("CreateVideo", "Create video", group, images=ln(images), fps=fps),
        "91": node("SaveVideo", "Save video", group, video=ln("90"), filename_prefix=prefix, format="mp4",
                   codec="h264"),
    }


def draw_to_video_2_5d() -> dict:
    return {
        **_front(),
        "5": node("DTV_FallbackDepth", "Depth", "Depth", image=ln("1"), horizon=0.45, subject_size=0.22),
        "6": _trajectory(),
        "7": node("DTV_TrajectoryPreview", "Trajectory preview", "Camera", trajectory=ln("6"), size=256,
                  strokes=ln("2")),
        "8": node("PreviewImage", "Preview", "Camera", images=ln("7")),
        "9": node("DTV_CameraPathOverlay", "Camera path on the photo", "Camera", image=ln("1"), trajectory=ln("6"),
                  footprints=5, depth=0.0),
        "4": node("PreviewImage", "Path preview", "Camera", images=ln("9")),
        "10": node("DTV_Render25D", "Render", "Render", image=ln("1"), depth=ln("5"), trajectory=ln("6"),
                   fill="layered", chunk=4, supersample=FINISHED),
        **_save("10", "draw-to-video/2_5d"),
    }


def draw_to_video_svd() -> dict:
    """The full pipeline: the 2.5D render of the drawn camera guides stock SVD-XT, then interpolation and a grade."""
    return {
        **_front(),
        "5": node("DTV_FallbackDepth", "Depth", "Depth", image=ln("1"), horizon=0.45, subject_size=0.22),
        "6": _trajectory(frames=25, size=(1024, 576), budget=0.25),  # SVD paints what the photo never saw
        "10": node("DTV_Render25D", "Render", "Render", image=ln("1"), depth=ln("5"), trajectory=ln("6"),
                   fill="layered", chunk=4, supersample=1),
        "11": node("ImageScale", "Fit image", "SVD", image=ln("1"), upscale_method="lanczos", width=1024,
                   height=576, crop="center"),
        "12": node("ImageOnlyCheckpointLoader", "SVD checkpoint", "SVD", ckpt_name="svd_xt.safetensors"),
        "13": node("SVD_img2vid_Conditioning", "SVD conditioning", "SVD", clip_vision=ln("12", 1), init_image=ln("11"),
                   vae=ln("12", 2), width=1024, height=576, video_frames=25, motion_bucket_id=127, fps=6,
                   augmentation_level=0.0),
        "14": node("VideoLinearCFGGuidance", "Linear CFG", "SVD", model=ln("12"), min_cfg=1.0),
        "15": node("DTV_CameraGuidance", "Camera guidance", "SVD", model=ln("14"), vae=ln("12", 2), targets=ln("10"),
                   visibility=ln("10", 1), strength=0.8, start=0.0, end=0.45, mask_erode=1, mask_feather=2,
                   compile_model=False),
        "16": node("KSampler", "Sampler", "SVD", model=ln("15"), seed=0, steps=20, cfg=2.5, sampler_name="euler",
                   scheduler="karras", positive=ln("13"), negative=ln("13", 1), latent_image=ln("13", 2), denoise=1.0),
        "17": node("VAEDecode", "Decode", "SVD", samples=ln("16"), vae=ln("12", 2)),
        "20": node("DTV_Interpolate", "Interpolate x2", "Finish", images=ln("17"), multiplier=2, source_fps=12.0,
                   target_fps=0.0, mode="auto", scene_cut_threshold=0.25, scale="1.0", ensemble=False, fast=False),
        "21": node("DTV_ColorGrade", "Grade", "Finish", images=ln("20"), preset="cinematic", strength=1.0,
                   temperature=0.0, tint=0.0, saturation=0.0, contrast=0.0, highlights=0.0, shadows=0.0),
        **_save("21", "draw-to-video/svd", fps=24.0),
    }


TOUR = ("dolly_in", "orbit", "vertigo", "crane_up")


def camera_preset_tour() -> dict:
    g = {"1": node("LoadImage", "Image", "Source", image="example.png"),
         "5": node("DTV_FallbackDepth", "Depth", "Source", image=ln("1"), horizon=0.45, subject_size=0.22)}
    prev = None
    for i, preset in enumerate(TOUR):
        t, r = str(10 + 10 * i), str(11 + 10 * i)
        g[t] = _trajectory(preset=preset, frames=25, strokes=False, title=f"Camera {i + 1}: {preset}",
                           group="Presets", size="image, long side 512")
        g[r] = node("DTV_Render25D", f"Render {i + 1}", "Presets", image=ln("1"), depth=ln("5"), trajectory=ln(t),
                    fill="layered", chunk=4, supersample=FINISHED)
        if prev is not None:
            b = str(12 + 10 * i)
            g[b] = node("ImageBatch", f"Join {i + 1}", "Presets", image1=ln(prev), image2=ln(r))
            prev = b
        else:
            prev = r
    g.update(_save(prev, "draw-to-video/preset_tour"))
    return g


def cinematic_effects_showcase() -> dict:
    return {
        **_front(),
        "5": node("DTV_FallbackDepth", "Depth", "Depth", image=ln("1"), horizon=0.45, subject_size=0.22),
        "6": _trajectory(preset="hitchcock", size="image, long side 768"),
        "10": node("DTV_Render25D", "Render", "Render", image=ln("1"), depth=ln("5"), trajectory=ln("6"),
                   fill="layered", chunk=4, supersample=FINISHED),
        "20": node("DTV_Effect_speed_ramp", "Speed ramp", "Effects", images=ln("10"), curve="ramp_slow_mid",
                   fps=24.0, strength=1.0, blend=True),
        "21": node("DTV_ColorGrade", "Grade", "Effects", images=ln("20"), preset="teal_orange", strength=1.0,
                   temperature=0.0, tint=0.0, saturation=0.0, contrast=0.0, highlights=0.0, shadows=0.0),
        "22": node("DTV_Effect_film_grain", "Lens", "Effects", images=ln("21"), strength=0.05, size=1.5,
                   response=0.7, colour=0.15, seed=0),
        "23": node("DTV_Effect_vignette", "Vignette", "Effects", images=ln("22"), strength=0.35, radius=0.75,
                   softness=0.5),
        "24": node("DTV_Effect_letterbox", "Letterbox", "Effects", images=ln("23"), aspect=2.39),
        **_save("24", "draw-to-video/effects"),
    }


WAN_MODELS = {"unet": "wan2.1_fun_camera_v1.1_1.3B_bf16.safetensors",
              "clip": "umt5_xxl_fp8_e4m3fn_scaled.safetensors", "vae": "wan_2.1_vae.safetensors",
              "clip_vision": "clip_vision_h.safetensors"}


def wan_fun_camera() -> dict:
    return {
        **_front(),
        "6": _trajectory(frames=81, size=(832, 480), depth=None, budget=0.25),  # Wan paints the unseen
        "7": node("DTV_WanCameraEmbedding", "Wan camera embedding", "Camera", trajectory=ln("6"),
                  exact_intrinsics=False),
        "8": node("DTV_SaveTrajectory", "RealEstate10K export", "Camera", trajectory=ln("6"),
                  filename_prefix="draw-to-video/cameractrl", format="re10k"),
        "30": node("UNETLoader", "Wan Fun Camera model", "Wan", unet_name=WAN_MODELS["unet"], weight_dtype="default"),
        "31": node("ModelSamplingSD3", "Shift", "Wan", model=ln("30"), shift=8.0),
        "32": node("CLIPLoader", "Text encoder", "Wan", clip_name=WAN_MODELS["clip"], type="wan", device="default"),
        "33": node("VAELoader", "VAE", "Wan", vae_name=WAN_MODELS["vae"]),
        "34": node("CLIPVisionLoader", "CLIP vision", "Wan", clip_name=WAN_MODELS["clip_vision"]),
        "35": node("CLIPVisionEncode", "Encode image", "Wan", clip_vision=ln("34"), image=ln("1"), crop="none"),
        "36": node("CLIPTextEncode", "Prompt", "Wan", clip=ln("32"), text="a cinematic shot, high detail"),
        "37": node("CLIPTextEncode", "Negative prompt", "Wan", clip=ln("32"), text="blurry, static, distorted"),
        "38": node("WanCameraImageToVideo", "Wan camera image to video", "Wan", positive=ln("36"),
                   negative=ln("37"), vae=ln("33"), width=ln("7", 1), height=ln("7", 2), length=ln("7", 3),
                   batch_size=1, clip_vision_output=ln("35"), start_image=ln("1"), camera_conditions=ln("7")),
        "39": node("KSampler", "Sampler", "Wan", model=ln("31"), seed=0, steps=20, cfg=6.0, sampler_name="uni_pc",
                   scheduler="simple", positive=ln("38", 0), negative=ln("38", 1), latent_image=ln("38", 2),
                   denoise=1.0),
        "40": node("VAEDecode", "Decode", "Wan", samples=ln("39"), vae=ln("33")),
        **_save("40", "draw-to-video/wan", fps=16.0),
    }


WAN_SIZE = (832, 480)  #: Wan 2.1's 480p size (the 1.3B models are trained at it; 14B also takes 1280x720)
WAN_VACE_MODELS = {"unet": "wan2.1_vace_1.3B_fp16.safetensors", "unet_14b": "wan2.1_vace_14B_fp16.safetensors",
                   "clip": WAN_MODELS["clip"], "vae": WAN_MODELS["vae"]}
WAN_ATI_MODELS = {"unet": "Wan2_1-I2V-ATI-14B_fp8_e4m3fn.safetensors", "clip": WAN_MODELS["clip"],
                  "vae": WAN_MODELS["vae"], "clip_vision": WAN_MODELS["clip_vision"]}


def _wan_front() -> dict:
    """Image, stroke, intent, the photo fitted to Wan's size (so the trajectory's first camera sees it unstretched)
    and its depth: what both Wan routes driven by the scene share."""
    camera = _trajectory(frames=81, size=WAN_SIZE, budget=0.25)  # Wan paints what the photo never saw
    return {
        **_front(),
        "11": node("ImageScale", "Fit image", "Depth", image=ln("1"), upscale_method="lanczos", width=WAN_SIZE[0],
                   height=WAN_SIZE[1], crop="center"),
        "5": node("DTV_FallbackDepth", "Depth", "Depth", image=ln("11"), horizon=0.45, subject_size=0.22),
        "6": camera,
    }


def _wan_text(models: dict, group: str = "Wan") -> dict:
    return {
        "31": node("ModelSamplingSD3", "Shift", group, model=ln("30"), shift=8.0),
        "32": node("CLIPLoader", "Text encoder", group, clip_name=models["clip"], type="wan", device="default"),
        "33": node("VAELoader", "VAE", group, vae_name=models["vae"]),
        "36": node("CLIPTextEncode", "Prompt", group, clip=ln("32"), text="a cinematic shot, high detail"),
        "37": node("CLIPTextEncode", "Negative prompt", group, clip=ln("32"), text="blurry, static, distorted"),
    }


def draw_to_video_wan_vace() -> dict:
    """The 2.5D render of the drawn camera as Wan 2.1 VACE's control video; VACE keeps what the photo shows and
    paints the disocclusions (mask 1 = regenerate)."""
    return {
        **_wan_front(),
        "10": node("DTV_Render25D", "Render", "Render", image=ln("11"), depth=ln("5"), trajectory=ln("6"),
                   fill="layered", chunk=4, supersample=1),
        "12": node("DTV_VaceControls", "VACE controls", "Render", frames=ln("10"), visible=ln("10", 1), dilate=8,
                   feather=8, hole_content="grey"),
        "13": node("MaskToImage", "Mask as image", "Render", mask=ln("12", 1)),
        "14": node("PreviewImage", "Mask preview", "Render", images=ln("13")),
        "30": node("UNETLoader", "Wan VACE model", "Wan", unet_name=WAN_VACE_MODELS["unet"], weight_dtype="default"),
        **_wan_text(WAN_VACE_MODELS),
        "38": node("WanVaceToVideo", "Wan VACE to video", "Wan", positive=ln("36"), negative=ln("37"), vae=ln("33"),
                   width=ln("12", 2), height=ln("12", 3), length=ln("12", 4), batch_size=1, strength=1.0,
                   control_video=ln("12"), control_masks=ln("12", 1)),
        "39": node("KSampler", "Sampler", "Wan", model=ln("31"), seed=0, steps=20, cfg=6.0, sampler_name="uni_pc",
                   scheduler="simple", positive=ln("38", 0), negative=ln("38", 1), latent_image=ln("38", 2),
                   denoise=1.0),
        "41": node("TrimVideoLatent", "Trim reference", "Wan", samples=ln("39"), trim_amount=ln("38", 3)),
        "40": node("VAEDecode", "Decode", "Wan", samples=ln("41"), vae=ln("33")),
        **_save("40", "draw-to-video/wan_vace", fps=16.0),
    }


def draw_to_video_wan_tracks() -> dict:
    """Points of the photo carried through the drawn camera (with its depth) as Wan 2.1 ATI's tracks."""
    return {
        **_wan_front(),
        "7": node("DTV_WanTracks", "Wan tracks", "Camera", image=ln("11"), depth=ln("5"), trajectory=ln("6"),
                  sampling="grid", max_points=64, occlusion=True),
        "8": node("PreviewImage", "Tracks preview", "Camera", images=ln("7", 5)),
        "30": node("UNETLoader", "Wan ATI model", "Wan", unet_name=WAN_ATI_MODELS["unet"], weight_dtype="default"),
        **_wan_text(WAN_ATI_MODELS),
        "34": node("CLIPVisionLoader", "CLIP vision", "Wan", clip_name=WAN_ATI_MODELS["clip_vision"]),
        "35": node("CLIPVisionEncode", "Encode image", "Wan", clip_vision=ln("34"), image=ln("7", 1), crop="none"),
        "38": node("WanTrackToVideo", "Wan track to video", "Wan", positive=ln("36"), negative=ln("37"), vae=ln("33"),
                   tracks=ln("7"), width=ln("7", 2), height=ln("7", 3), length=ln("7", 4), batch_size=1,
                   temperature=220.0, topk=2, start_image=ln("7", 1), clip_vision_output=ln("35")),
        "39": node("KSampler", "Sampler", "Wan", model=ln("31"), seed=0, steps=20, cfg=6.0, sampler_name="uni_pc",
                   scheduler="simple", positive=ln("38", 0), negative=ln("38", 1), latent_image=ln("38", 2),
                   denoise=1.0),
        "40": node("VAEDecode", "Decode", "Wan", samples=ln("39"), vae=ln("33")),
        **_save("40", "draw-to-video/wan_tracks", fps=16.0),
    }


#: node size (graph units) by class: the nodes that show an image get room for a 3:2 or 16:9 photo
SIZES = {"LoadImage": (360, 470), "DTV_StrokeInput": (560, 700), "PreviewImage": (320, 300),
         "Note": (360, 300)}

#: name -> columns of node ids (``"note"`` is the note); ``(id, other)`` starts level with node ``other``
LAYOUTS = {
    "draw_to_video_2_5d": [["note"], ["1"], ["2", "3"], ["5"], ["6", "7", "8"], ["9", "4"], ["10"], ["90", "91"]],
    "draw_to_video_svd": [["note"], ["1"], ["2", "3"], ["5"], ["6"], ["10"], ["12", "11", "14"], ["13", "15"],
                          ["16", "17"], ["20", "21"], ["90", "91"]],
    # one column of (camera over render) per preset, left to right, each join beside its render; the save under the
    # last join (a fifth column, not a sixth: the tour fits at >= 50% in a 1600 x 1000 window)
    "camera_preset_tour": [["1", "5", "note"], ["10", "11"], ["20", "21", ("22", "21")], ["30", "31", ("32", "31")],
                           ["40", "41", ("42", "41"), "90", "91"]],
    "cinematic_effects_showcase": [["note"], ["1"], ["2", "3"], ["5"], ["6"], ["10"], ["20", "21"],
                                   ["22", "23", "24"], ["90", "91"]],
    "wan_fun_camera": [["note"], ["1"], ["2", "3"], ["6"], ["7", "8"], ["30", "31", "33", "34"], ["32", "36", "37"],
                       ["35", "38"], ["39", "40"], ["90", "91"]],
    "draw_to_video_wan_vace": [["note"], ["1"], ["2", "3"], ["11", "5"], ["6"], ["10", "12"], ["13", "14"],
                               ["30", "31", "33"], ["32", "36", "37"], ["38", "39"], ["41", "40"], ["90", "91"]],
    "draw_to_video_wan_tracks": [["note"], ["1"], ["2", "3"], ["11", "5"], ["6"], ["7", "8"], ["30", "31", "33", "34"],
                                 ["32", "36", "37"], ["35", "38"], ["39", "40"], ["90", "91"]],
}

#: name -> (title, one-sentence description) for the template browser
TEMPLATES = {
    "draw_to_video_2_5d": (
        "Draw a camera move on a photo (2.5D, no weights)",
        "Draw a path on your photo and get a camera-move video rendered in 2.5D, with no model to download."),
    "draw_to_video_svd": (
        "Draw a camera move, Stable Video Diffusion fills it in",
        "The 2.5D render of your drawn camera guides SVD-XT, then x2 interpolation and a cinematic grade "
        "(needs svd_xt.safetensors)."),
    "camera_preset_tour": (
        "Camera preset tour: four moves on one photo",
        "One photo through dolly in, orbit, vertigo and crane up, rendered one after another in 2.5D (no weights)."),
    "cinematic_effects_showcase": (
        "Cinematic effects: dolly zoom, speed ramp, grade, grain",
        "A Hitchcock dolly zoom in 2.5D, then a speed ramp, a teal-orange grade, film grain, a vignette and a "
        "2.39:1 letterbox (no weights)."),
    "wan_fun_camera": (
        "Draw a camera move for Wan2.1 Fun Camera",
        "Your drawn path drives core WanCameraImageToVideo and is saved as RealEstate10K poses for CameraCtrl "
        "(needs the Wan2.1-Fun-Camera weights)."),
    "draw_to_video_wan_vace": (
        "Draw a camera move, Wan VACE paints what the photo never showed",
        "The 2.5D render of your drawn camera is Wan 2.1 VACE's control video; VACE keeps what the photo shows and "
        "fills the disocclusions (needs the Wan 2.1 VACE 1.3B or 14B weights)."),
    "draw_to_video_wan_tracks": (
        "Draw a camera move as point tracks for Wan ATI",
        "Points of your photo, carried through the drawn camera with their depth, drive Wan 2.1 ATI in core "
        "WanTrackToVideo (needs the Wan ATI 14B weights)."),
}

#: name -> (builder, note shown on the canvas)
WORKFLOWS = {
    "draw_to_video_svd": (draw_to_video_svd, (
        "Draw to video with Stable Video Diffusion. Put svd_xt.safetensors (Stable Video Diffusion XT) in "
        "models/checkpoints/. Draw the camera path in the Stroke node; the 2.5D render of that camera guides the "
        "stock SVD sampler (Camera guidance: strong at high noise, released at low noise so SVD adds detail and "
        "fills what the photo does not show). Then x2 interpolation to 24 fps and a cinematic grade.")),
    "draw_to_video_2_5d": (draw_to_video_2_5d, (
        "Draw to video, no weights (2.5D). Draw your camera path on the image in the Stroke node; the intent "
        "(straight, arc, circle, spiral, zigzag, freeform) picks the camera move. The depth here is an approximate "
        "ground/sky prior: for real parallax connect a depth node (Depth Anything, MiDaS...) through 'Draw to Video: "
        "depth from depth map'. Press Run; the video lands in output/draw-to-video/.")),
    "camera_preset_tour": (camera_preset_tour, (
        "Camera preset tour: one image, four presets (dolly in, orbit, vertigo, crane up) rendered one after "
        "another. Change the preset of any 'Camera' node to try the other cinematic presets.")),
    "cinematic_effects_showcase": (cinematic_effects_showcase, (
        "Cinematic effects: a Hitchcock dolly-zoom rendered in 2.5D, then a speed ramp, a teal-orange grade, film "
        "grain, a vignette and a 2.39:1 letterbox. Each effect is its own node (Add Node > draw-to-video > effects) "
        "with typed widgets; strength 0 is the identity.")),
    "wan_fun_camera": (wan_fun_camera, (
        "Drawn path -> Wan2.1-Fun-Camera. Needs your Wan weights: models/diffusion_models/"
        f"{WAN_MODELS['unet']}, models/text_encoders/{WAN_MODELS['clip']}, models/vae/{WAN_MODELS['vae']}, "
        f"models/clip_vision/{WAN_MODELS['clip_vision']}. The trajectory needs 4k+1 frames (81). The same camera is "
        "saved as RealEstate10K pose text for CameraCtrl users (output/draw-to-video/cameractrl_*.txt).")),
    "draw_to_video_wan_vace": (draw_to_video_wan_vace, (
        "Drawn path -> 2.5D render -> Wan 2.1 VACE. Needs models/diffusion_models/"
        f"{WAN_VACE_MODELS['unet']} (or {WAN_VACE_MODELS['unet_14b']}: pick it in 'Wan VACE model'), "
        f"models/text_encoders/{WAN_VACE_MODELS['clip']}, models/vae/{WAN_VACE_MODELS['vae']}. VACE controls "
        "turns the render into the control video and the mask (1 = regenerate: what the photo never showed, grown "
        "by dilate and feathered), 81 frames at 832x480; VACE keeps the rest. For real parallax connect a depth "
        "node through 'Draw to Video: depth from depth map' instead of the approximate prior.")),
    "draw_to_video_wan_tracks": (draw_to_video_wan_tracks, (
        "Drawn path -> point tracks -> Wan 2.1 ATI (core WanTrackToVideo). Needs models/diffusion_models/"
        f"{WAN_ATI_MODELS['unet']} (Wan2.1-I2V-14B-ATI), models/text_encoders/{WAN_ATI_MODELS['clip']}, "
        f"models/vae/{WAN_ATI_MODELS['vae']}, models/clip_vision/{WAN_ATI_MODELS['clip_vision']}. Wan tracks lifts "
        "a grid of the photo's points with its depth and carries them through every camera; a point that leaves "
        "the frame or is hidden ends its track. The preview shows the tracks.")),
}


def demo_motorcycle() -> dict:
    """The CLI demo (not a shipped template): the bundled motorcycle photo with its real depth, the bundled stroke."""
    stroke = (REPO / "assets" / "demo_stroke.json").read_text(encoding="utf-8")
    return {
        "1": node("LoadImage", "Image", "Draw", image="motorcycle.jpg"),
        "2": node("DTV_StrokeInput", "Stroke", "Draw", strokes=stroke, preset="auto", image=ln("1")),
        "3": node("DTV_IntentAnalysis", "Intent", "Draw", strokes=ln("2")),
        "4": node("LoadImage", "Depth map", "Depth", image="motorcycle_depth.png"),
        "5": node("DTV_DepthFromImage", "Depth", "Depth", image=ln("4"), kind="inverse_depth", near=0.5, far=10.0),
        # the Middlebury camera: f = 995 px at 741x500, a 28.2 degree vertical field of view
        "6": {**_trajectory(frames=49, size=(736, 496)), "inputs": {**_trajectory(frames=49, size=(736, 496))["inputs"],
                                                                     "fov_deg": 28.2}},
        "10": node("DTV_Render25D", "Render", "Render", image=ln("1"), depth=ln("5"), trajectory=ln("6"),
                   fill="layered", chunk=4, supersample=FINISHED),
        **_save("10", "draw-to-video/demo"),
    }


def api_twin(graph: dict) -> dict:
    """The API-format graph as ComfyUI's /prompt takes it (without the layout-only 'group' key)."""
    return {k: {kk: vv for kk, vv in v.items() if kk != "group"} for k, v in graph.items()}


def write_api_twins() -> list[Path]:
    out = []
    for name, (build, _) in WORKFLOWS.items():
        path = REPO / "workflows" / "api" / f"{name}.json"
        path.write_text(json.dumps(api_twin(build()), indent=1) + "\n", encoding="utf-8")
        out.append(path)
    demo = REPO / "assets" / "demo_workflow.json"
    demo.write_text(json.dumps(api_twin(demo_motorcycle()), indent=1) + "\n", encoding="utf-8")
    return [*out, demo]


if __name__ == "__main__":
    for p in write_api_twins():
        print(p)
