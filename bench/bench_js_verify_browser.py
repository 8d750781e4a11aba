#!/usr/bin/env python3
"""Benchmark: re-verify a draw over a 100,000-member pool in headless Chromium (issue: at most 5 s).

    .venv/bin/python bench/bench_js_verify_browser.py [POOL_SIZE]

Serves the repository on 127.0.0.1 (a secure context, so WebCrypto is available as on an https site),
opens a page in Debian's /usr/bin/chromium through Playwright, and runs ``bench/js_draw_bench.mjs`` —
the same synthetic draw as ``bench/bench_js_verify.mjs`` under node, with the real quicknet round
32000000 — through the verifier's ES modules. Prints the time of each phase (``performance.now()`` in
the page) and the outcome's address, which must equal node's.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

SCRIPT = """async (n) => {
  const { buildInputs, reverify } = await import('/bench/js_draw_bench.mjs');
  const beacon = (await (await fetch('/tests/vectors/drand/quicknet-32000000.json')).text()).trim();
  const inputs = await buildInputs(n, beacon);
  const clock = () => { const w = performance.now(); return () => ({ wall: performance.now() - w, cpu: NaN }); };
  const r = await reverify(inputs, clock);
  return { secure: window.isSecureContext, ua: navigator.userAgent, ...r };
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401 - silence the access log
        pass

    def guess_type(self, path):
        return "text/javascript" if str(path).endswith((".js", ".mjs")) else super().guess_type(path)


def main(n: int) -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/bench/")
            r = page.evaluate(SCRIPT, n)
            browser.close()
    finally:
        server.shutdown()
    t = r["times"]
    print(f"Chromium ({r['ua'].split('Chrome/')[-1].split(' ')[0]}), secure context {r['secure']}, pool {n}")
    print(f"  commitment checks (labels, Merkle root, strata blobs)   {t['commitment']['wall']:8.0f} ms")
    print(f"  drand BLS verification                                  {t['beacon']['wall']:8.0f} ms")
    print(f"  seed, tickets, selection of {r['selected']}, {r['teams']} teams          {t['draw']['wall']:8.0f} ms")
    print(f"  outcome document and its address                        {t['outcome']['wall']:8.0f} ms  ({r['ref'][:23]}…)")
    total = r["total"]["wall"] / 1000
    print(f"TOTAL re-verification in the browser: {total:.2f} s — target at most 5 s: {'MET' if total <= 5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
