// Graph explorer: start from an object, click a node to add its neighbours.
// Cytoscape is loaded on demand (its own chunk); nodes are coloured by STIX
// type, with the TLP colour as border.  New neighbours are placed in a ring
// around the clicked node (no global re-layout), so hundreds of nodes stay fast.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs, Summary } from '../api';
import { navigate, href } from '../router';
import { ErrorBox, ObjLink, TLP_COLOURS, tlpLevel } from '../ui';

export const TYPE_COLOURS: Record<string, string> = {
  'intrusion-set': '#e15759', 'threat-actor': '#c0392b', campaign: '#f28e2b', malware: '#b07aa1', tool: '#9c755f',
  'attack-pattern': '#4e79a7', indicator: '#59a14f', sighting: '#edc948', report: '#76b7b2', identity: '#8c8c8c',
  vulnerability: '#ff9da7', location: '#17becf', note: '#bcbd22', opinion: '#aec7e8', infrastructure: '#7f7f7f',
  'course-of-action': '#2ca02c', 'observed-data': '#d4a6c8', relationship: '#bbbbbb',
};
const colour = (t: string) => TYPE_COLOURS[t] || '#999999';

export function GraphPage({ id }: { id: string }) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<any>(null);
  const [input, setInput] = useState(id);
  const [error, setError] = useState<any>(null);
  const [counts, setCounts] = useState({ nodes: 0, edges: 0 });
  const [types, setTypes] = useState<string[]>([]);
  const [selected, setSelected] = useState<Summary | null>(null);
  const [busy, setBusy] = useState(!!id); // until the first answer is drawn
  const expanded = useRef(new Set<string>());

  const expand = async (nodeId: string) => {
    const cy = cyRef.current;
    if (!cy || expanded.current.has(nodeId)) return;
    setBusy(true);
    try {
      const g = await api<any>('graph' + qs({ id: nodeId }));
      expanded.current.add(nodeId);
      const centre = cy.getElementById(nodeId);
      const origin = centre.nonempty() ? centre.position() : { x: 0, y: 0 };
      const fresh = (g.nodes || []).filter((n: Summary) => cy.getElementById(n.id).empty());
      const r = 80 + fresh.length * 6;
      cy.batch(() => {
        fresh.forEach((n: Summary, i: number) => {
          const a = (2 * Math.PI * i) / Math.max(1, fresh.length);
          cy.add({
            group: 'nodes',
            data: { id: n.id, label: shortLabel(n), type: n.type, tlp: tlpLevel(n.tlp), s: n },
            position: n.id === nodeId ? origin : { x: origin.x + r * Math.cos(a), y: origin.y + r * Math.sin(a) },
          });
        });
        (g.edges || []).forEach((e: any) => {
          if (cy.getElementById(e.id).empty() && cy.getElementById(e.source).nonempty() && cy.getElementById(e.target).nonempty())
            cy.add({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, label: e.label || '' } });
        });
        cy.getElementById(nodeId).addClass('expanded');
      });
      if (cy.nodes().length === fresh.length) {
        // the first load: one layout of everything
        const n = cy.nodes().length;
        cy.layout(n > 150 ? { name: 'concentric', animate: false, minNodeSpacing: 8, concentric: (x: any) => x.degree() } : { name: 'cose', animate: false, randomize: true, numIter: 400 }).run();
        cy.fit(undefined, 30);
      }
      setCounts({ nodes: cy.nodes().length, edges: cy.edges().length });
      setTypes([...new Set<string>(cy.nodes().map((x: any) => x.data('type')))].sort());
      const me = cy.getElementById(nodeId);
      if (me.nonempty()) setSelected(me.data('s'));
      setError(null);
    } catch (e) { setError(e); } finally { setBusy(false); }
  };

  useEffect(() => {
    let cy: any;
    let dead = false;
    setBusy(!!id);
    setCounts({ nodes: 0, edges: 0 });
    import('cytoscape').then(({ default: cytoscape }) => {
      if (dead || !box.current) return;
      const dark = document.documentElement.dataset.theme === 'dark';
      cy = cytoscape({
        container: box.current,
        wheelSensitivity: 0.3,
        textureOnViewport: true,
        hideEdgesOnViewport: true,
        style: [
          { selector: 'node', style: {
            'background-color': (n: any) => colour(n.data('type')),
            'border-width': 4, 'border-color': (n: any) => TLP_COLOURS[n.data('tlp')] || '#9AA0A6',
            'outline-width': 1, 'outline-color': '#000', 'outline-offset': 0,
            label: 'data(label)', 'font-size': 9, color: dark ? '#e8e8e8' : '#222', 'text-valign': 'bottom', 'text-margin-y': 3,
            'text-max-width': '110px', 'text-wrap': 'ellipsis', width: 22, height: 22,
          } as any },
          { selector: 'node.expanded', style: { width: 30, height: 30, 'font-weight': 'bold' } },
          { selector: 'node:selected', style: { 'overlay-color': '#4e79a7', 'overlay-opacity': 0.25, 'overlay-padding': 6 } as any },
          { selector: 'edge', style: { width: 1, 'line-color': dark ? '#666' : '#bbb', 'target-arrow-shape': 'triangle', 'target-arrow-color': dark ? '#666' : '#bbb', 'curve-style': 'haystack', label: 'data(label)', 'font-size': 7, color: dark ? '#aaa' : '#777', 'text-rotation': 'autorotate', 'min-zoomed-font-size': 10 } as any },
        ],
        minZoom: 0.05, maxZoom: 4,
      });
      cyRef.current = cy;
      (box.current as any).__cy = cy; // for the browser tests: find a node's position on screen
      cy.on('tap', 'node', (ev: any) => { setSelected(ev.target.data('s')); expand(ev.target.id()); });
      if (id) expand(id);
    });
    return () => { dead = true; if (cy) cy.destroy(); cyRef.current = null; expanded.current.clear(); };
  }, [id]);

  const start = (e: Event) => { e.preventDefault(); if (input.trim()) navigate('/graph' + qs({ id: input.trim() })); };
  const nodes: any[] = cyRef.current ? cyRef.current.nodes().map((n: any) => n.data('s')) : [];

  return (
    <>
      <h1>Graph explorer</h1>
      <form class="filters" onSubmit={start}>
        <label class="wide">Start from object id
          <input name="id" id="graph-id" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} placeholder="intrusion-set--…" />
        </label>
        <div class="actions"><button type="submit" class="primary">Show</button></div>
      </form>
      <ErrorBox error={error} />
      <p role="status" id="graph-status" aria-live="polite">{busy ? 'Loading…' : id ? `${counts.nodes} nodes, ${counts.edges} edges. Click a node to add its neighbours.` : 'Name an object to start (or open one and choose Graph).'}</p>
      <div class="graph-wrap">
        <div class="graph" ref={box} id="graph" aria-label="Graph of related objects; the list beside it has the same nodes" role="img" />
        <aside class="graph-side">
          <h2>Legend</h2>
          <ul class="legend">
            {types.map((t) => <li key={t}><span class="swatch" style={{ background: colour(t) }} />{t}</li>)}
          </ul>
          <ul class="legend">
            {['clear', 'green', 'amber', 'amber+strict', 'red'].map((t) => <li key={t}><span class="swatch ring" style={{ borderColor: TLP_COLOURS[t] }} />TLP:{t.toUpperCase()}</li>)}
          </ul>
          {selected && <><h2>Selected</h2><p><ObjLink s={selected} /></p></>}
          <details>
            <summary>Nodes as a list ({nodes.length})</summary>
            <ul class="node-list">{nodes.slice(0, 500).map((s: any) => (
              <li key={s.id}><button type="button" class="link" onClick={() => expand(s.id)} aria-label={`Expand ${s.name}`}>＋</button> <a href={href('/object/' + encodeURIComponent(s.id))}>{s.name}</a></li>
            ))}</ul>
          </details>
        </aside>
      </div>
    </>
  );
}

function shortLabel(n: Summary) {
  const s = n.name || n.id;
  return s.length > 40 ? s.slice(0, 38) + '…' : s;
}
