#!/usr/bin/env python3
"""Pipelined streaming through P clusters, each cluster a weak edge device.

Every party is its own process over 127.0.0.1. Each cluster's processes
(garbler, evaluator, compute servers) run in a cgroup v1 cpu group of their
own whose cpu.cfs_quota_us gives the cluster its cores, so that P clusters
together stay within the machine's cores; the client and the cloud run
outside the quotas. For every setting (homogeneous: equal quotas;
heterogeneous: different ones), every P and every placement pmdi-plan gives
(even, armdi, optimal), it measures
  inferences_per_s.<setting>.P<P>.<placement>   a stream of --images inferences
                                               (client --stream): images / the
                                               client's online seconds, which
                                               begin once every party has its
                                               material (--ready-delay-ms)
  steady_inferences_per_s...                    the same stream between its first
                                               and its last output (the pipeline's
                                               fill excluded)
  latency_s.<setting>.P<P>.<placement>          one inference at a time: the
                                               client's online seconds per image
  peak_rss_bytes.<setting>.P<P>.<placement>     the stream's largest party's peak
                                               resident memory (party, and the sum
                                               over all parties: all_parties_bytes)
and prints beside them pmdi-plan's predicted_inferences_per_s (and
predicted_latency_s) for the same clusters and placement, from a
calibration taken right after the stream (the line's "calibration"; its
"at_start": the prediction with the calibration the placements were chosen
with), and the rate they predict for the stream of --images
(predicted_stream_inferences_per_s: the first output after one latency, the
rest one bottleneck apart), and each cluster's CPU seconds per inference
beside the planner's (cluster_cpu_s_per_inference), as JSON lines
({"bench": "pipeline", ...}). Every streamed output must equal the in-process
run's, which --check compares with the fixed-point oracle; the cloud must
have sent and received nothing online.

With --link-mbit R, every cluster also runs in a network namespace of its
own (the client and the cloud in one more), the namespaces joined by a
bridge, and each cluster's link limited to R Mbit/s each way by a token
bucket (tc tbf, as tools/netns-demo.sh does): what crosses between clusters,
and between a cluster and the client, goes through it; a cluster's own
parties talk over its loopback. pmdi-plan is told the same rate
(link_mbit_per_s), and every JSON line carries link_mbit_per_s (null:
loopback, no limit). Where the optimal split pmdi-plan finds without the
links differs from the one it finds with them, that split is measured too,
as placement optimal_ignoring_links (predicted with the links).

Needs root (cgroups) and the role binaries of bench/pipeline/CMakeLists.txt
(-DPMDI_PIPELINE_BENCH=ON; this script configures and builds them).
Paillier keys are 1024 bits to keep the offline phase short: the online
phase, which is what is measured, does not use them.

  sudo /usr/bin/python3 tools/pipeline_bench.py [--network minionn-mnist] [--clusters 1,2,3,4]
      [--images 16] [--settings homogeneous,heterogeneous] [--link-mbit R] [--out docs/bench/pipeline.jsonl]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CGROUP = pathlib.Path("/sys/fs/cgroup/cpu")
# cgroup v1 cpuacct, where mounted: each cluster's CPU time in nanoseconds,
# threads that have exited included (the per-process figures from /proc are
# 10 ms ticks).
CPUACCT = pathlib.Path("/sys/fs/cgroup/cpuacct")
PERIOD_US = 100_000
# Cores of each cluster: homogeneous, every cluster a quarter core (8
# clusters fill the 2 cores); heterogeneous, factors around it.
QUARTER = 0.25
HETEROGENEOUS = [1.6, 0.4, 1.0, 0.6, 1.4, 0.5, 1.2, 0.8]
MODEL = ROOT / "examples/models/minionn_fashion.onnx"
# PMDI_PIPELINE_PERF=J: cluster J's parties run under `perf record -g`, their
# profiles left in the run's directory (<party>.perf.data).
PERF_CLUSTER = int(os.environ["PMDI_PIPELINE_PERF"]) if os.environ.get("PMDI_PIPELINE_PERF") else None


def log(*a):
    print("pipeline_bench:", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def binaries(build, network, P):
    """(directory, deployment name) of the role binaries for network at P."""
    if network == "minionn-mnist" and P == 2:
        return build / "examples/deployments", "minionn"
    return build / "bench/pipeline", f"{network}-p{P}"


def reference_launcher(build, network, Ps):
    """The in-process launcher whose --check run gives the reference outputs."""
    if network == "minionn-mnist":
        return build / "examples/deployments/minionn-launch"
    directory, name = binaries(build, network, Ps[0])
    return directory / f"{name}-launch"


def build_all(build, network, Ps, jobs):
    shapes = ";".join(f"{network}:{P}" for P in Ps if not (network == "minionn-mnist" and P == 2))
    run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DPMDI_PIPELINE_BENCH=ON",
         f"-DPMDI_PIPELINE_SHAPES={shapes}"])
    targets = ["pmdi-keygen", "pmdi-plan", reference_launcher(build, network, Ps).name]
    if shapes:
        targets.append("pipeline-roles")
    if 2 in Ps and network == "minionn-mnist":
        targets += [f"minionn-{r}" for r in ("client", "cloud", "garbler", "evaluator", "compute")]
    log("building", " ".join(targets), "(the first time: a few minutes per shape)")
    subprocess.run(["cmake", "--build", build, f"-j{jobs}", "--target", *targets], check=True,
                   stdout=subprocess.DEVNULL)


def quotas(setting, P):
    if setting == "homogeneous":
        return [QUARTER] * P
    return [QUARTER * HETEROGENEOUS[j] for j in range(P)]


def accounting(cpu_group):
    """The cpuacct group that mirrors a cluster's cpu group (None where cpuacct is not mounted)."""
    return CPUACCT / cpu_group.relative_to(CGROUP) if (CPUACCT / "cpuacct.usage").exists() else None


