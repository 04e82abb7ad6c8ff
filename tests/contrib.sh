#!/bin/sh
# contrib.sh: the deployment files are usable as shipped: the Prometheus
# rules load and compute the right fleet figures (promtool), they use
# only metric names the daemon exports, the Kubernetes manifests parse
# and carry what the fleet depends on, and their shard wrappers turn a
# pod's ordinal or a job's index into the right ARRIVALD_SHARD.
. "$top_srcdir/tests/lib.sh"

prom=$top_srcdir/contrib/prometheus
k8s=$top_srcdir/contrib/kubernetes

if command -v promtool >/dev/null 2>&1; then
	check "promtool check rules arrivald-rules.yml" \
	    sh -c "promtool check rules '$prom/arrivald-rules.yml' >'$T/check.out' 2>&1"
	cp "$prom/arrivald-rules.yml" "$prom/arrivald-rules.test.yml" "$T/"
	check "promtool test rules: fleet sums, Q/Z, lambda_N, merged p50/p99, alerts" \
	    sh -c "cd '$T' && promtool test rules arrivald-rules.test.yml >'$T/test.out' 2>&1"
	[ -s "$T/test.out" ] && grep -q FAIL "$T/test.out" && diag "$(cat "$T/test.out")"
else
	ok 0 "promtool check rules # SKIP promtool not installed"
	ok 0 "promtool test rules # SKIP promtool not installed"
fi

# every arrivald_* name in the rules is one the daemon exports (SPEC.md)
python3 - "$prom/arrivald-rules.yml" >"$T/names.out" <<'EOP'
import re, sys
exported = {"requests_sent_total", "requests_completed_total",
    "requests_failed_total", "arrivals_dropped_total", "in_flight",
    "rate_target", "arrival_rate", "throughput", "queue_length", "users",
    "think_seconds", "response_time_seconds_bucket",
    "response_time_seconds_sum", "response_time_seconds_count"}
text = open(sys.argv[1]).read()
used = set(re.findall(r"(?<![:\w])arrivald_([a-z_]+)", text))
bad = sorted(used - exported)
print(" ".join(bad))
sys.exit(1 if bad or not used else 0)
EOP
ok $? "the rules use only exported metric names ($(cat "$T/names.out"))"

# The manifests: parsed with PyYAML when there is one, else a structural
# check of the lines that matter.
cat >"$T/k8s.py" <<'EOP'
import sys, os, re
d = sys.argv[1]
docs = {}
try:
    import yaml
    for f in sorted(os.listdir(d)):
        if f.endswith(".yaml"):
            for doc in yaml.safe_load_all(open(os.path.join(d, f))):
                if doc:
                    docs[doc["kind"]] = doc
    parsed = True
except ImportError:
    parsed = False
fails = []
def need(cond, what):
    if not cond:
        fails.append(what)
if not parsed:
    # no PyYAML: tabs are illegal in YAML, and each file names its kind
    for f in sorted(os.listdir(d)):
        if f.endswith(".yaml"):
            t = open(os.path.join(d, f)).read()
            need("\t" not in t, f + ": no tabs")
            m = re.search(r"^kind: (\w+)$", t, re.M)
            need(m is not None, f + ": has a kind")
            if m:
                docs[m.group(1)] = t
    for k in ("ConfigMap", "StatefulSet", "Service", "PodMonitor", "Job"):
        need(k in docs, "kind " + k)
    t = docs.get("StatefulSet", "")
    need("ARRIVALD_SHARD" in t and "POD_NAME" in t, "statefulset: shard env")
    need("mountPath: /etc/arrivald" in t, "statefulset: config mount")
    need("containerPort: 9464" in t, "statefulset: metrics port")
    need("completionMode: Indexed" in docs.get("Job", ""), "job: Indexed")
    need("clusterIP: None" in docs.get("Service", ""), "service: headless")
    print("structural check only (no PyYAML)")
