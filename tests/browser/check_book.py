"""Open every page of the built book in headless Chromium and fail on what a reader
would meet.

    python tests/browser/check_book.py [_build/html] [--screenshots _build/screenshots]

The pages are served from 127.0.0.1 by a server this script starts; Debian's `chromium`
(`/usr/bin/chromium`) is driven by Playwright. A page fails on:

- a request that leaves the machine (anything but the local server, `data:` and
  `blob:`); such requests are blocked and reported;
- a local file that does not load (HTTP status ≥ 400), an image with `naturalWidth` 0;
- a JavaScript error, an error output or a traceback, or a widget shown as its text form
  (`VBox(...)`: a live widget with no static view);
- math that MathJax did not typeset;
- a code cell whose lines are wider than the page's column (it scrolls sideways);
- an explorer or animation whose slider does not change its figure when moved with the
  keyboard, or whose controls do not fit a 1280-pixel window.

A full-page screenshot of each page is saved for a person to look at. Exit status 1 when
any page fails; the findings are printed and written to `report.json` beside the
screenshots.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WINDOW = {"width": 1280, "height": 900}
SKIPPED_FOLDERS = {"_static", "_sources", "_images"}

# Runs in the page: everything a reader would see wrong that the DOM can tell.
PAGE_PROBLEMS_JS = """() => {
  const problems = [];
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) {
      const source = (img.currentSrc || img.src).slice(0, 120);
      problems.push("image does not load: " + source);
    }
  }
  const errors = document.querySelectorAll(
    "div.output.traceback, div.output.error, .cell_output .traceback, .output.stderr");
  if (errors.length) problems.push(errors.length + " error output(s)");
  const text = document.body.innerText;
  if (text.includes("Traceback (most recent call last)")) problems.push("a traceback");
  const widgetText = /\\b[A-Z]\\w*Box\\(children=\\(/;  // an ipywidget's text form
  for (const out of document.querySelectorAll(".cell_output")) {
    if (widgetText.test(out.innerText)) {
      problems.push("a widget shown as text (no static view)");
      break;
    }
  }
  const wide = [...document.querySelectorAll(".cell_input pre")].filter(
    pre => pre.scrollWidth > pre.clientWidth + 1);
  if (wide.length) problems.push(wide.length + " code cell(s) scroll sideways");
  const math = [...document.querySelectorAll(".math")];
  const bare = math.filter(m => !m.querySelector("mjx-container"));
  if (bare.length) problems.push(bare.length + " math element(s) not typeset");
  for (const p of document.querySelectorAll("article p, article li")) {
    const raw = /(^|[^\\\\$])\\$[^$\\s][^$]*\\$/.test(p.innerText);
    if (raw && !p.querySelector("code")) {
      problems.push("unparsed $math$: " + p.innerText.slice(0, 80));
      break;
    }
  }
  return problems;
}"""

MATH_READY_JS = """async () => {
  if (!document.querySelector(".math")) return true;
  if (!document.querySelector("script[src*='mathjax' i]")) return false;
  for (let k = 0; k < 200 && !(window.MathJax && MathJax.startup
       && MathJax.startup.promise); k++) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (!(window.MathJax && MathJax.startup)) return false;
  await MathJax.startup.promise;
  return true;
}"""


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `root` on 127.0.0.1 (a free port) from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def pages(root: Path) -> list[Path]:
    """Every HTML page of the book, relative to `root`, in a stable order."""
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {root}: build the book first")
    found = []
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root)
        if not SKIPPED_FOLDERS & set(relative.parts[:-1]):
            found.append(relative)
    return found


def _sliders(page: Any) -> Iterator[tuple[str, Any, Any]]:
    """(name, range input, image it drives) for every explorer and animation player."""
    for k, box in enumerate(page.query_selector_all(".siamlab-explorer")):
        image = box.query_selector("img")
        for j, slider in enumerate(box.query_selector_all("input[type=range]")):
            yield f"explorer {k + 1}, slider {j + 1}", slider, image
    for k, slider in enumerate(page.query_selector_all("input.anim-slider")):
        player = slider.evaluate_handle("s => s.closest('.animation')")
        image = (
            player.as_element().query_selector("img") if player.as_element() else None
        )
        yield f"animation {k + 1}", slider, image


def check_slider(page: Any, name: str, slider: Any, image: Any) -> list[str]:
    """Move `slider` with the keyboard through its positions: its image must change and
    the slider must lie inside the window."""
    if image is None:
        return [f"{name}: no image"]
    problems = []
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    if box is None or box["width"] < 20 or box["x"] + box["width"] > WINDOW["width"]:
        problems.append(
            f"{name}: slider hidden or outside the 1280-pixel window ({box})"
        )
    figure = image.bounding_box()
    if figure and figure["x"] + figure["width"] > WINDOW["width"] + 1:
        problems.append(
            f"{name}: figure wider than the window ({figure['width']:.0f} px)"
        )
    first = image.get_attribute("src")
    steps = int(slider.get_attribute("max") or 0) - int(
        slider.get_attribute("min") or 0
    )
    key = "ArrowLeft" if slider.evaluate("s => s.value === s.max") else "ArrowRight"
    slider.focus()
    for _ in range(max(steps, 1)):
        page.keyboard.press(key)
        if image.get_attribute("src") != first:
            return problems
    return problems + [f"{name}: moving the slider does not change the figure"]


def check_page(page: Any, url: str, screenshot: Path | None) -> list[str]:
    """Load `url`, run every check, save the screenshot; returns the problems found."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))
    response = page.goto(url, wait_until="load")
    if response is None or response.status >= 400:
        return [f"page does not load ({response and response.status})"]
    page.wait_for_load_state("networkidle")
    if not page.evaluate(MATH_READY_JS):
        errors.append("MathJax did not start")
    _scroll_through(page)
    problems = errors + page.evaluate(PAGE_PROBLEMS_JS)
    for name, slider, image in _sliders(page):
        problems += check_slider(page, name, slider, image)
    if screenshot is not None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot), full_page=True)
    return problems


