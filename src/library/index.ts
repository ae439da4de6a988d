/**
 * Entry of the npm package's library (dist/index.js, `require('normscope')`): the tfjs callback that writes a run log
 * from the user's own `model.fit`. `@tensorflow/tfjs` stays outside the bundle, so this code runs on the user's own
 * tf (its engine, backend and layer classes). Importing it starts recording where layers are created and which model
 * is training.
 */
import * as tf from '@tensorflow/tfjs';
import { normscopeCallback as callback, trackTraining } from './callback';
import { recordCreationSites } from './creationSites';
import type * as Api from './normscope';

recordCreationSites(tf);
trackTraining(tf);

export const normscopeCallback: typeof Api.normscopeCallback = callback;
export type { NormscopeCallback, NormscopeCallbackOptions } from './normscope';
