#!/usr/bin/python3
"""test_gui.py — gradscope-view end to end (TAP): screenshots of real runs under Xvfb,
headless export, and bad files.

    test_gui.py GRADSCOPE_VIEW GRADSCOPE MAKE_FIXTURE GS_PNG_STATS

Two short real runs are trained with `gradscope train` (synthetic data, ResNet with one
basic block per stage, ZNorm and plain Adam).  For every view, `--screenshot` must
write a PNG of the requested size that is not blank (pixel variance), and the views
must differ from each other.  `--export` must write PNG/SVG/PDF.  Unreadable inputs
must give exit code 2 and one line naming the file.
"""
import os
import shutil
import subprocess
import sys
import tempfile

VIEWS = ["overlap", "norms", "distributions", "training", "summary"]
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24"]

n = 0
failed = 0


def check(ok, msg):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(("ok" if ok else "not ok") + f" {n} - {msg}", flush=True)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)


def png_stats(tool, a, b=None):
    r = run([tool, a] + ([b] if b else []))
    if r.returncode != 0:
        return None
    v = r.stdout.split()
    out = {"w": int(v[0]), "h": int(v[1]), "mean": float(v[2]), "var": float(v[3])}
    if b:
        out["diff"] = float(v[4])
    return out


def error_lines(stderr):
    # GTK may add a harmless "session bus" warning under Xvfb; everything else counts
    return [l for l in stderr.splitlines() if l.strip() and "session bus" not in l and not l.startswith("(")]


