/**
 * Go's text/tabwriter, which podman (containers/common pkg/report) puts behind every table:
 * `tabwriter.NewWriter(w, 12, 2, 2, ' ', StripEscape)`. Cells end at a tab; the last cell of a
 * line is never padded; a column is as wide as its widest cell plus padding, at least minWidth,
 * computed over each run of consecutive lines that have a cell in that column.
 */

export interface TabwriterOptions {
  /** Minimal cell width including padding. */
  minWidth: number;
  /** Only matters when padChar is a tab. */
  tabWidth: number;
  /** Added to the widest cell of a column. */
  padding: number;
  padChar: string;
  alignRight?: boolean;
  /** Prints `|` between columns, as tabwriter.Debug does. */
  debug?: boolean;
  discardEmptyColumns?: boolean;
}

/** The settings podman's report package uses. */
export const PODMAN_TABWRITER: Readonly<TabwriterOptions> = Object.freeze({ minWidth: 12, tabWidth: 2, padding: 2, padChar: ' ' });

interface Cell {
  text: string;
  width: number;
}

function cell(text: string): Cell {
  let width = 0;
  for (const _ of text) width++;
  return { text, width };
}

/** Splits text into lines of cells the way tabwriter buffers it before a flush. */
function splitLines(text: string): Cell[][] {
  const parts = text.replace(/\f/g, '\n').split('\n');
  return parts.map((part, i) => {
    const cells = part.split(/[\t\v]/);
    // The text after the last newline is only terminated as a cell when it is not empty.
    if (i === parts.length - 1 && cells[cells.length - 1] === '') cells.pop();
    return cells.map(cell);
  });
}

class Formatter {
  private readonly out: string[] = [];
  private readonly widths: number[] = [];

  constructor(
    private readonly lines: Cell[][],
    private readonly o: TabwriterOptions,
  ) {}

  run(): string {
    this.format(0, this.lines.length);
    return this.out.join('');
  }

  private padding(textWidth: number, cellWidth: number): string {
    if (this.o.padChar === '\t') {
      // With tab padding the cell width is a multiple of tabWidth and padding is whole tabs.
      const tw = this.o.tabWidth;
      if (tw === 0) return '';
      const w = Math.ceil(cellWidth / tw) * tw;
      return '\t'.repeat(Math.ceil((w - textWidth) / tw));
    }
    return this.o.padChar.repeat(Math.max(0, cellWidth - textWidth));
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i]!;
      line.forEach((c, j) => {
        if (j > 0 && this.o.debug) this.out.push('|');
        const padded = j < this.widths.length;
        if (c.width === 0) {
          if (padded) this.out.push(this.padding(0, this.widths[j]!));
        } else if (this.o.alignRight && padded) {
          this.out.push(this.padding(c.width, this.widths[j]!), c.text);
        } else {
          this.out.push(c.text);
          if (padded) this.out.push(this.padding(c.width, this.widths[j]!));
        }
      });
      if (i + 1 < this.lines.length) this.out.push('\n');
    }
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let at = line0; at < line1; at++) {
      if (column >= this.lines[at]!.length - 1) continue;
      // A cell in this column starts a block: print the lines before it, then size the block.
      this.writeLines(line0, at);
      line0 = at;
      let width = this.o.minWidth;
      let discardable = true;
      for (; at < line1; at++) {
        const line = this.lines[at]!;
        if (column >= line.length - 1) break;
        const c = line[column]!;
        width = Math.max(width, c.width + this.o.padding);
        if (c.width > 0) discardable = false;
      }
      if (discardable && this.o.discardEmptyColumns) width = 0;
      this.widths.push(width);
      this.format(line0, at);
      this.widths.pop();
      line0 = at;
    }
    this.writeLines(line0, line1);
  }
}

/** Aligns tab-separated text as Go's tabwriter does after a Flush. */
export function tabwrite(text: string, options: Partial<TabwriterOptions> = {}): string {
  return new Formatter(splitLines(text), { ...PODMAN_TABWRITER, ...options }).run();
}

/**
 * A table as podman prints it: the header row (omitted when `headers` is empty) and the rows,
 * each line ending in a newline, columns aligned with podman's tabwriter settings.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], options: Partial<TabwriterOptions> = {}): string {
  const lines = headers.length > 0 ? [headers, ...rows] : rows;
  return tabwrite(lines.map((cells) => `${cells.join('\t')}\n`).join(''), options);
}