else:
    for k in ("ConfigMap", "StatefulSet", "Service", "PodMonitor", "Job"):
        need(k in docs, "kind " + k)
    cm = docs["ConfigMap"]
    conf = cm["data"]["arrivald.conf"]
    need("metrics" in conf and ":9464" in conf, "configmap: metrics.listen on 9464")
    need('/run/arrivald/control.sock' in conf, "configmap: control socket in /run/arrivald")
    def pod_checks(name, pod, wrapper_env):
        spec = pod["spec"]
        c = spec["containers"][0]
        script = " ".join(c.get("command", []) + c.get("args", []))
        need("ARRIVALD_SHARD" in script and wrapper_env in script,
             name + ": command sets ARRIVALD_SHARD from " + wrapper_env)
        env = {e["name"]: e for e in c.get("env", [])}
        need("SHARDS" in env, name + ": SHARDS env")
        vols = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        m = mounts.get("/etc/arrivald")
        need(m is not None and vols.get(m["name"], {}).get("configMap", {}).get("name")
             == cm["metadata"]["name"], name + ": config mounted from the ConfigMap")
        need("/run/arrivald" in mounts and "/var/lib/arrivald" in mounts,
             name + ": writable /run/arrivald and /var/lib/arrivald")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        need(ports.get("metrics") == 9464, name + ": metrics port 9464")
        ann = pod["metadata"].get("annotations", {})
        need(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9464",
             name + ": scrape annotations")
        sc = c.get("securityContext", {})
        need(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
             and sc.get("capabilities", {}).get("drop") == ["ALL"], name + ": hardened")
        return env
    ss = docs["StatefulSet"]
    env = pod_checks("statefulset", ss["spec"]["template"], "POD_NAME")
    need(env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
         == "metadata.name", "statefulset: POD_NAME from metadata.name")
    need(str(env.get("SHARDS", {}).get("value")) == str(ss["spec"]["replicas"]),
         "statefulset: SHARDS equals replicas")
    need(ss["spec"]["serviceName"] == docs["Service"]["metadata"]["name"],
         "statefulset: serviceName is the headless Service")
    sel = ss["spec"]["selector"]["matchLabels"]
    need(all(ss["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items()),
         "statefulset: selector matches the pod labels")
    svc = docs["Service"]
    need(svc["spec"].get("clusterIP") == "None", "service: headless")
    need(svc["spec"]["selector"] == sel, "service: selects the shards")
    need(any(p.get("port") == 9464 for p in svc["spec"]["ports"]), "service: metrics port")
    pm = docs["PodMonitor"]
    need(pm["apiVersion"].startswith("monitoring.coreos.com/"), "podmonitor: operator API")
    need(pm["spec"]["selector"]["matchLabels"] == sel, "podmonitor: selects the shards")
    need(any(e.get("port") == "metrics" for e in pm["spec"]["podMetricsEndpoints"]),
         "podmonitor: scrapes the metrics port by name")
    job = docs["Job"]
    need(job["spec"].get("completionMode") == "Indexed", "job: Indexed")
    env = pod_checks("job", job["spec"]["template"], "JOB_COMPLETION_INDEX")
    need(str(env.get("SHARDS", {}).get("value")) == str(job["spec"]["completions"])
         == str(job["spec"]["parallelism"]), "job: SHARDS equals completions and parallelism")
    # the wrappers, for the shell test to run
    for name, doc in (("statefulset", ss), ("job", job)):
        c = doc["spec"]["template"]["spec"]["containers"][0]
        with open(os.path.join(sys.argv[2], name + ".sh"), "w") as f:
            f.write(c["command"][-1])
for f in fails:
    print("missing: " + f)
sys.exit(1 if fails else 0)
EOP
python3 "$T/k8s.py" "$k8s" "$T" >"$T/k8s.out" 2>&1
rc=$?
[ $rc -ne 0 ] && diag "$(cat "$T/k8s.out")"
ok $rc "Kubernetes manifests: kinds, shard env, config mount, ports, scraping, hardening"

# Run the wrappers with a stand-in arrivald that reports what it was given.
if [ -f "$T/statefulset.sh" ]; then
	mkdir -p "$T/bin"
	printf '#!/bin/sh\necho "$ARRIVALD_SHARD $*"\n' >"$T/bin/arrivald"
	chmod +x "$T/bin/arrivald"
	out=$(PATH=$T/bin:$PATH POD_NAME=arrivald-3 SHARDS=4 sh "$T/statefulset.sh")
	check "statefulset wrapper: pod arrivald-3 of 4 runs shard 3/4 ($out)" \
	    test "$out" = "3/4 -c /etc/arrivald/arrivald.conf"
	out=$(PATH=$T/bin:$PATH POD_NAME=load-gen-12 SHARDS=16 sh "$T/statefulset.sh")
	check "statefulset wrapper: a hyphenated name, ordinal 12 ($out)" \
	    test "$out" = "12/16 -c /etc/arrivald/arrivald.conf"
	PATH=$T/bin:$PATH POD_NAME=arrivald SHARDS=4 sh "$T/statefulset.sh" >/dev/null 2>&1
	rc=$?
	check "statefulset wrapper: refuses a name without an ordinal" test $rc -ne 0
	out=$(PATH=$T/bin:$PATH JOB_COMPLETION_INDEX=2 SHARDS=4 DURATION=600 sh "$T/job.sh")
	check "job wrapper: index 2 of 4 runs shard 2/4 for 600 s ($out)" \
	    test "$out" = "2/4 -c /etc/arrivald/arrivald.conf -d 600 -o /var/lib/arrivald"
	(unset JOB_COMPLETION_INDEX; PATH=$T/bin:$PATH SHARDS=4 DURATION=600 sh "$T/job.sh") >/dev/null 2>&1
	rc=$?
	check "job wrapper: refuses to run outside an Indexed Job" test $rc -ne 0
fi

# The ConfigMap's configuration is one the daemon accepts (when built).
if [ -x "$ARRIVALD" ] && "$ARRIVALD" -V >/dev/null 2>&1; then
	python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["arrivald.conf"], end="")' \
	    "$k8s/configmap.yaml" >"$T/arrivald.conf" 2>/dev/null &&
	check "the ConfigMap's arrivald.conf passes arrivald -t" \
	    sh -c "'$ARRIVALD' -t -c '$T/arrivald.conf' 2>'$T/t.err' || { cat '$T/t.err' >&2; false; }"
fi

# docs/scale-out.md exists and covers what it must
doc=$top_srcdir/docs/scale-out.md
for w in superposition "rate/K" "Q/Z" "arrivald@" "phase"; do
	check "docs/scale-out.md covers $w" grep -qi -- "$w" "$doc"
done

done_testing