def _scroll_through(page: Any) -> None:
    """Scroll to the end and back, so images that load lazily load."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, int(height), WINDOW["height"]):
        page.evaluate(f"window.scrollTo(0, {y})")
    page.wait_for_function("[...document.images].every(image => image.complete)")


def check_book(root: Path, screenshots: Path | None) -> dict[str, list[str]]:
    """Check every page of the book built in `root`; returns page → problems."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)
    report: dict[str, list[str]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
            )
            context = browser.new_context(viewport=WINDOW)
            context.route("**/*", functools.partial(_local_only, base, report))
            for relative in pages(root):
                name = relative.as_posix()
                page = context.new_page()
                page.on("response", functools.partial(_missing, report, name))
                shot = None
                if screenshots is not None:
                    shot = screenshots / (name.replace("/", "__")[:-5] + ".png")
                report.setdefault(name, [])
                report[name] += check_page(page, base + name, shot)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return report


def _local_only(base: str, report: dict[str, list[str]], route: Any) -> None:
    """Let requests to the local server (and data/blob URLs) through; block the rest."""
    url = route.request.url
    if url.startswith((base, "data:", "blob:", "about:")):
        route.continue_()
        return
    frame = route.request.frame
    page = frame.url[len(base) :] if frame and frame.url.startswith(base) else "?"
    report.setdefault(page.split("#")[0], []).append(f"outside request: {url[:160]}")
    route.abort()


def _missing(report: dict[str, list[str]], name: str, response: Any) -> None:
    if response.status >= 400:
        report.setdefault(name, []).append(
            f"missing file ({response.status}): {response.url}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--screenshots", default=Path("_build/screenshots"), type=Path)
    args = parser.parse_args(argv)
    report = check_book(args.root, args.screenshots)
    (args.screenshots / "report.json").write_text(json.dumps(report, indent=1))
    failed = {page: problems for page, problems in report.items() if problems}
    for page, problems in report.items():
        print(f"{'FAIL' if problems else 'ok  '} {page}")
        for problem in problems:
            print(f"       {problem}")
    print(
        f"{len(report)} pages checked, {len(failed)} with problems; "
        f"screenshots in {args.screenshots}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
