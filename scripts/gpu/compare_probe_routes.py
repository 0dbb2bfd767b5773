#!/usr/bin/env python3
"""Compares the second-order probes of two runs of the same experiment that differ only in the
route the probes took (measure-all.sh, part "routes"): the fused TorchScript Lanczos
(lanczos.pt, adam_lanczos.pt) against core's Lanczos over single products
(-Dslingshot.lanczos.fused=false).

    compare_probe_routes.py RUN_FUSED RUN_CORE

Reads each run's events.jsonl (the "probe" events) and metrics.jsonl, prints one row per probe
step and then "figure: NAME = VALUE" lines (read by measure-all.sh into measure.json):

  route_probes_fused, route_probes_core      probe events in each run
  route_probes_compared                      steps with a probe in both
  route_lambda_max_rel_diff                  max over probes of |a - b| / |b| for lambda_max
  route_update_sharpness_rel_diff            the same for u'Hu/u'u
  route_preconditioned_rel_diff              the same for lambda_max(P^-1 H)
  route_effective_step_rel_diff              the same over every tensor's min, median, max
  route_effective_fraction_abs_diff          max |a - b| of every tensor's fraction above 2/lambda
  route_lambda_iterations_{fused,core}       mean Lanczos iterations for lambda_max
  route_preconditioned_iterations_{fused,core}
  route_probe_ms_{fused,core}                median milliseconds per probe
  route_probe_notes_{fused,core}             probes that carry a note (a failure is a note)
  route_final_train_loss_rel_diff            last training loss, run against run: probes do not
                                             touch the training, so the runs should agree

Standard library only. Exit code 0 when both runs have probes to compare, else 1.
"""
import json
import os
import statistics
import sys


def load(path, kind):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a line cut by a kill
                if kind is None or r.get("type") == kind:
                    rows.append(r)
    except OSError as e:
        print("cannot read %s: %s" % (path, e))
    return rows


def rel(a, b):
    if a is None or b is None:
        return None
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-30)


def worst(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    runs = {}
    for name, d in (("fused", argv[1]), ("core", argv[2])):
        runs[name] = {r["step"]: r for r in load(os.path.join(d, "events.jsonl"), "probe")}
    fused, core = runs["fused"], runs["core"]
    steps = sorted(set(fused) & set(core))
    print("step  lambda_max(fused, core)  iters  u'Hu/u'u(fused, core)  precond(fused, core)  iters  ms")
    lam, upd, pre, eff, frac = [], [], [], [], []
    for s in steps:
        a, b = fused[s]["values"], core[s]["values"]
        lam.append(rel(a.get("lambda.max"), b.get("lambda.max")))
        upd.append(rel(a.get("sharpness.update"), b.get("sharpness.update")))
        pre.append(rel(a.get("sharpness.preconditioned"), b.get("sharpness.preconditioned")))
        ta = {t["name"]: t for t in fused[s].get("effective_steps", [])}
        tb = {t["name"]: t for t in core[s].get("effective_steps", [])}
        for n in set(ta) & set(tb):
            for k in ("min", "median", "max"):
                eff.append(rel(ta[n].get(k), tb[n].get(k)))
            fa, fb = ta[n].get("fraction_above"), tb[n].get("fraction_above")
            if fa is not None and fb is not None:
                frac.append(abs(fa - fb))
        print(
            "%5d  %.8g %.8g  %s/%s  %.6g %.6g  %.6g %.6g  %s/%s  %.1f/%.1f"
            % (
                s,
                a.get("lambda.max", float("nan")),
                b.get("lambda.max", float("nan")),
                int(a.get("lambda.iterations", -1)),
                int(b.get("lambda.iterations", -1)),
                a.get("sharpness.update", float("nan")),
                b.get("sharpness.update", float("nan")),
                a.get("sharpness.preconditioned", float("nan")),
                b.get("sharpness.preconditioned", float("nan")),
                fused[s].get("preconditioned_iterations", -1),
                core[s].get("preconditioned_iterations", -1),
                fused[s].get("millis", float("nan")),
                core[s].get("millis", float("nan")),
            )
        )

    def figure(name, value):
        if value is not None:
            print("figure: %s = %.6g" % (name, value))

    figure("route_probes_fused", len(fused))
    figure("route_probes_core", len(core))
    figure("route_probes_compared", len(steps))
    figure("route_lambda_max_rel_diff", worst(lam))
    figure("route_update_sharpness_rel_diff", worst(upd))
    figure("route_preconditioned_rel_diff", worst(pre))
    figure("route_effective_step_rel_diff", worst(eff))
    figure("route_effective_fraction_abs_diff", worst(frac))
    for name, run in runs.items():
        probes = list(run.values())
        its = [p["values"]["lambda.iterations"] for p in probes if "lambda.iterations" in p["values"]]
        pits = [p["preconditioned_iterations"] for p in probes if "preconditioned_iterations" in p]
        ms = [p["millis"] for p in probes if "millis" in p]
        figure("route_lambda_iterations_" + name, statistics.mean(its) if its else None)
        figure("route_preconditioned_iterations_" + name, statistics.mean(pits) if pits else None)
        figure("route_probe_ms_" + name, statistics.median(ms) if ms else None)
        figure("route_probe_notes_" + name, sum(1 for p in probes if p.get("notes")))
        for p in probes:
            if p.get("notes"):
                print("%s step %s notes: %s" % (name, p["step"], p["notes"]))
    last = {}
    for name, d in (("fused", argv[1]), ("core", argv[2])):
        rows = [r for r in load(os.path.join(d, "metrics.jsonl"), None) if "train_loss" in r]
        last[name] = rows[-1] if rows else None
    if last["fused"] and last["core"] and last["fused"]["step"] == last["core"]["step"]:
        figure("route_final_step", last["fused"]["step"])
        figure(
            "route_final_train_loss_rel_diff",
            rel(last["fused"]["train_loss"], last["core"]["train_loss"]),
        )
    return 0 if steps else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
