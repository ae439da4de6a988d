// Re-exports the host's WorkerClient as a file of its own, so scripts/measure-supervision.mjs can load it.
export { WorkerClient } from '../../src/runner/workerClient';
