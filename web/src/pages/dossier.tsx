// The attribution dossier (docs/dossier.md): the chain to a state, what the subject
// did, who was hit, the allies' opinions (refreshed while the page is open), the gaps
// and the EU test; export buttons for the printable HTML and the signed STIX bundle.
import { useEffect, useState } from 'preact/hooks';
import { BASE, isOwn, Me, qs } from '../api';
import { navigate } from '../router';
import { Empty, fmtTime, Loader, ObjLink, Section, TlpBadge, useApi, useInterval } from '../ui';

export function Dossier({ me, query }: { me: Me; query: URLSearchParams }) {
  const subject = query.get('subject') || '';
  const forp = query.get('for') || '';
  const [input, setInput] = useState(subject);
  const [partner, setPartner] = useState(forp);
  const [tick, setTick] = useState(0);
  useEffect(() => { setInput(subject); setPartner(forp); }, [subject, forp]);
  useInterval(() => setTick((t) => t + 1), 15000); // the opinions' tally, live
  const params = { subject, for: forp };
  const r = useApi<any>(subject ? 'dossier' + qs(params) : null, tick);
  const exportHref = (format: string) => BASE + 'dossier' + qs({ ...params, format });
  return (
    <>
      <h1>Attribution dossier</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); if (input.trim()) navigate('/dossier' + qs({ subject: input.trim(), for: partner.trim() })); }}>
        <label class="wide">Intrusion set, threat actor or campaign (id, name or alias)
          <input name="subject" id="dossier-subject" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} placeholder="VOLT KETTLE" />
        </label>
        {isOwn(me) && <label>Releasable version for partner
          <input name="for" id="dossier-for" value={partner} onInput={(e) => setPartner((e.target as HTMLInputElement).value)} placeholder="(author's version)" />
        </label>}
        <div class="actions"><button type="submit" class="primary">Build</button></div>
      </form>
      {!subject && <Empty what="Name a subject to build its dossier." />}
      {subject && <Loader r={r}>{(d) => (
        <>
          <p class="actions" id="dossier-export">
            <a class="button" href={exportHref('html')} download="dossier.html">Export HTML</a>{' '}
            <a class="button" href={exportHref('stix')} download="dossier.stix.json">Export signed STIX</a>{' '}
            <TlpBadge tlp={d.tlp} /> {d.for ? <span class="chip">releasable version for {d.for}</span> : <span class="chip">author's version</span>}
          </p>
          <DossierBody d={d} />
        </>
      )}</Loader>}
    </>
  );
}

function Items({ list, empty }: { list: any[]; empty: string }) {
  if (!list || list.length === 0) return <Empty what={empty} />;
  return <ul>{list.map((s: any) => <li key={s.id}><ObjLink s={s} /> <span class="muted small">{s.provenance?.producer?.name} · {s.provenance?.signature} · {s.provenance?.from}
    {s.provenance?.not_releasable_to?.length ? ' · not releasable to ' + s.provenance.not_releasable_to.join(', ') : ''}</span></li>)}</ul>;
}

