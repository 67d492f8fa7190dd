// natgw web UI: vanilla JS over the admin API (/api/v1). The token lives in sessionStorage only.
'use strict';

const API = '/api/v1';
const $ = (sel, root = document) => root.querySelector(sel);
const state = { rows: new Map(), fetchedAt: 0, sort: { key: 'externalPort', dir: 1 }, stream: null };

// ---- token and requests -------------------------------------------------------------------------

function takeTokenFromFragment() {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (m) {
    sessionStorage.setItem('natgw-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + '#leases');
  }
}

const token = () => sessionStorage.getItem('natgw-token');

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : 'HTTP ' + status);
    this.status = status;
    this.field = body ? body.field : null;
    this.accepted = body ? body.accepted : null;
  }
  describe() {
    let s = this.message;
    if (this.field) s += ' (field: ' + this.field + (this.accepted ? '; accepted: ' + this.accepted : '') + ')';
    else if (this.accepted) s += ' (accepted: ' + this.accepted + ')';
    return s;
  }
}

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: Object.assign({ Authorization: 'Bearer ' + token() }, body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch (e) { /* not JSON */ }
  if (res.status === 401 || res.status === 403) {
    signOut(res.status === 403 ? 'The token was refused.' : 'Sign in first.');
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// ---- pages --------------------------------------------------------------------------------------

function show() {
  const signedIn = !!token();
  $('#login').hidden = signedIn;
  $('#signout').hidden = !signedIn;
  const page = (location.hash.replace('#', '') || 'leases').split('&')[0];
  for (const p of ['leases', 'triggers', 'status']) {
    $('#page-' + p).hidden = !signedIn || p !== page;
    $('#nav-' + p).classList.toggle('active', p === page);
  }
  if (!signedIn) return;
  if (page === 'leases') loadLeases();
  if (page === 'triggers') loadTriggers();
  if (page === 'status') loadStatus();
  if (!state.stream) connectEvents();
}

function signOut(message) {
  sessionStorage.removeItem('natgw-token');
  if (state.stream) { state.stream.abort(); state.stream = null; }
  $('#login-error').textContent = message || '';
  show();
}

// ---- lease table --------------------------------------------------------------------------------

async function loadLeases() {
  try {
    const list = await api('GET', '/mappings');
    state.rows = new Map(list.mappings.map(m => [m.id, m]));
    state.fetchedAt = Date.now();
    for (const m of state.rows.values()) m.fetchedAt = state.fetchedAt;
    renderLeases();
  } catch (e) { $('#lease-count').textContent = e.message; }
}

function remaining(m) {
  if (m.remainingSeconds === null || m.remainingSeconds === undefined) return Infinity;
  return Math.max(0, m.remainingSeconds - Math.floor((Date.now() - m.fetchedAt) / 1000));
}

function fmtDuration(s) {
  if (s === Infinity) return 'never';
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function fmtBytes(n) {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

// A traffic object's byte figure: "~" before it when spliced TCP made it approximate (counted in 64 KiB chunks).
function fmtTrafficBytes(t, field) {
  return (t.bytesApproximate ? '~' : '') + fmtBytes(t[field]);
}

function approximateTitle(t) {
  return t.bytesApproximate
    ? `approximate: may be short by up to ${fmtBytes(t.bytesUncertainty)} (spliced TCP is counted in 64 KiB chunks)` : '';
}

function sortValue(m, key) {
  switch (key) {
    case 'remaining': return remaining(m);
    case 'rx': return m.traffic.bytesReceived;
    case 'tx': return m.traffic.bytesSent;
    default: return m[key];
  }
}

// Phone width shows rows as cards: each cell carries its column's name.
function labelCells(table) {
  const names = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((td, i) => { if (names[i]) td.dataset.label = names[i]; });
  }
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function renderLeases() {
  const q = $('#filter').value.trim().toLowerCase();
  const { key, dir } = state.sort;
  const rows = [...state.rows.values()]
    .filter(m => !q || [m.protocol, m.family, m.external, m.internal, m.remote, m.kind, m.origin, m.owner, m.description]
      .join(' ').toLowerCase().includes(q))
    .sort((a, b) => {
      const x = sortValue(a, key), y = sortValue(b, key);
      return (x < y ? -1 : x > y ? 1 : a.externalPort - b.externalPort) * dir;
    });
  const body = $('#leases tbody');
  body.replaceChildren();
  for (const m of rows) {
    const tr = document.createElement('tr');
    tr.dataset.id = m.id;
    // an IPv6 pinhole: no translation, so "external" is the host itself; its id is IGD:2's UniqueID
    const pinhole = m.family === 'ipv6';
    cell(tr, m.protocol.toUpperCase() + (pinhole ? ' · IPv6' : '')).title = pinhole ? 'IPv6 pinhole' : 'IPv4 NAT mapping';
    cell(tr, m.external + (pinhole ? ' #' + m.pinholeId : ''), 'mono');
    cell(tr, m.internal, 'mono');
    cell(tr, m.remote, 'mono');
    cell(tr, m.kind, 'kind ' + m.kind);
    cell(tr, m.origin);
    cell(tr, m.owner, 'mono');
    cell(tr, m.description, 'desc');
    cell(tr, fmtDuration(remaining(m)), 'left');
    cell(tr, m.enabled ? 'yes' : 'no');
    cell(tr, fmtTrafficBytes(m.traffic, 'bytesReceived'), 'num').title = approximateTitle(m.traffic);
    cell(tr, fmtTrafficBytes(m.traffic, 'bytesSent'), 'num').title = approximateTitle(m.traffic);
    const td = cell(tr, '');
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger small delete';
    del.textContent = 'Delete';
    del.addEventListener('click', () => deleteMapping(m));
    td.appendChild(del);
    body.appendChild(tr);
  }
  for (const th of document.querySelectorAll('#leases th[data-key]')) {
    th.classList.toggle('sorted', th.dataset.key === key);
    th.classList.toggle('desc', th.dataset.key === key && dir < 0);
  }
  labelCells($('#leases'));
  $('#leases-empty').hidden = rows.length > 0;
  $('#lease-count').textContent = rows.length + ' of ' + state.rows.size + ' mappings';
}

function tickCountdown() {
  for (const tr of document.querySelectorAll('#leases tbody tr')) {
    const m = state.rows.get(tr.dataset.id);
    if (m) $('.left', tr).textContent = fmtDuration(remaining(m));
  }
}

function confirmDialog(text, okLabel) {
  const d = $('#confirm');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  return new Promise(resolve => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

async function deleteMapping(m) {
  const ok = await confirmDialog((m.family === 'ipv6' ? `Close IPv6 pinhole ${m.pinholeId}: ${m.protocol.toUpperCase()} to ${m.internal}`
    : `Delete ${m.protocol.toUpperCase()} ${m.external} → ${m.internal}`)
    + (m.description ? ` (“${m.description}”)` : '') + ` owned by ${m.owner} via ${m.origin}?`, 'Delete');
  if (!ok) return;
  try {
    await api('DELETE', '/mappings/' + m.id); // id: tcp/6000, plus ?remote=… for filtered rows, ?host=… for pinholes
    state.rows.delete(m.id);
    renderLeases();
  } catch (e) { $('#lease-count').textContent = 'Delete failed: ' + e.describe(); }
}

function formValues(form) {
  const v = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    v[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return v;
}

function markField(form, field) {
  for (const el of form.elements) el.classList.toggle('invalid', !!field && el.name === field);
}

async function addStatic(ev) {
  ev.preventDefault();
  const form = ev.target;
  const v = formValues(form);
  const body = { protocol: v.protocol, externalPort: toNumber(v.externalPort), internalAddress: v.internalAddress,
    description: v.description, enabled: v.enabled };
  if (v.internalPort) body.internalPort = toNumber(v.internalPort);
  try {
    await api('POST', '/mappings', body);
    $('#static-error').textContent = '';
    markField(form, null);
    form.reset();
    loadLeases();
  } catch (e) {
    $('#static-error').textContent = e.describe();
    markField(form, e.field);
  }
}

const toNumber = s => (/^\d+$/.test(s) ? Number(s) : s);

// ---- port triggering ----------------------------------------------------------------------------

// The same syntax the configuration file accepts: ports 0-65535, ranges a-b with a <= b, comma-separated.
function portListError(text) {
  if (!text.trim()) return 'enter ports, e.g. 113 or 6660-7000,7070';
  for (const part of text.split(',')) {
    const p = part.trim();
    const ends = p.split('-');
    if (!p || ends.length > 2) return `“${p}” is not a port or a range (accepted: 123-456,777-789)`;
    for (const e of ends) {
      if (!/^\d{1,5}$/.test(e.trim())) return `“${e}” is not a port number (accepted: 0-65535)`;
      if (Number(e) > 65535) return `port ${Number(e)} is out of range (accepted: 0-65535)`;
    }
    if (ends.length === 2 && Number(ends[0]) > Number(ends[1])) return `range “${p}” ends before it starts`;
  }
  return '';
}

function validatePorts(input) {
  const err = portListError(input.value);
  input.setCustomValidity(err);
  input.classList.toggle('invalid', !!err);
  input.title = err;
  $('#trigger-error').textContent = err;
  return !err;
}

let predefined = [];

async function loadTriggers() {
  try {
    const [rules, pre] = await Promise.all([api('GET', '/triggers'), predefined.length ? null : api('GET', '/triggers/predefined')]);
    if (pre) {
      predefined = pre.predefined;
      const sel = $('#predefined');
      for (const p of predefined) {
        const o = document.createElement('option');
        o.value = p.name;
        o.textContent = `${p.name} (${p.triggerProtocol} ${p.triggerPorts} → ${p.incomingProtocol} ${p.incomingPorts})`;
        sel.appendChild(o);
      }
    }
    renderTriggers(rules.triggers);
  } catch (e) { $('#trigger-error').textContent = e.message; }
}

function renderTriggers(rules) {
  const body = $('#triggers tbody');
  body.replaceChildren();
  for (const r of rules) {
    const tr = document.createElement('tr');
    tr.dataset.name = r.name;
    cell(tr, r.index);
    cell(tr, r.name, 'desc');
    cell(tr, r.triggerProtocol.toUpperCase());
    cell(tr, r.triggerPorts, 'mono');
    cell(tr, r.incomingProtocol.toUpperCase());
    cell(tr, r.incomingPorts, 'mono');
    cell(tr, r.timeout + ' s');
    const status = cell(tr, '');
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'small toggle ' + (r.enabled ? 'on' : 'off');
    toggle.textContent = r.enabled ? 'Enabled' : 'Disabled';
    toggle.title = r.enabled ? 'Click to disable' : 'Click to enable';
    toggle.addEventListener('click', () => triggerAction('POST', `/triggers/${r.index}/${r.enabled ? 'disable' : 'enable'}`));
    status.appendChild(toggle);
    const td = cell(tr, '');
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger small delete';
    del.textContent = 'Delete';
    del.addEventListener('click', async () => {
      if (await confirmDialog(`Delete trigger rule #${r.index} “${r.name}”?`, 'Delete')) {
        triggerAction('DELETE', '/triggers/' + r.index);
      }
    });
    td.appendChild(del);
    body.appendChild(tr);
  }
  labelCells($('#triggers'));
}

async function triggerAction(method, path) {
  try {
    await api(method, path);
    $('#trigger-error').textContent = '';
  } catch (e) { $('#trigger-error').textContent = e.describe(); }
  loadTriggers();
}

function choosePredefined() {
  const p = predefined.find(x => x.name === $('#predefined').value);
  if (!p) return;
  const f = $('#trigger-form');
  for (const k of ['name', 'triggerProtocol', 'triggerPorts', 'incomingProtocol', 'incomingPorts', 'timeout']) {
    f.elements[k].value = p[k];
  }
  for (const input of f.querySelectorAll('.ports')) validatePorts(input);
}

async function addTrigger(ev) {
  ev.preventDefault();
  const form = ev.target;
  const inputs = [...form.querySelectorAll('.ports')];
  if (!inputs.every(validatePorts)) return;
  const v = formValues(form);
  const body = { name: v.name, triggerProtocol: v.triggerProtocol, triggerPorts: v.triggerPorts,
    incomingProtocol: v.incomingProtocol, incomingPorts: v.incomingPorts, timeout: toNumber(v.timeout), enabled: v.enabled };
  try {
    await api('POST', '/triggers', body);
    $('#trigger-error').textContent = '';
    markField(form, null);
    form.reset();
    loadTriggers();
  } catch (e) {
    $('#trigger-error').textContent = e.describe();
    markField(form, e.field);
  }
}

// ---- status -------------------------------------------------------------------------------------

// The WAN interface as the kernel reports it: "gwwan up, 10000 Mbit/s, up 5m, 3 MB in (2100 packets), …".
function fmtLink(l) {
  const parts = [(l.interfaceName ? l.interfaceName + ' ' : '') + l.state];
  if (l.speedBitsPerSecond != null) parts.push(Math.floor(l.speedBitsPerSecond / 1e6) + ' Mbit/s');
  if (l.upSeconds != null) parts.push('up ' + fmtDuration(l.upSeconds));
  if (l.bytesReceived != null) parts.push(`${l.bytesReceived} B in (${l.packetsReceived ?? '?'} packets)`);
  if (l.bytesSent != null) parts.push(`${l.bytesSent} B out (${l.packetsSent ?? '?'} packets)`);
  if (l.problem) parts.push(l.problem);
  return parts.join(', ');
}

async function loadStatus() {
  try {
    const s = await api('GET', '/status');
    const facts = [['External address', s.externalAddress],
      ...(s.reportedAddress !== s.externalAddress ? [['Told to clients', s.reportedAddress]] : []),
      ...(s.stunAddress || s.stunProblem ? [['STUN sees', s.stunAddress ? s.stunAddress + (s.stunProblem ? ' (last answer; now ' + s.stunProblem + ')' : '') : ('nothing: ' + s.stunProblem)]] : []),
      ...(s.externalAddressProblem ? [['Warning', s.externalAddressProblem]] : []), ['Epoch', s.epochSeconds + ' s since ' + s.epochStart],
      ['Uptime', fmtDuration(s.uptimeSeconds)], ['Mappings', s.mappings + (s.pinholes ? ` (${s.pinholes} IPv6 pinholes)` : '')],
      ['Traffic', `${fmtTrafficBytes(s.traffic, 'bytesReceived')} in, ${fmtTrafficBytes(s.traffic, 'bytesSent')} out, `
        + `${s.traffic.sessions} sessions` + (s.traffic.bytesApproximate ? ` (${approximateTitle(s.traffic)})` : '')],
      ...(s.link ? [['WAN link', fmtLink(s.link)]] : []),
      ['Configuration', s.config]];
    const dl = $('#status');
    dl.replaceChildren();
    for (const [k, v] of facts) {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      dl.append(dt, dd);
    }
    const body = $('#counts tbody');
    body.replaceChildren();
    for (const [proto, kinds] of Object.entries(s.counts)) {
      const tr = document.createElement('tr');
      cell(tr, proto.toUpperCase());
      for (const k of ['static', 'dynamic', 'triggered']) cell(tr, kinds[k], 'num');
      body.appendChild(tr);
    }
    const ul = $('#listeners');
    ul.replaceChildren();
    for (const l of s.listeners) {
      const li = document.createElement('li');
      li.textContent = `${l.name} — ${l.transport} ${l.address}`;
      ul.appendChild(li);
    }
  } catch (e) { $('#status').textContent = e.message; }
}

// ---- live updates: the server-sent event stream, read with fetch so the token stays in a header ----

async function connectEvents() {
  const ctl = new AbortController();
  state.stream = ctl;
  const live = $('#live');
  try {
    const res = await fetch(API + '/events', { headers: { Authorization: 'Bearer ' + token() }, signal: ctl.signal });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    live.textContent = 'live';
    live.className = 'live on';
    if (!$('#page-leases').hidden) loadLeases(); // catch up on what changed while disconnected
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        handleEvent(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  } catch (e) { /* reconnect below */ }
  live.textContent = 'offline';
  live.className = 'live off';
  if (state.stream === ctl && token()) {
    state.stream = null;
    setTimeout(() => { if (!state.stream && token()) connectEvents(); }, 2000);
  }
}

function handleEvent(block) {
  let type = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (type !== 'change' || !data) {
    if (type === 'external-address' && !$('#page-status').hidden) loadStatus();
    return;
  }
  const c = JSON.parse(data);
  const m = c.mapping;
  m.fetchedAt = Date.now();
  if (c.type === 'removed') state.rows.delete(m.id);
  else state.rows.set(m.id, m);
  if (!$('#page-leases').hidden) renderLeases();
  if (!$('#page-status').hidden) loadStatus();
}

// ---- wiring -------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  takeTokenFromFragment();
  $('#login-form').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem('natgw-token', $('#token').value.trim());
    $('#token').value = '';
    $('#login-error').textContent = '';
    show();
  });
  $('#signout').addEventListener('click', () => signOut(''));
  $('#filter').addEventListener('input', renderLeases);
  for (const th of document.querySelectorAll('#leases th[data-key]')) {
    th.addEventListener('click', () => {
      const k = th.dataset.key;
      state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
      renderLeases();
    });
  }
  $('#static-form').addEventListener('submit', addStatic);
  $('#trigger-form').addEventListener('submit', addTrigger);
  for (const input of document.querySelectorAll('#trigger-form .ports')) {
    input.addEventListener('input', () => validatePorts(input));
  }
  $('#predefined').addEventListener('change', choosePredefined);
  window.addEventListener('hashchange', () => { takeTokenFromFragment(); show(); });
  setInterval(tickCountdown, 1000);
  show();
});
