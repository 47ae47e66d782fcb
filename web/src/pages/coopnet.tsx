// The network view of measured cooperation (docs/cooperation.md, "The
// network report"): at a hub, the summaries its partners sent combined with
// its own records, as `schakel report cooperation --network` prints them
// (GET /ui/api/cooperation/network, this node's own people only).  Who
// protects whom as a matrix, availability and hops per node as charts, and
// what is missing, unverified or superseded listed plainly.  Fields the
// report gains later are shown as they are, under "Other figures".
import { BASE, qs } from '../api';
import { Empty, Loader, Section, Tree, useApi } from '../ui';
import { CategoryBars } from '../chart';

const KNOWN = new Set(['schema', 'node', 'period', 'generated', 'summaries', 'unverified', 'superseded', 'missing', 'sightings',
  'protection', 'protection_by_sector', 'anonymous_sightings', 'chain', 'nodes', 'own', 'cannot_know']);
const NODE_KNOWN = new Set(['node', 'identity', 'summaries', 'objects_received_from_hub', 'received_relayed', 'time_to_share_s',
  'last_hop_s', 'link', 'capacity', 'keyed_sightings']);

const arr = (v: any): any[] => (Array.isArray(v) ? v : []);
const num = (v: any): number | null => (typeof v === 'number' && isFinite(v) ? v : null);
const text = (v: any) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function secs(s: any) {
  const v = num(s);
  if (v === null) return '—';
  if (Math.abs(v) < 120) return `${v.toFixed(1)} s`;
  if (Math.abs(v) < 7200) return `${(v / 60).toFixed(1)} min`;
  return `${(v / 3600).toFixed(1)} h`;
}

export function NetworkView({ since }: { since: string }) {
  const path = 'cooperation/network' + qs({ since });
  const r = useApi<any>(path);
  return (
    <div id="coop-network">
      <p class="muted">The summaries this node's partners sent it (verified signatures only), combined with its own records;
        each keyed sighting counted once. <a href={BASE + path} download="cooperation-network.json">JSON</a></p>
      <Loader r={r}>{(d) => <Network d={d} />}</Loader>
    </div>
  );
}

/* Who protects whom: producers (rows) by detecting nodes (columns), shaded by count. */
function Matrix({ rows }: { rows: any[] }) {
  if (!rows.length) return <Empty what="No sighting rests on a known producer's indicator in this period." />;
  const prods = [...new Set(rows.map((x) => text(x.producer)))];
  const dets = [...new Set(rows.map((x) => text(x.detected_by)))];
  const at = new Map<string, number>();
  rows.forEach((x) => { const k = text(x.producer) + '\t' + text(x.detected_by); at.set(k, (at.get(k) || 0) + (num(x.sightings) || 0)); });
  const max = Math.max(1, ...at.values());
  return (
    <div class="table-wrap"><table id="coop-matrix" class="coop-matrix">
      <caption class="sr-only">Sightings by the producer of the indicator (rows) and the node that detected it (columns)</caption>
      <thead><tr><th scope="col">Knowledge of ↓ / detected by →</th>{dets.map((d) => <th scope="col" key={d}>{d}</th>)}</tr></thead>
      <tbody>{prods.map((p) => (
        <tr key={p}><th scope="row">{p}</th>{dets.map((d) => {
          const v = at.get(p + '\t' + d) || 0;
          return <td key={d} class="cell" style={v ? { background: `rgba(78,121,167,${(0.15 + 0.65 * v / max).toFixed(2)})` } : undefined}>{v || ''}</td>;
        })}</tr>))}</tbody>
    </table></div>
  );
}

function Extras({ obj, known }: { obj: any; known: Set<string> }) {
  const extra = Object.keys(obj || {}).filter((k) => !known.has(k));
  if (!extra.length) return null;
  return <details><summary>{extra.join(', ')}</summary><Tree value={Object.fromEntries(extra.map((k) => [k, obj[k]]))} /></details>;
}

