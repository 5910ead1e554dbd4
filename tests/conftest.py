"""Shared fixtures: the real ComfyUI server (one per session) and real Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_harness import REPO, Server, start_server

OUTPUT_DIR = REPO / "tests" / "_output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave screenshots, videos and other artefacts for people to look at (git-ignored)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for a module: with 2 cores OpenMP spin-waiting makes 2 threads far slower than 1."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def comfy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("comfy-base"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def comfy(comfy_server: Server, request: pytest.FixtureRequest) -> Iterator[Server]:
    """The session's server; a failing test prints the server log's tail."""
    yield comfy_server
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(f"--- ComfyUI log ({comfy_server.log}) ---\n{comfy_server.log_tail(80)}")
    assert comfy_server.alive(), f"the ComfyUI server died:\n{comfy_server.log_tail()}"


@pytest.fixture(scope="session")
def browser():
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: scripts/setup.sh --test installs Debian's chromium"
    from playwright.sync_api import sync_playwright

    # Playwright's launch() always gives the browser a fresh, throw-away profile directory.
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def app_page(browser, comfy: Server):
    """A page with the real ComfyUI frontend loaded from the test server and ready (``window.app`` exists)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(comfy.url, wait_until="domcontentloaded")
    page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=60_000)
    page.page_errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def copy_artifact(src: Path, name: str) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    dst = OUTPUT_DIR / name
    shutil.copyfile(src, dst)
    return dst
