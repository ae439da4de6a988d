/**
 * A run's tensor scope: everything a run makes — tensors, and variables tfjs scopes do not track — is
 * released when it ends, whatever the outcome, so the process stays usable for the next run.
 */
import * as tf from '@tensorflow/tfjs';

function registeredVariables(): Record<string, tf.Variable> {
  return (tf.engine() as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables;
}

/** Opens the run's scope; returns the variables that existed before it, for `endRunScope`. */
export function startRunScope(): Set<string> {
  const variablesBefore = new Set(Object.keys(registeredVariables()));
  tf.engine().startScope();
  return variablesBefore;
}

/** Closes the scope and disposes every variable registered since `startRunScope`. */
export function endRunScope(variablesBefore: Set<string>): void {
  tf.engine().endScope();
  for (const [name, variable] of Object.entries(registeredVariables())) {
    if (!variablesBefore.has(name)) variable.dispose();
  }
}

/** Runs `body` in a run scope. */
export async function inRunScope<T>(body: () => Promise<T>): Promise<T> {
  const variablesBefore = startRunScope();
  try {
    return await body();
  } finally {
    endRunScope(variablesBefore);
  }
}
