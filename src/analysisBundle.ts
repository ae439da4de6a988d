/**
 * Entry of dist/analysis.js: src/analysis and src/refactor with the TypeScript compiler they parse with.
 * The extension loads it on the first analysis, not on activation, through src/editor/analysis.ts; anything
 * exported here is reachable there as `analysis().name` with no further wiring.
 */
export * from './analysis/layerCalls';
export * from './analysis/lint';
export * from './analysis/specSteps';
export * from './refactor';
export * from './analysis/argumentText';
export * from './analysis/builderFunctions';
export * from './analysis/callSites';
export * from './analysis/specArgs';
export { FACTORY_NAMES } from './analysis/modelDefinitions';
export * from './analysis/trainingCalls';
