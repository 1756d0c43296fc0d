#!/usr/bin/env python3
"""Show that shipc's output for the reference workload holds the golden objects with the same content.

usage: compare.py [-v] OUT N

OUT is what `shipc build` wrote for `bench/generate.sh N`: a YAML stream (`--out FILE.yaml`) or an
output directory (its YAML files, kustomizations left out). The golden file is the peers'
golden/svc-1.yaml (peers in $PEERS_DIR, default ../shared/bench/peers next to the repository),
renamed to svc-1 .. svc-N as the peers' check.py does.

Objects are matched by kind and role (the golden `svc-<i>-smoke` and `svc-<i>-slo` analyses are
shipc's `svc-<i>-pre-promotion` and `svc-<i>-post-promotion`) and compared field by field. Every
difference is either one of the by-design differences in CATEGORIES, each recognised only at the
paths and values it describes, or unexplained. Exit status 1 when any difference is unexplained.
-v lists every difference.
"""

import copy
import os
import re
import shlex
import sys
from collections import Counter
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit(
        "compare.py needs PyYAML: run it with $PEERS/venv/bin/python (the peers' install.sh makes that"
        " venv) or install it (apt-get install python3-yaml)"
    )

REPO = Path(__file__).resolve().parent.parent
PEERS_DIR = Path(os.environ.get("PEERS_DIR", REPO.parent / "shared" / "bench" / "peers"))
GOLDEN = PEERS_DIR / "golden" / "svc-1.yaml"

# The platform of bench/workload/platform.ship.
NAMESPACE = "shop"

# Every difference shipc makes on purpose, with why. A difference is put in one of these only by the
# rule for it below, which checks the exact path and both values.
CATEGORIES = {
    "provenance": "every object is annotated with the .ship file and line it came from",
    "labels": "objects and selectors carry app.kubernetes.io/name (and managed-by: shipc) instead of app",
    "namespace": "every object is placed in the platform's namespace",
    "added-pdb": "a PodDisruptionBudget is added for a service of 2 replicas or more",
    "replicas-to-hpa": "an autoscaled Rollout leaves `replicas` to the HPA, whose minimum is the golden count",
    "workflow-rbac": "the workflow runs as its own ServiceAccount, with the Role and RoleBinding Argo needs",
    "clone": "a git-clone task fetches the sources once into a shared volume (/work/src), instead of a git"
    " artifact per task and kaniko's git context",
    "security": "containers run non-root with a read-only root filesystem (HOME and scratch on /tmp);"
    " a step with run_as_root/writable_root gets exactly that",
    "run-limits": "a pipeline has a deadline (default 1h), and finished pods and workflows are cleaned up",
    "event-parameters": "`branch` is filled by a trigger (empty when submitted by hand); the build reads"
    " the cloned sources, not the branch",
    "step-templates": "a step's template is `step-<name>` and takes the step's own parameters"
    " (compared after substituting the task's arguments)",
    "data-edges": "dependencies are a `depends` expression; a task that reads another's outputs waits for"
    " it explicitly, and for its success",
    "script": "a `run` step is an Argo script template (sh -e) and gets its values through environment"
    " variables (compared as shell words after expanding them)",
    "explicit-defaults": "a value equal to Kubernetes' or Argo's default is written out, or left out",
    "retry-limit": "retryStrategy.limit is written as a string (Argo's IntOrString)",
    "named-ports": "probes and Services target the container port by its name `http`",
    "analysis-names": "analysis templates are named after the release phase they run in",
    "metric-names": "metrics are named after the std/slo function that defines them",
    "web-check-url": "the pre-promotion check calls the preview Service by its cluster DNS name, without"
    " an argument",
    "conditions": "conditions are failureConditions that also fail on an empty or NaN result",
    "query-scope": "queries select the namespace, service and new pod-template hash (an argument from"
    " the Rollout) instead of a `service` label, and count no traffic as no errors",
    "no-setting": "DIFFERS IN EFFECT: shipc has no setting for this field, so Kubernetes' or Argo's"
    " default applies instead of the golden value",
}

MISSING = object()


