#!/usr/bin/env python3
"""Compares two scores.json files of scripts/score-model.sh (vidcolor-eval --json) clip by clip.

    scripts/compare-scores.py CANDIDATE/scores.json BASELINE/scores.json
    scripts/compare-scores.py --frontier CAND.json... --baseline BASE.json... [--margin-db 0.2]
                              [--margin-auc 0.002]

For PSNR, class-rebalanced AuC, chroma spread ratio and colorfulness ratio (the four numbers the
shipping rule read until 2026-12-07, models/MODEL_CARD.md) and CDC, it prints the overall difference, each clip's
difference, on how many clips the candidate is better, and the standard error of the mean
difference over clips (paired: the same clips, the same frames). That error is what the clip
sample allows one to resolve: with 6 validation clips, a PSNR difference of 0.1 dB overall is
usually well inside it.

Exit status: 0 when the candidate is at least the baseline on all four overall (that old rule), 1
when not, 2 on bad input.

--frontier compares operating points instead of two files (models/MODEL_CARD.md, "The shipping
rule"). Each file is one operating point of a model (a temperature, debias or radius, scored on
the same clips); PSNR and AuC trade against colour along a debias sweep, so a point is judged
against the baseline's frontier at the same chroma spread ratio: the baseline's PSNR and AuC are
interpolated linearly between its two points of nearest spread on either side (points outside
the baseline's spread range are not judged). Spread, not colorfulness, is the colour axis, as
colorfulness also counts the mean chroma: a global warm cast raises it. A point is better when it
leads by at least the margin in PSNR or AuC and trails by less than the margin in the other,
worse when it trails by the margin in either, and otherwise within noise. The margins default to
what a seed replicate moves a checkpoint by (docs/TRAINING.md, "How large a difference the
validation clips resolve"). Exit status: 0 when some point is better and none worse, 1 otherwise,
2 on bad input.
"""
import argparse
import json
import math
import sys

# (key, label, higher is better)
METRICS = [
    ("psnr", "PSNR dB", True),
    ("auc_rebalanced", "AuC rebalanced", True),
    ("chroma_spread_ratio", "spread ratio", True),
    ("colorfulness_ratio", "colorfulness ratio", True),
    ("cdc", "CDC", False),
]
RULE = ("psnr", "auc_rebalanced", "chroma_spread_ratio", "colorfulness_ratio")


def fail(message):
    print("compare-scores: " + message, file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            scores = json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))
    if not isinstance(scores, dict) or not isinstance(scores.get("overall"), dict):
        fail("%s has no \"overall\" object (not a vidcolor-eval --json file?)" % path)
    clips = scores.get("clips", [])
    if isinstance(clips, list):
        clips = {c.get("name", str(i)): c for i, c in enumerate(clips)}
    if not isinstance(clips, dict):
        fail("%s: \"clips\" is neither a list nor an object" % path)
    return scores["overall"], clips


def value(scores, key, path):
    v = scores.get(key)
    if not isinstance(v, (int, float)):
        fail("%s has no number \"%s\"" % (path, key))
    return float(v)


def frontier_args(argv):
    """--frontier CAND... --baseline BASE... [--margin-db X] [--margin-auc X]; bad input exits 2."""
    parser = argparse.ArgumentParser(prog="compare-scores.py --frontier")
    parser.add_argument("--frontier", nargs="+", required=True, metavar="CAND.json")
    parser.add_argument("--baseline", nargs="+", required=True, metavar="BASE.json")
    parser.add_argument("--margin-db", type=float, default=0.2)
    parser.add_argument("--margin-auc", type=float, default=0.002)
    args = parser.parse_args(argv[1:])
    for name, margin in (("--margin-db", args.margin_db), ("--margin-auc", args.margin_auc)):
        if not margin >= 0:
            fail("%s must be >= 0" % name)
    if len(args.baseline) < 2:
        fail("--baseline needs at least two operating points (a frontier), got %d" %
             len(args.baseline))
    return args.frontier, args.baseline, args.margin_db, args.margin_auc


def operating_point(path):
    overall, clips = load(path)
    return {"path": path, "clips": sorted(clips),
            "spread": value(overall, "chroma_spread_ratio", path),
            "psnr": value(overall, "psnr", path),
            "auc": value(overall, "auc_rebalanced", path)}