def cluster_seconds(cpu_group, role=None):
    """CPU seconds the cluster's processes (or its party `role`, a child of the
    cluster's group) have used in their cpuacct group, or None."""
    g = accounting(cpu_group)
    if g is not None and role is not None:
        g = g / role
    try:
        return int((g / "cpuacct.usage").read_text()) / 1e9 if g is not None else None
    except (OSError, ValueError):
        return None


def role_group(role):
    """The cpuacct child group of a cluster party, by kind ("garbler/1" -> "garbler", "compute/1/0" -> "compute0")."""
    parts = role.split("/")
    return parts[0] + "".join(parts[2:])


class Groups:
    """One cgroup v1 cpu group per cluster under /sys/fs/cgroup/cpu/pmdi-pipeline,
    and its twin under cpuacct (the cluster's CPU time) where that is mounted."""

    def __init__(self):
        self.top = CGROUP / "pmdi-pipeline"
        self.top.mkdir(exist_ok=True)
        if accounting(self.top) is not None:
            accounting(self.top).mkdir(exist_ok=True)

    def set(self, cores):
        paths = []
        for j, c in enumerate(cores):
            g = self.top / f"cluster{j}"
            g.mkdir(exist_ok=True)
            if c * PERIOD_US < 1000:
                raise RuntimeError(f"cluster {j}: {c:.3f} cores of a {PERIOD_US} us period is under the kernel's "
                                   "1000 us minimum quota: raise --cfs-period-us")
            (g / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (g / "cpu.cfs_quota_us").write_text(str(int(c * PERIOD_US)))
            if accounting(g) is not None:
                accounting(g).mkdir(exist_ok=True)
            paths.append(g)
        return paths

    def close(self):
        for top in (self.top, accounting(self.top)):
            if top is None:
                continue
            for g in sorted(top.glob("cluster*")):
                for child in [c for c in g.iterdir() if c.is_dir()]:  # the parties' cpuacct groups
                    try:
                        child.rmdir()
                    except OSError:
                        pass
                try:
                    g.rmdir()
                except OSError:
                    pass
            try:
                top.rmdir()
            except OSError:
                pass


class Links:
    """Network namespaces: "pmdi-pl-user" (client, cloud) and "pmdi-pl-c<j>" per
    cluster, each joined to the bridge pmdi-pl-br by a veth pair; a cluster's
    pair carries a tbf of the given rate on both ends (its egress in its
    namespace, its ingress on the bridge's side)."""

    SUBNET = "10.231.80"
    BRIDGE = "pmdi-pl-br"

    def __init__(self, mbit):
        self.mbit = mbit
        self.made = []
        self.close()
        command("ip", "link", "add", self.BRIDGE, "type", "bridge")
        command("ip", "link", "set", self.BRIDGE, "up")

    def host(self, role):
        return f"{self.SUBNET}.{1 if role in ('client', 'cloud') else 10 + int(role.split('/')[1])}"

    @staticmethod
    def namespace(role):
        return "pmdi-pl-user" if role in ("client", "cloud") else f"pmdi-pl-c{role.split('/')[1]}"

    def set(self, P):
        """Namespaces for the user side and clusters 0..P-1 (made once, kept across runs)."""
        for role in ["client"] + [f"garbler/{j}" for j in range(P)]:
            ns = self.namespace(role)
            if ns in self.made:
                continue
            k = len(self.made)
            outer, inner = f"pmdi-pl-o{k}", f"pmdi-pl-i{k}"
            command("ip", "netns", "add", ns)
            self.made.append(ns)
            command("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
            command("ip", "link", "set", inner, "netns", ns)
            command("ip", "link", "set", outer, "master", self.BRIDGE)
            command("ip", "link", "set", outer, "up")
            command("ip", "-n", ns, "addr", "add", f"{self.host(role)}/24", "dev", inner)
            command("ip", "-n", ns, "link", "set", "lo", "up")
            command("ip", "-n", ns, "link", "set", inner, "up")
            if ns != "pmdi-pl-user":
                # burst: at least an MTU-sized packet, and a tenth of a second's bytes at most
                burst = max(1600, int(self.mbit * 1e6 / 8 / 100))
                tbf = ["root", "tbf", "rate", f"{self.mbit}mbit", "burst", str(burst), "latency", "400ms"]
                command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", inner, *tbf)
                command("tc", "qdisc", "add", "dev", outer, *tbf)

    def close(self):
        for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split():
            if ns.startswith("pmdi-pl-"):
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.BRIDGE], capture_output=True)
        self.made = []