class Comparison:
    def __init__(self):
        self.by_design = []  # (category, path, golden, got)
        self.unexplained = []  # (path, golden, got)
        self.equal_fields = 0
        self.matched = 0

    def accept(self, category, path, golden=MISSING, got=MISSING):
        assert category in CATEGORIES, category
        self.by_design.append((category, path, golden, got))

    def reject(self, path, golden, got):
        self.unexplained.append((path, golden, got))


# libyaml's loader when PyYAML has it: the pure-Python one takes seconds at N = 100.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_objects(text):
    return [doc for doc in yaml.load_all(text, Loader=LOADER) if doc is not None]


def load_output(out):
    if out.is_dir():
        files = sorted(p for p in out.rglob("*.yaml") if p.name != "kustomization.yaml")
        return [obj for p in files for obj in load_objects(p.read_text())]
    return load_objects(out.read_text())


def golden_objects(golden_text, i):
    return load_objects(re.sub(r"svc-1(?![0-9])", f"svc-{i}", golden_text))


def name_of(obj):
    return obj.get("metadata", {}).get("name")


def named(items):
    """A list of dicts that all have a name, as a dict by name; None for any other list."""
    if all(isinstance(item, dict) and "name" in item for item in items):
        names = [item["name"] for item in items]
        if len(set(names)) == len(names):
            return {item["name"]: item for item in items}
    return None


def diff(golden, got, path, found, comparison):
    """Appends every difference between two parsed values to `found`, as (path, golden, got)."""
    # A list on one side only is compared item by item (an added env variable is one difference); a
    # mapping on one side only is one difference.
    if isinstance(golden, list) and got is MISSING:
        got = []
    if isinstance(got, list) and golden is MISSING:
        golden = []
    if isinstance(golden, dict) and isinstance(got, dict):
        for key in list(golden) + [k for k in got if k not in golden]:
            diff(golden.get(key, MISSING), got.get(key, MISSING), f"{path}.{key}", found, comparison)
    elif isinstance(golden, list) and isinstance(got, list):
        # Metrics are compared in order: their names are among the differences.
        by_name_golden, by_name_got = named(golden), named(got)
        if by_name_golden is not None and by_name_got is not None and not path.endswith(".metrics"):
            for key in list(by_name_golden) + [k for k in by_name_got if k not in by_name_golden]:
                diff(by_name_golden.get(key, MISSING), by_name_got.get(key, MISSING), f"{path}[{key}]", found,
                     comparison)
        else:
            for index in range(max(len(golden), len(got))):
                diff(golden[index] if index < len(golden) else MISSING, got[index] if index < len(got) else MISSING,
                     f"{path}[{index}]", found, comparison)
    elif golden is not MISSING and got is not MISSING and type(golden) is type(got) and golden == got:
        comparison.equal_fields += 1
    else:
        found.append((path, golden, got))


# ---- rewrites: a by-design difference that spans several fields is checked, recorded and undone in
# shipc's copy, so that the field-by-field comparison sees the golden form.


def rewrite_labels(g_labels, o_labels, path, service, comparison):
    if (
        isinstance(g_labels, dict)
        and isinstance(o_labels, dict)
        and g_labels == {"app": service}
        and o_labels.get("app.kubernetes.io/name") == service
        and set(o_labels) <= {"app.kubernetes.io/name", "app.kubernetes.io/managed-by"}
        and o_labels.get("app.kubernetes.io/managed-by", "shipc") == "shipc"
    ):
        comparison.accept("labels", path, g_labels, dict(o_labels))
        o_labels.clear()
        o_labels.update(g_labels)


def at(obj, *keys):
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def substitute(value, params):
    """`value` with every `{{reference}}` that `params` maps replaced by its value."""
    if isinstance(value, str):
        for ref, replacement in params.items():
            value = value.replace("{{" + ref + "}}", replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, params) for k, v in value.items()}
    return value


