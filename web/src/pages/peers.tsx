// Peers: the TAXII peers' sync health (as on the overview) and, at a fleet
// hub, every sensor of the fleet as `schakel fleet status` shows it: last
// seen, consumer lag (highlighted), versions published and applied,
// sightings sent (GET /ui/api/fleet, this node's own people only).
// Refreshed every 10 s.
import { Empty, ErrorBox, fmtTime, Loader, Section, useApi, useInterval } from '../ui';
import { PeerTable } from './overview';

const LAG_HIGH = 1000; /* messages behind: shown as a problem, not only as a delay */

function lagClass(lag: any) {
  if (typeof lag !== 'number' || lag <= 0) return '';
  return lag >= LAG_HIGH ? 'lag-high' : 'lag-some';
}

export function Peers() {
  const o = useApi<any>('overview');
  const f = useApi<any>('fleet');
  useInterval(() => { f.reload(); }, 10000);
  return (
    <>
      <div class="page-h"><h1>Peers</h1></div>
      <Section title="TAXII peers" id="peers">
        <Loader r={o}>{(d) => <PeerTable peers={d.peers || []} />}</Loader>
      </Section>
      <Section title="Fleet sensors" id="fleet">
        <Loader r={f}>{(d) => <Fleet d={d} />}</Loader>
      </Section>
    </>
  );
}

function Fleet({ d }: { d: any }) {
  const rows: any[] = Array.isArray(d.sensors) ? d.sensors : [];
  if (!d.hub && rows.length === 0)
    return <Empty what="This node runs no sensor fleet (schakel serve --fleet nats://HOST:PORT, docs/fleet.md)." />;
  const behind = rows.filter((r) => typeof r.lag === 'number' && r.lag > 0).length;
  return (
    <>
      <p class="muted small">
        {d.hub ? `Consumer positions read from ${d.nats || 'NATS'}.` : 'Not running as a fleet hub: consumer positions unknown.'}
        {rows.length > 0 && ` ${rows.length} sensor${rows.length === 1 ? '' : 's'}, ${behind} behind.`}
      </p>
      {d.nats_error && <ErrorBox error={`NATS did not answer (${d.nats_error}): applied and lag unknown, the store's figures shown.`} />}
      {rows.length === 0 ? <Empty what="No sensor yet (schakel fleet sensor add NAME --partner P)." /> : (
        <div class="table-wrap"><table id="fleet-table">
          <thead><tr><th scope="col">Sensor</th><th scope="col">Audience</th><th scope="col">Last seen</th><th scope="col">Consumer lag</th>
            <th scope="col">Published</th><th scope="col" title="versions the sensor applied and acknowledged: its consumer's position in its audience's stream">Applied</th><th scope="col">Sightings sent</th><th scope="col">Consumer active</th></tr></thead>
          <tbody>{rows.map((r) => (
            <tr key={r.name} class={lagClass(r.lag) ? 'behind' : ''}>
              <th scope="row" title={r.public_key}>{r.name}</th><td>{r.audience}</td><td>{r.last_seen ? fmtTime(r.last_seen) : 'never'}</td>
              <td class={lagClass(r.lag)}>{typeof r.lag === 'number' ? r.lag.toLocaleString() : <span class="muted">unknown</span>}</td>
              <td>{(r.published ?? 0).toLocaleString()}</td><td>{typeof r.applied === 'number' ? r.applied.toLocaleString() : '—'}</td>
              <td>{(r.sightings ?? 0).toLocaleString()}</td><td>{fmtTime(r.consumer_active)}</td>
            </tr>))}</tbody>
        </table></div>
      )}
    </>
  );
}