function DossierBody({ d }: { d: any }) {
  const s = d.executive_summary || {};
  const a = d.attribution || {};
  const act = d.activity || {};
  const imp = d.impact || {};
  return (
    <div id="dossier">
      <Section title="Executive summary">
        <dl class="kv">
          <dt>Who</dt><dd>{s.who}</dd><dt>Against whom</dt><dd>{s.against_whom}</dd>
          <dt>Since when</dt><dd>{s.since_when}</dd><dt>How sure</dt><dd id="dossier-sure">{s.how_sure}</dd>
          <dt>Who agrees</dt><dd id="dossier-agree">{s.who_agrees}</dd>
        </dl>
        <p class="muted">{d.statement}</p>
      </Section>
      <Section title="The chain to a state">
        <p>{a.explanation}; confidence {a.confidence ?? 'not stated'}. <span class="muted small">{a.rule}</span></p>
        <table><thead><tr><th>from</th><th>link</th><th>to</th><th>confidence</th><th>TLP</th><th>producer</th><th>signature</th></tr></thead>
          <tbody>{(a.links || []).map((l: any) => <tr key={l.id}><td><ObjLink s={l.from} /></td><td>{l.relationship_type}</td><td><ObjLink s={l.to} /></td>
            <td>{l.confidence ?? <em>not stated</em>}</td><td><TlpBadge tlp={l.tlp} /></td><td>{l.provenance?.producer?.name}</td><td>{l.provenance?.signature}</td></tr>)}</tbody></table>
        {a.cycles?.length > 0 && <p class="error">Cycles of attributed-to: {a.cycles.length}</p>}
      </Section>
      <Section title="What it did">
        <p>{act.counts?.campaigns} campaigns · {act.counts?.malware} malware · {act.counts?.tools} tools · {act.techniques?.count} ATT&CK techniques{act.techniques?.tactics?.length ? ` (${act.techniques.tactics.join(', ')})` : ''}
          {act.techniques?.via_software?.count ? ` · ${act.techniques.via_software.count} more through its malware and tools` : ''}</p>
        <h3>Campaigns</h3><Items list={act.campaigns} empty="None." />
        <h3>Malware and tools</h3><Items list={[...(act.malware || []), ...(act.tools || [])]} empty="None." />
      </Section>
      <Section title="Who was hit">
        <p>{imp.sightings} sightings (count {imp.count}) from {fmtTime(imp.first_seen)} to {fmtTime(imp.last_seen)}; critical sectors: {(imp.critical_sectors || []).map((c: any) => c.name).join(', ') || 'none'}</p>
        <table><thead><tr><th>organisation</th><th>sectors</th><th>country</th><th>sightings</th><th>count</th></tr></thead>
          <tbody>{(imp.by_partner || []).map((p: any) => <tr key={p.id}><td>{p.name}</td><td>{(p.sectors || []).join(', ')}</td><td>{p.country}</td><td>{p.sightings}</td><td>{p.count}</td></tr>)}</tbody></table>
      </Section>
      <Section title="The allies' opinions">
        {(d.opinions?.reports || []).length === 0 ? <Empty what="No report on the subject yet." /> :
          d.opinions.reports.map((rep: any) => <div key={rep.id}><h3><ObjLink s={rep} /></h3>
            <ol>{rep.versions.map((v: any) => <li key={v.version}>version {v.version} ({fmtTime(v.modified)}): {Object.entries(v.tally).map(([k, n]) => `${k} ${n}`).join(', ') || 'no opinion yet'}
              {v.not_yet_answered?.length > 0 && <span class="muted"> · not yet answered: {v.not_yet_answered.map((x: any) => x.name).join(', ')}</span>}
              <ul>{v.opinions.map((o: any) => <li key={o.id}>{o.by?.name}: <strong>{o.opinion}</strong> — {o.text} <span class="muted small">{fmtTime(o.created)} · {o.provenance?.signature}</span></li>)}</ul></li>)}</ol></div>)}
      </Section>
      <Section title="Gaps">
        <ul><li>links without confidence: {d.gaps?.links_without_confidence?.length}</li><li>single-source links: {d.gaps?.single_source_links?.length}</li>
          <li>unsigned or unverified items: {d.gaps?.unsigned_or_unverified?.count}</li><li>indicators never sighted: {d.gaps?.indicators_never_sighted}</li></ul>
      </Section>
      <Section title="EU cyber-sanctions test (Reg. 2019/796)">
        <table><thead><tr><th>criterion</th><th>status</th><th>missing</th></tr></thead>
          <tbody>{(d.legal_test?.criteria || []).map((c: any) => <tr key={c.key}><td>{c.criterion}</td><td>{c.status}</td><td>{c.missing}</td></tr>)}</tbody></table>
      </Section>
      {d.limits?.cut?.length > 0 && <p class="muted">Lists cut: {d.limits.cut.map((c: any) => `${c.list} ${c.shown}/${c.total}`).join(', ')}</p>}
    </div>
  );
}
