/**
 * The run-log format (docs/run-log.md), one definition for the reader, the follower and the tfjs writer; the Python
 * writer (python/normscope/runlog/writer.py) follows the same document. Binary files are sequences of records: a
 * little-endian u32 payload length, the CRC-32 of the payload, the payload. A record whose bytes are not all there,
 * or whose CRC does not match, ends the readable part of its file (a job killed mid-write leaves such a tail).
 */
import { crc32 } from 'node:zlib';
import type { LayerInfo, StepSample } from '../protocol';

export const RUN_LOG_FORMAT = 'normscope-run-log';
export const RUN_LOG_VERSION = 1;
export const META_FILE = 'meta.jsonl';
export const LOSS_FILE = 'loss.bin';
export const FRAME_BYTES = 8;
export const SAMPLE_HEAD_BYTES = 32;
export const LOSS_HEAD_BYTES = 12;
/** A length beyond this is corruption, not a record (a sample of 100,000 layers is 8.8 MB). */
const MAX_PAYLOAD = 1 << 30;

/** `samples-000001.bin` (recent) and `history-000001.bin` (aged, decimated) hold sample records. */
export const SAMPLE_FILE = /^(samples|history)-(\d+)\.bin$/;

/** One sampled step as the log holds it: `values` are rows × statNames float32 (rows: the layers known then). */
export interface LogSample extends Omit<StepSample, 'values'> {
  /** Sequence number of the sample in its run (0, 1, 2 …): decimation keeps every stride-th. */
  seq: number;
  values: Float32Array;
}

/** Losses of consecutive steps from `firstStep` on. */
export interface LossBlock {
  firstStep: number;
  values: Float32Array;
}

/** The first line of meta.jsonl. */
export interface RunRecord {
  type: 'run';
  format: string;
  version: number;
  engine: 'pytorch' | 'tfjs';
  /** The training script, relative to `projectRoot` (POSIX separators), or absolute when outside it. */
  file: string | null;
  /** The project root on the machine that wrote the log. */
  projectRoot: string;
  cwd: string;
  host: string;
  pid: number;
  /** ISO 8601 with the writer's UTC offset. */
  started: string;
  /** Measure every Nth optimizer step. */
  every: number;
  worldSize: number;
  statNames: string[];
  budgetBytes: number;
  versions: Record<string, string>;
  batchSize?: number;
  learningRate?: number;
  [key: string]: unknown;
}

export type MetaRecord =
  | RunRecord
  | { type: 'layers'; seq: number; layers: LayerInfo[] }
  | { type: 'info'; [key: string]: unknown }
  | { type: 'skipped'; step: number; reason: string }
  | RunEventRecord
  | { type: 'stride'; stride: number; seq: number }
  | RunEndRecord;

/** Something the writer noticed as it happened (docs/run-log.md "Events"); the samples around it are kept. */
export interface RunEventRecord {
  type: 'event';
  seq: number;
  step: number;
  kind: string;
  /** Row in the layer table, null for the loss. */
  layer: number | null;
  value: number | null;
  /** False when the protection budget was spent: the samples around it may be decimated. */
  kept: boolean;
}

export interface RunEndRecord {
  type: 'end';
  /** 'closed' (close() or the end of training), 'exception', 'exit' (the process exited without close()). */
  reason: string;
  message?: string;
  time: string;
  samples: number;
  steps: number | null;
}

/** `payload` with its frame. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, FRAME_BYTES);
  return out;
}

export function encodeSample(
  sample: { seq: number; step: number; loss: number; stepMs: number },
  rows: number,
  values: Float32Array,
): Buffer {
  const payload = Buffer.allocUnsafe(SAMPLE_HEAD_BYTES + values.byteLength);
  payload.writeDoubleLE(sample.seq, 0);
  payload.writeDoubleLE(sample.step, 8);
  payload.writeDoubleLE(sample.loss, 16);
  payload.writeFloatLE(sample.stepMs, 24);
  payload.writeUInt32LE(rows, 28);
  payload.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), SAMPLE_HEAD_BYTES);
  return frame(payload);
}

export function encodeLoss(firstStep: number, values: Float32Array): Buffer {
  const payload = Buffer.allocUnsafe(LOSS_HEAD_BYTES + values.byteLength);
  payload.writeDoubleLE(firstStep, 0);
  payload.writeUInt32LE(values.length, 8);
  payload.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), LOSS_HEAD_BYTES);
  return frame(payload);
}

/** A whole record's payload: `buf[start, end)`. */
export interface RecordSpan {
  start: number;
  end: number;
}

/**
 * The whole records of `buf` from `offset` on, and where the readable part ends (the next record starts there once
 * it is written). Stops at a record that is not all there or fails its CRC.
 */
export function readRecords(buf: Buffer, offset = 0): { records: RecordSpan[]; next: number } {
  const records: RecordSpan[] = [];
  let at = offset;
  while (at + FRAME_BYTES <= buf.length) {
    const length = buf.readUInt32LE(at);
    const end = at + FRAME_BYTES + length;
    if (length > MAX_PAYLOAD || end > buf.length) break;
    if (crc32(buf.subarray(at + FRAME_BYTES, end)) !== buf.readUInt32LE(at + 4)) break;
    records.push({ start: at + FRAME_BYTES, end });
    at = end;
  }
  return { records, next: at };
}

/** A sample record's fields; null when its payload is malformed for `width` statistics. */
export function decodeSample(buf: Buffer, span: RecordSpan, width: number): LogSample | null {
  const { start, end } = span;
  if (end - start < SAMPLE_HEAD_BYTES) return null;
  const rows = buf.readUInt32LE(start + 28);
  if (end - start !== SAMPLE_HEAD_BYTES + 4 * rows * width) return null;
  const values = new Float32Array(rows * width);
  new Uint8Array(values.buffer).set(buf.subarray(start + SAMPLE_HEAD_BYTES, end));
  return {
    seq: buf.readDoubleLE(start),
    step: buf.readDoubleLE(start + 8),
    loss: buf.readDoubleLE(start + 16),
    stepMs: buf.readFloatLE(start + 24),
    values,
  };
}

/** The sequence number of a sample record, without decoding its values. */
export function sampleSeq(buf: Buffer, span: RecordSpan): number {
  return buf.readDoubleLE(span.start);
}

export function decodeLoss(buf: Buffer, span: RecordSpan): LossBlock | null {
  const { start, end } = span;
  if (end - start < LOSS_HEAD_BYTES) return null;
  const count = buf.readUInt32LE(start + 8);
  if (end - start !== LOSS_HEAD_BYTES + 4 * count) return null;
  const values = new Float32Array(count);
  new Uint8Array(values.buffer).set(buf.subarray(start + LOSS_HEAD_BYTES, end));
  return { firstStep: buf.readDoubleLE(start), values };
}

/**
 * The complete lines of meta.jsonl text from `offset` on (a line without its newline is still being written, or was
 * cut by a kill: not yet), and where the next line starts.
 */
export function readLines(text: Buffer, offset = 0): { lines: string[]; next: number } {
  const lines: string[] = [];
  let at = offset;
  for (;;) {
    const nl = text.indexOf(10, at);
    if (nl < 0) break;
    lines.push(text.toString('utf8', at, nl));
    at = nl + 1;
  }
  return { lines, next: at };
}
