#!/usr/bin/python3
"""Adapts rendered manifests to podman 4.3.1's `kube play` (Debian 12), whose
bugs would otherwise change what is tested. Reads YAML documents on stdin,
writes them on stdout.

  --claims   only the PersistentVolumeClaims (played once: a later play of a
             claim whose volume exists fails before v4.4.0, and `kube down`
             never removes volumes)
  default    everything but the claims, with:
    - each Secret made a ConfigMap with binaryData = data (4.3.1 writes a
      Secret's files as the base64 text and ignores stringData: #16625), and
      each secret volume a configMap volume of the same name (a secret volume
      without `optional` dereferences nil before v4.4.0);
    - containers' `ports` removed (4.3.1 publishes every containerPort on the
      host, so two replicas clash: #17028); the test dials the pod addresses;
    - a Deployment of N replicas made N Pods `<name>-<i>`, as the kubelet
      would run them, each emptyDir renamed `<pod>-<volume>`: 4.3.1 names an
      emptyDir's podman volume after the pod spec's volume name alone, so
      the replicas of one Deployment would share one /state;
    - init containers of type "always" (annotation): 4.3.1 removes a "once"
      init container right after it exits, racing its own bookkeeping
      ("cannot remove container ... as it is running"), and the pod does not
      start. "always" runs them at every pod start, as the kubelet does;
    - restartPolicy OnFailure instead of a Deployment's Always: 4.3.1 gives
      init containers the pod's policy too, so with Always a finished init
      container is started again, over and over (a teardown racing such a
      restart fails on a busy mount). The gateway never exits 0, so it is
      restarted all the same.
Kinds podman does not play (Service, PodDisruptionBudget, NetworkPolicy) are
passed through: podman skips them, and check_manifests.py checks them.
"""
import base64
import copy
import sys

import yaml


def secret_as_config_map(doc):
    binary = dict(doc.get("data") or {})
    for key, value in (doc.get("stringData") or {}).items():
        binary[key] = base64.b64encode(value.encode()).decode()
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {k: v for k, v in doc["metadata"].items() if k in ("name", "namespace", "labels")},
            "binaryData": binary}


def adapt_pod_spec(spec, pod_name):
    renamed = {}
    for volume in spec.get("volumes") or []:
        if "emptyDir" in volume:
            renamed[volume["name"]] = f"{pod_name}-{volume['name']}"
            volume["name"] = renamed[volume["name"]]
        if "secret" in volume:
            s = volume.pop("secret")
            volume["configMap"] = {"name": s["secretName"], "optional": bool(s.get("optional", False))}
    for c in spec.get("containers") or []:
        c.pop("ports", None)
        for mount in c.get("volumeMounts") or []:
            mount["name"] = renamed.get(mount["name"], mount["name"])


def deployment_pods(doc):
    template = doc["spec"]["template"]
    pods = []
    for i in range(doc["spec"].get("replicas", 1)):
        meta = copy.deepcopy(template.get("metadata", {}))
        meta["name"] = f"{doc['metadata']['name']}-{i}"
        meta.setdefault("annotations", {})["io.podman.annotations.init.container.type"] = "always"
        if "namespace" in doc["metadata"]:
            meta["namespace"] = doc["metadata"]["namespace"]
        spec = copy.deepcopy(template["spec"])
        spec["restartPolicy"] = "OnFailure"
        adapt_pod_spec(spec, meta["name"])
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
    return pods


def main():
    claims_only = sys.argv[1:] == ["--claims"]
    out = []
    for doc in yaml.safe_load_all(sys.stdin):
        if not doc:
            continue
        kind = doc.get("kind")
        if claims_only:
            if kind == "PersistentVolumeClaim":
                out.append(doc)
            continue
        if kind == "PersistentVolumeClaim":
            continue
        if kind == "Secret":
            out.append(secret_as_config_map(doc))
        elif kind == "Deployment":
            out.extend(deployment_pods(doc))
        elif kind == "Pod":
            adapt_pod_spec(doc["spec"], doc["metadata"]["name"])
            out.append(doc)
        else:
            out.append(doc)
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
