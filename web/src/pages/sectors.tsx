// Critical sectors: who targets them, which partners of the sector have
// sightings, and the trend over time.
import { href } from '../router';
import { Empty, Loader, ObjLink, Section, useApi } from '../ui';
import { TimeChart } from '../chart';

export function Sectors() {
  const r = useApi<any>('sectors');
  return (
    <>
      <h1>Critical sectors</h1>
      <Loader r={r}>{(d) => (
        <ul class="cards">{d.sectors.map((s: any) => (
          <li key={s.key} class="card sector-card">
            <h2><a href={href('/sectors/' + encodeURIComponent(s.key))}>{s.name}</a></h2>
            <dl class="figures">
              <div><dt>targeted by</dt><dd class="big">{s.targeted_by ?? 0}</dd></div>
              <div><dt>sightings</dt><dd class="big">{s.sightings ?? 0}</dd></div>
            </dl>
            <p class="muted small">STIX: {(s.stix || []).join(', ')}</p>
          </li>))}
        </ul>
      )}</Loader>
    </>
  );
}

export function SectorDetail({ keyName }: { keyName: string }) {
  const r = useApi<any>('sectors/' + encodeURIComponent(keyName));
  return (
    <Loader r={r}>{(d) => {
      const t = d.trend || [];
      return (
        <>
          <h1>Sector: {d.name}</h1>
          <p><a href={href('/sectors')}>All sectors</a> · <a href={href('/actors?sector=' + encodeURIComponent(d.key))}>Actors targeting it</a></p>
          <div class="grid">
            <Section title="Who targets it" id="attackers">
              {(d.attackers || []).length === 0 ? <Empty what="No known attacker." /> : (
                <ul>{d.attackers.map((a: any) => <li key={a.id}><ObjLink s={a} />{a.via && <span class="muted small"> via {a.via}</span>}</li>)}</ul>
              )}
            </Section>
            <Section title="Partners of the sector with sightings" id="partners">
              {(d.partners || []).length === 0 ? <Empty what="No sightings from this sector." /> : (
                <table id="sector-partners"><thead><tr><th scope="col">Partner</th><th scope="col">Country</th><th scope="col">Sightings</th></tr></thead>
                  <tbody>{d.partners.map((p: any) => <tr key={p.name}><th scope="row">{p.name}</th><td>{p.country || '—'}</td><td>{p.sightings}</td></tr>)}</tbody></table>
              )}
            </Section>
          </div>
          <Section title="Trend" id="trend">
            <TimeChart title={`Sightings and targeting in ${d.name}, per day`} days={t.map((x: any) => x.day)}
              series={[{ label: 'sightings', values: t.map((x: any) => x.sightings) }, { label: 'targets', values: t.map((x: any) => x.targets) }]} />
          </Section>
        </>
      );
    }}</Loader>
  );
}
