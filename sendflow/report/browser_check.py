"""Open a Snakemake HTML report in headless Chromium and read it as a person would: click
through its own menus (every category, every subcategory, every result's view button) and
record what each view shows: whether each figure decodes, how many rows each table page has,
and the text of the summary page. `failures` then checks the record, with `summary.csv` when
given: each model's CCC (mean over folds, 3 decimals) must appear as text on the summary page.

A copy of the report gets a small script appended that does the clicking after the page's
React app has rendered; Chromium prints the final DOM (--dump-dom) and the record is read back
from it. A table page shows in an iframe whose document the report's own page may not read
(a data: URI is another origin), so its HTML is fetched from that iframe's address, which is
exactly what the iframe shows. Usage:
python -m sendflow.report.browser_check results/report.html [results/metrics/summary.csv]
(saves a screenshot of the summary page as results/report_summary.png, next to the report).
"""

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..paths import REPORT

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without the networking flags Chromium keeps dialling Google's hosts from a closed network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
)

PROBE = """
<script>
window.addEventListener("load", async () => {
  const out = {rendered: false, views: [], error: null};
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (find, what) => {
    for (let i = 0; i < 100; i++) { const found = find(); if (found) return found; await sleep(50); }
    throw new Error("the report never showed " + what);
  };
  const link = label => [...document.querySelectorAll("#app a")].find(a => a.textContent.trim() === label);
  const home = () => document.querySelector("#app nav ol li a");  // the breadcrumb back to the menu
  let lastShown = null;
  try {
    await sleep(200);
    out.rendered = document.querySelector("#app").children.length > 0;
    out.home = document.querySelector("#app").innerText;  // the front page, before any click
    const sorted = names => names.sort((a, b) => a.localeCompare(b));  // as the menus list them
    for (const category of sorted(Object.keys(categories))) {
      for (const sub of sorted(Object.keys(categories[category]))) {
        const rows = () => [...document.querySelectorAll("#app table tr")]
          .filter(r => r.querySelector("a[type=button]"));
        if (home()) { home().click(); await sleep(100); }  // back to the menu (no breadcrumbs at first)
        (await until(() => link(category), "the menu entry " + category)).click();
        await sleep(100);
        // a category whose results have no subcategory lists them at once
        const entry = await until(() => link(sub) || (rows().length ? "listed" : null), sub + " under " + category);
        if (entry !== "listed") entry.click();
        const count = (await until(() => rows().length ? rows() : null, "results under " + sub)).length;
        for (let i = 0; i < count; i++) {
          const row = rows()[i];
          const view = {category, subcategory: sub, labels: [...row.cells].map(c => c.textContent).join(" ").trim()};
          const button = row.querySelector("a[type=button]");
          if (button.hasAttribute("download")) {  // a file the report offers as a download only
            out.views.push({...view, kind: "download"});
            continue;
          }
          button.click();
          const views = () => [...document.querySelectorAll("#app img[src^='data:image'], #app iframe")]
            .filter(x => !x.closest("nav"));  // not the logo in the menu
          const shown = await until(() => views().find(x => x.src !== lastShown), "the view of " + view.labels);
          lastShown = shown.src;  // the next view must show something else
          if (shown.tagName === "IMG") {
            await until(() => shown.complete, "the image " + view.labels + " decoded or failed");
            Object.assign(view, {kind: "image", width: shown.naturalWidth, height: shown.naturalHeight});
          } else {
            const html = await (await fetch(shown.src)).text();
            const doc = new DOMParser().parseFromString(html, "text/html");
            Object.assign(view, {kind: "page", title: doc.title, rows: doc.querySelectorAll("tbody tr").length,
                                 text: doc.body.textContent, html: category.includes("Summary") ? html : ""});
          }
          out.views.push(view);
        }
      }
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


def _chromium(chromium, args, tmp, timeout):
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_report(html_path, chromium: str | None = None, timeout: float = 300) -> dict:
    """{'rendered': bool, 'home': front page text, 'views': [{category, subcategory, labels, kind,
    ...}], 'error': str|None}: per image view its decoded width and height, per page view its
    title, table rows and text."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (tried " + ", ".join(CHROMIUM_NAMES) + ")")
    html = Path(html_path).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "report.html"
        head, body_end, tail = html.rpartition("</body>")  # the last one: JS strings hold others
        probe.write_text(head + PROBE + body_end + tail if body_end else html + PROBE)
        proc = _chromium(chromium, ["--virtual-time-budget=600000", "--dump-dom", probe.as_uri()], tmp, timeout)
    match = re.search(r'<pre id="sendflow-report-check">(.*?)</pre>', proc.stdout, re.S)
    if not match:
        raise RuntimeError(
            f"{html_path}: the page never finished its check in Chromium "
            f"(exit {proc.returncode}): {proc.stderr[-1000:]}"
        )
    return json.loads(html_lib.unescape(match.group(1)))


def summary_view(result: dict) -> dict | None:
    return next((v for v in result["views"] if v["kind"] == "page" and v.get("title") == "Summary"), None)


def failures(result: dict, summary_csv=None) -> list[str]:
    """What is wrong with a checked report: an app that did not render, a script error, a
    figure that does not decode, a table page without rows, a summary page without numbers
    (or, given summary.csv, without each model's CCC to 3 decimals)."""
    problems = [] if result["rendered"] else ["the report's app did not render"]
    if result["error"]:
        problems.append(f"script error: {result['error']}")
    images = [v for v in result["views"] if v["kind"] == "image"]
    pages = [v for v in result["views"] if v["kind"] == "page"]
    if not images:
        problems.append("the report shows no figures")
    problems += [f"{v['category']} / {v['labels']}: the figure did not load" for v in images if not v["width"]]
    problems += [f"{v['category']} / {v['labels']}: the table page has no rows" for v in pages if not v["rows"]]
    summary = summary_view(result)
    if summary is None:
        return problems + ["the report has no summary page"]
    if not re.search(r"\d\.\d{3}", summary["text"]):
        problems.append("the summary page shows no numbers")
    if summary_csv is not None:
        import pandas as pd

        for row in pd.read_csv(summary_csv).itertuples():
            if f"{row.ccc_mean:.3f}" not in summary["text"]:
                problems.append(
                    f"the summary page lacks {row.extractor} {row.classifier} {row.labels}'s CCC {row.ccc_mean:.3f}"
                )
    return problems


def screenshot_summary(result: dict, png_path, chromium: str | None = None, timeout: float = 120) -> Path:
    """A PNG of the summary page as the report shows it."""
    chromium = chromium or find_chromium()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "summary.html"
        page.write_text(summary_view(result)["html"])
        _chromium(
            chromium,
            ["--hide-scrollbars", "--window-size=1100,900", f"--screenshot={Path(png_path).resolve()}", page.as_uri()],
            tmp,
            timeout,
        )
    return Path(png_path)


def main(argv=None) -> int:
    args = argv or sys.argv[1:] or [REPORT]
    path, summary_csv = args[0], (args[1] if len(args) > 1 else None)
    result = check_report(path)
    problems = failures(result, summary_csv)
    images = [v for v in result["views"] if v["kind"] == "image"]
    pages = [v for v in result["views"] if v["kind"] == "page"]
    print(
        f"{path}: rendered {result['rendered']}, {sum(1 for v in images if v['width'])} of {len(images)} "
        f"figures decoded, {sum(1 for v in pages if v['rows'])} of {len(pages)} table pages with rows"
    )
    if summary_view(result) is not None:
        shot = screenshot_summary(result, Path(path).with_name("report_summary.png"))
        print(f"screenshot of the summary page: {shot}")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
