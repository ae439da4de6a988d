/**
 * The panel header at the widths it really gets (it opens beside the editor): every field fully visible, i.e.
 * shown, not cut by an ellipsis or by its line, inside the panel, and not overlapping another field.
 */
import type { Page } from 'playwright-core';

export const HEADER_FIELDS = ['run-file', 'run-status', 'backend', 'step-time', 'export-csv', 'export-json', 'synthetic-notice'];
export const NARROW_WIDTHS = [360, 420, 520, 700];

/** Problems with the header fields at the page's current width; empty when all are fully visible. */
export async function headerProblems(page: Page): Promise<string[]> {
  return page.evaluate((ids) => {
    const problems: string[] = [];
    const rects: { id: string; r: DOMRect }[] = [];
    for (const id of ids) {
      const el = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
      if (!el) {
        problems.push(`${id}: missing`);
        continue;
      }
      const r = el.getBoundingClientRect();
      if (el.offsetParent === null || r.width === 0 || r.height === 0) {
        problems.push(`${id}: not shown`);
        continue;
      }
      if (!el.textContent?.trim()) problems.push(`${id}: empty`);
      if (el.scrollWidth > el.clientWidth + 1) problems.push(`${id}: text cut (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
      if (r.left < -0.5 || r.right > window.innerWidth + 0.5)
        problems.push(`${id}: outside the panel (${Math.round(r.left)}..${Math.round(r.right)} of ${window.innerWidth} px)`);
      // Clipped by an ancestor that hides overflow (the header lines did, before they wrapped).
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.overflow === 'visible' && style.overflowX === 'visible' && style.overflowY === 'visible') continue;
        const pr = p.getBoundingClientRect();
        if (r.left < pr.left - 0.5 || r.right > pr.right + 0.5 || r.top < pr.top - 0.5 || r.bottom > pr.bottom + 0.5) {
          problems.push(`${id}: clipped by its ${p.className || p.tagName} container`);
          break;
        }
      }
      rects.push({ id, r });
    }
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i].r;
        const b = rects[j].r;
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
          problems.push(`${rects[i].id} overlaps ${rects[j].id}`);
      }
    }
    return problems;
  }, HEADER_FIELDS);
}
