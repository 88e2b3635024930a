#!/usr/bin/python3
"""Draws the benchmark figures in docs/img from the JSON lines in docs/bench.

Each figure sets a pmdi figure against the physical limit or baseline that
the same run measured, so the ratio is read off directly.
usage: plot_bench.py BENCH_DIR IMG_DIR
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(d):
    m = {}
    for f in sorted(pathlib.Path(d).glob("*.jsonl")):
        for line in f.read_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                m[(r["bench"], r["metric"])] = (r["value"], r["unit"])
    return m


def bars(ax, title, items, unit, log=False):
    names = [n for n, _ in items]
    vals = [v for _, v in items]
    # pmdi's own figures in blue; limits and baselines from the same run in grey
    ref = ("limit", "naive", "plaintext")
    ax.barh(names, vals, color=["#bbbbbb" if any(r in n for r in ref) else "#4477aa" for n in names])
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:.3g}", va="center")
    ax.set_title(title)
    ax.set_xlabel(unit)
    if log:
        ax.set_xscale("log")
    ax.invert_yaxis()


def pick(m, pairs):
    return [(label, m[k][0]) for label, k in pairs if k in m]


def pipeline(src, dst):
    """Throughput against P per setting and placement: measured (solid), steady rate (dotted), predicted (dashed)."""
    f = pathlib.Path(src) / "pipeline.jsonl"
    if not f.exists():
        return
    rows = [json.loads(x) for x in f.read_text().splitlines() if x.strip().startswith("{")]
    for net in sorted({r.get("network", "") for r in rows}):
        v = {}
        for r in rows:
            if (r.get("network", "") != net or r.get("cfs_period_us", 100_000) != 100_000
                    or r.get("link_mbit_per_s") is not None):
                continue  # the default CFS period over loopback only (--cfs-period-us, --link-mbit runs are experiments)
            kind, setting, p, placement = r["metric"].split(".")
            v[(kind, setting, placement, int(p[1:]))] = r["value"]  # the latest line wins
        settings = sorted({k[1] for k in v})
        fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 4), squeeze=False)
        for ax, setting in zip(axes[0], settings):
            for placement, colour in (("even", "#4477aa"), ("armdi", "#228833"), ("optimal", "#ee6677")):
                for kind, style, note in (("inferences_per_s", "-o", ""), ("steady_inferences_per_s", ":^", " (steady)"),
                                          ("predicted_inferences_per_s", "--", " (predicted)")):
                    pts = sorted((P, x) for (k, s_, pl, P), x in v.items() if k == kind and s_ == setting and pl == placement)
                    if pts:
                        ax.plot([P for P, _ in pts], [x for _, x in pts], style, color=colour, label=placement + note)
            ax.set_title(f"{net}, {setting} clusters")
            ax.set_xlabel("clusters P")
            ax.set_ylabel("inferences / s (stream)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        out = dst / f"pipeline_{net}.png"
        fig.savefig(out, dpi=110)
        plt.close(fig)
        print(f"plot_bench: wrote {out}")


def main():
    src, dst = sys.argv[1], pathlib.Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    m = load(src)
    figs = [
        ("gc.png", "Half-gates, one core (M AND/s); limit: AES blocks/s / 4 (garble) or / 2 (eval)", "M AND/s", False, [
            ("garble (2^22 ANDs)", ("gc", "garble_and_per_s"), 1e-6),
            ("evaluate (2^22 ANDs)", ("gc", "eval_and_per_s"), 1e-6),
            ("garble (ReLU stage)", ("gc", "relu_garble_and_per_s"), 1e-6),
            ("evaluate (ReLU stage)", ("gc", "relu_eval_and_per_s"), 1e-6),
            ("AES limit for garbling", ("gc", "aes_blocks_per_s"), 0.25e-6),
            ("AES limit for evaluation", ("gc", "aes_blocks_per_s"), 0.5e-6),
        ]),
        ("paillier.png", "Paillier 2048-bit, one core: matrix-vector per 16-bit MAC", "µs per MAC (log)", True, [
            ("pmdi matvec (bucket, shared bases)", ("paillier", "matvec_us_per_mac"), 1),
            ("naive mpz_powm per element", ("paillier", "naive_powm_us_per_mac"), 1),
        ]),
        ("inference.png", "MiniONN Fashion-MNIST, every role on one 2-core machine", "ms (log)", True, [
            ("online (private)", ("inference", "online_s"), 1e3),
            ("plaintext fixed point", ("inference", "plain_fixed_ms"), 1),
            ("offline (private)", ("inference", "offline_s"), 1e3),
        ]),
    ]
    nets = ["minionn-mnist", "minionn-cifar", "resnet32", "alexnet", "alexnet-falcon", "vgg16", "vgg16-falcon"]
    figs += [
        ("networks_offline.png", "Offline phase per inference, every role on one 2-core machine", "s (log)", True,
         [(n, ("inference." + n, "offline_s"), 1) for n in nets]),
        ("networks_products.png", "Cloud's Paillier exponentiation steps per MAC (1 = one per MAC)", "steps per MAC",
         False, [(n, ("inference." + n, "paillier_products_per_mac"), 1) for n in nets]),
    ]
    for name, title, unit, log, spec in figs:
        items = [(label, m[k][0] * scale) for label, k, scale in spec if k in m]
        if not items:
            continue
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(items) + 1.5))
        bars(ax, title, items, unit, log)
        fig.tight_layout()
        fig.savefig(dst / name, dpi=110)
        plt.close(fig)
        print(f"plot_bench: wrote {dst / name}")
    pipeline(src, dst)


if __name__ == "__main__":
    main()
