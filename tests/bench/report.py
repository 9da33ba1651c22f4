#!/usr/bin/python3
"""Summarise tests/bench/run's samples: medians, min-max and the ratios
mccluster/ipyparallel and mccluster/Dask per workload, against the targets
of this machine.

Usage: report.py SAMPLES ENGINES ROUNDS MACHINE VERSIONS OUT.json OUT.md
       report.py --readme TABLE.md README.md   (splice the table in)
"""
import datetime
import json
import statistics
import sys

# The peers beside mccluster: (side in the samples, name in the table).
PEERS = [("ipyparallel", "ipyparallel"), ("dask", "Dask")]

# (workload, key, label, unit, higher is better, target text, target check
# on the mccluster median given the medians of everything as m[, the key of
# some sides where it differs: {side: key}]).
ROWS = [
    ("lb_map_chunksize1", "per_s", "LB map of no-op tasks, chunksize 1", "tasks/s", True,
     ">= 100,000", lambda v, m: v >= 100000),
    ("lb_map_chunksize1", "controller_cpu_us_per_task", "Controller CPU per task of that map (all its threads)",
     "us", False, "<= 2", lambda v, m: v <= 2),
    ("lb_map_chunksize100", "per_s", "LB map of no-op, chunksize 100", "items/s", True,
     ">= 5,000,000", lambda v, m: v >= 5e6),
    ("direct_map", "per_s", "Direct map of 10,000 items, all engines", "items/s", True, "", None),
    ("apply_rtt", "lb_us_median", "Warm LB apply round trip, median", "us", False,
     "<= 2.5x raw ZeroMQ", lambda v, m: v <= 2.5 * m["floor_tcp"]),
    ("apply_rtt", "lb_us_p99", "Warm LB apply round trip, p99", "us", False, "", None),
    ("apply_rtt", "direct_us_median", "Warm direct apply round trip, median", "us", False,
     "<= 2.5x raw ZeroMQ", lambda v, m: v <= 2.5 * m["floor_tcp"]),
    ("apply_rtt", "direct_us_p99", "Warm direct apply round trip, p99", "us", False, "", None),
    ("cold_apply", "us_median", "Cold client: process start to exit, one apply", "us", False, "", None),
    ("pi", "per_s", "Monte Carlo pi, 100 tasks, 1e9 samples", "samples/s", True,
     ">= 1e9 per engine", lambda v, m: v >= 1e9 * m["engines"]),
    ("walkers", "per_s", "10 MH walkers x 1e6 steps, gauss3", "steps/s", True, "", None),
    ("walkers_user", "per_s", "10 MH walkers x 1e6 steps, a user target (mymodel.gauss3)", "steps/s", True, "", None),
    ("walkers_user", "vs_builtin", "The same, user target / built-in gauss3 in the same round", "ratio", True,
     ">= 0.9", lambda v, m: v >= 0.9),
    ("scatter_gather", "scatter_mb_per_s", "Scatter of 1e7 float64", "MB/s", True,
     ">= 1,000", lambda v, m: v >= 1000),
    ("scatter_gather", "gather_mb_per_s", "Gather of 1e7 float64", "MB/s", True,
     ">= 1,000", lambda v, m: v >= 1000),
    # Each peer's fastest documented path: Dask's client-to-worker transfers
    # (scatter(..., direct=True, hash=False), gather(..., direct=True)).
    ("scatter_gather", "scatter_mb_per_s", "Scatter of 1e7 float64, fastest path of each", "MB/s", True,
     ">= 2,200", lambda v, m: v >= 2200, {"dask": "scatter_direct_mb_per_s"}),
    ("scatter_gather", "gather_mb_per_s", "Gather of 1e7 float64, fastest path of each", "MB/s", True,
     ">= 2,200", lambda v, m: v >= 2200, {"dask": "gather_direct_mb_per_s"}),
    ("python_gather", "python_mb_per_s", "Gather of 1e7 float64 from Python (package, numpy)", "MB/s", True,
     ">= 0.8x C in-process", lambda v, m: v >= 0.8 * m["c_gather_in_process"]),
    ("python_gather", "c_mb_per_s", "Gather of 1e7 float64, libmcclient in the same process", "MB/s", True, "", None),
    ("startup", "seconds", "Start-up, 8 engines registered", "s", False, "<= 0.5", lambda v, m: v <= 0.5),
    ("memory", "idle_mb", "Controller memory (PSS), idle", "MB", False, "<= 20", lambda v, m: v <= 20),
    ("memory", "bytes_per_task", "Controller growth per task held", "bytes", False, "<= 300",
     lambda v, m: v <= 300),
]


