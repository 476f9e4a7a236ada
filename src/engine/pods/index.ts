// engine/pods: podman's pods. A pod is a record (pods/pods.json) and an infra container that holds
// the namespaces its members join; each member's container record names its pod.
export { createPod, parseShare, podExists, type PodCreateOptions } from './create.js';
export { podMemberOptions } from './join.js';
export { listPodRecords, findPod, requirePod, type PodRecord, type SharedNamespace } from './records.js';
export { podState, podViews, type PodState, type PodView } from './state.js';
export { startPod, stopPod, restartPod, killPod, pausePod, unpausePod, removePod, prunePods } from './lifecycle.js';
export { inspectPod, podNetworks } from './inspect.js';
export { POD_CGROUP_PARENT } from './cgroup.js';