def instantiate_dag(spec, comparison, record, path):
    """Substitutes each task's arguments into its template and drops both, so that a value passed by a
    different parameter compares equal. Returns each task's raw arguments, by task name."""
    templates = named(spec.get("templates", [])) or {}
    tasks = [task for template in spec.get("templates", []) for task in at(template, "dag", "tasks") or []]
    uses = Counter(task.get("template") for task in tasks)
    raw_arguments = {}
    for task in tasks:
        arguments = {p["name"]: p.get("value", "") for p in at(task, "arguments", "parameters") or []}
        raw_arguments[task["name"]] = arguments
        target = templates.get(task.get("template"))
        # A template several tasks share has no single instance; its differences stay visible.
        if target is None or uses[task.get("template")] > 1:
            continue
        params = {f"inputs.parameters.{k}": v for k, v in arguments.items()}
        for key in ("container", "script"):
            if key in target:
                target[key] = substitute(target[key], params)
        task.pop("arguments", None)
        inputs = target.get("inputs", {})
        if inputs.pop("parameters", None) is not None and record:
            comparison.accept("step-templates", f"{path}.spec.templates[{target['name']}].inputs.parameters")
        if inputs == {}:
            target.pop("inputs", None)
    return raw_arguments


def rewrite_workflow(golden, got, comparison):
    path = "WorkflowTemplate/" + name_of(golden)
    g_spec, o_spec = golden["spec"], got["spec"]

    # Template names: step-<x> in shipc for the golden <x>.
    golden_names = {t["name"] for t in g_spec.get("templates", [])}
    renamed = {}
    for template in o_spec.get("templates", []):
        plain = template["name"].removeprefix("step-")
        if template["name"].startswith("step-") and plain in golden_names:
            renamed[template["name"]] = plain
            comparison.accept("step-templates", f"{path}.spec.templates[{template['name']}]")
            template["name"] = plain
    for template in o_spec.get("templates", []):
        for task in at(template, "dag", "tasks") or []:
            if task.get("template") in renamed:
                task["template"] = renamed[task["template"]]

    instantiate_dag(g_spec, comparison, False, path)
    o_arguments = instantiate_dag(o_spec, comparison, True, path)

    # `depends` → dependencies. Extra edges must be data edges: the task reads the outputs of the task it
    # waits for.
    g_dag = {t["name"]: t for t in at((named(g_spec["templates"]) or {}).get("pipeline"), "dag", "tasks") or []}
    for template in o_spec.get("templates", []):
        for task in at(template, "dag", "tasks") or []:
            if "depends" not in task:
                continue
            g_task = g_dag.get(task["name"])
            if g_task is None:
                continue
            reads = {
                m.group(1)
                for value in o_arguments.get(task["name"], {}).values()
                for m in re.finditer(r"\{\{tasks\.([\w-]+)\.outputs\.", value)
            }
            terms = [term.strip() for term in task["depends"].split("&&")]
            waits, ok = [], True
            for term in terms:
                name, _, result = term.partition(".")
                if term == "git-clone":
                    continue
                if result and not (result == "Succeeded" and name in reads):
                    ok = False
                waits.append(name)
            wanted = g_task.get("dependencies", [])
            extra = set(waits) - set(wanted)
            if ok and set(wanted) <= set(waits) and extra <= reads and len(waits) == len(set(waits)):
                if "git-clone" in terms:
                    comparison.accept("clone", f"{path}.spec.templates[pipeline].dag.tasks[{task['name']}].depends")
                if any("." in term for term in terms) or extra:
                    comparison.accept(
                        "data-edges", f"{path}.spec.templates[pipeline].dag.tasks[{task['name']}].depends",
                        wanted, task["depends"])
                del task["depends"]
                if wanted:
                    task["dependencies"] = wanted

    # A `run` step: shipc's script template against the golden `sh -c` container.
    g_templates = named(g_spec["templates"]) or {}
    for template in o_spec.get("templates", []):
        g_template = g_templates.get(template["name"])
        if g_template is None or "script" not in template or "container" not in g_template:
            continue
        g_container, o_script = g_template["container"], template["script"]
        if g_container.get("command") != ["sh", "-c"] or len(g_container.get("args", [])) != 1:
            continue
        if o_script.get("command") != ["sh", "-e"]:
            continue
        g_words = shell_words(g_container["args"][0], g_container.get("env", []))
        o_words = shell_words(o_script.get("source", ""), o_script.get("env", []))
        if g_words is None or g_words != o_words:
            continue
        g_env = {e["name"] for e in g_container.get("env", [])}
        script_text = o_script.get("source", "")
        passed = [
            e for e in o_script.get("env", [])
            if e["name"] not in g_env and e["name"] != "HOME" and "value" in e
            and re.search(r"\$\{?" + re.escape(e["name"]) + r"\b", script_text)
        ]
        comparison.accept("script", f"{path}.spec.templates[{template['name']}].script")
        o_script["env"] = [e for e in o_script.get("env", []) if e not in passed]
        del o_script["source"]
        o_script["command"] = g_container["command"]
        o_script["args"] = g_container["args"]
        template["container"] = template.pop("script")


