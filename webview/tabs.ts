/**
 * Accessible tabs (WAI-ARIA tabs pattern): ←/→/Home/End move between tabs, the selected tab is
 * the only one in the tab order, hidden panels are `hidden` (so their charts skip redraws).
 */
import { el } from './dom';

export interface TabSpec<Id extends string> {
  id: Id;
  label: string;
  panel: HTMLElement;
}

export class Tabs<Id extends string> {
  readonly list: HTMLElement;
  readonly panels: HTMLElement;
  private readonly buttons = new Map<Id, HTMLButtonElement>();
  private readonly wrappers = new Map<Id, HTMLElement>();
  private current: Id;

  constructor(
    private readonly specs: TabSpec<Id>[],
    private readonly onChange: (id: Id) => void,
  ) {
    this.list = el('div', { className: 'tabs', testId: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Training health views' } });
    this.panels = el('div', { className: 'tab-panels' });
    this.current = specs[0].id;
    for (const spec of specs) {
      const tab = el(
        'button',
        {
          id: `tab-${spec.id}`,
          testId: `tab-${spec.id}`,
          attrs: { type: 'button', role: 'tab', 'aria-controls': `panel-${spec.id}`, 'aria-selected': 'false', tabindex: '-1' },
          onClick: () => this.select(spec.id, true),
        },
        spec.label,
      );
      tab.addEventListener('keydown', (e) => this.key(e));
      const wrapper = el(
        'section',
        {
          id: `panel-${spec.id}`,
          testId: `panel-${spec.id}`,
          attrs: { role: 'tabpanel', 'aria-labelledby': `tab-${spec.id}`, tabindex: '0' },
        },
        spec.panel,
      );
      wrapper.hidden = true;
      this.buttons.set(spec.id, tab);
      this.wrappers.set(spec.id, wrapper);
      this.list.appendChild(tab);
      this.panels.appendChild(wrapper);
    }
    this.select(this.current, false);
  }

  get selected(): Id {
    return this.current;
  }

  /** Show a tab; `notify` calls onChange (not when restoring state). */
  select(id: Id, notify: boolean): void {
    if (!this.buttons.has(id)) return;
    this.current = id;
    for (const [tabId, tab] of this.buttons) {
      const on = tabId === id;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      this.wrappers.get(tabId)!.hidden = !on;
    }
    if (notify) this.onChange(id);
  }

  /** Update a tab's label (e.g. a count of findings). */
  setLabel(id: Id, label: string): void {
    const tab = this.buttons.get(id);
    if (tab && tab.textContent !== label) tab.textContent = label;
  }

  private key(e: KeyboardEvent): void {
    const ids = this.specs.map((s) => s.id);
    const at = ids.indexOf(this.current);
    const next =
      e.key === 'ArrowRight'
        ? ids[(at + 1) % ids.length]
        : e.key === 'ArrowLeft'
          ? ids[(at - 1 + ids.length) % ids.length]
          : e.key === 'Home'
            ? ids[0]
            : e.key === 'End'
              ? ids[ids.length - 1]
              : undefined;
    if (next === undefined) return;
    e.preventDefault();
    this.select(next, true);
    this.buttons.get(next)!.focus();
  }
}