def command(*args):
    """Runs a system command (ip, tc); its failure names it with its stderr."""
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")


def roles(P):
    r = ["client", "cloud"]
    for j in range(P):
        r += [f"garbler/{j}", f"evaluator/{j}", f"compute/{j}/0"]
    return r


def clusters_file(path, calibration, cores, link):
    """pmdi-plan's description of the clusters (docs/placement.md)."""
    path.write_text(json.dumps({"calibration": calibration, "clusters": [
        {"name": f"c{j}", "cores": c, **link} for j, c in enumerate(cores)]}))
    return path


def estimates(plan, network, clusters, *extra):
    return [json.loads(l) for l in
            run([plan, "--network", network, "--clusters", clusters, "--json", *extra]).stdout.splitlines()]


def ignoring_links(plan, network, cf, no_links_file, calibration, cores, ests):
    """The optimal split of the same clusters with unlimited links, predicted
    with the links, as placement optimal_ignoring_links; nothing where it is
    the optimal split anyway."""
    blind = [e for e in estimates(plan, network, clusters_file(no_links_file, calibration, cores, {}))
             if e["method"] == "optimal"][0]
    if any(e["method"] == "optimal" and e["placement"] == blind["placement"] for e in ests):
        log("the optimal split ignoring the links is the optimal split:", blind["placement"])
        return []
    given = [e for e in estimates(plan, network, cf, "--placement", json.dumps(blind["placement"]))
             if e["method"] == "given"][0]
    given["method"] = "optimal_ignoring_links"
    return [given]


