/**
 * A text test that needs no compiler, run before parsing: a file with none of these words holds nothing the
 * analysis recognises — tfjs imports (tfAliases.isTfModule), the global `tf` namespace, or a `createModel` /
 * `buildModel` factory (modelDefinitions.FACTORY_NAMES). The editor uses it so that opening an unrelated
 * JS/TS file never loads the TypeScript compiler. (No `typescript` import here: it is bundled into extension.js.)
 */
const MODEL_WORDS = /@tensorflow\/tfjs|\btf\b|\b(?:createModel|buildModel)\b/;

export function mayDefineModel(text: string): boolean {
  return MODEL_WORDS.test(text);
}