function Network({ d }: { d: any }) {
  const nodes = arr(d.nodes);
  const labels = nodes.map((n) => text(n.node));
  const hops = arr(d.chain?.slowest_hops);
  const s = d.sightings || {};
  const other = Object.keys(d).filter((k) => !KNOWN.has(k));
  return (
    <>
      <div class="grid">
        <Section title="Sightings in the network" id="net-sightings">
          <dl class="figures">
            <div><dt>distinct (each once)</dt><dd class="big">{text(s.distinct)}</dd></div>
            <div><dt>network total</dt><dd class="big">{text(s.network_total)}</dd></div>
            <div><dt>here</dt><dd>{text(s.here)}</dd></div>
            <div><dt>keyed, reported</dt><dd>{text(s.keyed_reported)}</dd></div>
            <div><dt>duplicates removed</dt><dd>{text(s.duplicates_removed)}</dd></div>
            <div><dt>unkeyed, not de-duplicated</dt><dd>{text(s.unkeyed_not_deduplicated)}</dd></div>
          </dl>
        </Section>
        <Section title="Link availability per node" id="net-availability">
          <CategoryBars title="Each node's sync runs of this hub that succeeded, %" labels={labels} unit=" %"
            series={[{ label: 'availability', values: nodes.map((n) => num(n.link?.availability_pct)) }]} />
        </Section>
        <Section title="Where the chain is slowest" id="net-hops">
          <CategoryBars title="Time to share and last hop, median seconds" labels={hops.map((h) => text(h.node))} unit=" s"
            series={[{ label: 'time to share', values: hops.map((h) => num(h.time_to_share_s?.median)) },
              { label: 'last hop', values: hops.map((h) => num(h.last_hop_s?.median)) }]} />
        </Section>
        <Section title="Protection by sector" id="net-sectors">
          <CategoryBars title="Sightings by the detecting node's sector" labels={arr(d.protection_by_sector).map((x) => `${text(x.sector)} (${text(x.producer)})`)}
            series={[{ label: 'sightings', values: arr(d.protection_by_sector).map((x) => num(x.sightings)) }]} />
        </Section>
      </div>
      <Section title="Who protects whom" id="net-protection">
        <Matrix rows={arr(d.protection)} />
      </Section>
      <Section title="Nodes that reported" id="net-nodes">
        {nodes.length === 0 ? <Empty what="No verified summary in this period." /> : (
          <div class="table-wrap"><table id="net-nodes-table">
            <thead><tr><th scope="col">Node</th><th scope="col">Summaries</th><th scope="col">Received from the hub</th><th scope="col">of which relayed</th>
              <th scope="col">Keyed sightings</th><th scope="col">Time to share (median)</th><th scope="col">Last hop (median)</th><th scope="col">Availability</th>
              <th scope="col">Capacity (matchable / cannot match)</th><th scope="col">More</th></tr></thead>
            <tbody>{nodes.map((n, i) => (
              <tr key={i} class={num(n.link?.availability_pct) !== null && n.link.availability_pct < 90 ? 'warn' : ''}>
                <th scope="row" title={text(n.identity)}>{text(n.node)}</th><td>{text(n.summaries)}</td><td>{text(n.objects_received_from_hub)}</td>
                <td>{text(n.received_relayed)}</td><td>{text(n.keyed_sightings)}</td><td>{secs(n.time_to_share_s?.median)}</td><td>{secs(n.last_hop_s?.median)}</td>
                <td>{num(n.link?.availability_pct) === null ? '—' : `${n.link.availability_pct} %`}</td>
                <td>{text(n.capacity?.indicators_matchable)} / {text(n.capacity?.indicators_cannot_match)}</td>
                <td><Extras obj={n} known={NODE_KNOWN} /></td>
              </tr>))}</tbody>
          </table></div>
        )}
      </Section>
      <div class="grid">
        <Section title="Missing nodes" id="net-missing">
          <p class="muted small">Partners and peers with an identity and no verified summary in the period.</p>
          {arr(d.missing).length === 0 ? <Empty what="None: every partner reported." /> : (
            <ul id="net-missing-list">{arr(d.missing).map((m, i) => <li key={i}><strong>{text(m.node)}</strong> <span class="mono small">{text(m.identity)}</span></li>)}</ul>
          )}
        </Section>
        <Section title="Never report back" id="net-silent">
          <p class="muted small">Partners this node sent objects to that sent no sighting back.</p>
          {arr(d.chain?.never_report_back).length === 0 ? <Empty what="None." /> : (
            <ul>{arr(d.chain?.never_report_back).map((m, i) => <li key={i}><strong>{text(m.node)}</strong>: {text(m.objects_sent)} objects sent</li>)}</ul>
          )}
        </Section>
        <Section title="Unverified summaries (not counted)" id="net-unverified">
          {arr(d.unverified).length === 0 ? <Empty what="None." /> : (
            <ul id="net-unverified-list">{arr(d.unverified).map((m, i) => <li key={i}><strong>{text(m.node)}</strong>: {text(m.verdict)} <span class="mono small">{text(m.summary_ref)}</span></li>)}</ul>
          )}
        </Section>
        <Section title="Superseded summaries (not counted)" id="net-superseded">
          {arr(d.superseded).length === 0 ? <Empty what="None." /> : (
            <ul id="net-superseded-list">{arr(d.superseded).map((m, i) => <li key={i}><strong>{text(m.node)}</strong>: <span class="mono small">{text(m.summary_ref)}</span></li>)}</ul>
          )}
        </Section>
        <Section title="Anonymous sightings" id="net-anon">
          <p class="muted small">By sector and country; groups reported by fewer than three nodes merged into "other".</p>
          {arr(d.anonymous_sightings).length === 0 ? <Empty what="None in this period." /> : (
            <table><thead><tr><th scope="col">Sector</th><th scope="col">Country</th><th scope="col">Sightings</th></tr></thead>
              <tbody>{arr(d.anonymous_sightings).map((a, i) => <tr key={i}><th scope="row">{text(a.sector)}</th><td>{text(a.country)}</td><td>{text(a.sightings)}</td></tr>)}</tbody></table>
          )}
        </Section>
      </div>
      {other.length > 0 && (
        <Section title="Other figures" id="net-other">
          <Tree value={Object.fromEntries(other.map((k) => [k, d[k]]))} />
        </Section>
      )}
      <Section title="What the network report cannot know" id="net-limits">
        <ul>{arr(d.cannot_know).map((x, i) => <li key={i}>{text(x)}</li>)}</ul>
      </Section>
    </>
  );
}
