// The player of one raftsim trial. Everything it shows comes from the JSON
// in #trial (see pageData in trace/pagedata.go): the script only looks up
// what holds at the slider's virtual time and draws it. Times are virtual
// nanoseconds; a thing at time t has happened when the slider is at t.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('trial').textContent);
  const STATES = ['follower', 'pre-candidate', 'candidate', 'leader', 'down'];
  const PRE_CANDIDATE = 1, CANDIDATE = 2, LEADER = 3, DOWN = 4;
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const N = D.nodes;
  const majority = Math.floor(N / 2) + 1;
  // How long a drop stays marked, and a fault's text stays in the ring.
  const markFor = D.electionMax / 20, bannerFor = D.electionMax;

  // fmt prints virtual time as trace lines do.
  const fmt = (t) => 't=' + (t / 1e6).toFixed(3) + 'ms';
  const name = (i) => (i >= 0 ? D.node[i].name : 'none');

  // last returns the index of the last element of list whose time (at)
  // is at or before t, or -1.
  function last(list, t, at) {
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(list[mid]) <= t) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }
  const first = (x) => x[0];
  function valueAt(list, t, none) {
    const k = last(list, t, first);
    return k < 0 ? none : list[k][1];
  }

  // nodeAt is everything the ring shows of node i at time t.
  function nodeAt(i, t) {
    const n = D.node[i];
    const k = last(n.spans, t, first);
    const s = k < 0 ? { state: DOWN, term: 0, booted: false } : { state: n.spans[k][2], term: n.spans[k][3], booted: true };
    s.vote = valueAt(n.votes, t, -1);
    s.commit = valueAt(n.commits, t, 0);
    s.due = valueAt(n.timers, t, -1);
    const p = last(n.pauses, t, first);
    s.paused = p >= 0 && t < n.pauses[p][1];
    s.pausedUntil = s.paused ? n.pauses[p][1] : 0;
    return s;
  }

  // logAt replays node i's log writes up to t.
  function logAt(i, t) {
    let log = [];
    for (const w of D.node[i].logs) {
      if (w.t > t) break;
      log = log.slice(0, w.index - 1).concat(w.terms);
    }
    return log;
  }

  // --- The ring. ---
  const R = 200;
  const nodeR = Math.max(9, Math.min(36, (Math.PI * R / N) * 0.55));
  const font = Math.max(8, Math.min(15, nodeR * 0.45));
  const pos = (i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / N;
    return [R * Math.cos(a), R * Math.sin(a)];
  };
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  const ring = $('ring');
  const pad = nodeR * 2 + 30;
  ring.setAttribute('viewBox', [-R - pad, -R - pad, 2 * (R + pad), 2 * (R + pad)].join(' '));
  const banner = $('banner');
  banner.setAttribute('font-size', 14);
  const nodeEls = [];
  if (D.ring) {
    for (let i = 0; i < N; i++) {
      const [x, y] = pos(i);
      const g = el('g', { class: 'node', id: 'node-' + name(i), transform: `translate(${x.toFixed(2)} ${y.toFixed(2)})` }, $('nodes'));
      const timer = el('circle', { class: 'timer', r: nodeR + 4, 'stroke-width': Math.max(2, nodeR / 8), transform: 'rotate(-90)' }, g);
      const body = el('circle', { class: 'body', r: nodeR }, g);
      el('circle', { class: 'hatch', r: nodeR }, g);
      const label = el('text', { class: 'name', y: -font * 0.6, 'font-size': font }, g);
      label.textContent = name(i);
      const term = el('text', { class: 'term', y: font * 0.7, 'font-size': font * 0.85 }, g);
      const below = el('text', { class: 'below', y: nodeR + 6 + font, 'font-size': font * 0.8 }, g);
      const title = el('title', {}, body);
      body.addEventListener('click', () => select(i));
      nodeEls.push({ g, timer, term, below, title, circumference: 2 * Math.PI * (nodeR + 4) });
    }
  } else {
    ring.hidden = true;
    const note = $('ring-note');
    note.hidden = false;
    note.textContent = `This trial has ${N} nodes: past ${D.maxRing} a ring is too crowded to read, so the page shows the lanes only.`;
  }

  function drawNodes(t, states) {
    for (let i = 0; i < nodeEls.length; i++) {
      const s = states[i], e = nodeEls[i];
      const cls = ['node', STATES[s.state]];
      if (s.paused) cls.push('paused');
      if (i === selected) cls.push('selected');
      e.g.setAttribute('class', cls.join(' '));
      e.g.dataset.role = STATES[s.state];
      e.g.dataset.term = s.term;
      e.term.textContent = s.booted ? 'term ' + s.term : '';
      let below = '';
      if (!s.booted) below = 'not started';
      else if (s.state === DOWN) below = 'down';
      else if (s.paused) below = 'paused';
      else if (s.state === CANDIDATE) below = 'votes ' + votesFor(i, states) + '/' + majority;
      else if (s.state === PRE_CANDIDATE) below = 'asks pre-votes';
      else if (s.vote >= 0) below = 'voted ' + name(s.vote);
      e.below.textContent = below;
      e.title.textContent = `${name(i)}: ${STATES[s.state]}, term ${s.term}, vote ${name(s.vote)}, commit ${s.commit}`;
      // The election timer as an arc: full at the longest timeout, empty when it fires.
      const left = s.state !== DOWN && s.due >= 0 ? Math.max(0, Math.min(1, (s.due - t) / D.electionMax)) : 0;
      e.timer.setAttribute('stroke-dasharray', `${(left * e.circumference).toFixed(2)} ${e.circumference.toFixed(2)}`);
    }
  }

  // votesFor counts the nodes that voted for candidate i in its term.
  function votesFor(i, states) {
    let n = 0;
    for (let j = 0; j < N; j++) {
      if (states[j].vote === i && states[j].term === states[i].term && states[j].state !== DOWN) n++;
    }
    return n;
  }

  // --- Messages, drops, cut links and faults. ---
  let maxFlight = 0;
  for (const f of D.flows) maxFlight = Math.max(maxFlight, f.arrive - f.sent);
  const edge = (from, to, frac) => {
    const [x1, y1] = pos(from), [x2, y2] = pos(to);
    const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1;
    const sx = x1 + (dx / len) * nodeR, sy = y1 + (dy / len) * nodeR;
    const ex = x2 - (dx / len) * nodeR, ey = y2 - (dy / len) * nodeR;
    return [sx + (ex - sx) * frac, sy + (ey - sy) * frac];
  };
  function cross(x, y, size, parent, tip) {
    const c = el('path', { class: 'drop', d: `M${x - size} ${y - size}L${x + size} ${y + size}M${x - size} ${y + size}L${x + size} ${y - size}` }, parent);
    el('title', {}, c).textContent = tip;
  }
  function drawMessages(t) {
    const layer = $('messages');
    layer.replaceChildren();
    const dot = Math.max(3, Math.min(8, nodeR * 0.22));
    const from = last(D.flows, t - maxFlight - 1, (f) => f.sent) + 1;
    for (let k = from; k < D.flows.length && D.flows[k].sent <= t; k++) {
      const f = D.flows[k];
      if (f.arrive > t) {
        const [x, y] = edge(f.from, f.to, (t - f.sent) / Math.max(1, f.arrive - f.sent));
        const r = f.type === 'AppendEntries' && f.entries > 0 ? dot * 1.5 : dot;
        const cls = ['msg', f.type];
        if (f.reject) cls.push('reject');
        if (f.lost) cls.push('lost');
        const c = el('circle', { class: cls.join(' '), cx: x.toFixed(2), cy: y.toFixed(2), r }, layer);
        el('title', {}, c).textContent = `${name(f.from)}->${name(f.to)} ${f.msg}${f.dup ? ' (duplicate)' : ''}${f.lost ? ' (will be dropped)' : ''}`;
        if (f.dup) el('circle', { class: 'dup-ring', cx: x.toFixed(2), cy: y.toFixed(2), r: r + 3 }, layer);
      } else if (f.lost && t - f.arrive < markFor) {
        const [x, y] = edge(f.from, f.to, 1);
        cross(x, y, dot, layer, `${fmt(f.arrive)} ${name(f.from)}->${name(f.to)} ${f.msg} dropped on arrival`);
      }
    }
    for (let k = last(D.drops, t - markFor, (d) => d.t) + 1; k < D.drops.length && D.drops[k].t <= t; k++) {
      const d = D.drops[k];
      const [x, y] = edge(d.from, d.to, 0.15);
      cross(x, y, dot, layer, d.line);
    }
  }

  let linksShown = -2;
  function drawLinks(t) {
    const k = last(D.links, t, (l) => l.t);
    if (k === linksShown) return;
    linksShown = k;
    const layer = $('links');
    layer.replaceChildren();
    if (k < 0) return;
    const blocked = new Set(D.links[k].blocked.map(([a, b]) => a * N + b));
    for (let a = 0; a < N; a++) {
      for (let b = a + 1; b < N; b++) {
        const ab = blocked.has(a * N + b), ba = blocked.has(b * N + a);
        if (!ab && !ba) continue;
        const [x1, y1] = pos(a), [x2, y2] = pos(b);
        const line = el('line', { class: 'link-cut', x1, y1, x2, y2 }, layer);
        el('title', {}, line).textContent = `${name(a)} ${ab && ba ? '<-x->' : ab ? '-x->' : '<-x-'} ${name(b)}: cut`;
        if (ab !== ba) { // one way: mark the end that hears nothing
          const [x, y] = ab ? edge(a, b, 0.85) : edge(b, a, 0.85);
          cross(x, y, 4, layer, 'cut one way');
        }
      }
    }
  }

  // drawBanner shows the latest faults (all those applied at one time) for
  // a while, and a violation for good.
  function drawBanner(t) {
    const k = last(D.faults, t, (f) => f.t);
    const texts = [];
    for (let j = k; j >= 0 && D.faults[j].t === D.faults[k].t; j--) texts.unshift(D.faults[j].text);
    banner.textContent = k >= 0 && (D.faults[k].violation || t - D.faults[k].t < bannerFor) ? texts.join('; ') : '';
  }

  // --- Status, the node panel and the event list. ---
  function drawStatus(t, states) {
    const leaders = [], down = [], paused = [];
    states.forEach((s, i) => {
      if (s.state === LEADER) leaders.push(`${name(i)} (term ${s.term})`);
      if (s.state === DOWN) down.push(name(i));
      if (s.paused) paused.push(name(i));
    });
    const status = $('status');
    status.querySelector('.time').textContent = fmt(t);
    status.querySelector('.leaders').textContent = leaders.join(', ') || 'none';
    status.querySelector('.down').textContent = down.join(', ') || 'none';
    status.querySelector('.paused').textContent = paused.join(', ') || 'none';
  }

  let selected = -1;
  function select(i) {
    selected = selected === i ? -1 : i;
    draw();
  }
  function drawPanel(t, states) {
    const panel = $('node-panel');
    panel.hidden = selected < 0;
    if (selected < 0) return;
    const s = states[selected];
    const field = (f, text) => { panel.querySelector(`[data-field=${f}]`).textContent = text; };
    panel.querySelector('h2').textContent = name(selected);
    field('role', !s.booted ? 'not started' : STATES[s.state] + (s.paused ? ', paused until ' + fmt(s.pausedUntil) : ''));
    field('term', s.term);
    field('vote', name(s.vote));
    field('commit', s.commit);
    field('timer', s.state === DOWN || s.due < 0 ? 'stopped' : `fires at ${fmt(s.due)}`);
    const log = panel.querySelector('[data-field=log]');
    log.replaceChildren();
    const entries = logAt(selected, t);
    entries.forEach((term, k) => {
      const e = document.createElement('span');
      e.className = k < s.commit ? 'entry committed' : 'entry';
      e.title = `entry ${k + 1}, term ${term}`;
      e.textContent = term;
      log.appendChild(e);
    });
    if (entries.length === 0) log.textContent = 'empty';
  }

  function drawLines(t) {
    const list = $('lines');
    list.replaceChildren();
    const k = last(D.times, t, (x) => x);
    for (let j = Math.max(0, k - 9); j < Math.min(D.lines.length, k + 5); j++) {
      const li = document.createElement('li');
      li.textContent = D.lines[j];
      if (j <= k && D.times[j] === D.times[k]) li.className = 'current';
      else if (j > k) li.className = 'later';
      const at = D.times[j];
      li.addEventListener('click', () => seek(at));
      list.appendChild(li);
    }
  }

  // --- The swimlanes, in step with the slider. ---
  const laneSVG = document.querySelector('#lanes svg');
  const cursor = el('line', { id: 'lane-cursor', y1: 0, y2: laneSVG.viewBox.baseVal.height }, laneSVG);
  const laneX = (t) => D.lanes.x0 + (D.lanes.width * (t - D.lanes.start)) / D.lanes.span;
  function drawCursor(t) {
    const inside = t >= D.lanes.start && t <= D.lanes.start + D.lanes.span;
    cursor.setAttribute('visibility', inside ? 'visible' : 'hidden');
    cursor.setAttribute('x1', laneX(t).toFixed(2));
    cursor.setAttribute('x2', laneX(t).toFixed(2));
  }
  laneSVG.addEventListener('click', (ev) => {
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(laneSVG.getScreenCTM().inverse());
    seek(D.lanes.start + ((p.x - D.lanes.x0) / D.lanes.width) * D.lanes.span);
  });

  // --- Time and controls. ---
  const slider = $('slider');
  slider.min = D.start;
  slider.max = D.end;
  let t = D.start;

  function draw() {
    const states = [];
    for (let i = 0; i < N; i++) states.push(nodeAt(i, t));
    if (D.ring) {
      drawLinks(t);
      drawNodes(t, states);
      drawMessages(t);
      drawBanner(t);
    }
    drawStatus(t, states);
    drawPanel(t, states);
    drawLines(t);
    drawCursor(t);
  }

  function seek(to) {
    t = Math.max(D.start, Math.min(D.end, Math.round(to)));
    slider.value = t;
    draw();
  }
  slider.addEventListener('input', () => { pause(); seek(Number(slider.value)); });

  const electionRunning = () => {
    for (let i = 0; i < N; i++) {
      const s = nodeAt(i, t).state;
      if (s === CANDIDATE || s === PRE_CANDIDATE) return true;
    }
    return false;
  };
  let playing = false, wallBefore = null;
  function frame(wall) {
    if (!playing) return;
    if (wallBefore !== null) {
      let rate = Number($('speed').value);
      if ($('slowmo').checked && electionRunning()) rate /= 5;
      seek(t + (wall - wallBefore) * 1e6 * rate); // wall milliseconds to virtual nanoseconds
    }
    wallBefore = wall;
    if (t >= D.end) pause(); else requestAnimationFrame(frame);
  }
  function play() {
    if (t >= D.end) seek(D.start);
    playing = true;
    wallBefore = null;
    $('play').textContent = 'pause';
    requestAnimationFrame(frame);
  }
  function pause() {
    playing = false;
    $('play').textContent = 'play';
  }
  $('play').addEventListener('click', () => (playing ? pause() : play()));

  // Steps go from one time at which listed events happened to the next
  // (times are whole nanoseconds).
  function step(dir) {
    pause();
    const j = dir > 0 ? last(D.times, t, (x) => x) + 1 : last(D.times, t - 1, (x) => x);
    if (j >= 0 && j < D.times.length) seek(D.times[j]);
  }
  $('next').addEventListener('click', () => step(1));
  $('prev').addEventListener('click', () => step(-1));
  function nextElection() {
    pause();
    const j = last(D.elections, t, (x) => x) + 1;
    if (j < D.elections.length) seek(D.elections[j]);
  }
  $('next-election').addEventListener('click', nextElection);
  $('next-election').disabled = D.elections.length === 0;
  $('violation').disabled = D.violation === null;
  $('violation').addEventListener('click', () => { pause(); seek(D.violation); });
  document.addEventListener('keydown', (ev) => {
    if (ev.target.tagName === 'SELECT' || ev.target.tagName === 'INPUT' && ev.target.type !== 'range') return;
    const keys = { ' ': () => (playing ? pause() : play()), ArrowRight: () => step(1), ArrowLeft: () => step(-1), e: nextElection };
    if (D.violation !== null) keys.v = () => { pause(); seek(D.violation); };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });

  const legend = $('legend');
  for (const [label, color] of [['follower', '#dcdcdc'], ['pre-candidate', '#ffe08a'], ['candidate', '#f6a96b'], ['leader', '#8fce7a'],
    ['down', '#3a3a3a'], ['RequestVote', '#1f5fbf'], ['vote reply', '#6ea0e6'], ['PreVote', '#8a4fbf'], ['AppendEntries', '#5f8f5f'],
    ['its reply', '#a3bfa3'], ['refused: hollow', '#fff'], ['dropped', '#d62728']]) {
    const li = document.createElement('li');
    const swatch = document.createElement('i');
    swatch.style.background = color;
    li.append(swatch, label);
    legend.appendChild(li);
  }
  if (!D.ring) legend.hidden = true;

  // A link may name a moment and a node: page.html#t=812.5ms&node=n3.
  const hash = new URLSearchParams(location.hash.slice(1));
  const at = /^([0-9.]+)(ns|us|ms|s)?$/.exec(hash.get('t') || '');
  const nodeArg = D.node.findIndex((n) => n.name === hash.get('node'));
  if (nodeArg >= 0 && D.ring) selected = nodeArg;
  seek(at ? Number(at[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[at[2] || 'ms'] : D.start);
})();