def shell_words(script, env):
    """The script's lines as shell words, with the variables that have a literal value expanded and the
    others written `$NAME`: what the shell runs, whatever the quoting and braces."""
    values = {e["name"]: e["value"] for e in env if "value" in e}

    def expand(match):
        name = match.group(1) or match.group(2)
        return values.get(name, "$" + name)

    lines = []
    for line in script.strip().splitlines():
        expanded = re.sub(r"\$\{(\w+)\}|\$(\w+)", expand, line)
        try:
            lines.append(shlex.split(expanded))
        except ValueError:
            return None
    return lines


def rewrite_analysis(golden, got, svc, golden_args, got_args, comparison):
    """Substitutes the arguments the Rollout passes into both templates, then matches conditions."""
    path = "AnalysisTemplate/" + name_of(golden)
    g_spec, o_spec = golden["spec"], got["spec"]
    g_spec["metrics"] = substitute(g_spec.get("metrics", []), {f"args.{k}": v for k, v in golden_args.items()})
    o_spec["metrics"] = substitute(o_spec.get("metrics", []), {f"args.{k}": v for k, v in got_args.items()})
    g_spec.pop("args", None)
    o_spec.pop("args", None)
    for index, (g_metric, o_metric) in enumerate(zip(g_spec["metrics"], o_spec["metrics"])):
        where = f"{path}.spec.metrics[{index}]"
        g_cond, o_cond = g_metric.get("successCondition"), o_metric.get("failureCondition")
        g_match = re.fullmatch(r"result\[0\] < ([0-9.]+)", g_cond or "")
        o_match = re.fullmatch(r"len\(result\) == 0 \|\| any\(result, \{isNaN\(#\) \|\| # > ([0-9.]+)\}\)", o_cond or "")
        if g_match and o_match and "successCondition" not in o_metric and "failureCondition" not in g_metric:
            if float(g_match.group(1)) == float(o_match.group(1)):
                comparison.accept("conditions", f"{where}.failureCondition", g_cond, o_cond)
                del o_metric["failureCondition"]
                o_metric["successCondition"] = g_cond
        g_query = at(g_metric, "provider", "prometheus", "query")
        o_query = at(o_metric, "provider", "prometheus", "query")
        golden_scope = [f'service="{golden_args.get("service-name")}"']
        shipc_scope = [
            f'namespace="{NAMESPACE}"',
            f'app_kubernetes_io_name="{svc}"',
            'rollouts_pod_template_hash="{{args.new-hash}}"',
        ]
        if g_query and o_query and scoped(g_query, golden_scope) and scoped(o_query, shipc_scope):
            if promql_shape(g_query, golden_scope) == promql_shape(o_query, shipc_scope):
                comparison.accept("query-scope", f"{where}.provider.prometheus.query", g_query, o_query)
                o_metric["provider"]["prometheus"]["query"] = g_query


def scoped(query, scope):
    """Every selector of the query has every label matcher of `scope`."""
    text = re.sub(r"\s+", "", query)
    selectors = re.findall(r"\{((?:[^{}]|\{\{[^{}]*\}\})*)\}\[", text)
    return bool(selectors) and all(all(matcher in selector for matcher in scope) for selector in selectors)


