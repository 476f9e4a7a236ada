/** Output formatting as podman does it: sizes and ages, Go templates, aligned tables. */
export { formatOutput, type FormatOptions } from './format.js';
export { PODMAN_TABWRITER, renderTable, tabwrite, type TabwriterOptions } from './table.js';
export {
  Template,
  camelSplit,
  defaultHeader,
  enforceRange,
  hasTable,
  isJsonFormat,
  normalizeFormat,
  parseTemplate,
  renderReport,
  renderTemplate,
  type ReportOptions,
  type TemplateOptions,
} from './template.js';
export { bytesSize, createdAgo, goHumanSize, goTime, humanDuration, humanSize, humanSizeWithPrecision } from './units.js';
