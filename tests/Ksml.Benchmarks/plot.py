"""Draws docs/benchmarks.png from the sweep CSV: throughput against record size and against the
number of Python functions in a pipeline. Usage: plot.py sweep.csv out.png"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = list(csv.DictReader(open(sys.argv[1])))
series = lambda name: [(float(r["x"]), float(r["records_per_second"])) for r in rows if r["series"] == name]

figure, (by_size, by_functions) = plt.subplots(1, 2, figsize=(11, 4.2))
for name, label in (("size_compiled", "compiled KSML (2 Python functions)"), ("size_hand", "hand-written Streamiz + C#")):
    points = series(name)
    by_size.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
by_size.set_xscale("log")
by_size.set_xlabel("record size (bytes, JSON)")
by_size.set_ylabel("records per second (CPU time, TopologyTestDriver)")
by_size.set_title("Throughput against record size")
by_size.legend()
by_size.grid(True, alpha=0.3)

points = series("functions")
by_functions.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="tab:green")
by_functions.set_xlabel("Python functions in the pipeline")
by_functions.set_ylabel("records per second")
by_functions.set_title("Throughput against Python functions (~200-byte records)")
by_functions.grid(True, alpha=0.3)

figure.tight_layout()
figure.savefig(sys.argv[2], dpi=110)
