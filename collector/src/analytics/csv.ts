/** One CSV cell value; null is written as an empty cell. */
export type Cell = string | number | boolean | null;

/** A table to write as CSV: a header row and data rows of the same width. */
export interface Table {
  columns: string[];
  rows: Cell[][];
}

/**
 * Flattens nested objects into `[path, value]` pairs with dotted paths, such
 * as `duration.medianMs`, in key order.
 */
export function flatten(value: object, prefix = ''): Array<[string, Cell]> {
  const pairs: Array<[string, Cell]> = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (child !== null && typeof child === 'object') pairs.push(...flatten(child, path));
    else pairs.push([path, child as Cell]);
  }
  return pairs;
}

/**
 * Characters that make a spreadsheet read a cell as a formula. A text cell
 * that starts with one gets a leading apostrophe (the OWASP advice for CSV
 * injection), so an id such as `=HYPERLINK(...)` stays text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Formats one cell per RFC 4180: quoted when it holds a comma, quote or line break. */
function formatCell(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell !== 'string') return String(cell);

  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes a table as CSV text with CRLF line ends and a header row. */
export function toCsv(table: Table): string {
  const lines = [table.columns, ...table.rows].map((row) => row.map(formatCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
