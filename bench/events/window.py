#!/usr/bin/env python3
# The window's first load on loopback: fetches "/" and then, as a browser does, every /ui/
# script and stylesheet it references (<script src>, <link href>), each module's imports
# (static `import … from`, `import '…'`, `export … from`, dynamic `import('…')`) and CSS
# @imports, recursively — breadth first, one request after the other on one kept-alive
# connection (on loopback the server's time per file is what counts; a browser would use
# up to 6 connections, and over a network the round trips reported are what it waits for).
# The time is that of the requests (connect, send, wait, read the body), not of our parsing
# between them. Prints bytes, files, round trips and wall time for the first load (right after
# the server started: cold), fresh full loads and revalidations (If-None-Match: the window
# is served with Cache-Control: no-cache and ETags, so a reload asks again, getting 304s).
#
#   window.py http://127.0.0.1:PORT [--runs 5] [--label L] [--json FILE]
import argparse
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse

HTML_REF = re.compile(
    r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["'][^>]*>""", re.I)
# Module imports start a line (top level); `// import …` and strings elsewhere do not match.
JS_REF = re.compile(
    r"""^[ \t]*(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+)["']""", re.M)
JS_DYNAMIC = re.compile(r"""\bimport\s*\(\s*["']([^"']+)["']\s*\)""")
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""")


def references(path, ctype, body):
    text = body.decode("utf-8", "replace")
    if "html" in ctype:
        refs = HTML_REF.findall(text)
    elif "javascript" in ctype:
        refs = JS_REF.findall(text) + JS_DYNAMIC.findall(text)
    elif "css" in ctype:
        refs = CSS_IMPORT.findall(text)
    else:
        refs = []
    out = []
    for ref in refs:
        url = urllib.parse.urlsplit(urllib.parse.urljoin(path, ref))
        if url.scheme or url.netloc or not url.path.startswith("/"):
            continue  # data:, other origins
        if url.path.endswith((".js", ".mjs", ".css")):
            out.append(url.path)
    return out


class Loader:
    """One page load on one kept-alive connection, fetching the graph as it unfolds."""

    def __init__(self, host, port, etags=None):
        self.host, self.port, self.etags = host, port, etags or {}

    def load(self, cache=None):
        """Returns {path: (status, bytes, depth, etag)}, seconds spent in requests (connect,
        send, wait, read; not our parsing), errors."""
        files, errors, depth_of, queue = {}, [], {"/": 0}, ["/"]
        spent = 0.0
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while queue:
            path = queue.pop(0)
            headers = {"Accept": "*/*"}
            if path in self.etags:
                headers["If-None-Match"] = self.etags[path]
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body, ctype, status = r.read(), r.getheader("Content-Type", ""), r.status
            spent += time.perf_counter() - start
            files[path] = (status, len(body), depth_of[path], r.getheader("ETag"))
            if status == 304 and cache is not None and path in cache:
                body, ctype = cache[path]
            elif status != 200:
                errors.append(f"{path}: {status}")
                continue
            elif cache is not None:
                cache[path] = (body, ctype)
            for ref in references(path, ctype, body):
                if ref not in depth_of:
                    depth_of[ref] = depth_of[path] + 1
                    queue.append(ref)
        conn.close()
        return files, spent, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    host, port = u.hostname, u.port or 80

    cache = {}
    files, cold, errors = Loader(host, port).load(cache)
    etags = {p: f[3] for p, f in files.items() if f[3]}
    full, reval, reval_bytes = [], [], 0
    for _ in range(a.runs):
        _, t, e = Loader(host, port).load()
        full.append(t)
        errors += e
        again, t, e = Loader(host, port, etags).load(dict(cache))
        reval.append(t)
        errors += e
        reval_bytes = sum(f[1] for f in again.values())
    total = sum(f[1] for f in files.values())
    trips = 1 + max((f[2] for f in files.values()), default=0)
    js = sorted(p for p in files if p.endswith(".js"))
    css = sorted(p for p in files if p.endswith(".css"))
    ms = lambda s: round(s * 1000, 2)
    result = {
        "label": a.label,
        "files": len(files), "js": len(js), "css": len(css), "bytes": total,
        "round_trips": trips,
        "first_ms": ms(cold),
        "full_ms_median": ms(statistics.median(full)) if full else None,
        "full_ms_max": ms(max(full)) if full else None,
        "revalidate_ms_median": ms(statistics.median(reval)) if reval else None,
        "revalidate_ms_max": ms(max(reval)) if reval else None,
        "revalidate_bytes": reval_bytes,
        "runs": a.runs,
        "errors": sorted(set(errors)),
        "sizes": {p: f[1] for p, f in sorted(files.items())},
    }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    label = f"{a.label}: " if a.label else ""
    err = f"; ERRORS {', '.join(result['errors'])}" if result["errors"] else ""
    print(f"{label}window {len(files)} files ({len(js)} js, {len(css)} css, {total / 1024:.1f} KiB, "
          f"{trips} round trips): first {result['first_ms']} ms, full load median "
          f"{result['full_ms_median']} ms (max {result['full_ms_max']}), revalidate median "
          f"{result['revalidate_ms_median']} ms ({reval_bytes} bytes){err}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
