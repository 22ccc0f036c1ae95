import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** How a command's answer reads as a table: the columns of a list, as dotted paths. */
export interface View {
  columns?: string[];
  /** The field holding the list's rows (a page's `data` unless named). */
  list?: string;
}

function valueAt(item: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), item);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    // A scope or owner reads better as its values than as JSON: {"type":"resource","resource_id":"lkc-1"} → resource lkc-1.
    return Object.values(value as Record<string, unknown>)
      .map(cell)
      .filter(Boolean)
      .join(' ');
  }
  return String(value);
}

function columnsOf(items: unknown[]): string[] {
  const columns: string[] = [];
  for (const item of items) {
    if (item && typeof item === 'object') for (const key of Object.keys(item)) if (!columns.includes(key)) columns.push(key);
  }
  return columns;
}

function alignedRows(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A list page as aligned columns; one object as aligned `field  value` lines. */
function renderTable(body: unknown, view: View = {}): string {
  const rows = body && typeof body === 'object' ? (body as Record<string, unknown>)[view.list ?? 'data'] : undefined;
  const list = Array.isArray(rows) ? (rows as unknown[]) : undefined;
  if (list) {
    const columns = view.columns ?? columnsOf(list);
    if (list.length === 0) return '(none)\n';
    const header = columns.map((column) => column.toUpperCase().replaceAll('.', '_'));
    return `${alignedRows([header, ...list.map((item) => columns.map((column) => cell(valueAt(item, column))))])}\n`;
  }
  if (body && typeof body === 'object') {
    const entries = Object.entries(body as Record<string, unknown>);
    if (entries.length === 0) return '';
    return `${alignedRows(entries.map(([key, value]) => [key, typeof value === 'object' && value !== null && !Array.isArray(value) ? JSON.stringify(value) : Array.isArray(value) ? value.map(cell).join(', ') : cell(value)]))}\n`;
  }
  return `${cell(body)}\n`;
}

/**
 * Renders an API answer. `json` is the service's own text, unchanged (so `jq` sees exactly what
 * the API sent); the other formats are derived from it.
 */
export function render(text: string, format: OutputFormat, view?: View): string {
  if (format === 'json') return text.endsWith('\n') ? text : `${text}\n`;
  const body: unknown = JSON.parse(text);
  if (format === 'yaml') return stringify(body);
  return renderTable(body, view);
}
