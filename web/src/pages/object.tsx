// One object: every property, provenance, signature, versions with diffs,
// relationships both ways, reports, sightings and correlation.
import { canWrite, Me } from '../api';
import { href } from '../router';
import { Diff, Empty, fmtTime, Loader, ObjLink, Section, TLP_MARKINGS, TlpBadge, Tree, useApi } from '../ui';

const VERDICTS: Record<string, string> = {
  verified: 'sig-ok', unsigned: 'sig-none', 'unknown key': 'sig-unknown', unknown_key: 'sig-unknown', 'bad signature': 'sig-bad', bad: 'sig-bad',
};

export function SigBadge({ sig }: { sig: any }) {
  const v = (sig && sig.verdict) || 'unsigned';
  return <span class={'badge ' + (VERDICTS[v] || 'sig-unknown')} title={sig?.signer ? `signed by ${sig.signer}${sig.key ? ' with key ' + sig.key : ''}` : undefined}>signature: {v}</span>;
}

export function ObjectPage({ me, id }: { me: Me; id: string }) {
  const r = useApi<any>(id ? 'objects/' + encodeURIComponent(id) : null);
  if (!id) return <><h1>Object</h1><p>No object named. <a href={href('/search')}>Search</a> for one.</p></>;
  return <Loader r={r}>{(o) => <ObjectBody o={o} me={me} />}</Loader>;
}

