#!/usr/bin/python3
"""Checks the deployment files: deploy/k8s/*.yaml and deploy/compose.yaml.

    /usr/bin/python3 tests/deploy/manifests_test.py -v

Loads every YAML document and checks the invariants urnd needs to run there: one replica with
its own volume, a headless governing Service, native gRPC probes on the number of the port urnd
listens on, no subPath mounts (they never see ConfigMap or Secret updates), files named in the
environment actually mounted, the security context, resources, a termination grace above
urnd's --shutdown-grace, and environment variables and flags that urnd really has. urnd's
flags, environment variables and config keys are read from its sources (server/options.cc,
server/auth/plans.*), not repeated here.

Needs only the standard library and PyYAML (Debian: python3-yaml).
"""

import os
import re
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
COMPOSE = os.path.join(DEPLOY, "compose.yaml")

# Environment variables the manifests may set before urnd's sources declare them, each with
# what it waits for. test_pending_env_vars_exist reports them as skipped until they are there.
PENDING_ENV = {}

# Memory per weight-store slot (server/options.h: "~26 bytes of memory per slot").
BYTES_PER_SLOT = 26
# What the kubelet (and compose) must leave urnd after --shutdown-grace for the final fsync.
SHUTDOWN_MARGIN_SECONDS = 10

FILE_ENV = ("URN_CONFIG", "URN_ADMIN_KEY_FILE", "URN_TLS_CERT", "URN_TLS_KEY", "URN_TLS_CLIENT_CA")


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


class Urnd:
    """What urnd accepts, parsed from its sources."""

    options_cc = read("server", "options.cc")
    options_h = read("server", "options.h")
    plans_cc = read("server", "auth", "plans.cc")
    plans_h = read("server", "auth", "plans.h")

    env_vars = set(re.findall(r'->envname\("(URN_[A-Z0-9_]+)"\)', options_cc))
    flags = set(re.findall(r'app\.add_(?:option|flag)\(\s*"(--[a-z0-9-]+)"', options_cc))
    # Top-level keys of the --config file: in ApplyConfigFile, the string and number maps and
    # the keys compared with `key == "..."`.
    _apply = re.search(r"\nabsl::Status ApplyConfigFile\(.*?\n}\n", options_cc, re.S).group(0)
    config_keys = set(re.findall(r'\{"([a-z_]+)", &', _apply)) | set(
        re.findall(r'key == "([a-z_]+)"', _apply))
    plan_keys = set(re.findall(r'key == "([a-z_]+)"', plans_cc))
    features = set(re.findall(r'kFeature\w+\[\] = "([a-z]+)"', plans_h)) | (
        {"all"} if 'name != "all"' in plans_cc else set())
    default_shutdown_grace = float(
        re.search(r"shutdown_grace_seconds = ([0-9.]+)", options_h).group(1))
    _slots = re.search(r"max_store_slots = int64_t\{(\d+)\} << (\d+);", options_h)
    default_max_store_slots = int(_slots.group(1)) << int(_slots.group(2))