def promql_shape(query, scope):
    """The query without whitespace, the scope's label matchers, the no-traffic guards (`or vector(0)`
    on the errors, `> 0` on the total) and grouping parentheses, and with `sum by (l) (x)` written
    `sum(x) by (l)`."""
    text = re.sub(r"\s+", "", query)
    for matcher in scope:
        text = text.replace(matcher, "")
    text = re.sub(r",+", ",", text).replace("{,", "{").replace(",}", "}").replace("{}", "")
    text = text.replace("orvector(0)", "").replace(">0)", ")")
    while True:
        rewritten = move_by_clause(drop_grouping_parens(text))
        if rewritten == text:
            return text
        text = rewritten


def matching_paren(text, start):
    depth, quoted = 0, False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "({[":
            depth += 1
        elif not quoted and char in ")}]":
            depth -= 1
            if depth == 0:
                return index
    return None


def drop_grouping_parens(text):
    for start, char in enumerate(text):
        if char != "(" or (start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_)")):
            continue
        end = matching_paren(text, start)
        if end is None:
            return text
        inner = text[start + 1:end]
        if not has_top_level_operator(inner):
            return text[:start] + inner + text[end + 1:]
    return text


def has_top_level_operator(text):
    depth, quoted = 0, False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth == 0 and (char in "/*+-<>%^," or text.startswith(("or", "and", "unless"), index)):
            return True
    return False


def move_by_clause(text):
    match = re.search(r"(sum|avg|min|max|count)by\(([\w,]+)\)\(", text)
    if not match:
        return text
    open_at = match.end() - 1
    end = matching_paren(text, open_at)
    if end is None:
        return text
    return f"{text[:match.start()]}{match.group(1)}({text[open_at + 1:end]})by({match.group(2)}){text[end + 1:]}"


# ---- rules for the single-field differences left after the rewrites: (category, kind, path pattern,
# test of (golden, got, context)). `{svc}` in a pattern is the service's name.

TEMPLATE = r"spec\.templates\[[\w-]+\]"
CONTAINER = TEMPLATE + r"\.container"

