/**
 * Turn the panel's export data into file bytes: PNG arrives as a base64 data URL, CSV and JSON as text.
 * Pure (no vscode).
 */
import type { ExportKind } from '../protocol';

const PNG_PREFIX = 'data:image/png;base64,';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function exportBytes(kind: ExportKind, data: string): Uint8Array {
  if (typeof data !== 'string') throw new Error(`NormScope export: ${kind} data must be a string, got ${typeof data}`);
  if (kind === 'csv' || kind === 'json') return new TextEncoder().encode(data);
  if (kind !== 'png') throw new Error(`NormScope export: unknown export kind '${String(kind)}' (expected png, csv or json)`);
  if (!data.startsWith(PNG_PREFIX))
    throw new Error(`NormScope export: PNG data must be a '${PNG_PREFIX}…' URL, got '${data.slice(0, 30)}…'`);
  const bytes = Buffer.from(data.slice(PNG_PREFIX.length), 'base64');
  if (bytes.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error('NormScope export: the PNG data does not decode to a PNG image');
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Save-dialog filter for each kind. */
export const EXPORT_FILTERS: Record<ExportKind, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  csv: { 'CSV (one row per layer and step)': ['csv'] },
  json: { 'NormScope run report': ['json'] },
};