def fmt(v):
    if v >= 1e9:
        return "%.2f G" % (v / 1e9)
    if v >= 1e6:
        return "%.2f M" % (v / 1e6)
    if v >= 1e4:
        return "%.0f k" % (v / 1e3)
    if v >= 100:
        return "%.0f" % v
    return "%.3g" % v


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def report(samples, engines, rounds, machine, versions, out_json, out_md):
    data = {}                           # (side, workload, key) -> [values]
    for line in open(samples):
        s = json.loads(line)
        values = dict(s["values"])
        if s["workload"] == "memory":
            values["idle_mb"] = values["idle_kb"] / 1024
            values["bytes_per_task"] = max(0, values["after_kb"] - values["idle_kb"]) * 1024 / values["tasks"]
        if s["workload"] == "apply_rtt" and s["side"] == "mccluster":
            for k in ("zmq_tcp_rtt_us_median", "zmq_tcp_rtt_one_cpu_us_median", "zmq_ipc_rtt_us_median",
                      "zmq_tcp_msgs_per_s", "zmq_ipc_msgs_per_s"):
                data.setdefault(("floor", "zmq", k), []).append(values[k])
        for k, v in values.items():
            if isinstance(v, (int, float)):
                data.setdefault((s["side"], s["workload"], k), []).append(v)
    floor = {k[2]: summary(v) for k, v in data.items() if k[0] == "floor"}
    m = {"engines": engines, "floor_tcp": floor["zmq_tcp_rtt_us_median"]["median"] if floor else float("nan")}
    c_in_process = data.get(("mccluster", "python_gather", "c_mb_per_s"))
    m["c_gather_in_process"] = statistics.median(c_in_process) if c_in_process else float("nan")
    rows = []
    for workload, key, label, unit, higher, target, check, *other in ROWS:
        keys = other[0] if other else {}
        mc = data.get(("mccluster", workload, key))
        if not mc:
            continue
        row = {"workload": workload, "metric": key, "label": label, "unit": unit,
               "mccluster": summary(mc), "target": target}
        med = row["mccluster"]["median"]
        for side, _ in PEERS:
            # ratio and speedup against ipyparallel, ratio_dask and speedup_dask against Dask.
            peer = data.get((side, workload, keys.get(side, key)))
            row[side] = summary(peer) if peer else None
            suffix = "" if side == "ipyparallel" else "_" + side
            if peer and row[side]["median"]:
                ratio = row["ratio" + suffix] = med / row[side]["median"]
                row["speedup" + suffix] = ratio if higher else 1 / ratio if ratio else None
        if check:
            row["target_met"] = bool(check(med, m))
        if workload == "apply_rtt" and "median" in key:
            row["x_raw_zmq_tcp"] = med / m["floor_tcp"]
        rows.append(row)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    result = {"date": date, "machine": machine, "versions": versions, "engines": engines, "rounds": rounds,
              "raw_zeromq": floor, "rows": rows}
    json.dump(result, open(out_json, "w"), indent=1)

    md = ["Measured %s on %s; %s; %d engines each, %d rounds alternating (median, min-max)."
          % (date, machine, versions, engines, rounds), "",
          "| Workload | Unit | mccluster | %s | %s | Target | Met |"
          % (" | ".join(name for _, name in PEERS), " | ".join("mccluster/" + name for _, name in PEERS)),
          "|---|---|---|" + "---|" * (2 * len(PEERS)) + "---|---|"]
    for r in rows:
        def cell(s):
            return "%s (%s-%s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"])) if s else "-"

        def ratio(suffix):
            text = "%.3g" % r["ratio" + suffix] if "ratio" + suffix in r else "-"
            speedup = r.get("speedup" + suffix)
            if speedup:
                text += " (%.3gx %s)" % (speedup if speedup >= 1 else 1 / speedup,
                                         "faster" if speedup >= 1 else "slower")
            return text
        met = {True: "yes", False: "**no**"}.get(r.get("target_met"), "")
        target = r["target"]
        if "x_raw_zmq_tcp" in r:
            target = (target + "; " if target else "") + "%.1fx raw" % r["x_raw_zmq_tcp"]
        suffixes = ["" if side == "ipyparallel" else "_" + side for side, _ in PEERS]
        md.append("| %s | %s | %s | %s | %s | %s | %s |"
                  % (r["label"], r["unit"], cell(r["mccluster"]), " | ".join(cell(r[side]) for side, _ in PEERS),
                     " | ".join(ratio(s) for s in suffixes), target, met))
    md += [""]
    if floor:
        md += ["Raw ZeroMQ floor in the same run (two processes on two CPUs, 16-byte messages): round trip %s us "
           "over TCP loopback (%s us with both on one CPU), %s us over a Unix socket; one way %s and %s "
           "messages/s."
           % (fmt(floor["zmq_tcp_rtt_us_median"]["median"]), fmt(floor["zmq_tcp_rtt_one_cpu_us_median"]["median"]),
              fmt(floor["zmq_ipc_rtt_us_median"]["median"]),
              fmt(floor["zmq_tcp_msgs_per_s"]["median"]), fmt(floor["zmq_ipc_msgs_per_s"]["median"]))]
    md += ["Controller memory is proportional set size (shared pages split between processes): mccluster's "
           "after 100,000 tasks, ipyparallel's (its controller and scheduler processes) and Dask's (the process "
           "holding its scheduler) after 10,000, whose results Dask has already forgotten. Dask has no chunksize "
           "and no direct view: its chunked map sends chunks of 100 items as tasks, its direct map one block per "
           "worker pinned there (workers=[w]). \"Fastest path of each\": Dask's direct=True transfers; "
           "mccluster and ipyparallel have one path."]
    security = security_table(data)
    if security:
        result["security"] = security["rows"]
        json.dump(result, open(out_json, "w"), indent=1)
        md += [""] + security["md"]
    open(out_md, "w").write("\n".join(md) + "\n")


