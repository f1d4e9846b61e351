"""Draws docs/benchmarks-calls.png from the calls benchmark's CSV: records/s of a function calling a loopback
API with concurrency, against maxInFlight (20 ms latency) and against latency (maxInFlight 64), each with its
ceiling min(maxInFlight, keys) / latency and the synchronous figure. Usage: plot_calls.py calls.csv out.png"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = list(csv.DictReader(open(sys.argv[1])))
series = lambda name: sorted((float(r["x"]), float(r["records_per_second"]), float(r["ceiling"])) for r in rows if r["series"] == name)
sync = [float(r["records_per_second"]) for r in rows if r["series"] == "sync"]

figure, (by_in_flight, by_latency) = plt.subplots(1, 2, figsize=(11, 4.2))
points = series("in_flight")
by_in_flight.plot([p[0] for p in points], [p[1] for p in points], marker="o", label="concurrency: {order: key}")
by_in_flight.plot([p[0] for p in points], [p[2] for p in points], linestyle="--", color="grey", label="ceiling min(maxInFlight, 50 keys) / 20 ms")
if sync:
    by_in_flight.axhline(sync[0], color="tab:red", linestyle=":", label="synchronous")
by_in_flight.set_xscale("log", base=2)
by_in_flight.set_yscale("log")
by_in_flight.set_xlabel("maxInFlight")
by_in_flight.set_ylabel("records per second (one stream thread, requests)")
by_in_flight.set_title("External calls at 20 ms against maxInFlight")
by_in_flight.legend()
by_in_flight.grid(True, alpha=0.3)

points = series("latency")
by_latency.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="tab:green", label="maxInFlight 64")
by_latency.plot([p[0] for p in points], [p[2] for p in points], linestyle="--", color="grey", label="ceiling 50 keys / latency")
by_latency.set_xscale("log")
by_latency.set_yscale("log")
by_latency.set_xlabel("API latency (ms)")
by_latency.set_ylabel("records per second")
by_latency.set_title("External calls against latency")
by_latency.legend()
by_latency.grid(True, alpha=0.3)

figure.tight_layout()
figure.savefig(sys.argv[2], dpi=110)
