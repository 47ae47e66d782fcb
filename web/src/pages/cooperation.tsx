// Measured cooperation (docs/cooperation.md): per partner what was received
// and sent, time to share, detections enabled and lead times; per sector
// whose knowledge protected it; anonymous sightings; reach; what this node
// cannot know.  The same figures as `schakel report cooperation`; the
// node's own people also get the network view (coopnet.tsx).
import { useState } from 'preact/hooks';
import { BASE, isOwn, Me, qs } from '../api';
import { NetworkView } from './coopnet';
import { Empty, isoDay, Loader, Section, useApi } from '../ui';
import { CategoryBars } from '../chart';

const PERIODS: [string, number][] = [['7 days', 7], ['30 days', 30], ['90 days', 90], ['a year', 365], ['all time', 0]];

function dur(s: number | null | undefined) {
  if (s === null || s === undefined) return '—';
  const a = Math.abs(s);
  if (a < 120) return `${s.toFixed(1)} s`;
  if (a < 7200) return `${(s / 60).toFixed(1)} min`;
  if (a < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

function Dist({ d }: { d: any }) {
  if (!d || !d.n) return <span class="muted">—</span>;
  return <span title={`${d.n} measured`}>{dur(d.median)} / {dur(d.p90)} / {dur(d.max)}</span>;
}

export function Cooperation({ me }: { me: Me }) {
  const [days, setDays] = useState(90);
  const [view, setView] = useState(() => (isOwn(me) && new URLSearchParams(location.search).get('view') === 'network' ? 'network' : 'partners'));
  const since = days ? isoDay(new Date(Date.now() - days * 86400e3)) : '';
  const path = 'cooperation' + qs({ since });
  const r = useApi<any>(path);
  return (
    <>
      <div class="page-h">
        <h1>Cooperation</h1>
        <label class="inline">Period
          <select name="period" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {PERIODS.map(([l, d]) => <option value={String(d)} key={d}>{l}</option>)}
          </select>
        </label>
      </div>
      {isOwn(me) && (
        <div class="tabs" role="group" aria-label="View">
          <button type="button" id="coop-view-partners" aria-pressed={view === 'partners'} onClick={() => setView('partners')}>This node's partners</button>
          <button type="button" id="coop-view-network" aria-pressed={view === 'network'} onClick={() => setView('network')}>Network</button>
        </div>
      )}
      {view === 'network' ? <NetworkView since={since} /> : <>
      <p class="muted">{me.partner ? `The figures of ${me.partner}: only what it was given, gave or produced.` : 'Measured from this node\'s own records. Definitions: docs/cooperation.md.'}
        {' '}<a href={BASE + path} download="cooperation.json">JSON</a></p>
      <Loader r={r}>{(d) => <Body d={d} />}</Loader>
      </>}
    </>
  );
}

function Body({ d }: { d: any }) {
  const parts: any[] = d.partners || [];
  const labels = parts.map((p) => p.partner);
  return (
    <>
      <div class="grid">
        <Section title="Object versions received and sent" id="coop-volume">
          <CategoryBars title="Per partner" labels={labels}
            series={[{ label: 'received', values: parts.map((p) => p.objects_received) }, { label: 'sent', values: parts.map((p) => p.objects_sent) }]} />
        </Section>
        <Section title="Time to share" id="coop-tts">
          <CategoryBars title="Producer's timestamp to arrival here, seconds" labels={labels} unit=" s"
            series={[{ label: 'median', values: parts.map((p) => p.time_to_share_s?.median ?? null) }, { label: 'p90', values: parts.map((p) => p.time_to_share_s?.p90 ?? null) }]} />
        </Section>
        <Section title="Detections enabled" id="coop-det">
          <CategoryBars title="Sightings resting on indicators a partner produced or relayed" labels={labels}
            series={[{ label: 'sightings', values: parts.map((p) => p.detections_enabled) }]} />
        </Section>
        <Section title="This node" id="coop-own">
          <dl class="figures">
            <div><dt>sightings here</dt><dd class="big">{d.own?.sightings_here ?? 0}</dd></div>
            <div><dt>reported back</dt><dd class="big">{d.own?.sightings_received ?? 0}</dd></div>
            <div><dt>on our indicators</dt><dd class="big">{d.own?.detections_enabled ?? 0}</dd></div>
            <div><dt>lead time (median / p90 / max)</dt><dd><Dist d={d.own?.lead_time_s} /></dd></div>
          </dl>
        </Section>
      </div>
      <Section title="Partners" id="coop-partners">
        {parts.length === 0 ? <Empty what="No partner." /> : (
          <div class="table-wrap"><table id="coop-table">
            <thead><tr><th scope="col">Partner</th><th scope="col">Received</th><th scope="col">Sent</th><th scope="col">Sightings in / out</th>
              <th scope="col">Time to share (median / p90 / max)</th><th scope="col">Detections enabled</th><th scope="col">Lead time</th><th scope="col">Feedback lead</th><th scope="col">Sync</th></tr></thead>
            <tbody>{parts.map((p) => (
              <tr key={p.partner}>
                <th scope="row">{p.partner}</th><td>{p.objects_received}</td><td>{p.objects_sent}{p.objects_sent_unlisted ? ` (+${p.objects_sent_unlisted})` : ''}</td>
                <td>{p.sightings_received} / {p.sightings_sent}</td><td><Dist d={p.time_to_share_s} /></td><td>{p.detections_enabled}</td>
                <td><Dist d={p.lead_time_s} /></td><td><Dist d={p.feedback_lead_s} /></td>
                <td>{p.sync ? (p.sync.failures ? `${p.sync.failures} failures: ${p.sync.last_error || ''}` : `ok ${p.sync.last_ok || 'never'}`) : '—'}</td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Section>
      <div class="grid">
        <Section title="Sectors: whose knowledge protected them" id="coop-sectors">
          {(d.sectors || []).length === 0 ? <Empty what="No sighting in this period." /> : (
            <table><thead><tr><th scope="col">Sector</th><th scope="col">Sightings</th><th scope="col">Protected by</th></tr></thead>
              <tbody>{d.sectors.map((s: any) => (
                <tr key={s.sector}><th scope="row">{s.sector}</th><td>{s.sightings}</td>
                  <td>{Object.entries(s.protected_by || {}).map(([k, v]) => `${k} (${v})`).join(', ') || '—'}</td></tr>))}</tbody></table>
          )}
        </Section>
        <Section title="Anonymous sightings" id="coop-anon">
          <p class="muted small">By sector and country only; groups of fewer than three merged into "other".</p>
          {(d.anonymous_sightings || []).length === 0 ? <Empty what="None in this period." /> : (
            <table><thead><tr><th scope="col">Sector</th><th scope="col">Country</th><th scope="col">Sightings</th></tr></thead>
              <tbody>{d.anonymous_sightings.map((a: any, i: number) => <tr key={i}><th scope="row">{a.sector}</th><td>{a.country || '—'}</td><td>{a.sightings}</td></tr>)}</tbody></table>
          )}
        </Section>
        <Section title="Reach of reports" id="coop-reach">
          {(d.reach || []).length === 0 ? <Empty what="No report or grouping handed out in this period." /> : (
            <table><thead><tr><th scope="col">Report</th><th scope="col">Recipients</th><th scope="col">50 %</th><th scope="col">100 %</th></tr></thead>
              <tbody>{d.reach.map((x: any) => <tr key={x.id}><th scope="row">{x.name || x.id}</th><td>{x.recipients}</td><td>{dur(x.time_to_50pct_s)}</td><td>{dur(x.time_to_100pct_s)}</td></tr>)}</tbody></table>
          )}
        </Section>
        <Section title="Reach of collections" id="coop-collections">
          {(d.collections || []).length === 0 ? <Empty what="Nothing added to a collection in this period." /> : (
            <table><thead><tr><th scope="col">Collection</th><th scope="col">Versions added</th><th scope="col">Received by</th></tr></thead>
              <tbody>{d.collections.map((x: any) => (
                <tr key={x.collection}><th scope="row">{x.collection}</th><td>{x.versions_added}</td>
                  <td>{Object.entries(x.received_by || {}).map(([k, v]) => `${k} (${v})`).join(', ') || '—'}</td></tr>))}</tbody></table>
          )}
        </Section>
      </div>
      <Section title="What this node cannot know" id="coop-limits">
        <ul>{(d.cannot_know || []).map((s: string, i: number) => <li key={i}>{s}</li>)}</ul>
      </Section>
    </>
  );
}
