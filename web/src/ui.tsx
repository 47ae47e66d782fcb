// Small shared pieces: data loading, TLP badges, object links, tables, trees,
// charts and a line diff.
import { ComponentChildren } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { api, ApiError, Summary, Tlp } from './api';
import { href } from './router';

export function useApi<T = any>(path: string | null, dep: any = 0): { data: T | null; error: ApiError | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: !!path });
  const [tick, setTick] = useState(0);
  const last = useRef<string | null>(null);
  useEffect(() => {
    if (!path) { setState({ data: null, error: null, loading: false }); return; }
    let live = true;
    // another path: its data only (no stale page while loading); the same path reloaded: keep showing it
    const same = last.current === path;
    last.current = path;
    setState((s) => ({ data: same ? s.data : null, error: null, loading: true }));
    api<T>(path).then(
      (d) => live && setState({ data: d, error: null, loading: false }),
      (e) => live && setState({ data: null, error: e, loading: false }),
    );
    return () => { live = false; };
  }, [path, tick, dep]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Loader<T>(props: { r: { data: T | null; error: ApiError | null; loading: boolean }; children: (d: T) => ComponentChildren }) {
  const { r } = props;
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <p class="muted" role="status" aria-live="polite">Loading…</p>;
  return <>{props.children(r.data)}</>;
}

export function ErrorBox({ error }: { error: any }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? `${error.message}${error.status ? ` (HTTP ${error.status})` : ''}` : String(error);
  return <p class="error" role="alert">{msg}</p>;
}

const TLP_LABELS: Record<string, string> = {
  clear: 'TLP:CLEAR', white: 'TLP:CLEAR', green: 'TLP:GREEN', amber: 'TLP:AMBER',
  'amber+strict': 'TLP:AMBER+STRICT', red: 'TLP:RED', none: 'no TLP',
};
export const TLP_COLOURS: Record<string, string> = {
  red: '#FF2B2B', amber: '#FFC000', 'amber+strict': '#FFC000', green: '#33FF00', clear: '#FFFFFF', white: '#FFFFFF', none: '#9AA0A6',
};
export const TLP_MARKINGS: Record<string, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

export function tlpLevel(t?: Tlp | string | null): string {
  if (!t) return 'none';
  const l = typeof t === 'string' ? t : t.level;
  return (l || 'none').toLowerCase();
}

/* A TLP 2.0 badge: the level's colour on black, as FIRST prescribes. */
export function TlpBadge({ tlp }: { tlp?: Tlp | string | null }) {
  const l = tlpLevel(tlp);
  const label = (typeof tlp === 'object' && tlp && tlp.label) || TLP_LABELS[l] || 'TLP:' + l.toUpperCase();
  return <span class={'tlp tlp-' + l.replace('+', '-')} title={label}>{label}</span>;
}

export function objHref(id: string) { return href('/object/' + encodeURIComponent(id)); }

export function ObjLink({ s, showType = true }: { s: Summary | null | undefined; showType?: boolean }) {
  if (!s) return <span class="muted">—</span>;
  return (
    <span class="obj">
      <TlpBadge tlp={s.tlp} />
      {showType && <span class={'type type-' + s.type}>{s.type}</span>}
      <a href={objHref(s.id)}>{s.name || s.id}</a>
      {s.revoked && <span class="badge revoked">revoked</span>}
    </span>
  );
}

export function fmtTime(t?: string | null) {
  if (!t) return '—';
  const d = new Date(t);
  if (isNaN(d.getTime())) return t;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

export function Section(props: { title: string; id?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby={props.id ? props.id + '-h' : undefined} id={props.id}>
      <header class="card-h"><h2 id={props.id ? props.id + '-h' : undefined}>{props.title}</h2>{props.actions}</header>
      {props.children}
    </section>
  );
}

export function Empty({ what }: { what: string }) { return <p class="muted">{what}</p>; }

/* Every property of a JSON value, nested, nothing hidden. */
export function Tree({ value, depth = 0 }: { value: any; depth?: number }) {
  if (value === null) return <span class="j-null">null</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span class="muted">[ ]</span>;
    if (value.every((v) => typeof v !== 'object' || v === null))
      return <ul class="j-list">{value.map((v, i) => <li key={i}><Scalar v={v} /></li>)}</ul>;
    return <ol class="j-arr">{value.map((v, i) => <li key={i}><Tree value={v} depth={depth + 1} /></li>)}</ol>;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return <span class="muted">{'{ }'}</span>;
    return (
      <dl class={'j-obj' + (depth ? ' nested' : '')}>
        {keys.map((k) => [<dt key={k + 'k'}>{k.replace(/_/g, ' ')}</dt>, <dd key={k + 'v'}><Tree value={value[k]} depth={depth + 1} /></dd>])}
      </dl>
    );
  }
  return <Scalar v={value} />;
}

function Scalar({ v }: { v: any }) {
  if (typeof v === 'string' && /^[a-z0-9-]+--[0-9a-f-]{36}$/.test(v)) return <a href={objHref(v)} class="j-ref">{v}</a>;
  if (typeof v === 'string') return <span class="j-str">{v}</span>;
  if (typeof v === 'boolean') return <span class="j-bool">{String(v)}</span>;
  if (v === null) return <span class="j-null">null</span>;
  return <span class="j-num">{String(v)}</span>;
}

/* A readable line diff (longest common subsequence) of two JSON values. */
export function Diff({ a, b }: { a: any; b: any }) {
  const x = JSON.stringify(a, null, 2).split('\n');
  const y = JSON.stringify(b, null, 2).split('\n');
  const ops = lineDiff(x, y);
  if (!ops.some((o) => o[0] !== ' ')) return <p class="muted">No change in the object's properties.</p>;
  // show changes with two lines of context
  const keep = ops.map((o) => o[0] !== ' ');
  const show = ops.map((_, i) => keep.slice(Math.max(0, i - 2), i + 3).some(Boolean));
  const out: any[] = [];
  ops.forEach((o, i) => {
    if (!show[i]) { if (i > 0 && show[i - 1]) out.push(<div class="d-gap" key={'g' + i}>…</div>); return; }
    const cls = o[0] === '+' ? 'd-add' : o[0] === '-' ? 'd-del' : 'd-ctx';
    out.push(<div class={cls} key={i}><span class="d-mark" aria-hidden="true">{o[0]}</span>{o[1]}<span class="sr-only">{o[0] === '+' ? ' (added)' : o[0] === '-' ? ' (removed)' : ''}</span></div>);
  });
  return <pre class="diff">{out}</pre>;
}

export function lineDiff(x: string[], y: string[]): [string, string][] {
  const n = x.length, m = y.length;
  if (n * m > 4_000_000) return [...x.map((l) => ['-', l] as [string, string]), ...y.map((l) => ['+', l] as [string, string])];
  const L: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) L.push(new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out: [string, string][] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; }
    else if (L[i + 1][j] >= L[i][j + 1]) out.push(['-', x[i++]]);
    else out.push(['+', y[j++]]);
  }
  while (i < n) out.push(['-', x[i++]]);
  while (j < m) out.push(['+', y[j++]]);
  return out;
}

/* Horizontal bars for categories (accessible: a table with bars). */
export function Bars({ rows, label, value = 'count' }: { rows: { label: string; count: number }[]; label: string; value?: string }) {
  if (!rows.length) return <Empty what="Nothing in this period." />;
  const max = Math.max(...rows.map((r) => r.count), 1);
  return (
    <table class="bars">
      <caption class="sr-only">{label}</caption>
      <thead><tr><th scope="col">{label}</th><th scope="col">{value}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label}>
            <th scope="row">{r.label}</th>
            <td><span class="bar" style={{ width: Math.max(2, (100 * r.count) / max) + '%' }} />{r.count.toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DateInput(props: { label: string; value: string; onChange: (v: string) => void; name: string }) {
  return (
    <label>{props.label}
      <input type="date" name={props.name} value={props.value} onInput={(e) => props.onChange((e.target as HTMLInputElement).value)} />
    </label>
  );
}

export function useInterval(fn: () => void, ms: number) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const t = setInterval(() => saved.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}

export function isoDay(d: Date) { return d.toISOString().slice(0, 10); }
