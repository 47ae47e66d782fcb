// Time series with uPlot: one x axis of days, one line (or bars) per series.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { Empty } from './ui';

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export type Series = { label: string; values: (number | null)[]; color?: string };

function axisColour() {
  return getComputedStyle(document.documentElement).getPropertyValue('--fg').trim() || '#888';
}

/* days: 'YYYY-MM-DD' (or RFC 3339) labels of the x axis. */
export function TimeChart({ days, series, title, height = 220, bars = false }: { days: string[]; series: Series[]; title: string; height?: number; bars?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  ({ days, series } = fillDays(days, series));
  useEffect(() => {
    if (!box.current || !days.length) return;
    const el = box.current;
    const xs = days.map((d) => Date.parse(d.length === 10 ? d + 'T00:00:00Z' : d) / 1000);
    const fg = axisColour();
    const axis = { stroke: fg, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } };
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 64 }],
      series: [{ label: 'day' }, ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || PALETTE[i % PALETTE.length],
        fill: bars ? (s.color || PALETTE[i % PALETTE.length]) + '99' : undefined,
        width: 2,
        points: { show: days.length < 60 },
        paths: bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
      }))],
    };
    const u = new uPlot(opts, [xs, ...series.map((s) => s.values)] as any, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [JSON.stringify(days), JSON.stringify(series), height, bars]);
  if (!days.length) return <Empty what={`${title}: nothing in this period.`} />;
  return <figure class="chart"><figcaption>{title}</figcaption><div ref={box} role="img" aria-label={title + ' (chart; the same figures are listed beside it)'} /></figure>;
}

/* Pivot rows {day, key, count} into x labels and one series per key. */
export function pivot(rows: any[], keyField: string, valueField = 'count'): { days: string[]; series: Series[] } {
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const keys = [...new Set(rows.map((r) => r[keyField] ?? '—'))];
  const idx = new Map(days.map((d, i) => [d, i]));
  const series = keys.map((k, i) => {
    const v: number[] = new Array(days.length).fill(0);
    rows.forEach((r) => { if ((r[keyField] ?? '—') === k) v[idx.get(r.day)!] += r[valueField] || 0; });
    return { label: String(k), values: v, color: PALETTE[i % PALETTE.length] };
  });
  return { days, series };
}

/* Every day from the first to the last (a gap is a zero, one day gets its
   neighbours), so a time axis never stretches around a single point. */
function fillDays(days: string[], series: Series[]): { days: string[]; series: Series[] } {
  if (!days.length || !days.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) return { days, series };
  const t = days.map((d) => Date.parse(d + 'T00:00:00Z'));
  let lo = Math.min(...t), hi = Math.max(...t);
  const short = 6 * 86400e3 - (hi - lo); // under a week: widened to one around it
  if (short > 0) { lo -= Math.ceil(short / 2 / 86400e3) * 86400e3; hi += Math.floor(short / 2 / 86400e3) * 86400e3; }
  if ((hi - lo) / 86400e3 > 1000) return { days, series };
  const all: string[] = [];
  for (let x = lo; x <= hi; x += 86400e3) all.push(new Date(x).toISOString().slice(0, 10));
  const at = new Map(days.map((d, i) => [d, i]));
  return {
    days: all,
    series: series.map((s) => ({ ...s, values: all.map((d) => (at.has(d) ? s.values[at.get(d)!] ?? 0 : 0)) })),
  };
}

/* 1234567 -> 1.2M: axis labels that fit. */
function compact(x: number) {
  const a = Math.abs(x);
  if (a >= 1e9) return (x / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (x / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (x / 1e3).toFixed(0) + 'k';
  return String(Math.round(x * 100) / 100);
}

/* Bars per category (partners, sectors) with uPlot: x is the category's
   index, its axis and legend show the names; one bar group per series. */
export function CategoryBars({ labels, series, title, height = 240, unit = '' }: { labels: string[]; series: Series[]; title: string; height?: number; unit?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || !labels.length) return;
    const el = box.current;
    const xs = labels.map((_, i) => i);
    const fg = axisColour();
    const axis = { stroke: fg, grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } };
    const n = Math.max(1, series.length);
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
      axes: [{ ...axis, splits: () => xs, values: (_u, v) => v.map((i) => labels[i] ?? '') }, { ...axis, size: 72, values: (_u, v) => v.map((x) => compact(x) + unit) }],
      series: [{ label: 'category', value: (_u, i) => (i === null || i === undefined ? '' : labels[i] ?? '') }, ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || PALETTE[i % PALETTE.length],
        fill: (s.color || PALETTE[i % PALETTE.length]) + 'cc',
        width: 1,
        points: { show: false },
        paths: uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8 / n, 60], align: 0, disp: { x0: { unit: 2, values: () => xs.map(() => (i - (n - 1) / 2) * (0.8 / n)) } } as any }) : undefined,
      }))],
    };
    const u = new uPlot(opts, [xs, ...series.map((s) => s.values)] as any, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [JSON.stringify(labels), JSON.stringify(series), height]);
  if (!labels.length) return <Empty what={`${title}: nothing in this period.`} />;
  return <figure class="chart"><figcaption>{title}</figcaption><div ref={box} role="img" aria-label={title + ' (chart; the same figures are listed in the table)'} /></figure>;
}