RULES = [
    ("provenance", None, r"metadata\.annotations",
     lambda g, o, c: g is MISSING and isinstance(o, dict) and set(o) == {"shipc.dev/source"}
     and re.fullmatch(rf"services/{c['svc']}\.ship:\d+", o["shipc.dev/source"]) is not None),
    ("namespace", None, r"metadata\.namespace", lambda g, o, c: g is MISSING and o == NAMESPACE),
    # WorkflowTemplate
    ("workflow-rbac", "WorkflowTemplate", r"spec\.serviceAccountName",
     lambda g, o, c: o == f"{c['svc']}-ci" and ("ServiceAccount", o) in c["extra"]),
    ("run-limits", "WorkflowTemplate", r"spec\.activeDeadlineSeconds", lambda g, o, c: g is MISSING and o == 3600),
    ("run-limits", "WorkflowTemplate", r"spec\.(podGC|ttlStrategy)", lambda g, o, c: g is MISSING),
    ("security", "WorkflowTemplate", r"spec\.securityContext",
     lambda g, o, c: g is MISSING and o.get("runAsNonRoot") is True),
    ("security", "WorkflowTemplate", r"spec\.volumes\[tmp\]",
     lambda g, o, c: g is MISSING and o == {"emptyDir": {}, "name": "tmp"}),
    ("clone", "WorkflowTemplate", r"spec\.volumeClaimTemplates\[0\]",
     lambda g, o, c: g is MISSING and at(o, "metadata", "name") == "work"),
    ("clone", "WorkflowTemplate", r"spec\.volumeClaimGC", lambda g, o, c: g is MISSING),
    ("event-parameters", "WorkflowTemplate", r"spec\.arguments\.parameters\[branch\]\.value",
     lambda g, o, c: o == ""),
    ("clone", "WorkflowTemplate", r"spec\.templates\[git-clone\]", lambda g, o, c: g is MISSING),
    ("clone", "WorkflowTemplate", r"spec\.templates\[pipeline\]\.dag\.tasks\[git-clone\]",
     lambda g, o, c: g is MISSING and o.get("template") == "git-clone"),
    ("clone", "WorkflowTemplate", TEMPLATE + r"\.inputs",
     lambda g, o, c: o is MISSING and g == {"artifacts": [{"name": "source", "path": "/src", "git": c["clone"]}]}),
    ("clone", "WorkflowTemplate", CONTAINER + r"\.workingDir",
     lambda g, o, c: g in ("/src", MISSING) and o == "/work/src"),
    ("clone", "WorkflowTemplate", CONTAINER + r"\.volumeMounts\[work\]",
     lambda g, o, c: g is MISSING and o == {"mountPath": "/work", "name": "work"}),
    ("security", "WorkflowTemplate", CONTAINER + r"\.volumeMounts\[tmp\]",
     lambda g, o, c: g is MISSING and o == {"mountPath": "/tmp", "name": "tmp"}),
    ("clone", "WorkflowTemplate", r"spec\.templates\[build\]\.container\.args\[0\]",
     lambda g, o, c: o == "--context=dir:///work/src"
     and g == f"--context=git://{c['clone']['repo'].removeprefix('https://')}#refs/heads/"
     "{{workflow.parameters.branch}}#{{workflow.parameters.revision}}"),
    ("security", "WorkflowTemplate", CONTAINER + r"\.env\[HOME\]",
     lambda g, o, c: g is MISSING and o == {"name": "HOME", "value": "/tmp"}),
    ("security", "WorkflowTemplate", CONTAINER + r"\.securityContext",
     lambda g, o, c: g is MISSING and o.get("allowPrivilegeEscalation") is False and o.get("capabilities") == {"drop": ["ALL"]}),
    ("explicit-defaults", "WorkflowTemplate", CONTAINER + r"\.name", lambda g, o, c: g is MISSING and o == "main"),
    ("explicit-defaults", "WorkflowTemplate", TEMPLATE + r"\.retryStrategy\.retryPolicy",
     lambda g, o, c: g is MISSING and o == "OnFailure"),
    ("retry-limit", "WorkflowTemplate", TEMPLATE + r"\.retryStrategy\.limit",
     lambda g, o, c: isinstance(g, int) and o == str(g)),
    # AnalysisTemplate
    ("analysis-names", "AnalysisTemplate", r"metadata\.name",
     lambda g, o, c: ANALYSIS_ROLES.get(g.removeprefix(c["svc"] + "-")) == o.removeprefix(c["svc"] + "-")),
    ("metric-names", "AnalysisTemplate", r"spec\.metrics\[\d\]\.name",
     lambda g, o, c: (g, o) in {("error-rate", "http-error-rate"), ("latency-p99", "http-latency")}),
    ("web-check-url", "AnalysisTemplate", r"spec\.metrics\[\d\]\.provider\.web\.url",
     lambda g, o, c: re.sub(r"^http://([\w-]+)/", rf"http://\1.{NAMESPACE}.svc.cluster.local/", g) == o),
    ("explicit-defaults", "AnalysisTemplate", r"spec\.metrics\[\d\]\.provider\.web\.method",
     lambda g, o, c: g == "GET" and o is MISSING),
    ("explicit-defaults", "AnalysisTemplate", r"spec\.metrics\[\d\]\.provider\.web\.timeoutSeconds",
     lambda g, o, c: g == 10 and o is MISSING),
    ("conditions", "AnalysisTemplate", r"spec\.metrics\[\d\]\.successCondition",
     lambda g, o, c: isinstance(g, str) and isinstance(o, str) and g.replace("'", '"') == o),
    # Rollout
    ("replicas-to-hpa", "Rollout", r"spec\.replicas",
     lambda g, o, c: o is MISSING and c["hpa_min"] == g),
    ("no-setting", "Rollout", r"spec\.revisionHistoryLimit", lambda g, o, c: o is MISSING),
    ("no-setting", "Rollout", r"spec\.template\.spec\.containers\[[\w-]+\]\.readinessProbe\.initialDelaySeconds",
     lambda g, o, c: o is MISSING),
    ("explicit-defaults", "Rollout", r"spec\.template\.spec\.containers\[[\w-]+\]\.readinessProbe\.periodSeconds",
     lambda g, o, c: g == 10 and o is MISSING),
    ("named-ports", "Rollout", r"spec\.template\.spec\.containers\[[\w-]+\]\.readinessProbe\.httpGet\.port",
     lambda g, o, c: o == "http" and c["http_port"] == g),
    ("analysis-names", "Rollout", r"spec\.strategy\.blueGreen\.(pre|post)PromotionAnalysis\.templates\[0\]\.templateName",
     lambda g, o, c: ANALYSIS_ROLES.get(g.removeprefix(c["svc"] + "-")) == o.removeprefix(c["svc"] + "-")),
    ("web-check-url", "Rollout", r"spec\.strategy\.blueGreen\.prePromotionAnalysis\.args\[service-name\]",
     lambda g, o, c: o is MISSING and g == {"name": "service-name", "value": f"{c['svc']}-preview"}),
    ("query-scope", "Rollout", r"spec\.strategy\.blueGreen\.postPromotionAnalysis\.args\[service-name\]",
     lambda g, o, c: o is MISSING and g == {"name": "service-name", "value": c["svc"]}),
    ("query-scope", "Rollout", r"spec\.strategy\.blueGreen\.postPromotionAnalysis\.args\[new-hash\]",
     lambda g, o, c: g is MISSING and o == {"name": "new-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}),
    # Service
    ("named-ports", "Service", r"spec\.ports\[http\]\.targetPort", lambda g, o, c: o == "http" and c["http_port"] == g),
]

# The golden analysis names and shipc's, by the suffix after the service's name.
ANALYSIS_ROLES = {"smoke": "pre-promotion", "slo": "post-promotion"}


def classify(kind, path, golden, got, context, comparison):
    local = path.split(".", 1)[1] if "." in path else ""
    for category, rule_kind, pattern, test in RULES:
        if rule_kind not in (None, kind) or not re.fullmatch(pattern, local):
            continue
        try:
            accepted = test(golden, got, context)
        except (AttributeError, KeyError, TypeError):
            accepted = False
        if accepted:
            comparison.accept(category, path, golden, got)
            return
    comparison.reject(path, golden, got)


def compare_service(i, golden_text, got_by_key, comparison):
    svc = f"svc-{i}"
    golden = {(o["kind"], name_of(o)): copy.deepcopy(o) for o in golden_objects(golden_text, i)}

    def shipc_name(kind, name):
        for role, shipc_role in ANALYSIS_ROLES.items():
            if kind == "AnalysisTemplate" and name == f"{svc}-{role}":
                return f"{svc}-{shipc_role}"
        return name

    pairs = {}
    for (kind, name), g_obj in golden.items():
        o_obj = got_by_key.pop((kind, shipc_name(kind, name)), None)
        if o_obj is None:
            comparison.reject(f"{kind}/{name}", "object", MISSING)
            continue
        pairs[(kind, name)] = (g_obj, copy.deepcopy(o_obj))
        comparison.matched += 1

    extra = set()
    rollout = pairs.get(("Rollout", svc), (None, {}))[1]
    for kind, name, category in (
        ("PodDisruptionBudget", svc, "added-pdb"),
        ("ServiceAccount", f"{svc}-ci", "workflow-rbac"),
        ("Role", f"{svc}-ci", "workflow-rbac"),
        ("RoleBinding", f"{svc}-ci", "workflow-rbac"),
    ):
        obj = got_by_key.pop((kind, name), None)
        if obj is None:
            continue
        if added_object_ok(kind, obj, svc, rollout):
            comparison.accept(category, f"{kind}/{name}", MISSING, "object")
            extra.add((kind, name))
        else:
            comparison.reject(f"{kind}/{name}", MISSING, obj)

    hpa = pairs.get(("HorizontalPodAutoscaler", svc), (None, {}))[1]
    containers = at(rollout, "spec", "template", "spec", "containers") or []
    http_ports = [p.get("containerPort") for c in containers for p in c.get("ports", []) if p.get("name") == "http"]
    clone = {}
    for g_obj, o_obj in pairs.values():
        if o_obj["kind"] == "WorkflowTemplate":
            clone_template = (named(o_obj["spec"].get("templates", [])) or {}).get("git-clone", {})
            env = {e["name"]: e.get("value") for e in at(clone_template, "script", "env") or []}
            clone = {"repo": env.get("REPOSITORY"), "revision": env.get("REVISION")}
    context = {
        "svc": svc,
        "extra": extra,
        "hpa_min": at(hpa, "spec", "minReplicas"),
        "http_port": http_ports[0] if len(http_ports) == 1 else None,
        "clone": clone,
    }

    golden_rollout = pairs.get(("Rollout", svc), ({}, None))[0]
    for (kind, name), (g_obj, o_obj) in pairs.items():
        for keys in (("metadata", "labels"), ("spec", "selector"), ("spec", "selector", "matchLabels"),
                     ("spec", "template", "metadata", "labels")):
            rewrite_labels(at(g_obj, *keys), at(o_obj, *keys), f"{kind}/{name}." + ".".join(keys), svc, comparison)
        if kind == "WorkflowTemplate":
            rewrite_workflow(g_obj, o_obj, comparison)
        if kind == "AnalysisTemplate":
            phase = "prePromotionAnalysis" if name.endswith("-smoke") else "postPromotionAnalysis"
            rewrite_analysis(g_obj, o_obj, svc, analysis_args(golden_rollout, phase), analysis_args(rollout, phase), comparison)
        found = []
        diff(g_obj, o_obj, f"{kind}/{name}", found, comparison)
        for path, g_value, o_value in found:
            classify(kind, path, g_value, o_value, context, comparison)


def analysis_args(rollout, phase):
    args = at(rollout, "spec", "strategy", "blueGreen", phase, "args") or []
    return {a["name"]: a.get("value", "{{args." + a["name"] + "}}") for a in args}


def added_object_ok(kind, obj, svc, rollout):
    if kind == "PodDisruptionBudget":
        return at(obj, "spec", "selector", "matchLabels") == at(rollout, "spec", "selector", "matchLabels")
    if kind == "RoleBinding":
        return at(obj, "roleRef", "name") == f"{svc}-ci" and obj.get("subjects") == [
            {"kind": "ServiceAccount", "name": f"{svc}-ci", "namespace": NAMESPACE}
        ]
    return True


def show(value):
    if value is MISSING:
        return "(absent)"
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def main():
    args = sys.argv[1:]
    verbose = args[:1] == ["-v"]
    if verbose:
        args = args[1:]
    if len(args) != 2 or not args[1].isdigit() or int(args[1]) < 1:
        sys.exit(__doc__)
    out, n = Path(args[0]), int(args[1])
    if not GOLDEN.is_file():
        sys.exit(f"compare.py: no golden file at {GOLDEN} (set PEERS_DIR to the peers' directory)")

    comparison = Comparison()
    got_by_key = {}
    for obj in load_output(out):
        key = (obj.get("kind"), name_of(obj))
        if key in got_by_key:
            comparison.reject(f"{key[0]}/{key[1]}", MISSING, "a second object of this kind and name")
        got_by_key[key] = obj
    n_objects = len(got_by_key)
    golden_text = GOLDEN.read_text()
    for i in range(1, n + 1):
        compare_service(i, golden_text, got_by_key, comparison)
    for kind, name in sorted(got_by_key):
        comparison.reject(f"{kind}/{name}", MISSING, "object")

    if verbose:
        for category, path, golden, got in comparison.by_design:
            values = "" if golden is MISSING and got is MISSING else f": golden {show(golden)}, shipc {show(got)}"
            print(f"  by design, {category}: {path}{values}")
    counts = Counter(category for category, *_ in comparison.by_design)
    added = sum(1 for category, path, golden, got in comparison.by_design if got == "object")
    print(f"compare.py {out}, N={n}: {n_objects} objects in shipc's output, {comparison.matched} golden objects matched,"
          f" {added} added by design")
    print(f"  {comparison.equal_fields} fields equal, {len(comparison.by_design)} by-design differences:")
    for category in CATEGORIES:
        if counts[category]:
            print(f"  {counts[category]:6}  {category}: {CATEGORIES[category]}")
    if comparison.unexplained:
        print(f"FAIL: {len(comparison.unexplained)} unexplained difference(s):")
        for path, golden, got in comparison.unexplained[:60]:
            print(f"  {path}: golden {show(golden)}, shipc {show(got)}")
        sys.exit(1)
    print("OK: no unexplained difference")


if __name__ == "__main__":
    main()
