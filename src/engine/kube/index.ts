// engine/kube: Kubernetes YAML from berth's containers, pods and volumes, and back.
export { generateKube, type KubeGenerateOptions } from './generate.js';
