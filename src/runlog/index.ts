/**
 * The run log of a user's own training (docs/run-log.md): one reader for the CLI and the editor, a follower for live
 * runs, the TensorFlow.js writer. Never imports vscode; the editor, CLI, runner and library import it.
 */
export * from './format';
export { readRunLog, runsFolder, listRuns, resolveRunDir, lossByStep, detectorLoss, localRoot, localPath, mapSources } from './read';
export { RunLogError, type RunLog, type RunLogChange } from './scan';
export { followRunLog, type FollowOptions, type RunLogFollower } from './follow';
export { runLogReport, runLogFindings, runNotes, endNote, findingsEnd, type LogReportOptions } from './report';
export { RunLogWriter, type RunLogWriterOptions } from './writer';
