"""``draw-to-video effects`` on real footage-like input: looks, single effects, folder and video IO, errors."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from PIL import Image

from draw_to_video.cli import main


@pytest.fixture
def frame_dir(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    img = Image.fromarray(skimage.data.coffee()).resize((64, 48))
    for i in range(4):
        img.rotate(i * 3).save(d / f"{i:03d}.png")
    return d


def _pngs(d):
    return [np.asarray(Image.open(p)) for p in sorted(d.glob("*.png"))]


def test_effect_to_png_folder_and_identity(frame_dir, tmp_path):
    assert main(["effects", str(frame_dir), "--effect", "vignette", "--param", "strength=0", "--out",
                 str(tmp_path / "same")]) == 0
    src, same = _pngs(frame_dir), _pngs(tmp_path / "same")
    assert len(same) == 4 and all(np.array_equal(a, b) for a, b in zip(src, same))
    assert main(["effects", str(frame_dir), "--effect", "speed_ramp", "--param", "curve=0:0.5, 1:0.5", "--out",
                 str(tmp_path / "slow")]) == 0
    assert len(_pngs(tmp_path / "slow")) > 4


def test_look_to_video_is_deterministic(frame_dir, tmp_path):
    import av

    for name in ("a.mp4", "b.mp4"):
        assert main(["effects", str(frame_dir), "--look", "michael_bay", "--seed", "3", "--out",
                     str(tmp_path / name)]) == 0
    with av.open(str(tmp_path / "a.mp4")) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert n == 4
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


@pytest.mark.parametrize("argv, fragment", [
    (["--effect", "vignette", "--param", "strength=lots"], "vignette.strength must be a number"),
    (["--effect", "vignette", "--param", "bogus=1"], "unknown parameter"),
    (["--look", "noir_king"], "invalid choice"),
    (["--effect", "tenet_reverse"], "mask"),
])
def test_bad_input_is_one_line_and_writes_nothing(frame_dir, tmp_path, capsys, argv, fragment):
    out = tmp_path / "o.mp4"
    with pytest.raises(SystemExit) if "invalid choice" in fragment else _nullctx():
        code = main(["effects", str(frame_dir), *argv, "--out", str(out)])
        assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".o.mp4")]


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
