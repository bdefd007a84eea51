"""``dntctl``: validate, onboard, deploy and operate DNT-RIC on an O-RAN SC near-RT RIC.

Subcommands::

    dntctl validate [--repo .]                           descriptors, A1 policy types, Helm charts
    dntctl onboard <xapp> [--chart-repo URL | --onboarder URL] [--dry-run | --print]
    dntctl deploy [<name>|all] [-n ricxapp] [-f values.yaml] [--set k=v] [--wait] [--timeout 300]
    dntctl undeploy [<name>|all] [-n ricxapp]
    dntctl status [-n ricxapp]                           releases, pods, health probes
    dntctl a1 types|get-type ID|create-type FILE...|delete-type ID|instances TYPE|get TYPE ID|
              put TYPE ID FILE|delete TYPE ID|status TYPE ID [--url http://a1mediator:10000]
    dntctl sim --ric HOST:PORT [simulator options]      exec ``python -m sim`` against a RIC
    dntctl package rapp [--out dist] [--chart helm/vtwin]   the vtwin rApp CSAR for the rApp Manager

Every failure is one line on stderr (``dntctl: error: ...``) and a non-zero exit status: 2 for an error,
1 for ``validate`` finding problems; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dnt.errors import ConfigError, DataError, DntError, PolicyError

__all__ = ["main", "build_parser", "sim_command", "DEFAULT_A1_URL"]

log = logging.getLogger("dntctl")

DEFAULT_A1_URL = "http://service-ricplt-a1mediator-http.ricplt:10000"
"""The A1 mediator inside the cluster (outside: ``http://<ingress>:32080/a1mediator``)."""


def _repo_root(arg: str | None) -> Path:
    """``--repo``, else the current directory when it holds ``helm/`` or ``xapps/``, else the source tree."""
    if arg:
        return Path(arg).resolve()
    cwd = Path.cwd()
    if (cwd / "helm").is_dir() or (cwd / "xapps").is_dir():
        return cwd
    return Path(__file__).resolve().parents[2]


# -- validate ------------------------------------------------------------------------------------------
def _policy_refs(root: Path, descriptor: Any) -> dict[str, list[str]]:
    """Every policy type id a descriptor routes (``policies``) must be a type in ``schemas/a1``."""
    from dnt.deploy.a1rest import check_policy_type

    known = {}
    for f in sorted((root / "schemas" / "a1").glob("*.json")):
        if not check_policy_type(f):
            known[json.loads(f.read_text())["policy_type_id"]] = f.name
    out = {}
    for desc in sorted((root / "xapps").glob("*/descriptor/config-file.json")):
        try:
            policies = descriptor.descriptor_messages(json.loads(desc.read_text()))[2]
        except (OSError, ValueError):
            continue  # the descriptor check reports it
        missing = sorted(set(policies) - set(known))
        out[desc.parent.parent.name] = [f"policies {missing}: no such type in schemas/a1"] if missing else []
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from dnt.deploy.a1rest import check_policy_types
    from dnt.report import print_table

    root = _repo_root(args.repo)
    rows: list[tuple[str, str, str, str]] = []

    def add(check: str, results: dict[str, list[str]]) -> None:
        for item, errors in sorted(results.items()):
            rows.append((check, item, "FAIL" if errors else "ok", "\n".join(errors)))

    try:
        from dnt.deploy import descriptor
    except ImportError as err:
        rows.append(("descriptor", "-", "skip", f"dnt.deploy.descriptor unavailable: {err}"))
        add("a1 policy type", check_policy_types(root / "schemas" / "a1"))
    else:
        add("descriptor", descriptor.validate_all(root))
        add("a1 policy type", check_policy_types(root / "schemas" / "a1"))
        add("a1 policy ids", _policy_refs(root, descriptor))
    try:
        from dnt.deploy import charts
    except ImportError as err:
        rows.append(("helm chart", "-", "skip", f"dnt.deploy.charts unavailable: {err}"))
    else:
        if (root / "helm").is_dir():
            add("helm chart", charts.check_all(root / "helm"))
        else:
            rows.append(("helm chart", "helm/", "FAIL", f"no helm/ directory under {root}"))
    failed = sum(1 for r in rows if r[2] == "FAIL")
    if args.json:
        print(json.dumps([dict(zip(("check", "item", "result", "detail"), r, strict=True)) for r in rows], indent=2))
    else:
        print_table(f"dntctl validate {root}", ["check", "item", "result", "detail"], rows)
        print(f"{len(rows) - failed} ok, {failed} failed" + (", some checks skipped" if any(
            r[2] == "skip" for r in rows) else ""))
    return 1 if failed else 0


# -- onboard -------------------------------------------------------------------------------------------
def cmd_onboard(args: argparse.Namespace) -> int:
    from dnt.deploy.onboard import (
        DEFAULT_CHART_REPO,
        descriptor_files,
        dms_cli_command,
        post_to_onboarder,
        upload_chart,
    )

    root = _repo_root(args.repo)
    desc, schema = descriptor_files(root, args.xapp)
    if args.print:
        if not schema.is_file():
            raise ConfigError(f"{schema} missing: dms_cli's default schema path is relative to its own docs "
                              "tree, so a controls schema must be passed")
        print(dms_cli_command(desc, schema, args.chart_repo))
        return 0
    from dnt.deploy.descriptor import validate_descriptor

    errors = validate_descriptor(desc)
    if errors:
        raise DataError(f"the onboarder would reject it ({len(errors)} error(s)): {errors[0]}", path=str(desc))
    if args.onboarder:
        code, url = post_to_onboarder(args.onboarder, desc, schema, dry_run=args.dry_run)
        print(f"would POST {desc.name} + {schema.name} to {url}" if args.dry_run
              else f"onboarded {args.xapp} via {url} ({code})")
        return 0
    chart_dir = root / "helm" / args.xapp
    if not (chart_dir / "Chart.yaml").is_file():
        raise ConfigError(f"no chart at {chart_dir}; use --onboarder URL to let the OSC onboarder build one "
                          "from the descriptor, or --print for the dms_cli command")
    repo = args.chart_repo or os.environ.get("CHART_REPO_URL") or DEFAULT_CHART_REPO
    fname, code, url = upload_chart(chart_dir, repo, dry_run=args.dry_run)
    if args.dry_run:
        print(f"descriptor {desc.relative_to(root)} valid; would POST {fname} to {url}")
    else:
        print(f"uploaded {fname} to {url} ({code}); deploy with appmgr (POST /ric/v1/xapps "
              f'{{"xappName": "{args.xapp}"}}) or dntctl deploy {args.xapp}')
    return 0


# -- deploy / undeploy / status ------------------------------------------------------------------------
def _cluster(args: argparse.Namespace) -> Any:
    from dnt.deploy.k8s import Cluster

    return Cluster(args.kubeconfig, args.context)


def cmd_deploy(args: argparse.Namespace) -> int:
    import tempfile

    from dnt.deploy.k8s import deploy_targets, merge_values, namespaces_in, prepare_release, workloads_in

    root = _repo_root(args.repo)
    targets = deploy_targets(root / "helm", args.name)
    values = merge_values(args.values or [], args.set or [])
    with tempfile.TemporaryDirectory(prefix="dntctl-") as tmp:
        # the charts put their resources in .Values.namespace (ricxapp, nonrtric, ricsim): created if missing
        staged = {name: prepare_release(chart_dir, f"{tmp}/{name}", name, args.namespace, values)
                  for name, chart_dir in targets}
        cluster = _cluster(args)
        for name, (chart, namespaces) in staged.items():
            for ns in sorted(namespaces | {args.namespace}):
                if cluster.ensure_namespace(ns):
                    print(f"created namespace {ns}")
            rel = cluster.install_or_upgrade(chart, name, args.namespace, values, int(args.timeout))
            manifest = str(rel.get("manifest", ""))
            where = ", ".join(sorted(namespaces_in(manifest) or {args.namespace}))
            print(f"{name}: revision {rel.get('revision', '?')} {rel.get('status', '')}, chart "
                  f"{rel.get('chart_name', name)} {rel.get('chart_version', '')} (release in {args.namespace}, "
                  f"resources in {where}; {cluster.server})")
            if args.wait:
                workloads = workloads_in(manifest, args.namespace)
                cluster.wait_rollout(workloads, float(args.timeout))
                print(f"{name}: rolled out ({', '.join(f'{k}/{n}' for k, n, _ in workloads) or 'no workloads'})")
    return 0


def cmd_undeploy(args: argparse.Namespace) -> int:
    from dnt.deploy.k8s import deploy_targets

    root = _repo_root(args.repo)
    names = [n for n, _ in deploy_targets(root / "helm", args.name)] if args.name == "all" else [args.name]
    cluster = _cluster(args)
    for name in names:
        gone = cluster.uninstall(name, args.namespace, int(args.timeout))
        print(f"{name}: {'uninstalled' if gone else 'not installed'} in {args.namespace}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import shutil

    from rich.console import Console
    from rich.table import Table

    cluster = _cluster(args)
    releases = cluster.releases(args.namespace)
    rows: list[tuple[Any, ...]] = []
    unhealthy = 0
    for rel in releases:
        head = (rel["name"], f"{rel.get('chart_name', '')} {rel.get('chart_version', '')}".strip(),
                f"{rel.get('status', '')} r{rel.get('revision', '?')}")
        try:
            pods = list(cluster.release_pods(str(rel.get("manifest", "")), args.namespace))
        except DntError as err:
            rows.append((*head, "-", "-", "-", "-", "-", str(err)))
            unhealthy += 1
            continue
        if not pods:
            rows.append((*head, "-", "-", "-", "-", "-", "no pods"))
        for ns, _workload, pod in pods:
            health = "-"
            if pod.phase == "Running" and pod.probes:
                results = [(kind, *cluster.probe(ns, pod.name, port, path)) for kind, port, path in pod.probes]
                health = ", ".join(f"{kind} {detail}" for kind, _ok, detail in results)
                unhealthy += 0 if all(ok for _kind, ok, _detail in results) else 1
            elif pod.phase != "Running":
                unhealthy += 1
            rows.append((*head, ns, pod.name, pod.phase, pod.ready, pod.restarts, pod.reason or health))
    if not releases:
        print(f"no Helm releases in namespace {args.namespace} ({cluster.server})")
        return 0
    table = Table(title=f"dntctl status: releases in {args.namespace} on {cluster.server} "
                        f"(Kubernetes {cluster.version})")
    for col in ("release", "chart", "status", "namespace", "pod", "phase", "ready", "restarts", "health"):
        table.add_column(col, no_wrap=col in ("pod", "namespace"))
    for row in rows:
        table.add_row(*(str(v) for v in row))
    Console(width=max(160, shutil.get_terminal_size((160, 24)).columns)).print(table)
    return 1 if unhealthy else 0


# -- a1 ------------------------------------------------------------------------------------------------
def _load_json_arg(spec: str) -> Any:
    """A JSON file, or inline JSON when ``spec`` starts with ``{`` or ``[``."""
    if spec.lstrip().startswith(("{", "[")):
        text, where = spec, "the inline JSON"
    else:
        try:
            text, where = Path(spec).read_text(), spec
        except OSError as err:
            raise ConfigError(f"cannot read {spec}: {err.strerror or err}") from err
    try:
        return json.loads(text)
    except ValueError as err:
        raise DataError(f"{where} is not JSON: {err}") from err


def cmd_a1(args: argparse.Namespace) -> int:
    from dnt.deploy.a1rest import A1Client, check_policy_type

    a1 = A1Client(args.url)
    op = args.a1_command
    show: Any = None
    if op == "types":
        ids = a1.types()
        if not args.json:
            from dnt.report import print_table

            print_table(f"A1 policy types at {a1.base}", ["policy_type_id", "name"],
                        [(t, a1.get_type(t).get("name", "")) for t in ids])
            return 0
        show = ids
    elif op == "create-type":
        for f in args.files:
            body = _load_json_arg(f)
            errors = check_policy_type(f) if Path(f).is_file() else []
            if errors:
                raise PolicyError(f"{f}: {errors[0]}")
            created = a1.create_type(body)
            print(f"policy type {body['policy_type_id']} ({body.get('name')}): "
                  + ("created" if created else "already present, unchanged"))
        return 0
    elif op == "put":
        body = _load_json_arg(args.file)
        if not isinstance(body, dict):
            raise PolicyError(f"{args.file}: a policy instance is a JSON object")
        code = a1.put(args.type_id, args.instance_id, body)
        print(f"policy {args.type_id}/{args.instance_id} accepted ({code})")
        return 0
    elif op in ("delete-type", "delete"):
        if op == "delete-type":
            a1.delete_type(args.type_id)
            print(f"policy type {args.type_id} deleted")
        else:
            a1.delete(args.type_id, args.instance_id)
            print(f"policy {args.type_id}/{args.instance_id} deleted")
        return 0
    elif op == "instances":
        show = a1.instances(args.type_id)
        if not args.json:
            print("\n".join(show) or "(none)")
            return 0
    else:
        show = {"get-type": lambda: a1.get_type(args.type_id), "get": lambda: a1.get(args.type_id, args.instance_id),
                "status": lambda: a1.status(args.type_id, args.instance_id)}[op]()
    print(json.dumps(show, indent=None if args.compact else 2))
    return 0


# -- sim -----------------------------------------------------------------------------------------------
def sim_command(ric: str, passthrough: Sequence[str]) -> list[str]:
    """``python -m sim --ric HOST:PORT ...``; raises ConfigError for a malformed address."""
    host, sep, port = ric.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--ric must be HOST:PORT (e.g. 10.0.0.5:36422 or e2term-sctp:36422), got {ric!r}")
    rest = list(passthrough)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return [sys.executable, "-m", "sim", "--ric", ric, *rest]


def cmd_sim(args: argparse.Namespace) -> int:
    cmd = sim_command(args.ric, args.sim_args)
    if args.print:
        print(shlex.join(["python", *cmd[1:]]))
        return 0
    sys.stdout.flush()
    os.execv(cmd[0], cmd)  # the simulator replaces dntctl: its signals, output and exit status
    return 0  # pragma: no cover


# -- package -------------------------------------------------------------------------------------------
def cmd_package(args: argparse.Namespace) -> int:
    from dnt.deploy.csar import DEFAULT_EPOCH_S, build_rapp_csar, csar_digest

    root = _repo_root(args.repo)
    chart = Path(args.chart) if args.chart else root / "helm" / "vtwin"
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    overrides = {}
    for expr in args.set or []:
        key, sep, value = expr.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {expr!r}: expected key=value")
        overrides[key] = value
    path = build_rapp_csar(chart, args.out, name=args.name, version=args.version, namespace=args.namespace,
                           override_params=overrides, epoch_s=int(epoch) if epoch.isdigit() else DEFAULT_EPOCH_S)
    print(f"{path}  {csar_digest(path)}")
    return 0


# -- parser --------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``dntctl <cmd>: error: <what> (see dntctl <cmd> --help)``."""

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dntctl", description=__doc__.splitlines()[0].replace("``", ""),
                epilog="docs/deploy.md walks through a deployment step by step.",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    repo = _Parser(add_help=False)
    repo.add_argument("--repo", help="repository root (default: the current directory or the installed tree)")
    kube = _Parser(add_help=False)
    kube.add_argument("-n", "--namespace", default="ricxapp", help="Kubernetes namespace (default ricxapp)")
    kube.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, ~/.kube/config, in-cluster)")
    kube.add_argument("--context", help="kubeconfig context")
    kube.add_argument("--timeout", type=int, default=300, help="seconds for Helm and rollouts (default 300)")

    v = sub.add_parser("validate", parents=[repo], help="check descriptors, A1 policy types and Helm charts")
    v.add_argument("--json", action="store_true", help="print the results as JSON")
    v.set_defaults(func=cmd_validate)

    o = sub.add_parser("onboard", parents=[repo], help="onboard an xApp as dms_cli does (chartmuseum upload)")
    o.add_argument("xapp", help="xApp name (xapps/<xapp>/descriptor/config-file.json)")
    o.add_argument("--chart-repo", help="chartmuseum URL (default $CHART_REPO_URL, else http://0.0.0.0:8080)")
    o.add_argument("--onboarder", metavar="URL", help="POST the descriptor to an xapp-onboarder (…/api/v1/onboard)")
    o.add_argument("--dry-run", action="store_true", help="validate and package, upload nothing")
    o.add_argument("--print", action="store_true", help="print the dms_cli onboard command instead")
    o.set_defaults(func=cmd_onboard)

    d = sub.add_parser("deploy", parents=[repo, kube], help="helm install/upgrade a chart from helm/")
    d.add_argument("name", nargs="?", default="all", help="chart name under helm/, or all (default)")
    d.add_argument("-f", "--values", action="append", metavar="FILE", help="values file (repeatable)")
    d.add_argument("--set", action="append", metavar="K=V", help="value override, Helm --set syntax (repeatable)")
    d.add_argument("--wait", action="store_true", help="wait for the rollout (up to --timeout)")
    d.set_defaults(func=cmd_deploy)
    u = sub.add_parser("undeploy", parents=[repo, kube], help="helm uninstall a release")
    u.add_argument("name", nargs="?", default="all", help="release name, or all (default)")
    u.set_defaults(func=cmd_undeploy)
    s = sub.add_parser("status", parents=[repo, kube], help="releases, pods and their health endpoints")
    s.set_defaults(func=cmd_status)

    a1 = sub.add_parser("a1", help="A1 mediator REST (A1-P v2): policy types and instances")
    a1sub = a1.add_subparsers(dest="a1_command", required=True, metavar="A1COMMAND")
    url = _Parser(add_help=False)
    url.add_argument("--url", default=os.environ.get("DNT_A1_URL", DEFAULT_A1_URL),
                     help=f"A1 mediator base URL (default $DNT_A1_URL or {DEFAULT_A1_URL})")
    url.add_argument("--json", action="store_true", help="JSON output")
    url.add_argument("--compact", action="store_true", help="one-line JSON")
    a1sub.add_parser("types", parents=[url], help="list policy types")
    for verb, helptext in (("get-type", "show a policy type"), ("delete-type", "delete a policy type"),
                           ("instances", "list the instances of a type")):
        a1sub.add_parser(verb, parents=[url], help=helptext).add_argument("type_id", type=int)
    ct = a1sub.add_parser("create-type", parents=[url], help="create policy types from files (schemas/a1/*.json)")
    ct.add_argument("files", nargs="+", metavar="FILE")
    for verb, helptext in (("get", "show an instance"), ("status", "instance status"),
                           ("delete", "delete an instance")):
        x = a1sub.add_parser(verb, parents=[url], help=helptext)
        x.add_argument("type_id", type=int)
        x.add_argument("instance_id")
    put = a1sub.add_parser("put", parents=[url], help="create or update an instance from a file or inline JSON")
    put.add_argument("type_id", type=int)
    put.add_argument("instance_id")
    put.add_argument("file", help="JSON file, or inline JSON starting with '{'")
    a1.set_defaults(func=cmd_a1)

    sm = sub.add_parser("sim", help="run the E2 simulator against a RIC (python -m sim)",
                        description="Other options go to the simulator unchanged (see python -m sim --help).")
    sm.add_argument("--ric", required=True, metavar="HOST:PORT", help="E2 termination (SCTP 36422)")
    sm.add_argument("--print", action="store_true", help="print the simulator command instead of running it")
    sm.set_defaults(func=cmd_sim, sim_args=[])

    pk = sub.add_parser("package", help="build deployable packages")
    pksub = pk.add_subparsers(dest="package_command", required=True, metavar="KIND")
    ra = pksub.add_parser("rapp", parents=[repo], help="the vtwin rApp CSAR for the OSC rApp Manager")
    ra.add_argument("--out", default="dist", help="output directory (default dist/)")
    ra.add_argument("--chart", help="chart directory (default helm/vtwin)")
    ra.add_argument("--name", default="dnt-vtwin", help="rApp name (default dnt-vtwin)")
    ra.add_argument("--version", help="rApp version (default: the chart version)")
    ra.add_argument("--namespace", default="nonrtric", help="where the rApp Manager installs it (default nonrtric)")
    ra.add_argument("--set", action="append", metavar="K=V", help="Helm value the ACM instance overrides")
    ra.set_defaults(func=cmd_package)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    debug = "--debug" in argv[: argv.index("sim")] if "sim" in argv else "--debug" in argv
    try:
        if "sim" in argv and argv.index("sim") == (1 if argv[:1] == ["--debug"] else 0):
            args, rest = parser.parse_known_args(argv)  # the simulator's own options pass through
            args.sim_args = rest
        else:
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed its usage line and message
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not debug:
        for noisy in ("urllib3", "kubernetes"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return int(args.func(args))
    except DntError as err:
        print(f"dntctl: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dntctl: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # never a traceback for an operator, unless asked
        if debug:
            raise
        msg = str(err).strip().splitlines()[0] if str(err).strip() else ""
        print(f"dntctl: error: {type(err).__name__}: {msg} (rerun with --debug for details)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
