"""python -m benchmarks.chaos --minutes 10: the chaos soak, its report as JSON."""

from __future__ import annotations

import argparse
import json
import os

from benchmarks.chaos.soak import Plan, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=Plan.minutes)
    parser.add_argument("--seed", type=int, default=Plan.seed)
    parser.add_argument("--out", help="also write the report to this JSON file")
    parser.add_argument("--log", help="copy the output of `recsys serve` to this file")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}", flush=True)
    report = run(Plan(minutes=args.minutes, seed=args.seed, keep_log=args.log))
    report["load_after"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
