// Overview: what arrived from whom, what was shared, sightings here and
// returned, detection delay, peer health and live alerts (polled every 5 s).
import { useEffect, useState } from 'preact/hooks';
import { api, Me, qs } from '../api';
import { Bars, Empty, ErrorBox, fmtTime, isoDay, Loader, ObjLink, Section, useApi, useInterval } from '../ui';
import { pivot, TimeChart } from '../chart';

const PERIODS: [string, number][] = [['24 hours', 1], ['7 days', 7], ['30 days', 30], ['90 days', 90], ['a year', 365], ['all time', 0]];

function sum(rows: any[], key: string) {
  const m = new Map<string, number>();
  rows.forEach((r) => m.set(r[key] ?? '—', (m.get(r[key] ?? '—') || 0) + (r.count || 0)));
  return [...m.entries()].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count);
}

function dur(s: number | null | undefined) {
  if (s === null || s === undefined) return '—';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

export function Overview({ me }: { me: Me }) {
  const [days, setDays] = useState(30);
  const since = days ? isoDay(new Date(Date.now() - days * 86400e3)) : '';
  const r = useApi<any>('overview' + qs({ since }));
  return (
    <>
      <div class="page-h">
        <h1>Overview</h1>
        <label class="inline">Period
          <select name="period" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {PERIODS.map(([l, d]) => <option value={String(d)} key={d}>{l}</option>)}
          </select>
        </label>
      </div>
      <p class="muted">{me.partner ? `What ${me.partner} may see on this node.` : 'Everything this node holds that you may see.'}</p>
      <Loader r={r}>{(o) => <OverviewBody o={o} />}</Loader>
    </>
  );
}

function OverviewBody({ o }: { o: any }) {
  const received = o.received || [];
  const byDay = pivot(o.received_by_day || [], 'partner');
  const sd = o.sightings?.by_day || [];
  const dd = o.detection_delay_s || {};
  return (
    <div class="grid">
      <Section title="What arrived, per partner" id="received-partner">
        <Bars rows={sum(received, 'partner')} label="Partner" value="objects" />
      </Section>
      <Section title="What arrived, per type" id="received-type">
        <Bars rows={sum(received, 'type')} label="Type" value="objects" />
      </Section>
      <Section title="Arrivals per day" id="received-day">
        <TimeChart title="Objects received per day, per partner" days={byDay.days} series={byDay.series} bars />
      </Section>
      <Section title="Shared by this node" id="shared">
        <Bars rows={(o.shared || []).map((s: any) => ({ label: s.partner, count: s.count }))} label="Partner" value="objects shared" />
      </Section>
      <Section title="Sightings" id="sightings">
        <dl class="figures">
          <div><dt>made here</dt><dd class="big">{(o.sightings?.here ?? 0).toLocaleString()}</dd></div>
          <div><dt>returned by partners</dt><dd class="big">{(o.sightings?.returned ?? 0).toLocaleString()}</dd></div>
        </dl>
        <TimeChart title="Sightings per day: here and returned" days={sd.map((d: any) => d.day)}
          series={[{ label: 'here', values: sd.map((d: any) => d.here) }, { label: 'returned', values: sd.map((d: any) => d.returned) }]} />
      </Section>
      <Section title="Detection delay" id="delay">
        <p class="muted small">From an indicator's arrival to its first sighting here.</p>
        <dl class="figures">
          <div><dt>alerts measured</dt><dd class="big">{dd.n ?? 0}</dd></div>
          <div><dt>median</dt><dd class="big">{dur(dd.median)}</dd></div>
          <div><dt>90th percentile</dt><dd>{dur(dd.p90)}</dd></div>
          <div><dt>longest</dt><dd>{dur(dd.max)}</dd></div>
        </dl>
      </Section>
      <Section title="Peers" id="peers">
        <PeerTable peers={o.peers || []} />
      </Section>
      <Section title="Live alerts" id="alerts">
        <Alerts initial={o.alerts || []} />
      </Section>
    </div>
  );
}

export function PeerTable({ peers }: { peers: any[] }) {
  if (!peers.length) return <Empty what="No peers configured." />;
  return (
    <div class="scroll"><table>
      <thead><tr><th scope="col">Peer</th><th scope="col">Address</th><th scope="col">Last success</th><th scope="col">Lag</th><th scope="col">Errors</th><th scope="col">Last error</th></tr></thead>
      <tbody>{peers.map((p) => (
        <tr key={p.name} class={p.errors ? 'warn' : ''}>
          <th scope="row">{p.name}</th><td class="mono">{p.url}</td><td>{fmtTime(p.last_success)}</td>
          <td>{dur(p.lag_s)}</td><td>{p.errors ?? 0}</td><td>{p.last_error || '—'}</td>
        </tr>))}
      </tbody>
    </table></div>
  );
}

function Alerts({ initial }: { initial: any[] }) {
  const [alerts, setAlerts] = useState<any[]>(initial);
  const [cursor, setCursor] = useState<number>(() => initial.reduce((m, a) => Math.max(m, a.seq || 0), 0));
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [err, setErr] = useState<any>(null);
  useEffect(() => { setAlerts(initial); }, [initial]);
  useInterval(async () => {
    try {
      const r = await api<any>('alerts' + qs({ after: cursor, limit: 50 }));
      const got = (r.alerts || []).filter((a: any) => !alerts.some((b) => b.seq === a.seq));
      if (got.length) {
        setAlerts((old) => [...got, ...old].slice(0, 200));
        setFresh(new Set(got.map((a: any) => a.seq)));
      }
      const c = typeof r.cursor === 'number' ? r.cursor : got.reduce((m: number, a: any) => Math.max(m, a.seq || 0), cursor);
      if (c > cursor) setCursor(c);
      setErr(null);
    } catch (e) { setErr(e); }
  }, 5000);
  return (
    <>
      <ErrorBox error={err} />
      <p class="muted small" aria-live="polite">Checked every 5 seconds; new alerts appear at the top.</p>
      {alerts.length === 0 ? <Empty what="No alerts yet." /> : (
        <ul class="alerts" aria-live="polite" aria-relevant="additions">
          {alerts.map((a) => (
            <li key={a.seq} class={fresh.has(a.seq) ? 'fresh' : ''} data-seq={a.seq}>
              <time>{fmtTime(a.time)}</time>
              <span class="mono value">{a.value}</span>
              <ObjLink s={a.indicator} showType={false} />
              <span class="muted">{a.source}{a.count > 1 ? ` · ${a.count}×` : ''}</span>
              {a.sighting && <a href={'/ui/object/' + encodeURIComponent(a.sighting)}>sighting</a>}
              {(a.courses_of_action || []).length > 0 && (
                <ul class="coas" aria-label="What to do">
                  {a.courses_of_action.map((c: any) => (
                    <li key={c.id}>
                      <ObjLink s={c} showType={false} />
                      {c.description && <span class="muted"> — {c.description}</span>}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
