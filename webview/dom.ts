/**
 * The only way the panel builds DOM. Strings always become text nodes or attribute values —
 * never HTML — so a layer named `<img src=x onerror=alert(1)>` shows literally.
 */
export type Child = Node | string | number | null | undefined | false;

export interface ElementProps {
  className?: string;
  testId?: string;
  id?: string;
  title?: string;
  /** Other attributes (aria-*, role, data-*, type, ...), set with setAttribute. */
  attrs?: Record<string, string | number | boolean | undefined>;
  onClick?: (event: MouseEvent) => void;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.testId) node.dataset.testid = props.testId;
  if (props.id) node.id = props.id;
  if (props.title !== undefined) node.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  if (props.onClick) node.addEventListener('click', props.onClick as EventListener);
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replace all children (text stays text). */
export function setChildren(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

export function button(label: string, testId: string, onClick: () => void, title?: string): HTMLButtonElement {
  return el('button', { testId, title, attrs: { type: 'button' }, onClick: () => onClick() }, label);
}

/** A panel table: a header row of column names, then `body` (a tbody the view fills). */
export function layerTable(headers: string[], body: HTMLTableSectionElement): HTMLTableElement {
  const head = el('tr', {}, ...headers.map((h) => el('th', { attrs: { scope: 'col' } }, h)));
  return el('table', { className: 'layer-table' }, el('thead', {}, head), body);
}

/** Format a statistic for display: short, with exponent for tiny or huge magnitudes. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
