/** Every static rule, in the order findings are reported for the same line. */
import { bnInRecurrent } from './bnInRecurrent';
import { bnSmallBatch } from './bnSmallBatch';
import type { StaticRule } from './context';
import { l2BeforeNorm } from './l2BeforeNorm';
import { lnOnConv } from './lnOnConv';
import { missingNorm } from './missingNorm';
import { postNorm } from './postNorm';

export const STATIC_RULES: readonly StaticRule[] = [bnSmallBatch, bnInRecurrent, lnOnConv, l2BeforeNorm, postNorm, missingNorm];
export { RuleContext, type LintOptions, type StaticRule } from './context';
