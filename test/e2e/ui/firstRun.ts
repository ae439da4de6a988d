/** A new user's first minutes: `npm start`'s demo opens without unrelated prompts. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UiTest } from './index';
import { openFile, waitForWorkbench } from './workbench';

export const firstRunTests: UiTest[] = [
  {
    name: 'npm start demo: a folder inside a git checkout (like examples/) opens without a parent-repository toast',
    demo: true,
    folder: 'examples',
    prepare(workspace) {
      mkdirSync(join(workspace, 'examples'));
      cpSync(join(workspace, 'mlp.js'), join(workspace, 'examples', 'mlp.js'));
      execFileSync('git', ['init', '-q', workspace]);
    },
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'mlp.js');
      await page.locator('.codelens-decoration', { hasText: 'Check normalization' }).first().waitFor({ timeout: 30_000 });
      // The git extension looks for repositories a few seconds after start-up; give it time to (not) complain.
      await page.waitForTimeout(6_000);
      const toasts = await page.locator('.notification-toast').allInnerTexts();
      assert.deepEqual(
        toasts.filter((t) => /git|repositor/i.test(t)),
        [],
        `unrelated prompts: ${toasts.join(' | ')}`,
      );
    },
  },
];