function ObjectBody({ o, me }: { o: any; me: Me }) {
  const own = o.producer && me.node && o.producer.id === me.node.identity;
  const writer = canWrite(me);
  const enc = encodeURIComponent(o.id);
  const versions: any[] = o.versions || [];
  const rel = o.relationships || { out: [], in: [] };
  const s = o.sightings || { total: 0, items: [], by_sector: [], by_country: [] };
  return (
    <>
      <div class="page-h">
        <h1><span class={'type type-' + o.type}>{o.type}</span> {o.name || o.id}</h1>
      </div>
      <p class="badges">
        <TlpBadge tlp={o.tlp} />
        <SigBadge sig={o.signature} />
        {o.revoked && <span class="badge revoked">revoked</span>}
        <span class="mono small">{o.id}</span>
      </p>
      <nav class="actions" aria-label="About this object">
        <a class="button" href={href('/graph?id=' + enc)}>Graph</a>
        <a class="button" href={href('/timeline?id=' + enc)}>Timeline</a>
        {(o.type === 'intrusion-set' || o.type === 'threat-actor') && <a class="button" href={href('/actors/' + enc)}>Actor profile</a>}
        {writer && <>
          <a class="button" href={href('/create?type=note&ref=' + enc)}>Add note</a>
          <a class="button" href={href('/create?type=opinion&ref=' + enc)}>Add opinion</a>
          <a class="button" href={href('/create?type=sighting&ref=' + enc)}>Add sighting</a>
          <a class="button" href={href('/create?type=relationship&ref=' + enc)}>Add relationship</a>
          {own && <a class="button" id="edit" href={href('/edit/' + enc)}>Edit (new version)</a>}
        </>}
      </nav>
      <div class="grid">
        <Section title="Provenance" id="provenance">
          <dl class="kv">
            <dt>Producer</dt><dd>{o.producer ? <a href={href('/object/' + encodeURIComponent(o.producer.id))}>{o.producer.name || o.producer.id}</a> : '—'}</dd>
            <dt>Came from</dt><dd>{o.source ? `${o.source.name || o.source.rx || 'here'}${o.source.rx && o.source.name ? ` (${o.source.rx})` : ''}` : '—'}</dd>
            <dt>Received</dt><dd>{fmtTime(o.source?.received)}</dd>
            <dt>Modified</dt><dd>{fmtTime(o.modified)}</dd>
            <dt>Collections</dt><dd>{(o.collections || []).join(', ') || '—'}</dd>
            <dt>Signature</dt><dd><SigBadge sig={o.signature} />{o.signature?.signer && <> by {o.signature.signer}</>}{o.signature?.key && <div class="mono small">key {o.signature.key}</div>}</dd>
          </dl>
        </Section>
        <Section title="Markings" id="markings">
          {(o.markings || []).length === 0 ? <Empty what="No markings: shared with the collection's default." /> : (
            <ul>{o.markings.map((m: any, i: number) => <li key={i}><Marking m={m} /></li>)}</ul>
          )}
        </Section>
      </div>
      <Section title="Properties" id="properties">
        <Tree value={o.object} />
      </Section>
      <Section title={`Versions (${versions.length})`} id="versions">
        {versions.length === 0 ? <Empty what="One version." /> : (
          <ol class="versions">
            {versions.map((v, i) => (
              <li key={v.version ?? i}>
                <details open={i === versions.length - 1 && versions.length > 1}>
                  <summary>
                    Version {v.version ?? i + 1}: modified {fmtTime(v.modified)}, added {fmtTime(v.added)}{v.revoked ? ' · revoked' : ''}
                  </summary>
                  {i === 0 ? <p class="muted">The first version.</p> : <Diff a={versions[i - 1].object} b={v.object} />}
                </details>
              </li>
            ))}
          </ol>
        )}
      </Section>
      <div class="grid">
        <Section title="Relationships from it" id="rel-out">
          {rel.out.length === 0 ? <Empty what="None." /> : (
            <ul class="rels">{rel.out.map((x: any) => <li key={x.id}><a href={href('/object/' + encodeURIComponent(x.id))} class="reltype">{x.relationship_type}</a> <ObjLink s={x.target} /></li>)}</ul>
          )}
        </Section>
        <Section title="Relationships to it" id="rel-in">
          {rel.in.length === 0 ? <Empty what="None." /> : (
            <ul class="rels">{rel.in.map((x: any) => <li key={x.id}><ObjLink s={x.source} /> <a href={href('/object/' + encodeURIComponent(x.id))} class="reltype">{x.relationship_type}</a></li>)}</ul>
          )}
        </Section>
        <Section title="Reports containing it" id="reports">
          {(o.reports || []).length === 0 ? <Empty what="None." /> : <ul>{o.reports.map((x: any) => <li key={x.id}><ObjLink s={x} /></li>)}</ul>}
        </Section>
      </div>
      <Section title={`Sightings (${s.total})`} id="sightings">
        {s.total === 0 ? <Empty what="Not sighted." /> : (
          <>
            <div class="scroll"><table>
              <thead><tr><th scope="col">Sighting</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col">Count</th><th scope="col">Where</th></tr></thead>
              <tbody>{s.items.map((x: any) => (
                <tr key={x.id}>
                  <td><a href={href('/object/' + encodeURIComponent(x.id))}>{x.id.slice(0, 18)}…</a></td>
                  <td>{fmtTime(x.first_seen)}</td><td>{fmtTime(x.last_seen)}</td><td>{x.count ?? 1}</td>
                  <td>{(x.where || []).map((w: any) => `${w.name || w.id}${w.country ? ' (' + w.country + ')' : ''}${w.sectors?.length ? ' · ' + w.sectors.join(', ') : ''}`).join('; ') || '—'}</td>
                </tr>))}
              </tbody>
            </table></div>
            <div class="grid">
              <div><h3>By sector</h3><ul>{s.by_sector.map((b: any) => <li key={b.sector}>{b.sector}: {b.count}</li>)}</ul></div>
              <div><h3>By country</h3><ul>{s.by_country.map((b: any) => <li key={b.country}>{b.country}: {b.count}</li>)}</ul></div>
            </div>
          </>
        )}
      </Section>
      <Section title="Correlation" id="correlation">
        {(o.correlation || []).length === 0 ? <Empty what="No other object carries the same observable value." /> : (
          <ul>{o.correlation.map((c: any) => (
            <li key={c.value}><span class="mono">{c.value}</span> <span class="muted">({c.kind})</span>
              <ul>{c.objects.map((x: any) => <li key={x.id}><ObjLink s={x} /></li>)}</ul></li>))}
          </ul>
        )}
      </Section>
    </>
  );
}

/* A marking: a TLP 2.0 definition as its badge (with its id), anything else as it is. */
function Marking({ m }: { m: any }) {
  const id = typeof m === 'string' ? m : m && (m.id || m.marking_ref);
  const level = Object.keys(TLP_MARKINGS).find((k) => TLP_MARKINGS[k] === id);
  if (level) return <><TlpBadge tlp={level} /> <span class="mono small">{id}</span>{typeof m === 'object' && <Tree value={m} />}</>;
  return typeof m === 'string' ? <span class="mono small">{m}</span> : <Tree value={m} />;
}