# The cost of security: (workload, key, label, unit, higher is better).
SECURITY_ROWS = [
    ("lb_map_chunksize1", "per_s", "LB map of no-op tasks, chunksize 1", "tasks/s", True),
    ("apply_rtt", "lb_us_median", "Warm LB apply round trip, median", "us", False),
    ("apply_rtt", "direct_us_median", "Warm direct apply round trip, median", "us", False),
    ("scatter_gather", "scatter_mb_per_s", "Scatter of 1e7 float64", "MB/s", True),
    ("scatter_gather", "gather_mb_per_s", "Gather of 1e7 float64", "MB/s", True),
]


def security_table(data):
    """Secure (the default) against --insecure, on Unix sockets and on TCP."""
    if not any(k[0].startswith("security:") for k in data):
        return None
    rows, md = [], [
        "Cost of security (mccluster alone, same run): secure is the default; engines and client on "
        "Unix sockets (local) or on TCP (CURVE-encrypted when secure). Median (min-max); "
        "secure/insecure as a ratio where higher is better for both kinds of figure.", "",
        "| Workload | Unit | secure, local | --insecure, local | secure/insecure | secure, TCP (CURVE) "
        "| --insecure, TCP | secure/insecure |", "|---|---|---|---|---|---|---|---|"]
    for workload, key, label, unit, higher in SECURITY_ROWS:
        row = {"workload": workload, "metric": key, "label": label, "unit": unit}
        cells = []
        for transport in ("local", "tcp"):
            s = {c: data.get(("security:%s-%s" % (c, transport), workload, key)) for c in ("secure", "insecure")}
            s = {c: summary(v) if v else None for c, v in s.items()}
            row[transport] = s
            ratio = "-"
            if s["secure"] and s["insecure"] and s["insecure"]["median"] and s["secure"]["median"]:
                r = s["secure"]["median"] / s["insecure"]["median"]
                row[transport]["ratio"] = r if higher else 1 / r
                ratio = "%.3g" % row[transport]["ratio"]
            for c in ("secure", "insecure"):
                cells.append("%s (%s-%s)" % (fmt(s[c]["median"]), fmt(s[c]["min"]), fmt(s[c]["max"])) if s[c] else "-")
            cells.append(ratio)
        rows.append(row)
        md.append("| %s | %s | %s |" % (label, unit, " | ".join(cells)))
    return {"rows": rows, "md": md}


def splice(table, readme):
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    text = open(readme).read()
    if begin not in text or end not in text:
        sys.exit("report: %s has no %s ... %s markers" % (readme, begin, end))
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    open(readme, "w").write(head + begin + "\n" + open(table).read() + end + tail)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--readme":
        splice(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 8:
        report(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:])
    else:
        sys.exit(__doc__)
