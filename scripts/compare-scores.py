#!/usr/bin/env python3
"""Compares two scores.json files of scripts/score-model.sh (vidcolor-eval --json) clip by clip.

    scripts/compare-scores.py CANDIDATE/scores.json BASELINE/scores.json

For PSNR, class-rebalanced AuC, chroma spread ratio and colorfulness ratio (the four numbers the
shipping rule reads, models/MODEL_CARD.md) and CDC, it prints the overall difference, each clip's
difference, on how many clips the candidate is better, and the standard error of the mean
difference over clips (paired: the same clips, the same frames). That error is what the clip
sample allows one to resolve: with 6 validation clips, a PSNR difference of 0.1 dB overall is
usually well inside it.

Exit status: 0 when the candidate is at least the baseline on all four overall (the rule), 1 when
not, 2 on bad input.
"""
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


def main(argv):
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