def on_frontier(frontier, spread):
    """The baseline's (psnr, auc) at this spread ratio, linear between its neighbours; None outside."""
    for lo, hi in zip(frontier, frontier[1:]):
        if lo["spread"] <= spread <= hi["spread"]:
            span = hi["spread"] - lo["spread"]
            t = 0.0 if span == 0 else (spread - lo["spread"]) / span
            return (lo["psnr"] + t * (hi["psnr"] - lo["psnr"]),
                    lo["auc"] + t * (hi["auc"] - lo["auc"]))
    return None


def verdict(d_psnr, d_auc, margin_db, margin_auc):
    if d_psnr <= -margin_db or d_auc <= -margin_auc:
        return "worse"
    if d_psnr >= margin_db or d_auc >= margin_auc:
        return "better"
    return "within noise"


def compare_frontier(argv):
    cand_paths, base_paths, margin_db, margin_auc = frontier_args(argv)
    cands = [operating_point(p) for p in cand_paths]
    frontier = sorted((operating_point(p) for p in base_paths), key=lambda b: b["spread"])
    for point in cands + frontier[1:]:
        if point["clips"] != frontier[0]["clips"]:
            fail("%s scores other clips than %s" % (point["path"], frontier[0]["path"]))
    print("baseline frontier: %d points, spread ratio %.4f .. %.4f; margins %.3f dB, %.4f AuC" %
          (len(frontier), frontier[0]["spread"], frontier[-1]["spread"], margin_db, margin_auc))
    print("%-40s %8s %9s %9s %9s %9s  %s" %
          ("candidate point", "spread", "PSNR", "frontier", "AuC", "frontier", "verdict"))
    verdicts = []
    for c in cands:
        at = on_frontier(frontier, c["spread"])
        if at is None:
            print("%-40s %8.4f %9.4f %9s %9.4f %9s  outside the baseline's spread range" %
                  (c["path"][-40:], c["spread"], c["psnr"], "-", c["auc"], "-"))
            continue
        v = verdict(c["psnr"] - at[0], c["auc"] - at[1], margin_db, margin_auc)
        verdicts.append(v)
        print("%-40s %8.4f %9.4f %9.4f %9.4f %9.4f  %s (%+.3f dB, %+.4f AuC)" %
              (c["path"][-40:], c["spread"], c["psnr"], at[0], c["auc"], at[1], v,
               c["psnr"] - at[0], c["auc"] - at[1]))
    if not verdicts:
        overall = "no candidate point inside the baseline's spread range"
    elif "worse" in verdicts:
        overall = "worse"
    elif "better" in verdicts:
        overall = "better"
    else:
        overall = "within noise"
    print("frontier verdict: %s" % overall)
    return 0 if overall == "better" else 1


def main(argv):
    if len(argv) > 1 and argv[1] == "--frontier":
        return compare_frontier(argv)
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cand_path, base_path = argv[1], argv[2]
    cand, cand_clips = load(cand_path)
    base, base_clips = load(base_path)
    clips = [c for c in base_clips if c in cand_clips]
    missing = sorted(set(base_clips) ^ set(cand_clips))
    if missing:
        fail("the two files score different clips (only in one: %s)" % ", ".join(missing))
    print("candidate %s against baseline %s, %d clips" % (cand_path, base_path, len(clips)))
    print("%-20s %9s %9s %9s %6s %8s   per clip (candidate - baseline)" %
          ("", "candidate", "baseline", "diff", "better", "SE"))
    meets_rule = True
    for key, label, higher in METRICS:
        c, b = value(cand, key, cand_path), value(base, key, base_path)
        diffs = [value(cand_clips[n], key, cand_path) - value(base_clips[n], key, base_path)
                 for n in clips]
        better = sum(1 for d in diffs if (d > 0 if higher else d < 0))
        if len(diffs) > 1:
            mean = sum(diffs) / len(diffs)
            sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
            se = "%8.4f" % (sd / math.sqrt(len(diffs)))
        else:
            se = "%8s" % "-"
        print("%-20s %9.4f %9.4f %+9.4f %3d/%-2d %s   %s" %
              (label, c, b, c - b, better, len(diffs), se,
               " ".join("%s %+.4f" % (n, d) for n, d in zip(clips, diffs))))
        if key in RULE and c < b:
            meets_rule = False
    print("rule (at least the baseline on all four overall): %s" % ("met" if meets_rule else "not met"))
    return 0 if meets_rule else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
