// engine/kube: Kubernetes YAML. `kube play` makes what a kube file describes (pods, secrets, volumes),
// `kube down` removes it again; `kube generate` writes YAML from berth's containers, pods and volumes.
export { playKube, type KubePlayOptions, type KubePlayReport } from './play.js';
export { downKube, type KubeDownReport } from './down.js';
export type { KubeSource } from './play-parse.js';
export { generateKube, type KubeGenerateOptions } from './generate.js';
