#!/usr/bin/env bash
# kube: `kube play` + `kube down` of the issue's two-container Pod (a ConfigMap, a Secret, a claim,
#   a hostPort; busybox httpd and a sleeping reader), berth beside podman on the same busybox image;
#   each step timed, and the round. podman 4.3 cannot take the Secret document (it stores it as
#   YAML and reads it back as JSON), so it plays the file without it and reads a secret made once
#   beforehand; 4.3 also refuses a claim whose volume exists, so the volumes go between its rounds
#   (untimed; berth's too, to keep the rounds alike).
#
#   bash bench/kube.sh     # RUNS=10
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
prepare_berth

TARBALL=$BENCH_TMP/busybox.tar
bash "$REPO_DIR/scripts/make-busybox-rootfs.sh" "$TARBALL"
# podman's containers need their rlimits under this host's hard limits (kube play and a pod's infra take no --ulimit).
podman_limits_conf
# podman's kube play gives no default PATH to an image without one.
IMPORT=(import -q --change 'CMD ["sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$TARBALL" localhost/busybox:latest)

bd=$(bt_new)
bt "$bd" "${IMPORT[@]}" >/dev/null
pm_new
pm "$PM_DIR" "${IMPORT[@]}" >/dev/null
pm_argv "$PM_DIR"
B=("$BERTH" --root "$bd/root" --runroot "$bd/run")
trap '"${B[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true; "${PM[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true; pkill -9 -f -- "$bd/" || true; bench_cleanup' EXIT

secret_doc() {
  cat <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
data: {PASSWORD: czNjcjN0}
stringData: {TOKEN: tok}
---
YAML
}

# kube_file PORT: the ConfigMap, the claim and the Pod.
kube_file() {
  cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {GREETING: hello, index.html: "<h1>from configmap</h1>"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: web-data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  restartPolicy: Never
  containers:
  - name: httpd
    image: localhost/busybox:latest
    command: [sh, -c, 'cp /config/index.html /data/ && exec httpd -f -p 8080 -h /data']
    ports: [{containerPort: 8080, hostPort: $1}]
    volumeMounts: [{name: site, mountPath: /config, readOnly: true}, {name: data, mountPath: /data}]
  - name: reader
    image: localhost/busybox:latest
    command: [sleep, "1000"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: web-config, key: GREETING}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: web-secret, key: PASSWORD}}}
    envFrom: [{secretRef: {name: web-secret}}]
  volumes:
  - {name: site, configMap: {name: web-config}}
  - {name: data, persistentVolumeClaim: {claimName: web-data}}
YAML
}

printf '{"PASSWORD":"czNjcjN0","TOKEN":"dG9r"}' >"$BENCH_TMP/secret.json"
"${PM[@]}" secret create web-secret "$BENCH_TMP/secret.json" >/dev/null

bfile=$BENCH_TMP/berth.yaml pfile=$BENCH_TMP/podman.yaml
round_files() {
  { secret_doc; kube_file "$(free_port)"; } >"$bfile"
  kube_file "$(free_port)" >"$pfile"
}

# Untimed first use (cgroup parents, podman's pause image, lazy directories).
round_files
"${B[@]}" kube play "$bfile" >/dev/null && "${B[@]}" kube down "$bfile" >/dev/null && "${B[@]}" volume rm -af >/dev/null
"${PM[@]}" kube play "$pfile" >/dev/null && "${PM[@]}" kube down "$pfile" >/dev/null && "${PM[@]}" volume rm -af >/dev/null

bp=() bdn=() bt_=() pp=() pdn=() pt=()
for i in $(seq 1 "$RUNS"); do
  round_files
  bp+=("$(time_ms "${B[@]}" kube play "$bfile")")
  bdn+=("$(time_ms "${B[@]}" kube down "$bfile")")
  bt_+=("$(awk -v a="${bp[-1]}" -v b="${bdn[-1]}" 'BEGIN { printf "%.1f", a + b }')")
  "${B[@]}" volume rm -af >/dev/null
  pp+=("$(time_ms "${PM[@]}" kube play "$pfile")")
  pdn+=("$(time_ms "${PM[@]}" kube down "$pfile")")
  pt+=("$(awk -v a="${pp[-1]}" -v b="${pdn[-1]}" 'BEGIN { printf "%.1f", a + b }')")
  "${PM[@]}" volume rm -af >/dev/null
  log "kube round $i/$RUNS: berth ${bt_[-1]} ms, podman ${pt[-1]} ms"
done

echo "== kube: kube play + kube down of the two-container Pod, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth kube play" "${bp[@]}"
summary "podman kube play" "${pp[@]}"
summary "berth kube down" "${bdn[@]}"
summary "podman kube down" "${pdn[@]}"
summary "berth round" "${bt_[@]}"
summary "podman round" "${pt[@]}"
echo "ratio kube play podman/berth  $(ratio "$(median "${pp[@]}")" "$(median "${bp[@]}")")"
echo "ratio kube down podman/berth  $(ratio "$(median "${pdn[@]}")" "$(median "${bdn[@]}")")"
echo "ratio round     podman/berth  $(ratio "$(median "${pt[@]}")" "$(median "${bt_[@]}")")"
