"""The loop's own cost per trial stays flat, and the store grows linearly (issue #20, items 1-2).

    nice -n 10 .venv/bin/python benchmarks/loop_overhead.py [--trials 3000]

In process, with a trainer that does nothing but a forward pass and a strategy whose state
does not grow (seeded random sizes, repeats allowed), every second of a trial is the loop's
own work: ask, store the running trial and the state, freeze, record, tell, store the
result and the state. Prints the time per trial in the first and the last tenth, their
ratio, and the store's size per trial.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import scheduling_kit as kit  # noqa: E402


class NoTrain(kit.SleepTrainer):
    def fit(self, model):
        return {"accuracy": 0.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3000)
    args = parser.parse_args()
    from nas_core.experiment import Experiment, TrialStore

    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment(kit.SizedSpace, NoTrain(), kit.SeededRandom(), max_trials=args.trials, workdir=tmp,
                         progress=False, keep_weights=False, seed=0)
        t0 = time.perf_counter()
        exp.run()
        total = time.perf_counter() - t0
        ends = [t.finished for t in TrialStore(tmp).trials()]
        tenth = len(ends) // 10
        first = (ends[tenth] - ends[0]) / tenth
        last = (ends[-1] - ends[-1 - tenth]) / tenth
        con = sqlite3.connect(os.path.join(tmp, "trials.db"))
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        size = os.path.getsize(os.path.join(tmp, "trials.db"))
    print(f"{args.trials} trials in {total:.1f} s")
    print(f"per trial: first tenth {1000 * first:.2f} ms, last tenth {1000 * last:.2f} ms, ratio {last / first:.2f}")
    print(f"store: {size / args.trials:.0f} bytes per trial")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