def main():
    view, gradscope, fixture, stats = sys.argv[1:5]
    tmp = tempfile.mkdtemp(prefix="gs-gui-")
    runs = []
    for t in ("znorm", "none"):
        out = os.path.join(tmp, f"{t}.h5")
        r = run([gradscope, "train", "--arch", "resnet-basic:1", "--data", "synthetic", "--limit-train", "512",
                 "--limit-test", "128", "--batch-size", "64", "--epochs", "3", "--hist-every", "2",
                 "--transform", t, "--seed", "1", "--threads", "1", "--quiet", "--out", out], timeout=600)
        check(r.returncode == 0 and os.path.exists(out), f"trained a short real run ({t}): {r.stderr.strip()[:200]}")
        runs.append(out)

    # -- screenshots of a real window under Xvfb
    shots = {}
    for v in VIEWS:
        png = os.path.join(tmp, f"shot-{v}.png")
        r = run(XVFB + [view, "--screenshot", png, "--view", v, "--size", "1024x700"] + runs, timeout=120)
        if not check(r.returncode == 0 and os.path.exists(png), f"--screenshot --view {v} exits 0 "
                     f"(rc {r.returncode}: {' | '.join(error_lines(r.stderr))[:300]})"):
            continue
        s = png_stats(stats, png)
        check(s is not None and s["w"] == 1024 and s["h"] == 700, f"{v}: screenshot is 1024x700 ({s and (s['w'], s['h'])})")
        check(s is not None and s["var"] > 200, f"{v}: screenshot is not blank (grey variance {s and s['var']:.0f})")
        shots[v] = png
    for i, a in enumerate(VIEWS):
        for b in VIEWS[i + 1:]:
            if a in shots and b in shots:
                s = png_stats(stats, shots[a], shots[b])
                check(s is not None and s["diff"] > 1.0, f"views {a} and {b} differ (mean |diff| {s and s['diff']:.2f})")

    # -- headless export (cairo, no display)
    for v in VIEWS:
        for ext in ("png", "svg", "pdf"):
            out = os.path.join(tmp, f"export-{v}.{ext}")
            r = run([view, "--export", out, "--view", v, "--size", "900x600"] + runs)
            ok = r.returncode == 0 and os.path.exists(out) and os.path.getsize(out) > 1000
            if ok and ext == "pdf":
                ok = open(out, "rb").read(4) == b"%PDF"
            if ok and ext == "png":
                s = png_stats(stats, out)
                ok = s is not None and s["w"] == 900 and s["h"] == 600 and s["var"] > 100
            check(ok, f"--export {v} to .{ext} ({r.stderr.strip()[:200]})")

    # -- zoom: the x window of the headless modes changes what is drawn, and only that
    for v in ("norms", "training", "overlap"):
        full = os.path.join(tmp, f"zoom-full-{v}.png")
        part = os.path.join(tmp, f"zoom-part-{v}.png")
        r1 = run([view, "--export", full, "--view", v, "--size", "900x600"] + runs)
        r2 = run([view, "--export", part, "--view", v, "--size", "900x600", "--zoom", "1:2"] + runs)
        s = png_stats(stats, full, part) if r1.returncode == 0 and r2.returncode == 0 else None
        check(s is not None and s["diff"] > 0.5, f"--export --zoom 1:2 draws {v} differently "
              f"(rc {r1.returncode}/{r2.returncode}, mean |diff| {s and s['diff']:.2f})")
    png = os.path.join(tmp, "shot-zoom.png")
    r = run(XVFB + [view, "--screenshot", png, "--view", "norms", "--size", "1024x700", "--zoom", "1:2"] + runs,
            timeout=120)
    s = png_stats(stats, shots["norms"], png) if r.returncode == 0 and "norms" in shots else None
    check(s is not None and s["diff"] > 0.5, f"--screenshot --zoom 1:2 differs from the whole norms view "
          f"(rc {r.returncode}, mean |diff| {s and s['diff']:.2f})")
    for bad_zoom in ("2:1", "x", "1:nan"):
        r = run([view, "--export", os.path.join(tmp, "z.png"), "--view", "norms", "--zoom", bad_zoom, runs[0]])
        check(r.returncode == 2 and "--zoom" in r.stderr, f"--zoom {bad_zoom} is bad usage (rc {r.returncode})")

    # -- "Export as gnuplot figure", headless: the analyzer's figure for the view, whose
    #    script redraws it standalone
    expect = {"overlap": ["overlap-heatmap-znorm", "overlap-heatmap-none"], "norms": ["norms-znorm", "norms-none"],
              "distributions": ["ridgelines-znorm", "ridgelines-none"], "training": ["training"]}
    for v, stems in expect.items():
        d = os.path.join(tmp, f"gnuplot-{v}")
        r = run([view, "--gnuplot", d, "--view", v, "--format", "pdf"] + runs)
        printed = r.stdout.split()
        want = [os.path.join(d, st + ".pdf") for st in stems]
        ok = r.returncode == 0 and printed == want and all(
            os.path.getsize(p) > 1000 and open(p, "rb").read(4) == b"%PDF" for p in want)
        check(ok, f"--gnuplot --view {v} draws {stems} (rc {r.returncode}: {r.stdout.strip()} {r.stderr.strip()[:200]})")
        if not ok:
            continue
        os.remove(want[0])
        r = run(["gnuplot", stems[0] + ".gp"], cwd=d)
        check(r.returncode == 0 and os.path.getsize(want[0]) > 1000, f"{v}: `gnuplot {stems[0]}.gp` redraws it "
              f"standalone (rc {r.returncode}: {r.stderr.strip()[:200]})")
    d = os.path.join(tmp, "gnuplot-norms")
    check("layer1.0" in open(os.path.join(d, "norms-none.gp")).read(),
          "the norms figure is of the view's block (layer1.0)")
    r = run([view, "--gnuplot", os.path.join(tmp, "gnuplot-summary"), "--view", "summary"] + runs)
    check(r.returncode == 2 and "summary" in r.stderr, f"the summary view has no gnuplot figure: exit 2 (rc {r.returncode})")
    r = run([view, "--gnuplot", tmp, "--format", "bmp", "--view", "norms"] + runs)
    check(r.returncode == 2 and "--format" in r.stderr, f"--format bmp is bad usage (rc {r.returncode})")

    # -- bad inputs: exit 2 with one line naming the file
    text = os.path.join(tmp, "notes.h5")
    with open(text, "w") as f:
        f.write("this is not HDF5\n" * 100)
    trunc = os.path.join(tmp, "truncated.h5")
    with open(runs[0], "rb") as src, open(trunc, "wb") as dst:
        dst.write(src.read(4096))
    other = os.path.join(tmp, "other.h5")
    r = run(["/usr/bin/python3", "-c", "import h5py,sys; f=h5py.File(sys.argv[1],'w'); f['x']=[1,2,3]; f.close()", other])
    missing = os.path.join(tmp, "missing.h5")
    bad = [(missing, "missing"), (text, "not HDF5"), (trunc, "truncated"), (other, "HDF5 but not a run")]
    for path, what in bad:
        for mode in ("export", "screenshot"):
            out = os.path.join(tmp, f"bad.png")
            cmd = [view, f"--{mode}", out, "--view", "overlap", runs[0], path]
            if mode == "screenshot":
                cmd = XVFB + cmd
            r = run(cmd, timeout=60)
            lines = error_lines(r.stderr)
            check(r.returncode == 2 and len(lines) == 1 and os.path.basename(path) in lines[0]
                  and lines[0].startswith("gradscope-view: "),
                  f"--{mode} with a {what} file exits 2 with one line naming it (rc {r.returncode}: {lines})")
    r = run([view, "--export", os.path.join(tmp, "x.png"), "--view", "bogus", runs[0]])
    check(r.returncode == 2 and "bogus" in r.stderr, f"an unknown view is bad usage (rc {r.returncode})")
    r = run([view, "--export", os.path.join(tmp, "x.png"), "--size", "12x", runs[0]])
    check(r.returncode == 2 and "--size" in r.stderr, f"a bad --size is bad usage (rc {r.returncode})")
    r = run([view, "--export", os.path.join(tmp, "x.bmp"), "--view", "norms", runs[0]])
    check(r.returncode == 1 and "x.bmp" in r.stderr, f"an unknown export format fails with a message (rc {r.returncode})")

    print(f"1..{n}")
    print(f"# {n - failed} passed, {failed} failed")
    if failed == 0 and not os.environ.get("GS_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)   # kept for a look when something failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
