"""Open a Snakemake HTML report in headless Chromium and check that it renders and that every
figure it embeds loads as an image.

A copy of the report gets a small script appended that waits for the page's React app, then
shows each image result through the app's own view (as a click in the menu would) and records
whether the <img> decoded. Chromium prints the final DOM (--dump-dom); the record is read
back from it. Usage: python -m sendflow.report.browser_check results/report.html
"""

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without the networking flags Chromium keeps dialling Google's hosts from a closed network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--allow-file-access-from-files")

PROBE = """
<script>
window.addEventListener("load", async () => {
  const out = {rendered: false, images: [], error: null};
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  async function shown(uri) {
    for (let i = 0; i < 100; i++) {
      const img = [...document.querySelectorAll("#app img")].find(x => x.src === uri);
      if (img && img.complete) return img;
      await sleep(50);
    }
    return null;
  }
  try {
    await sleep(200);
    out.rendered = document.querySelector("#app").children.length > 0;
    for (const [path, result] of Object.entries(results)) {
      if (!result.mime_type.startsWith("image/")) continue;
      app.setView({content: "img", contentPath: result.data_uri});
      const img = await shown(result.data_uri);
      out.images.push({path, width: img ? img.naturalWidth : 0, height: img ? img.naturalHeight : 0});
    }
  } catch (e) { out.error = String(e); }
  const pre = document.createElement("pre");
  pre.id = "sendflow-report-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def find_chromium() -> str | None:
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def check_report(html_path, chromium: str | None = None, timeout: float = 120) -> dict:
    """{'rendered': bool, 'images': [{'path', 'width', 'height'}], 'error': str|None}."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (tried " + ", ".join(CHROMIUM_NAMES) + ")")
    html = Path(html_path).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "report.html"
        head, body_end, tail = html.rpartition("</body>")  # the last one: JS strings hold others
        probe.write_text(head + PROBE + body_end + tail if body_end else html + PROBE)
        proc = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
             "--virtual-time-budget=60000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=timeout)
    match = re.search(r'<pre id="sendflow-report-check">(.*?)</pre>', proc.stdout, re.S)
    if not match:
        raise RuntimeError(f"{html_path}: the page never finished its check in Chromium "
                           f"(exit {proc.returncode}): {proc.stderr[-1000:]}")
    return json.loads(html_lib.unescape(match.group(1)))


def failures(result: dict) -> list[str]:
    problems = [] if result["rendered"] else ["the report's app did not render"]
    if not result["images"]:
        problems.append("the report embeds no figures")
    if result["error"]:
        problems.append(f"script error: {result['error']}")
    problems += [f"{image['path']} did not load" for image in result["images"] if not image["width"]]
    return problems


def main(argv=None) -> int:
    path = (argv or sys.argv[1:] or ["results/report.html"])[0]
    result = check_report(path)
    problems = failures(result)
    print(f"{path}: rendered {result['rendered']}, "
          f"{sum(1 for i in result['images'] if i['width'])} of {len(result['images'])} figures loaded")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
