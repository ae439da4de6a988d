// Data for the healthy-corpus scripts, written into a temp folder in the formats they read, because this machine
// has no internet (torchvision's MNIST download, wikitext, nanoGPT's prepare.py). Learnable on purpose: a model that
// cannot learn its data is not the healthy run the corpus asserts. Deterministic (seeded), so runs repeat.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { seededRandom as random } from '../../src/worker/training/seed';

type Stroke = [number, number, number, number];

/** Three strokes per class (x0, y0, x1, y1), so the classes differ the way digits do. */
function digitStrokes(rand: () => number): Stroke[][] {
  const point = () => 5 + rand() * 18;
  return Array.from({ length: 10 }, () => Array.from({ length: 3 }, (): Stroke => [point(), point(), point(), point()]));
}

/**
 * One handwritten-looking digit, 28×28 bytes on a black background as MNIST's: its class's strokes with every end
 * moved by up to 3 pixels, a pen 1.2–2.2 pixels wide with soft edges, the whole shifted by up to 2 pixels. Real
 * digits vary this much within a class; identical templates would leave most of a network's units nothing to tell.
 */
function drawDigit(strokes: Stroke[], rand: () => number, out: Uint8Array, at: number): void {
  const jitter = () => rand() * 6 - 3;
  const [dx, dy] = [rand() * 4 - 2, rand() * 4 - 2];
  const pen = 1.2 + rand();
  const moved = strokes.map(([x0, y0, x1, y1]) => [x0 + jitter() + dx, y0 + jitter() + dy, x1 + jitter() + dx, y1 + jitter() + dy]);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      let ink = 0;
      for (const [x0, y0, x1, y1] of moved) {
        const [vx, vy] = [x1 - x0, y1 - y0];
        const t = Math.max(0, Math.min(1, ((x - x0) * vx + (y - y0) * vy) / (vx * vx + vy * vy || 1)));
        const d = Math.hypot(x - x0 - t * vx, y - y0 - t * vy);
        ink = Math.max(ink, Math.min(1, Math.max(0, pen + 1 - d)));
      }
      out[at + y * 28 + x] = Math.round(ink * 255);
    }
}

/** The IDX file torchvision's MNIST reads: big-endian magic (0x0800 | dims), the dimensions, then the bytes. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/**
 * `<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`: torchvision finds the raw files present and
 * does not download. Digits are drawn per example (`drawDigit`).
 */
export function writeMnist(root: string, train: number, test: number): void {
  const rand = random(28);
  const classes = digitStrokes(rand);
  const raw = path.join(root, 'MNIST', 'raw');
  fs.mkdirSync(raw, { recursive: true });
  for (const [prefix, n] of [
    ['train', train],
    ['t10k', test],
  ] as const) {
    const images = new Uint8Array(n * 784);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    labels.forEach((label, i) => drawDigit(classes[label], rand, images, i * 784));
    fs.writeFileSync(path.join(raw, `${prefix}-images-idx3-ubyte`), idx([n, 28, 28], images));
    fs.writeFileSync(path.join(raw, `${prefix}-labels-idx1-ubyte`), idx([n], labels));
  }
}

const NOUNS = ['cat', 'dog', 'bird', 'tree', 'house', 'river', 'car', 'book', 'child', 'song', 'city', 'road'];
const VERBS = ['sees', 'likes', 'finds', 'follows', 'reads', 'crosses', 'hears', 'paints'];
const ADJECTIVES = ['red', 'small', 'old', 'quiet', 'bright', 'long', 'green', 'happy'];

/** Sentences of a tiny grammar ("the old dog follows a red car ."): predictable words, learnable by a small LM. */
export function sentences(count: number, seed: number): string[] {
  const rand = random(seed);
  const pick = (words: string[]) => words[Math.floor(rand() * words.length)];
  const phrase = () => `${rand() < 0.5 ? 'the' : 'a'} ${rand() < 0.5 ? `${pick(ADJECTIVES)} ` : ''}${pick(NOUNS)}`;
  return Array.from({ length: count }, () => `${phrase()} ${pick(VERBS)} ${phrase()} .`);
}

/** The word-language-model's corpus folder: train.txt, valid.txt, test.txt, one sentence a line. */
export function writeTextCorpus(dir: string, trainLines: number): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'train.txt'), sentences(trainLines, 1).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'valid.txt'), sentences(Math.ceil(trainLines / 10), 2).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'test.txt'), sentences(Math.ceil(trainLines / 10), 3).join('\n') + '\n');
}

/**
 * nanoGPT's `data/<name>/`: train.bin and val.bin as uint16 token ids (characters of the sentences) and meta.pkl
 * with the vocabulary size — a protocol-0 pickle of {'vocab_size': n}, which train.py reads for the model's size.
 */
export function writeNanoGptData(dir: string, characters: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const text = sentences(Math.ceil(characters / 30), 4).join('\n');
  const vocab = [...new Set(text)].sort();
  const encode = (s: string) => Uint16Array.from(s, (c) => vocab.indexOf(c));
  const split = Math.floor(text.length * 0.9);
  fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.from(encode(text.slice(0, split)).buffer));
  fs.writeFileSync(path.join(dir, 'val.bin'), Buffer.from(encode(text.slice(split)).buffer));
  fs.writeFileSync(path.join(dir, 'meta.pkl'), `(dp0\nVvocab_size\np1\nI${vocab.length}\ns.`, 'latin1');
}

/** A PNG (8-bit RGB, no filter) from `pixels` (width × height × 3 bytes). */
function png(width: number, height: number, pixels: Uint8Array): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * An unpaired image-to-image dataset as PyTorch-GAN's ImageDataset reads it, `<root>/{train,test}/{A,B}/*.png`:
 * domain A smooth colour gradients, domain B the same with stripes, so there is a translation to learn.
 */
export function writeImagePairs(root: string, count: number, size: number): void {
  const rand = random(7);
  for (const mode of ['train', 'test'])
    for (const domain of ['A', 'B']) {
      const dir = path.join(root, mode, domain);
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < count; i++) {
        const [r, g, b] = [rand(), rand(), rand()];
        const pixels = new Uint8Array(size * size * 3);
        for (let y = 0; y < size; y++)
          for (let x = 0; x < size; x++) {
            const stripe = domain === 'B' && Math.floor(x / 4) % 2 === 0 ? 0.5 : 1;
            const shade = (0.3 + (0.7 * (x + y)) / (2 * size)) * stripe;
            pixels.set([r * 255 * shade, g * 255 * shade, b * 255 * shade], (y * size + x) * 3);
          }
        fs.writeFileSync(path.join(dir, `${i}.png`), png(size, size, pixels));
      }
    }
}
