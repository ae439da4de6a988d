/**
 * Loads a tfjs Layers `model.json` and its weight files from disk through a small `tf.io`
 * IOHandler (tfjs's own file:// handler lives in tfjs-node, which is optional).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../../userCode/errors';
import { errorMessage } from '../../protocol';

/** Reads model.json and concatenates the weight shards it lists, in manifest order. */
export function fileHandler(file: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const text = readText(file);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new UserCodeError('syntax', `not valid JSON: ${errorMessage(e)}`, { file, line: 1, column: 1 });
      }
      if (!json || typeof json !== 'object' || !json.modelTopology) {
        throw new UserCodeError('bad-file', 'has no "modelTopology"; expected a tfjs Layers model.json (tf.LayersModel.save output)', {
          file,
          line: 1,
          column: 1,
        });
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const shard of group.paths) {
          const shardPath = path.resolve(path.dirname(file), shard);
          if (!fs.existsSync(shardPath)) {
            throw new UserCodeError(
              'bad-file',
              `weight file '${shard}' listed in weightsManifest does not exist`,
              locate(text, file, shard),
            );
          }
          buffers.push(fs.readFileSync(shardPath));
        }
        specs.push(...group.weights);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserCodeError('bad-file', `cannot read: ${errorMessage(e)}`, { file });
  }
}

/** Line and column of the first occurrence of `needle` in the JSON text (for error messages). */
export function locate(text: string, file: string, needle: string): { file: string; line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) return { file, line: 1, column: 1 };
  const before = text.slice(0, at).split('\n');
  return { file, line: before.length, column: before[before.length - 1].length + 1 };
}

export async function loadModelJson(file: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(fileHandler(file));
  } catch (e) {
    if (e instanceof UserCodeError) throw e;
    const message = (e as Error).message ?? String(e);
    const unknown = /Unknown layer: (\w+)/.exec(message);
    if (unknown) {
      throw new UserCodeError(
        'unsupported-layer',
        `layer class '${unknown[1]}' is not a tfjs layer NormScope knows; register it with tf.serialization.registerClass or use a built-in layer`,
        locate(readText(file), file, `"${unknown[1]}"`),
      );
    }
    throw new UserCodeError(
      /shape/i.test(message) ? 'shape' : 'bad-file',
      `cannot load the model: ${message}`,
      { file, line: 1, column: 1 },
      (e as Error).stack,
    );
  }
}