def one_run(bindir, name, P, placement, groups, links, images, stream, seed, base_port, workdir, weights):
    """Runs every party (in their namespaces where links is given); returns
    (client report, outputs, cloud report, cluster CPU, steady rate, peak RSS)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    run([KEYGEN, "--clusters", str(P), "--compute", "1",
         "--dir", workdir, "--base-port", str(base_port), "--ring", "32/5", "--placement", json.dumps(placement)])
    # One offline batch for the whole stream: it flows without a pause.
    dep = json.loads((workdir / "deployment.json").read_text())
    dep["offline_batch"] = images
    if links is not None:
        for p in dep["parties"]:
            p["host"] = links.host(p["role"])
        # Over a slow link one offline step can take minutes, and a party
        # waits on its peers' slow steps too: a receive deadline of 10 minutes.
        dep["timeouts_ms"] = {"receive": 600_000}
    (workdir / "deployment.json").write_text(json.dumps(dep))
    procs = []
    for role in roles(P):
        kind = role.split("/")[0]
        f = role.replace("/", "-")
        netns = [] if links is None else ["ip", "netns", "exec", links.namespace(role)]
        if PERF_CLUSTER is not None and role.split("/")[0] in ("garbler", "evaluator", "compute") \
                and int(role.split("/")[1]) == PERF_CLUSTER:
            netns += ["perf", "record", "-g", "-q", "-o", str(workdir / f"{role.replace('/', '-')}.perf.data"), "--"]
        cmd = netns + [str(bindir / f"{name}-{kind}"), "--deployment", str(workdir / "deployment.json"), "--party", role,
               "--key", str(workdir / f"{f}.key"), "--images", str(images), "--threads", "1", "--quiet",
               "--report", str(workdir / f"{f}.report.json"), "--status", str(workdir / f"{f}.status")]
        if kind == "client":
            cmd += ["--random-input", str(seed), "--paillier-bits", "1024", "--output", str(workdir / "outputs.txt"),
                    "--online-delay-ms", str(READY_DELAY_MS)]
            if stream:
                cmd.append("--stream")
        if kind == "cloud":
            cmd += weights
        group = None if kind in ("client", "cloud") else groups[int(role.split("/")[1])]

        def enter(g=group, role=role):
            if g is not None:
                (g / "cgroup.procs").write_text(str(os.getpid()))
                if accounting(g) is not None:
                    # the party's own child of the cluster's cpuacct group (the cluster's usage includes it)
                    mine = accounting(g) / role_group(role)
                    mine.mkdir(exist_ok=True)
                    (mine / "cgroup.procs").write_text(str(os.getpid()))

        out = open(workdir / f"{f}.log", "w")
        procs.append((role, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=enter)))
    # Each cluster's CPU seconds over the stream (from every cluster party ready to the client's finish), from /proc.
    def cpu(pid):
        # utime + stime of every thread the process has had, in 10 ms ticks: a
        # MiniONN cluster's 20-200 ms over a stream of 8 is read to 10 ms per process.
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            return None
    def step(role):
        try:
            return (workdir / f"{role.replace('/', '-')}.status").read_text().strip().splitlines()[-1]
        except (OSError, IndexError):
            return ""
    cluster_roles = [r for r, _ in procs if r not in ("client", "cloud")]

    def parties_seconds():
        """Each cluster party's CPU seconds from its own cpuacct group (None where not read)."""
        return {r: cluster_seconds(groups[int(r.split("/")[1])], role_group(r)) for r in cluster_roles}
    # The stream is timed from when every party of the clusters has prepared
    # its material (all in their online step): the client waits
    # READY_DELAY_MS after its own offline phase, which the last party's
    # offline work must not outlast.
    client_online = ready = at_start = at_end = None
    acct_start = acct_end = []
    role_start, role_end = {}, {}
    collected = {}  # image -> when the client's status first said it was collected
    deadline = time.time() + 1800
    while procs[0][1].poll() is None and time.time() < deadline:
        st = step("client")
        if client_online is None and st.startswith("online"):
            client_online = time.monotonic()
        # the clusters' status files are read once the client is online, not every 2 ms of the offline phase
        # ready: every party of the clusters past its offline phase (one with no online work may be at its finish)
        if client_online is not None and ready is None and all(
                step(r).startswith(("online", "finish", "done")) for r in cluster_roles):
            ready = time.monotonic()
            at_start = [cpu(p.pid) for _, p in procs]
            acct_start = [cluster_seconds(g) for g in groups[:P]]
            role_start = parties_seconds()
        if st.endswith(" collected)"):
            collected.setdefault(int(st.rsplit("(", 1)[1].split()[0]), time.monotonic())
        # the client's online step has ended (a short stream passes through "finish" within a poll)
        if at_start is not None and st.startswith(("finish", "done")):
            at_end = [cpu(p.pid) for _, p in procs]
            acct_end = [cluster_seconds(g) for g in groups[:P]]
            role_end = parties_seconds()
            break
        time.sleep(0.002)
    if at_start is not None and at_end is None:  # the client exited between two polls
        at_end = [cpu(p.pid) for _, p in procs]
        acct_end = [cluster_seconds(g) for g in groups[:P]]
        role_end = parties_seconds()
    # Online CPU seconds per cluster over the stream; None where a party's was not read (it had exited).
    cluster_cpu = [0.0] * P
    if at_start and at_end:
        log("online CPU seconds per role:", {r: round(a1 - a0, 3) for (r, _), a0, a1 in zip(procs, at_start, at_end)
                                              if a0 is not None and a1 is not None})
        for (role, _), a0, a1 in zip(procs, at_start, at_end):
            if role.split("/")[0] in ("garbler", "evaluator", "compute"):
                j = int(role.split("/")[1])
                if a0 is None or a1 is None or cluster_cpu[j] is None:
                    cluster_cpu[j] = None
                else:
                    cluster_cpu[j] += a1 - a0
    else:
        cluster_cpu = [None] * P
    # The cpuacct groups' figures, where every one was read: nanoseconds, and
    # the time of threads that ended within the stream counted.
    if at_start and at_end and all(x is not None for x in acct_start + acct_end):
        cluster_cpu = [b - a for a, b in zip(acct_start, acct_end)]
        log("online CPU seconds per cluster (cpuacct):", [round(x, 4) for x in cluster_cpu])
        if all(role_start.get(r) is not None and role_end.get(r) is not None for r in cluster_roles):
            log("online CPU ms per inference per cluster party (cpuacct):",
                {r: round((role_end[r] - role_start[r]) * 1e3 / images, 3) for r in cluster_roles})
    failed = []
    for role, p in procs:
        try:
            rc = p.wait(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        if rc != 0:
            failed.append(f"{role}: exit {rc}: " + (workdir / f"{role.replace('/', '-')}.log").read_text()[-400:])
    if failed:
        raise RuntimeError("a party failed:\n" + "\n".join(failed))
    # (after the parties' own failures, which say more)
    if client_online is not None and ready is None:
        raise RuntimeError("the parties of the clusters were never all past their offline phase while the client "
                           "was online: one was still preparing through the stream (raise --ready-delay-ms)")
    if client_online is not None and ready > client_online + READY_DELAY_MS / 1e3:
        raise RuntimeError(f"a party of the clusters was still preparing {ready - client_online:.2f} s after the "
                           f"client's offline phase, past the client's {READY_DELAY_MS} ms wait: raise --ready-delay-ms")
    reports = {role: json.loads((workdir / f"{role.replace('/', '-')}.report.json").read_text()) for role, _ in procs}
    client, cloud = reports["client"], reports["cloud"]
    rss = {role: r["peak_rss_bytes"] for role, r in reports.items()}
    # The pipeline's steady rate: outputs per second between the first and
    # the last output seen (the fill of the pipeline excluded).
    steady = None
    if len(collected) >= 2:
        k0, k1 = min(collected), max(collected)
        if collected[k1] > collected[k0]:
            steady = (k1 - k0) / (collected[k1] - collected[k0])
    return client, (workdir / "outputs.txt").read_text(), cloud, cluster_cpu, steady, rss


def online_seconds(report):
    """The client's online seconds (its --online-delay-ms wait is its own step, "online delay", not counted)."""
    return report["phases"]["online"]["seconds"]


def main():
    global READY_DELAY_MS, PERIOD_US
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default="minionn-mnist", choices=["minionn-mnist", "resnet32", "minionn-cifar"])
    ap.add_argument("--clusters", default="1,2,3,4", help="values of P (default 1,2,3,4)")
    ap.add_argument("--images", type=int, default=16, help="inferences per stream (default 16)")
    ap.add_argument("--latency-images", type=int, default=3, help="inferences of the one-at-a-time run (default 3)")
    ap.add_argument("--settings", default="homogeneous,heterogeneous")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--jobs", default=os.environ.get("PMDI_JOBS", "2"))
    ap.add_argument("--out", help="also append the JSON lines to this file")
    ap.add_argument("--cfs-period-us", type=int, default=PERIOD_US,
                    help="the quota groups' cpu.cfs_period_us: a cluster runs quota/period of each period, "
                         f"a shorter period is closer to a slower CPU (default {PERIOD_US})")
    ap.add_argument("--link-mbit", type=float,
                    help="every cluster in a network namespace of its own, its link limited to this many Mbit/s "
                         "each way (tc tbf; default: loopback, no limit)")
    ap.add_argument("--ready-delay-ms", type=int, default=READY_DELAY_MS,
                    help="the client's wait between its offline and online phases, for every party to finish "
                         f"preparing (default {READY_DELAY_MS}; a party still preparing after it is an error)")
    a = ap.parse_args()
    READY_DELAY_MS = a.ready_delay_ms
    if not 1000 <= a.cfs_period_us <= 1_000_000:
        log("--cfs-period-us must be from 1000 to 1000000 (the kernel's bounds)")
        return 2
    PERIOD_US = a.cfs_period_us
    if os.geteuid() != 0 or not (CGROUP / "cgroup.procs").exists():
        log("needs root and the cgroup v1 cpu controller at", CGROUP, "; nothing done")
        return 2
    if a.link_mbit is not None and not (a.link_mbit > 0 and shutil.which("tc") and shutil.which("ip")):
        log("--link-mbit needs a positive rate and the ip and tc commands (iproute2); nothing done")
        return 2
    Ps = [int(x) for x in a.clusters.split(",")]
    build = pathlib.Path(a.build)
    build_all(build, a.network, Ps, a.jobs)
    global KEYGEN
    KEYGEN = build / "tools/pmdi-keygen"
    plan = build / "tools/pmdi-plan"
    weights = ["--model", str(MODEL)] if a.network == "minionn-mnist" and MODEL.exists() else ["--random-weights", "1"]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="pmdi-pipeline-"))
    lines = []

    def emit(metric, value, unit, **extra):
        o = {"bench": "pipeline", "network": a.network, "metric": metric, "value": value, "unit": unit,
             "cfs_period_us": PERIOD_US, "link_mbit_per_s": a.link_mbit, **extra}
        lines.append(json.dumps(o))
        print(lines[-1], flush=True)

    calibration = json.loads(run([plan, "calibrate", "--network", a.network]).stdout)["calibration"]
    log("calibration (one core):", calibration)

    # The reference outputs, checked against the fixed-point oracle, in one process.
    ref = {}
    for n in {a.images, a.latency_images}:
        out = tmp / f"ref-{n}.txt"
        r = run([reference_launcher(build, a.network, Ps), "--images", str(n), "--random-input", "7",
                 *weights, "--paillier-bits", "1024", "--threads", "1", "--quiet", "--check",
                 "--output", out])
        if "equal the plaintext fixed-point oracle bit for bit" not in r.stdout:
            raise RuntimeError("the reference run does not equal the oracle:\n" + r.stdout[-800:])
        ref[n] = out.read_text()
    groups = Groups()
    links = None
    port = 17000
    try:
        if a.link_mbit is not None:
            links = Links(a.link_mbit)
        for setting in a.settings.split(","):
            for P in Ps:
                cores = quotas(setting, P)
                cgs = groups.set(cores)
                if links is not None:
                    links.set(P)
                link = {} if links is None else {"link_mbit_per_s": a.link_mbit}
                cf = clusters_file(tmp / f"clusters-{setting}-{P}.json", calibration, cores, link)
                ests = estimates(plan, a.network, cf)
                if links is not None:
                    ests += ignoring_links(plan, a.network, cf, tmp / f"clusters-{setting}-{P}-no-links.json",
                                           calibration, cores, ests)
                bindir, name = binaries(build, a.network, P)
                measured = {}
                for e in ests:
                    key = json.dumps(e["placement"])
                    tag = f"{setting}.P{P}.{e['method']}"
                    if key not in measured:
                        port += 40
                        wd = tmp / f"{setting}-P{P}-{e['method']}"
                        client, y, cloud, ccpu, steady, rss = one_run(bindir, name, P, e["placement"], cgs, links, a.images, True, 7, port, wd,
                                                   weights)
                        if y != ref[a.images]:
                            raise RuntimeError(f"{tag}: the streamed outputs differ from the oracle's")
                        if any(x["bytes_sent"] or x["bytes_received"] for x in cloud["phases"]["online"]["peers"].values()):
                            raise RuntimeError(f"{tag}: the cloud moved bytes online")
                        port += 40
                        lclient, ly, _, _, _, _ = one_run(bindir, name, P, e["placement"], cgs, links, a.latency_images, False, 7,
                                                 port, wd.with_name(wd.name + "-latency"), weights)
                        if ly != ref[a.latency_images]:
                            raise RuntimeError(f"{tag}: the one-at-a-time outputs differ from the oracle's")
                        # The prediction for this run from a calibration taken right
                        # after its stream: the host's speed drifts by up to 1.6x
                        # over minutes (docs/placement.md), which a calibration
                        # taken at the start would put into the prediction's error.
                        now = json.loads(run([plan, "calibrate", "--network", a.network]).stdout)["calibration"]
                        log(f"{tag}: calibration after the stream:", now)
                        given = [g for g in estimates(plan, a.network, clusters_file(tmp / "clusters-now.json", now, cores, link),
                                                      "--placement", key) if g["method"] == "given"][0]
                        measured[key] = (a.images / online_seconds(client), online_seconds(lclient) / a.latency_images,
                                         [None if c is None else c / a.images for c in ccpu], steady, rss, given, now)
                    thr, lat, ccpu, steady, rss, given, now = measured[key]
                    extra = {"placement": e["placement"], "cores": cores}
                    # the calibration the prediction used, and the prediction the placements were chosen with
                    start = {"at_start": e["predicted_inferences_per_s"], "calibration": now}
                    emit(f"inferences_per_s.{tag}", thr, "1/s", **extra)
                    if steady is not None:
                        emit(f"steady_inferences_per_s.{tag}", steady, "1/s", **extra)
                    emit(f"latency_s.{tag}", lat, "s", **extra)
                    emit(f"predicted_inferences_per_s.{tag}", given["predicted_inferences_per_s"], "1/s", **extra, **start)
                    emit(f"predicted_latency_s.{tag}", given["predicted_latency_s"], "s", **extra,
                         at_start=e["predicted_latency_s"])
                    # A finite stream: the first output after one latency, the
                    # others one bottleneck apart (the pipeline's fill counted).
                    emit(f"predicted_stream_inferences_per_s.{tag}",
                         a.images / (given["predicted_latency_s"] + (a.images - 1) / given["predicted_inferences_per_s"]),
                         "1/s", **extra)
                    if None in ccpu:
                        log(f"{tag}: a cluster party's CPU seconds were not read (it had exited): "
                            "no cluster_cpu_s_per_inference")
                    else:
                        emit(f"cluster_cpu_s_per_inference.{tag}", max(ccpu), "s", per_cluster=ccpu,
                             predicted_per_cluster=[c["cpu_s"] * cc for c, cc in zip(given["clusters"], cores)], **extra)
                    top = max(rss, key=rss.get)
                    emit(f"peak_rss_bytes.{tag}", rss[top], "bytes", party=top, all_parties_bytes=sum(rss.values()),
                         **extra)
                    steady_text = "-" if steady is None else f"{steady:.2f}"
                    log(f"{tag}: {thr:.2f}/s (steady {steady_text}, predicted {given['predicted_inferences_per_s']:.2f}, "
                        f"at the start {e['predicted_inferences_per_s']:.2f}), latency "
                        f"{1e3 * lat:.1f} ms (predicted {1e3 * given['predicted_latency_s']:.1f}), placement "
                        f"{e['placement']}")
    finally:
        groups.close()
        if links is not None:
            links.close()
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n".join(lines) + "\n")
    log("runs kept in", tmp)
    return 0


KEYGEN = None
READY_DELAY_MS = 4000
if __name__ == "__main__":
    sys.exit(main())
