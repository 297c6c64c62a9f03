"""skvoz's `markov` next to ChannelAttribution's `markov_model`.

Run by benches/channelattribution.sh. Reads the journeys `skvoz report
paths` exported (ChannelAttribution's input shape) and skvoz's channel
report under `markov`, runs ChannelAttribution's first-order Markov model
on the same journeys and prints, per channel, both credits (conversions and
value) and both times.

ChannelAttribution (2.x) estimates the removal effects by simulation
(`markov_model(order=1, var_null=…, var_value=…)`, `nsim_start=1e5`,
iterated until the results vary by less than `conv_par` = 5 % over
`nfold` repetitions); skvoz solves the same chain exactly. So the two agree
within that tolerance, not to the digit. ChannelAttribution merges
consecutive repeats of a channel (A > A > B is read as A > B); skvoz keeps
them as self-transitions, which changes no removal effect (a self-loop
only delays leaving a state, it does not change where the chain goes
next), so the numbers are comparable.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd
from ChannelAttribution import markov_model


def exact_markov(data):
    """The published split solved exactly with numpy, one linear solve per
    removed channel (the textbook way): a third opinion that needs neither
    skvoz nor simulation."""
    names = {}
    paths = []
    for path, conv, null, value in data[
        ["path", "total_conversions", "total_null", "total_conversion_value"]
    ].itertuples(index=False):
        ids = [names.setdefault(c.strip(), len(names)) for c in str(path).split(">")]
        paths.append((ids, float(conv), float(null), float(value)))
    n = len(names)
    q = np.zeros((n, n))
    start = np.zeros(n)
    out = np.zeros(n)
    conv_in = np.zeros(n)
    value_in = np.zeros(n)
    for ids, conv, null, value in paths:
        w = conv + null
        start[ids[0]] += w
        for a, b in zip(ids, ids[1:]):
            q[a, b] += w
            out[a] += w
        out[ids[-1]] += w
        conv_in[ids[-1]] += conv
        value_in[ids[-1]] += value
    safe = np.where(out > 0, out, 1.0)
    q = q / safe[:, None]
    pi = start / start.sum()

    def absorbed(r, removed=None):
        keep = [i for i in range(n) if i != removed]
        a = np.eye(len(keep)) - q[np.ix_(keep, keep)]
        p = np.linalg.solve(a, (r / safe)[keep])
        return float(pi[keep] @ p)

    total_conv = sum(p[1] for p in paths)
    total_value = sum(p[3] for p in paths)
    result = {}
    for r, total, slot in ((conv_in, total_conv, 0), (value_in, total_value, 1)):
        base = absorbed(r)
        if base <= 0:
            continue
        effects = np.array([max(0.0, 1.0 - absorbed(r, i) / base) for i in range(n)])
        shares = effects / effects.sum()
        for name, i in names.items():
            result.setdefault(name, [0.0, 0.0])[slot] = total * shares[i]
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", required=True)
    ap.add_argument("--skvoz", required=True)
    ap.add_argument("--conversion", default="sales")
    ap.add_argument("--ncore", type=int, default=1)
    ap.add_argument("--skvoz-times", default="")
    ap.add_argument("--paths-time", default="")
    ap.add_argument("--warm-times", default="")
    a = ap.parse_args()

    data = pd.read_csv(a.paths)
    data = data[data["path"].notna() & (data["path"] != "")]
    value = a.conversion == "sales" and data["total_conversion_value"].sum() > 0
    started = time.perf_counter()
    result = markov_model(
        data,
        var_path="path",
        var_conv="total_conversions",
        var_value="total_conversion_value" if value else None,
        var_null="total_null",
        order=1,
        out_more=True,
        ncore=a.ncore,
        seed=0,
        verbose=False,
        flg_pro=False,
    )
    ca_seconds = time.perf_counter() - started
    started = time.perf_counter()
    exact = exact_markov(data)
    exact_seconds = time.perf_counter() - started
    ca = result["result"] if isinstance(result, dict) else result[0]
    ca = ca.set_index("channel_name")

    with open(a.skvoz) as f:
        report = json.load(f)
    group_by = report["group_by"]
    metric = {"leads": "leads", "deals": "deals", "sales": "sales"}[a.conversion]
    skvoz = {}
    for row in report["rows"]:
        name = " / ".join(str(row[d]) for d in group_by).replace(">", "›")
        if name.startswith("(unattributed)"):
            continue
        skvoz[name] = (float(row.get(metric) or 0), float(row.get("revenue") or 0))

    names = sorted(set(skvoz) | set(ca.index), key=lambda n: -skvoz.get(n, (0, 0))[0])
    print(f"{len(data)} distinct paths, {int(data['total_conversions'].sum())} conversions, "
          f"{int(data['total_null'].sum())} journeys without one")
    header = (f"{'channel':32} {'skvoz ' + metric:>12} {'numpy':>12} {'CA':>12} {'CA diff %':>9}")
    if value:
        header += f" {'skvoz revenue':>15} {'numpy':>15} {'CA value':>15} {'CA diff %':>9}"
    print(header)
    worst = 0.0
    worst_exact = 0.0
    for n in names:
        s_conv, s_val = skvoz.get(n, (0.0, 0.0))
        c_conv = float(ca["total_conversions"].get(n, 0.0)) if n in ca.index else 0.0
        diff = 100.0 * (c_conv - s_conv) / s_conv if s_conv else float("nan")
        if s_conv >= 1:
            worst = max(worst, abs(diff))
        e_conv, e_val = exact.get(n, (0.0, 0.0))
        # skvoz's report rounds to hundredths (money too).
        worst_exact = max(worst_exact, abs(e_conv - s_conv))
        line = f"{n[:32]:32} {s_conv:12.2f} {e_conv:12.2f} {c_conv:12.2f} {diff:9.2f}"
        if value:
            c_val = float(ca["total_conversion_value"].get(n, 0.0)) if n in ca.index else 0.0
            vdiff = 100.0 * (c_val - s_val) / s_val if s_val else float("nan")
            line += f" {s_val:15.2f} {e_val:15.2f} {c_val:15.2f} {vdiff:9.2f}"
        print(line)
    print(f"ChannelAttribution vs skvoz, largest difference over channels with at least "
          f"one {metric[:-1]}: {worst:.2f} % (simulation)")
    print(f"numpy's exact solve vs skvoz, largest difference: {worst_exact:.4f} {metric}")
    print()
    print(f"skvoz report paths (fresh process):       {a.paths_time} s")
    print(f"skvoz report channels --model markov (fresh process, two runs): {a.skvoz_times} s")
    if a.warm_times.strip():
        print(f"skvoz markov warm over HTTP (three runs): {a.warm_times.strip()} s")
    print(f"ChannelAttribution markov_model (order=1, var_null, "
          f"{'var_value, ' if value else ''}ncore={a.ncore}, seed=0): {ca_seconds:.2f} s")
    print(f"numpy, one solve per removed channel: {exact_seconds:.2f} s")


if __name__ == "__main__":
    main()
