#!/usr/bin/python3
"""Static checks of kubernetes/: renders every kustomization with every
kubectl given (no network: under `unshare --net` when root) and checks what
`podman kube play` cannot check because it ignores the field (podman 4.3.1:
seccompProfile, appArmorProfile, readiness and startup probes,
terminationGracePeriodSeconds, lifecycle, Service, PodDisruptionBudget,
NetworkPolicy), plus the properties the README promises: never privileged,
exactly the capabilities the gateway needs, /dev/fuse from a device plugin or
a hostPath CharDevice, no hash suffix on the live ConfigMaps, ReadWriteMany
claims when replicas share them, and that both kustomize generations (Debian
12's kubectl 1.20 and a current one) render the same objects.

Usage: check_manifests.py [--kubectl PATH]... [KUSTOMIZATION_DIR...]
Without --kubectl: Debian's kubectl (debian-kubectl) and the one on PATH.
Exit 0 when everything holds, 1 with one line per problem, 77 when there is
no kubectl, or (CI=true) 1 when there is no Debian one.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
KUBE = os.path.join(ROOT, "kubernetes")

# The measured set (tests/kubernetes/run-podman-test leaves each one out):
# the compose gateway's six, SYS_CHROOT for sshd, SETPCAP for serve to bound
# sshd's capabilities.
CAPABILITIES = {"SYS_ADMIN", "DAC_READ_SEARCH", "SETUID", "SETGID", "CHOWN", "FOWNER", "SYS_CHROOT", "SETPCAP"}
DEVICE_PLUGIN_FUSE = "smarter-devices/fuse"
STATUS = ["gateway", "status", "--state-dir", "/state", "--mountpoint", "/srv/view"]
DEFAULT_DRAIN = 25  # gateway serve --drain-timeout's default
# What must come from the image, never from a volume: sshd refuses to chroot
# below a folder that is group- or world-writable, and emptyDirs are 0777.
IMAGE_PATHS = ["/srv/view", "/run/sshd", "/srv"]
# The Service type each overlay must render.
SERVICE_TYPE = {"nodeport": "NodePort"}


class Problems:
    def __init__(self):
        self.lines = []

    def add(self, where, what):
        self.lines.append(f"{where}: {what}")


def kustomizations():
    found = []
    for dirpath, _, files in os.walk(KUBE):
        if "kustomization.yaml" in files:
            found.append(dirpath)
    return sorted(found)


def render(kubectl, directory):
    cmd = [kubectl, "kustomize", directory]
    # No network: a remote base or a fetched plugin would fail here.
    if os.geteuid() == 0 and shutil.which("unshare"):
        cmd = ["unshare", "--net", "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def normalized(docs):
    """The objects by kind and name, minus what kustomize generations differ
    in without meaning (empty label and annotation maps)."""
    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if not (k in ("labels", "annotations") and v == {})}
        if isinstance(o, list):
            return [strip(v) for v in o]
        return o
    return {(d["kind"], d["metadata"]["name"]): json.dumps(strip(d), sort_keys=True) for d in docs}


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def under(path, prefix):
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def check_strings(where, o, p, path=""):
    """Label and annotation values must be strings: old kustomize turns an
    unquoted y/yes/on into true."""
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("labels", "annotations", "matchLabels", "selector") and isinstance(v, dict):
                for lk, lv in v.items():
                    if not isinstance(lv, (str, dict)):
                        p.add(where, f"{path}.{k}.{lk} is {lv!r}, not a string (quote it)")
            check_strings(where, v, p, f"{path}.{k}")
    elif isinstance(o, list):
        for i, v in enumerate(o):
            check_strings(where, v, p, f"{path}[{i}]")


def check_deployment(where, overlay, docs, p):
    deployments = by_kind(docs, "Deployment")
    if len(deployments) != 1:
        p.add(where, f"{len(deployments)} Deployments, expected 1")
        return None
    dep = deployments[0]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    if not labels_match(spec["selector"].get("matchLabels"), pod_labels):
        p.add(where, "the Deployment's selector does not match its pod labels")
    containers = pod.get("containers", [])
    if [c["name"] for c in containers] != ["gateway"]:
        p.add(where, f"containers {[c['name'] for c in containers]}, expected exactly one, 'gateway'")
        return None
    # The only other one: volume-owner (overlays/example), which gives new
    # claims an owner; it may chown and nothing else.
    for init in pod.get("initContainers") or []:
        isc = init.get("securityContext", {})
        if init["name"] != "volume-owner":
            p.add(where, f"init container {init['name']}: only volume-owner is expected")
        if isc.get("privileged") is not False or isc.get("allowPrivilegeEscalation") is not False \
                or isc.get("readOnlyRootFilesystem") is not True:
            p.add(where, f"init container {init['name']}: privileged, privilege escalation or a writable root")
        if isc.get("capabilities") != {"drop": ["ALL"], "add": ["CHOWN"]}:
            p.add(where, f"init container {init['name']}: capabilities {isc.get('capabilities')}, expected CHOWN only")
        if isc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            p.add(where, f"init container {init['name']}: seccompProfile is not RuntimeDefault")
        if any(not m["mountPath"].startswith("/volumes/") for m in init.get("volumeMounts", [])):
            p.add(where, f"init container {init['name']}: mounts more than volume claims")
    c = containers[0]
    sc = c.get("securityContext", {})
    psc = pod.get("securityContext", {})

    for key in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
        if pod.get(key):
            p.add(where, f"pod {key} is set")
    if sc.get("privileged") is not False:
        p.add(where, f"securityContext.privileged is {sc.get('privileged')!r}, must be false")
    if sc.get("allowPrivilegeEscalation") is not False:
        p.add(where, "allowPrivilegeEscalation must be false (no_new_privs)")
    if sc.get("readOnlyRootFilesystem") is not True:
        p.add(where, "readOnlyRootFilesystem must be true")
    caps = sc.get("capabilities", {})
    if caps.get("drop") != ["ALL"]:
        p.add(where, f"capabilities.drop is {caps.get('drop')}, expected [ALL]")
    add = caps.get("add", [])
    if len(add) != len(set(add)) or set(add) != CAPABILITIES:
        p.add(where, f"capabilities.add is {add}, expected exactly {sorted(CAPABILITIES)}")
    # seccomp: podman ignores the field (it applies its default profile, the
    # equivalent of RuntimeDefault, which run-podman-test measures).
    for level, ctx in (("pod", psc), ("container", sc)):
        if ctx.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            p.add(where, f"{level} seccompProfile is {ctx.get('seccompProfile')}, expected RuntimeDefault")
    # AppArmor: the runtimes' default profiles deny mount(2).
    if sc.get("appArmorProfile", {}).get("type") != "Unconfined":
        p.add(where, f"appArmorProfile is {sc.get('appArmorProfile')}, expected Unconfined (mount(2))")
    if pod.get("automountServiceAccountToken") is not False:
        p.add(where, "automountServiceAccountToken must be false (the gateway never calls the API)")

    # Probes: `gateway status`, exec (podman turns the liveness probe into a
    # healthcheck running the words joined by spaces, so none may hold one).
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        cmd = c.get(probe, {}).get("exec", {}).get("command")
        if cmd != STATUS:
            p.add(where, f"{probe} runs {cmd}, expected {STATUS}")
        elif any(" " in w for w in cmd):
            p.add(where, f"{probe}: a word with a space")
    if c.get("readinessProbe", {}).get("periodSeconds", 10) > 10:
        p.add(where, "readinessProbe period over 10 s: a dead replica stays in the Service too long")

    # Grace period: preStop, then the drain, then the unmount.
    args = c.get("args", [])
    drain = DEFAULT_DRAIN
    if "--drain-timeout" in args:
        drain = float(args[args.index("--drain-timeout") + 1])
    pre_stop = 0
    cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    if cmd[:1] == ["sleep"]:
        pre_stop = float(cmd[1])
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace < pre_stop + drain + 5:
        p.add(where, f"terminationGracePeriodSeconds {grace} leaves under 5 s after preStop ({pre_stop} s) "
                     f"and the drain ({drain} s) to unmount")

    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if r not in res.get(kind, {}):
                p.add(where, f"resources.{kind}.{r} missing")

    # /dev/fuse: a device plugin's resource, or (hostpath-fuse) a hostPath
    # CharDevice; never both, never another hostPath.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = c.get("volumeMounts", [])
    host_paths = {n: v["hostPath"] for n, v in volumes.items() if "hostPath" in v}
    fuse_plugin = DEVICE_PLUGIN_FUSE in res.get("limits", {})
    fuse_host = [n for n, h in host_paths.items() if h.get("path") == "/dev/fuse" and h.get("type") == "CharDevice"]
    others = [h.get("path") for n, h in host_paths.items() if n not in fuse_host]
    if others:
        p.add(where, f"hostPath volumes other than /dev/fuse: {others}")
    if fuse_plugin == bool(fuse_host):
        p.add(where, "/dev/fuse must come from exactly one of the device plugin resource and a hostPath CharDevice")
    if fuse_host and not any(m["name"] in fuse_host and m["mountPath"] == "/dev/fuse" for m in mounts):
        p.add(where, "the /dev/fuse hostPath is not mounted at /dev/fuse")
    wants_host = overlay in ("hostpath-fuse", "podman-test")
    if bool(fuse_host) != wants_host and overlay != "base":
        p.add(where, f"/dev/fuse from {'a hostPath' if fuse_host else 'the device plugin'} in this overlay")

    for m in mounts:
        if m.get("mountPropagation") not in (None, "None"):
            p.add(where, f"mount {m['mountPath']} has propagation {m['mountPropagation']}: not needed, privileged only")
        for path in IMAGE_PATHS:
            if under(path, m["mountPath"]) or (path != "/srv" and under(m["mountPath"], path)):
                p.add(where, f"volume {m['name']} at {m['mountPath']} covers {path}, which must come from the image")
    by_path = {m["mountPath"]: m for m in mounts}
    for path, volume_kind in (("/etc/sftp-gateway/config", "configMap"),
                              ("/etc/sftp-gateway/authorized-keys", None),
                              ("/etc/sftp-gateway/host-keys", "secret"), ("/state", "emptyDir"),
                              ("/data", "persistentVolumeClaim")):
        m = by_path.get(path)
        if not m:
            p.add(where, f"nothing mounted at {path}")
            continue
        if m.get("subPath") or m.get("subPathExpr"):
            p.add(where, f"{path} uses subPath: the kubelet never updates it")
        v = volumes.get(m["name"], {})
        if volume_kind and volume_kind not in v:
            p.add(where, f"{path} is not a {volume_kind} volume")
        if path == "/etc/sftp-gateway/authorized-keys" and not ("configMap" in v or "secret" in v):
            p.add(where, f"{path} is neither a ConfigMap nor a Secret")
    return dep


def check_objects(where, overlay, docs, dep, p):
    pod = dep["spec"]["template"]["spec"]
    pod_labels = dep["spec"]["template"]["metadata"].get("labels", {})
    c = pod["containers"][0]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    replicas = dep["spec"].get("replicas", 1)

    # ConfigMaps: referenced by their plain name (no hash suffix), present.
    config_maps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    for name, v in volumes.items():
        if "configMap" in v:
            cm = v["configMap"]["name"]
            if cm not in ("sftp-gateway-config", "sftp-gateway-authorized-keys"):
                p.add(where, f"volume {name} uses ConfigMap {cm}: a hash suffix? (disableNameSuffixHash)")
            if overlay != "base" and cm not in config_maps and not v["configMap"].get("optional"):
                p.add(where, f"ConfigMap {cm} is not rendered")
    conf = config_maps.get("sftp-gateway-config")
    if not conf or "gateway.conf" not in conf.get("data", {}):
        p.add(where, "no ConfigMap sftp-gateway-config with gateway.conf")

    # Claims: every one referenced is rendered, ReadWriteMany when shared.
    claims = {d["metadata"]["name"]: d for d in by_kind(docs, "PersistentVolumeClaim")}
    for name, v in volumes.items():
        if "persistentVolumeClaim" not in v:
            continue
        claim = v["persistentVolumeClaim"]["claimName"]
        if claim not in claims:
            p.add(where, f"claim {claim} is not rendered")
        elif replicas > 1 and "ReadWriteMany" not in claims[claim]["spec"].get("accessModes", []):
            p.add(where, f"claim {claim} is not ReadWriteMany with {replicas} replicas")
        path = mounts.get(name)
        if path not in ("/data",) and not (path or "").startswith("/volumes/"):
            p.add(where, f"claim {claim} mounted at {path}, not /data or /volumes/<volume>")
    for path in [m for m in mounts.values() if m.startswith("/volumes/")]:
        name = [n for n, m in mounts.items() if m == path][0]
        if "persistentVolumeClaim" not in volumes.get(name, {}):
            p.add(where, f"{path} is not a claim")

    # Service: port 22 to the container's ssh port, the client's address kept.
    services = by_kind(docs, "Service")
    ssh_port = [pt for pt in c.get("ports", []) if pt.get("name") == "ssh"]
    if len(services) != 1:
        p.add(where, f"{len(services)} Services, expected 1")
    else:
        s = services[0]["spec"]
        want = SERVICE_TYPE.get(overlay, "LoadBalancer")
        if s.get("type") != want:
            p.add(where, f"Service type {s.get('type')}, expected {want}")
        if s.get("externalTrafficPolicy") != "Local":
            p.add(where, "Service externalTrafficPolicy must be Local (per-source limits see real clients)")
        if not labels_match(s.get("selector"), pod_labels):
            p.add(where, "the Service's selector does not match the pods")
        ports = s.get("ports", [])
        if len(ports) != 1 or ports[0].get("port") != 22 or ports[0].get("targetPort") != "ssh":
            p.add(where, f"Service ports {ports}, expected one: 22 -> ssh")
        if not ssh_port or ssh_port[0].get("containerPort") != 2000:
            p.add(where, "the container has no port named ssh on 2000")
        if want == "NodePort" and not (ports and ports[0].get("nodePort")):
            p.add(where, "the NodePort Service has no nodePort (a patch that lost it?)")

    pdbs = by_kind(docs, "PodDisruptionBudget")
    if len(pdbs) != 1:
        p.add(where, f"{len(pdbs)} PodDisruptionBudgets, expected 1")
    else:
        pdb = pdbs[0]
        if pdb["apiVersion"] != "policy/v1":
            p.add(where, f"PodDisruptionBudget {pdb['apiVersion']}, expected policy/v1")
        if not labels_match(pdb["spec"].get("selector", {}).get("matchLabels"), pod_labels):
            p.add(where, "the PodDisruptionBudget's selector does not match the pods")
        if pdb["spec"].get("maxUnavailable") != 1:
            p.add(where, "PodDisruptionBudget maxUnavailable must be 1 (never blocks a drain, one at a time)")

    policies = by_kind(docs, "NetworkPolicy")
    if len(policies) != 1:
        p.add(where, f"{len(policies)} NetworkPolicies, expected 1")
    else:
        np = policies[0]["spec"]
        if not labels_match(np.get("podSelector", {}).get("matchLabels"), pod_labels):
            p.add(where, "the NetworkPolicy's podSelector does not match the pods")
        if sorted(np.get("policyTypes", [])) != ["Egress", "Ingress"]:
            p.add(where, "the NetworkPolicy must govern Ingress and Egress")
        allowed = [pt for rule in np.get("ingress", []) for pt in rule.get("ports", [])]
        if allowed != [{"protocol": "TCP", "port": 2000}]:
            p.add(where, f"the NetworkPolicy lets in {allowed}, expected TCP 2000 only")
        if np.get("egress"):
            p.add(where, "the NetworkPolicy allows egress; the gateway needs none")

    if overlay != "base":
        for d in docs:
            if d["metadata"].get("namespace") != "sftp-gateway":
                p.add(where, f"{d['kind']} {d['metadata']['name']} is in namespace "
                             f"{d['metadata'].get('namespace')}, not sftp-gateway")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", action="append", default=[])
    ap.add_argument("dirs", nargs="*")
    a = ap.parse_args()
    kubectls = list(a.kubectl)
    have_debian = bool(a.kubectl)  # given ones are taken as meant
    if not a.kubectl:
        # Debian's (kustomize v2.0.3) and the one on PATH, when that is another.
        debian = subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "debian-kubectl")],
                                capture_output=True, text=True)
        have_debian = debian.returncode == 0
        if have_debian:
            kubectls.append(debian.stdout.strip())
        on_path = shutil.which("kubectl")
        if on_path and all(os.path.realpath(on_path) != os.path.realpath(k) for k in kubectls):
            kubectls.append(on_path)
    ci = os.environ.get("CI") == "true"
    if not kubectls or (ci and not have_debian):
        msg = "no kubectl, or not Debian's (scripts/install-deps installs kubernetes-client)"
        if ci:
            print(f"FAIL (CI): {msg}", file=sys.stderr)
            return 1
        print(f"SKIP: {msg}", file=sys.stderr)
        return 77
    dirs = a.dirs or kustomizations()
    p = Problems()
    checked = 0
    for d in dirs:
        overlay = os.path.basename(d)
        renders = {}
        for k in kubectls:
            where = f"{os.path.relpath(d, ROOT)} ({k})"
            try:
                docs = render(k, d)
            except (RuntimeError, subprocess.TimeoutExpired, yaml.YAMLError) as e:
                p.add(where, str(e))
                continue
            renders[k] = normalized(docs)
            check_strings(where, docs, p)
            dep = check_deployment(where, overlay, docs, p)
            if dep:
                check_objects(where, overlay, docs, dep, p)
            checked += 1
        # Both kustomize generations must mean the same objects.
        if len(renders) > 1:
            first, *rest = renders.items()
            for k, objs in rest:
                for key in sorted(set(first[1]) | set(objs)):
                    if first[1].get(key) != objs.get(key):
                        p.add(os.path.relpath(d, ROOT), f"{key[0]} {key[1]} differs between {first[0]} and {k}")
    for line in p.lines:
        print(line)
    if p.lines:
        print(f"FAIL: {len(p.lines)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: {len(dirs)} kustomization(s) x {len(kubectls)} kubectl(s) ({', '.join(kubectls)}), "
          f"{checked} render(s) checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