def load_k8s():
    docs = []
    for name in sorted(os.listdir(K8S)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(K8S, name), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    docs.append((name, doc))
    return docs


def walk(node, path=""):
    """Yields (path, key, value) for every mapping entry under node."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def cpu(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def memory(q):
    q = str(q)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return float(q[:-len(suffix)]) * factor
    return float(q)


def seconds(duration):
    """Compose durations: 60s, 1m30s, 500ms, or a bare number of seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    total = 0.0
    for value, unit in re.findall(r"([0-9.]+)(ms|h|m|s)", duration):
        total += float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def shutdown_grace(args):
    args = [str(a) for a in args or []]
    for i, a in enumerate(args):
        if a.startswith("--shutdown-grace="):
            return float(a.split("=", 1)[1])
        if a == "--shutdown-grace" and i + 1 < len(args):
            return float(args[i + 1])
    return Urnd.default_shutdown_grace


def flag_names(args):
    return [str(a).split("=", 1)[0] for a in args or [] if str(a).startswith("--")]


def path_args(args):
    """Absolute paths among the args (`--flag=/path` or `/path`)."""
    out = []
    for a in args or []:
        value = str(a).split("=", 1)[1] if str(a).startswith("--") and "=" in str(a) else str(a)
        if value.startswith("/"):
            out.append(value)
    return out


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def truthy(value):
    return str(value).lower() in ("true", "1", "yes", "on")


def under(path, directory):
    return os.path.normpath(path).startswith(os.path.normpath(directory).rstrip("/") + "/")


def check_config(test, text, where):
    """The --config file as urnd's ApplyConfigFile and LoadPlans would read it."""
    config = yaml.safe_load(text)
    test.assertIsInstance(config, dict, f"{where}: a mapping of keys")
    test.assertLessEqual(set(config), Urnd.config_keys,
                         f"{where}: keys urnd does not know (it refuses to start)")
    plans = config.get("plans")
    test.assertIsInstance(plans, dict, f"{where}: plans: maps plan names to limits")
    test.assertTrue(plans, f"{where}: an empty plans: section is an error")
    for name, plan in plans.items():
        test.assertIsInstance(plan, dict, f"{where}: plan {name}")
        test.assertLessEqual(set(plan), Urnd.plan_keys, f"{where}: plan {name}: unknown keys")
        for key, value in plan.items():
            if key == "features":
                test.assertIsInstance(value, list, f"{where}: {name}.features is a list")
                test.assertLessEqual(set(value), Urnd.features, f"{where}: {name}: features")
            else:
                test.assertTrue(value == "unlimited" or (
                    isinstance(value, (int, float)) and not isinstance(value, bool)
                    and value >= 0), f"{where}: {name}.{key}: a number >= 0 or 'unlimited'")
    return config


class SourcesParsed(unittest.TestCase):
    """The regexes above still find what they look for in urnd's sources."""

    def test_sources_parsed(self):
        self.assertIn("URN_LISTEN", Urnd.env_vars)
        self.assertIn("URN_CONFIG", Urnd.env_vars)
        self.assertIn("--shutdown-grace", Urnd.flags)
        self.assertIn("plans", Urnd.config_keys)
        self.assertIn("listen", Urnd.config_keys)
        # The flags' names with '_' for '-' (README), and the older names with the unit.
        self.assertIn("shutdown_grace", Urnd.config_keys)
        self.assertIn("shutdown_grace_seconds", Urnd.config_keys)
        self.assertIn("plaintext", Urnd.config_keys)
        self.assertNotIn("shutdown-grace", Urnd.config_keys)
        self.assertIn("capacity_per_store", Urnd.plan_keys)
        self.assertIn("sample", Urnd.features)
        self.assertIn("all", Urnd.features)


class KubernetesManifests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.docs = load_k8s()
        cls.by_kind = {}
        for _, doc in cls.docs:
            cls.by_kind.setdefault(doc.get("kind"), []).append(doc)
        cls.sts = cls.by_kind.get("StatefulSet", [{}])[0]
        cls.pod = cls.sts.get("spec", {}).get("template", {}).get("spec", {})
        containers = cls.pod.get("containers", [])
        cls.urnd = next((c for c in containers if c.get("name") == "urnd"),
                        containers[0] if containers else {})
        cls.env = {e["name"]: e.get("value") for e in cls.urnd.get("env", [])}
        cls.mounts = cls.urnd.get("volumeMounts", [])
        cls.volumes = {v["name"]: v for v in cls.pod.get("volumes", [])}
        cls.ports = {p.get("name"): p for p in cls.urnd.get("ports", [])}

    def mount_of(self, path):
        """The volumeMount a file path lies under (the deepest one)."""
        found = [m for m in self.mounts if under(path, m["mountPath"])]
        self.assertTrue(found, f"{path} is not under any volumeMount of urnd")
        return max(found, key=lambda m: len(m["mountPath"]))

    def service(self, name):
        for s in self.by_kind.get("Service", []):
            if s["metadata"]["name"] == name:
                return s
        self.fail(f"no Service {name}")

    def pod_labels(self):
        return self.sts["spec"]["template"]["metadata"]["labels"]

    def test_every_document_is_a_kubernetes_object(self):
        self.assertTrue(self.docs, "no YAML under deploy/k8s")
        for name, doc in self.docs:
            self.assertIsInstance(doc, dict, name)
            for field in ("apiVersion", "kind"):
                self.assertIn(field, doc, name)
            self.assertTrue(doc.get("metadata", {}).get("name"), f"{name}: metadata.name")

    def test_kinds_present(self):
        self.assertEqual(len(self.by_kind.get("StatefulSet", [])), 1)
        self.assertEqual(len(self.by_kind.get("Service", [])), 2)
        self.assertEqual(len(self.by_kind.get("ConfigMap", [])), 1)
        self.assertEqual(self.sts["apiVersion"], "apps/v1")

    def test_no_secret_manifest(self):
        # A Secret of placeholders here would overwrite the real one on every
        # `kubectl apply -f deploy/k8s/`; README.md creates it with kubectl instead.
        self.assertNotIn("Secret", self.by_kind)

    def test_readme_tells_how_to_create_the_secret(self):
        readme = read("deploy", "k8s", "README.md")
        name, volume = next((n, v) for n, v in self.volumes.items() if "secret" in v)
        self.assertIn(f"kubectl create secret generic {volume['secret']['secretName']}", readme)
        # Every file urnd is told to read from the Secret is one README.md has put there.
        mounted = [m["mountPath"] for m in self.mounts if m["name"] == name]
        for var in FILE_ENV:
            path = self.env.get(var)
            if path and any(under(path, m) for m in mounted):
                self.assertIn(f"--from-file={os.path.basename(path)}=", readme, var)

    def test_single_replica(self):
        self.assertEqual(self.sts["spec"].get("replicas"), 1)

    def test_selector_matches_pod_labels(self):
        selector = self.sts["spec"]["selector"]["matchLabels"]
        self.assertTrue(selector)
        self.assertLessEqual(selector.items(), self.pod_labels().items())

    def test_volume_claim_template_mounted_at_data_dir(self):
        templates = self.sts["spec"].get("volumeClaimTemplates", [])
        self.assertEqual(len(templates), 1)
        claim = templates[0]
        self.assertIn("ReadWriteOnce", claim["spec"]["accessModes"])
        self.assertGreater(memory(claim["spec"]["resources"]["requests"]["storage"]), 0)
        data = [m for m in self.mounts if m["name"] == claim["metadata"]["name"]]
        self.assertEqual(len(data), 1, "the claim is mounted once")
        self.assertEqual(data[0]["mountPath"], "/var/lib/urn")
        self.assertFalse(data[0].get("readOnly", False))
        self.assertEqual(self.env.get("URN_DATA_DIR", "/var/lib/urn"), "/var/lib/urn")
        self.assertNotIn(claim["metadata"]["name"], self.volumes,
                         "a pod volume of the same name would shadow the claim")

    def test_headless_service_governs_the_statefulset(self):
        headless = self.service(self.sts["spec"].get("serviceName"))
        self.assertEqual(headless["spec"].get("clusterIP"), "None")
        self.assertLessEqual(headless["spec"]["selector"].items(), self.pod_labels().items())
        ports = {p["port"] for p in headless["spec"]["ports"]}
        self.assertLessEqual({50051, 9090}, ports)

    def test_client_service(self):
        clients = [s for s in self.by_kind["Service"] if s["spec"].get("clusterIP") != "None"]
        self.assertEqual(len(clients), 1)
        spec = clients[0]["spec"]
        self.assertEqual(spec.get("type", "ClusterIP"), "ClusterIP")
        grpc = [p for p in spec["ports"] if p.get("name") == "grpc"]
        self.assertEqual(len(grpc), 1)
        self.assertEqual(grpc[0]["port"], 50051)
        self.assertEqual(grpc[0].get("targetPort", grpc[0]["port"]), 50051)

    def test_services_target_container_ports(self):
        container_ports = {p["containerPort"] for p in self.ports.values()}
        names = set(self.ports)
        for s in self.by_kind["Service"]:
            self.assertLessEqual(s["spec"]["selector"].items(), self.pod_labels().items(),
                                 s["metadata"]["name"])
            for p in s["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                self.assertIn(target, names if isinstance(target, str) else container_ports,
                              f"{s['metadata']['name']}: port {p['port']}")

    def test_listen_port_is_the_grpc_container_port(self):
        self.assertEqual(self.ports["grpc"]["containerPort"], 50051)
        self.assertEqual(port_of(self.env["URN_LISTEN"]), 50051)
        self.assertTrue(self.env["URN_LISTEN"].startswith("0.0.0.0:"))

    def test_probes_are_native_grpc_on_a_numeric_port(self):
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = self.urnd.get(kind)
            if probe is None and kind == "startupProbe":
                continue
            self.assertIsNotNone(probe, kind)
            self.assertEqual(set(probe) & {"grpc", "httpGet", "tcpSocket", "exec"}, {"grpc"},
                             f"{kind}: a native grpc probe")
            port = probe["grpc"]["port"]
            self.assertIs(type(port), int, f"{kind}: grpc.port must be a number, not a name")
            self.assertEqual(port, port_of(self.env["URN_LISTEN"]), kind)

    def test_tls_consistent_with_probes(self):
        tls = bool(self.env.get("URN_TLS_CERT"))
        self.assertEqual(tls, bool(self.env.get("URN_TLS_KEY")), "TLS cert and key together")
        if tls:
            self.assertFalse(truthy(self.env.get("URN_PLAINTEXT", "false")))
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                self.assertNotIn("grpc", self.urnd.get(kind, {}),
                                 f"{kind}: the kubelet's grpc probes cannot speak TLS")
        else:
            # urnd refuses a non-loopback --listen without TLS unless --plaintext.
            self.assertTrue(truthy(self.env.get("URN_PLAINTEXT")))

    def test_liveness_outlasts_shutdown_grace(self):
        # Health is NOT_SERVING during --shutdown-grace; liveness must not kill urnd then.
        live = self.urnd["livenessProbe"]
        window = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
        self.assertGreater(window, shutdown_grace(self.urnd.get("args")))

    def test_termination_grace_exceeds_shutdown_grace(self):
        grace = shutdown_grace(self.urnd.get("args"))
        self.assertGreaterEqual(self.pod.get("terminationGracePeriodSeconds", 30),
                                grace + SHUTDOWN_MARGIN_SECONDS)
        self.assertNotIn("--shutdown-grace", self.env, "not an environment variable")

    def test_no_subpath_mounts(self):
        for name, doc in self.docs:
            for path, key, _ in walk(doc):
                self.assertNotIn(key, ("subPath", "subPathExpr"), f"{name}: {path}")

    def test_configmap_mounted_as_directory(self):
        configmap = self.by_kind["ConfigMap"][0]
        volume = [n for n, v in self.volumes.items()
                  if v.get("configMap", {}).get("name") == configmap["metadata"]["name"]]
        self.assertEqual(len(volume), 1)
        self.assertNotIn("items", self.volumes[volume[0]]["configMap"])
        mount = self.mount_of(self.env["URN_CONFIG"])
        self.assertEqual(mount["name"], volume[0], "URN_CONFIG is in the ConfigMap's volume")
        self.assertTrue(mount.get("readOnly"))
        key = os.path.relpath(self.env["URN_CONFIG"], mount["mountPath"])
        self.assertIn(key, configmap["data"], "URN_CONFIG names a key of the ConfigMap")

    def test_configmap_config_is_valid(self):
        configmap = self.by_kind["ConfigMap"][0]
        for key, text in configmap["data"].items():
            check_config(self, text, f"ConfigMap {key}")

    def test_configmap_plans_are_the_compose_plans_within_the_pods_store_size(self):
        # deploy/config/urnd.yaml holds the README's plans (tests/server/admission_test.cc); the
        # ConfigMap has the same, except that a store capacity the pod cannot hold is cut to
        # URN_MAX_STORE_SLOTS, and a user's memory to half of URN_MEMORY_BUDGET
        # (test_plans_fit_max_store_slots and test_no_user_takes_more_than_half_the_budget check
        # that they are cut).
        slots = int(self.env.get("URN_MAX_STORE_SLOTS", Urnd.default_max_store_slots))
        half_budget = int(self.env["URN_MEMORY_BUDGET"]) // 2

        def within_pod(plans):
            for plan in plans.values():
                capacity = plan.get("capacity_per_store", "unlimited")
                if capacity == "unlimited" or capacity > slots:
                    plan["capacity_per_store"] = slots
                memory = plan.get("memory_bytes", "unlimited")
                if memory == "unlimited" or memory > half_budget:
                    plan["memory_bytes"] = half_budget
            return plans

        with open(os.path.join(DEPLOY, "config", "urnd.yaml")) as f:
            want = within_pod(yaml.safe_load(f)["plans"])
        for key, text in self.by_kind["ConfigMap"][0]["data"].items():
            self.assertEqual(within_pod(yaml.safe_load(text)["plans"]), want,
                             f"ConfigMap {key}: plans differ from deploy/config/urnd.yaml")

    def test_no_user_takes_more_than_half_the_budget(self):
        half_budget = int(self.env["URN_MEMORY_BUDGET"]) // 2
        config = yaml.safe_load(next(iter(self.by_kind["ConfigMap"][0]["data"].values())))
        for name, plan in config["plans"].items():
            if name == "enterprise":  # unlimited by design: the operator's own tenants
                continue
            memory = plan.get("memory_bytes", "unlimited")
            self.assertNotEqual(memory, "unlimited", f"plan {name} has no memory_bytes")
            self.assertLessEqual(memory, half_budget, f"plan {name} may take the whole budget")

    def test_plans_fit_max_store_slots(self):
        slots = int(self.env.get("URN_MAX_STORE_SLOTS", Urnd.default_max_store_slots))
        config = yaml.safe_load(next(iter(self.by_kind["ConfigMap"][0]["data"].values())))
        for name, plan in config["plans"].items():
            capacity = plan.get("capacity_per_store", "unlimited")
            if capacity != "unlimited":
                self.assertLessEqual(capacity, slots, f"plan {name} promises a larger store")

    def test_secret_mounted_as_volume(self):
        secrets = [n for n, v in self.volumes.items() if "secret" in v]
        self.assertEqual(len(secrets), 1)
        volume = self.volumes[secrets[0]]["secret"]
        self.assertNotIn("items", volume, "mount every key; items fails on a missing key")
        mount = [m for m in self.mounts if m["name"] == secrets[0]]
        self.assertEqual(len(mount), 1)
        self.assertTrue(mount[0].get("readOnly"))
        admin = self.mount_of(self.env["URN_ADMIN_KEY_FILE"])
        self.assertEqual(admin["name"], secrets[0], "URN_ADMIN_KEY_FILE is in the Secret")
        for var in ("URN_TLS_CERT", "URN_TLS_KEY", "URN_TLS_CLIENT_CA"):
            if self.env.get(var):
                self.assertEqual(self.mount_of(self.env[var])["name"], secrets[0], var)
        # Secrets as files, never in the environment (visible in /proc, never rotated).
        for e in self.urnd.get("env", []):
            self.assertNotIn("secretKeyRef", e.get("valueFrom", {}), e["name"])
        self.assertNotIn("envFrom", self.urnd)

    def test_files_in_env_and_args_are_mounted(self):
        paths = [v for k, v in self.env.items() if k in FILE_ENV and v]
        paths += path_args(self.urnd.get("args")) + path_args(self.urnd.get("command"))
        self.assertIn(self.env["URN_CONFIG"], paths)
        for path in paths:
            self.mount_of(path)

    def test_env_names_are_urnd_env_vars(self):
        unknown = set(self.env) - Urnd.env_vars - set(PENDING_ENV)
        self.assertFalse(unknown, "urnd (server/options.cc) has no such environment variable")

    def test_pending_env_vars_exist(self):
        pending = sorted(set(PENDING_ENV) - Urnd.env_vars)
        if pending:
            self.skipTest("not in server/options.cc yet: " +
                          ", ".join(f"{v} ({PENDING_ENV[v]})" for v in pending))

    def test_args_are_urnd_flags(self):
        self.assertNotIn("command", self.urnd, "the image's ENTRYPOINT is urnd")
        self.assertLessEqual(set(flag_names(self.urnd.get("args"))), Urnd.flags)

    def test_metrics_port(self):
        self.assertEqual(self.env.get("URN_METRICS_LISTEN"), "0.0.0.0:9090")
        self.assertEqual(self.ports["metrics"]["containerPort"], 9090)
        annotations = self.sts["spec"]["template"]["metadata"].get("annotations", {})
        self.assertEqual(annotations.get("prometheus.io/scrape"), "true")
        self.assertEqual(annotations.get("prometheus.io/port"), "9090")
        self.assertEqual(annotations.get("prometheus.io/path", "/metrics"), "/metrics")

    def test_pod_security_context(self):
        sc = self.pod.get("securityContext", {})
        self.assertIs(sc.get("runAsNonRoot"), True)
        self.assertEqual(sc.get("runAsUser"), 10001)
        self.assertEqual(sc.get("runAsGroup"), 10001)
        self.assertEqual(sc.get("fsGroup"), 10001)
        self.assertEqual(sc.get("seccompProfile", {}).get("type"), "RuntimeDefault")

    def test_container_security_context(self):
        sc = self.urnd.get("securityContext", {})
        self.assertIs(sc.get("runAsNonRoot"), True)
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertIn("ALL", sc.get("capabilities", {}).get("drop", []))
        self.assertFalse(sc.get("capabilities", {}).get("add"))
        self.assertNotEqual(sc.get("privileged"), True)
        self.assertEqual(sc.get("runAsUser", 10001), 10001)

    def test_writable_tmp_with_read_only_root(self):
        tmp = self.mount_of("/tmp/x")
        self.assertEqual(tmp["mountPath"], "/tmp")
        self.assertIn("emptyDir", self.volumes[tmp["name"]])

    def test_resources_requests_and_limits(self):
        resources = self.urnd.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                self.assertIn(resource, resources.get(kind, {}), f"{kind}.{resource}")
        self.assertLessEqual(cpu(resources["requests"]["cpu"]), cpu(resources["limits"]["cpu"]))
        self.assertLessEqual(memory(resources["requests"]["memory"]),
                             memory(resources["limits"]["memory"]))

    def test_memory_budget_leaves_room_below_the_memory_limit(self):
        # All tenants together stay below the pod's limit (urnd refuses past the budget), with a
        # quarter of the limit left for everything else.
        budget = int(self.env["URN_MEMORY_BUDGET"])
        limit = memory(self.urnd["resources"]["limits"]["memory"])
        self.assertGreater(budget, 0)
        self.assertLessEqual(budget, limit * 3 // 4)

    def test_memory_limit_fits_largest_store(self):
        slots = int(self.env.get("URN_MAX_STORE_SLOTS", Urnd.default_max_store_slots))
        self.assertLess(slots * BYTES_PER_SLOT, memory(self.urnd["resources"]["limits"]["memory"]))

    def test_yaml_indentation(self):
        for name in os.listdir(K8S):
            if name.endswith((".yaml", ".yml")):
                check_indentation(self, os.path.join(K8S, name))


def check_indentation(test, path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            test.assertNotIn("\t", line, f"{path}:{number}: a tab")
            indent = len(line) - len(line.lstrip(" "))
            if line.strip() and not line.lstrip().startswith("#"):
                test.assertEqual(indent % 2, 0, f"{path}:{number}: indent by 2 spaces")


class ComposeFile(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(COMPOSE, encoding="utf-8") as f:
            cls.compose = yaml.safe_load(f)
        cls.urnd = cls.compose.get("services", {}).get("urnd", {})
        env = cls.urnd.get("environment", {})
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        cls.env = env
        cls.mounts = []  # (source, target, read_only)
        for v in cls.urnd.get("volumes", []):
            if isinstance(v, str):
                parts = v.split(":")
                cls.mounts.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2]))
            else:
                cls.mounts.append((v.get("source"), v["target"], bool(v.get("read_only"))))

    def mount_of(self, path):
        found = [m for m in self.mounts if under(path, m[1])]
        self.assertTrue(found, f"{path} is not under any volume of the urnd service")
        return max(found, key=lambda m: len(m[1]))

    def published(self):
        """(host_ip, host_port, container_port) of each published port."""
        out = []
        for p in self.urnd.get("ports", []):
            if isinstance(p, dict):
                out.append((p.get("host_ip", ""), int(p.get("published", 0)), int(p["target"])))
                continue
            parts = str(p).split("/")[0].split(":")
            ip = parts[0] if len(parts) == 3 else ""
            out.append((ip, int(parts[-2]) if len(parts) > 1 else 0, int(parts[-1])))
        return out

    def test_image_built_from_the_repository_root(self):
        self.assertEqual(self.urnd.get("image"), "urn:latest")
        build = self.urnd.get("build", {})
        context = os.path.normpath(os.path.join(DEPLOY, build.get("context", ".")))
        self.assertEqual(context, ROOT)
        self.assertTrue(os.path.isfile(os.path.join(context, build.get("dockerfile",
                                                                       "Dockerfile"))))

    def test_named_data_volume(self):
        source, _, read_only = self.mount_of("/var/lib/urn/meta")
        self.assertEqual(self.mount_of("/var/lib/urn/meta")[1], "/var/lib/urn")
        self.assertIn(source, self.compose.get("volumes", {}), "a named volume, declared")
        self.assertFalse(read_only)
        self.assertEqual(self.env.get("URN_DATA_DIR", "/var/lib/urn"), "/var/lib/urn")

    def test_ports(self):
        listen = self.env.get("URN_LISTEN", "0.0.0.0:50051")
        targets = {target for _, _, target in self.published()}
        self.assertIn(port_of(listen), targets)
        self.assertIn(port_of(self.env["URN_METRICS_LISTEN"]), targets)
        self.assertEqual({50051, 9090}, targets)

    def test_plaintext_is_published_on_loopback_only(self):
        if self.env.get("URN_TLS_CERT"):
            return
        for ip, _, target in self.published():
            self.assertEqual(ip, "127.0.0.1", f"port {target}: plaintext, API keys in the clear")

    def test_hardening(self):
        self.assertIs(self.urnd.get("read_only"), True)
        tmpfs = self.urnd.get("tmpfs", [])
        self.assertIn("/tmp", [t.split(":")[0] for t in ([tmpfs] if isinstance(tmpfs, str)
                                                         else tmpfs)])
        self.assertEqual(str(self.urnd.get("user")), "10001:10001")
        self.assertIn("ALL", self.urnd.get("cap_drop", []))
        self.assertIn("no-new-privileges:true", self.urnd.get("security_opt", []))

    def test_stop_grace_exceeds_shutdown_grace(self):
        grace = shutdown_grace(self.urnd.get("command"))
        self.assertGreaterEqual(seconds(self.urnd.get("stop_grace_period", "10s")),
                                grace + SHUTDOWN_MARGIN_SECONDS)

    def test_healthcheck(self):
        self.assertEqual(self.urnd.get("healthcheck", {}).get("test"),
                         ["CMD", "urn", "--server", "127.0.0.1:50051", "--timeout", "2",
                          "health"])

    def test_config_mounted_read_only(self):
        config = self.env.get("URN_CONFIG")
        self.assertTrue(config)
        source, target, read_only = self.mount_of(config)
        self.assertTrue(read_only)
        self.assertTrue(source.startswith("."), "a bind mount of a file in deploy/")
        host_file = os.path.join(DEPLOY, source, os.path.relpath(config, target))
        self.assertTrue(os.path.isfile(host_file), host_file)
        with open(host_file, encoding="utf-8") as f:
            check_config(self, f.read(), os.path.relpath(host_file, ROOT))

    def test_files_in_env_and_command_are_mounted(self):
        for var in FILE_ENV:
            if self.env.get(var):
                if self.env[var].startswith("/run/secrets/"):
                    targets = [s.get("target") if isinstance(s, dict) else s
                               for s in self.urnd.get("secrets", [])]
                    self.assertIn(os.path.basename(self.env[var]), targets, var)
                else:
                    self.mount_of(self.env[var])
        for path in path_args(self.urnd.get("command")):
            self.mount_of(path)

    def test_env_names_are_urnd_env_vars(self):
        unknown = set(self.env) - Urnd.env_vars - set(PENDING_ENV)
        self.assertFalse(unknown, "urnd (server/options.cc) has no such environment variable")

    def test_command_is_urnd_flags(self):
        self.assertNotIn("entrypoint", self.urnd, "the image's ENTRYPOINT is urnd")
        self.assertLessEqual(set(flag_names(self.urnd.get("command"))), Urnd.flags)

    def test_tls_consistent(self):
        tls = bool(self.env.get("URN_TLS_CERT"))
        self.assertEqual(tls, bool(self.env.get("URN_TLS_KEY")), "TLS cert and key together")
        if tls:
            self.assertFalse(truthy(self.env.get("URN_PLAINTEXT", "false")))
        else:
            self.assertTrue(truthy(self.env.get("URN_PLAINTEXT")))

    def test_yaml_indentation(self):
        check_indentation(self, COMPOSE)
        check_indentation(self, os.path.join(DEPLOY, "config", "urnd.yaml"))


if __name__ == "__main__":
    unittest.main()
