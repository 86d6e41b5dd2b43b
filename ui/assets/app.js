// llmtap's local viewer. Everything it shows comes from this server's /api/ (SPEC.md "Viewer API").
// Data only ever enters the page as text (textContent, text nodes, attribute values): never as
// markup, so a prompt or a tool result cannot run or inject anything.
'use strict';

const FILTER_KEYS = ['since', 'until', 'workflow', 'agent', 'model', 'user', 'session', 'errors', 'min_cost', 'max_cost'];
const LIST_VIEWS = new Set(['traces', 'sessions', 'health', 'tools', 'cost']);

// ---- DOM helpers -------------------------------------------------------------------------------

// el('td', {class: 'num'}, 'text', childNode...): attributes are set as values, children as text.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function link(href, text, attrs) { return el('a', Object.assign({href}, attrs || {}), text); }

function table(id, headers, rows, numeric) {
  const head = el('tr', {}, ...headers.map((h, i) => el('th', {class: numeric && numeric[i] ? 'num' : null}, h)));
  return el('table', {id, class: 'data'}, el('thead', {}, head), el('tbody', {}, ...rows));
}

function row(cells, numeric, attrs) {
  return el('tr', attrs || {}, ...cells.map((c, i) => el('td', {class: numeric && numeric[i] ? 'num' : null}, c)));
}

function card(label, value, id) {
  return el('div', {class: 'card', id}, el('div', {class: 'card-value'}, value), el('div', {class: 'card-label'}, label));
}

function section(title, ...children) { return el('section', {}, el('h2', {}, title), ...children); }

// ---- formats (as the terminal's: export/tree_renderer.cc) --------------------------------------

function fmtCost(usd) {
  if (usd === null || usd === undefined) return '–';
  if (!(usd > 0)) return '$0';
  if (usd >= 1) return '$' + usd.toFixed(2);
  const precision = usd >= 0.01 ? 3 : Math.min(12, Math.floor(-Math.log10(usd)) + 1);
  let s = usd.toFixed(precision);
  while (s.endsWith('0')) s = s.slice(0, -1);
  if (s.endsWith('.')) s = s.slice(0, -1);
  return '$' + s;
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return Math.round(ms) + 'ms';
  const s = ms / 1000;
  return s < 10 ? s.toFixed(2) + 's' : s < 100 ? s.toFixed(1) + 's' : s.toFixed(0) + 's';
}

function fmtSeconds(s) {
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]]) if (s % n === 0) return (s / n) + unit;
  return s + 's';
}

function fmtPct(fraction) { return (fraction * 100).toFixed(1) + '%'; }

function fmtNum(v) { return Number.isInteger(v) ? String(v) : v.toFixed(1); }

function fmtTime(ns) {
  const d = new Date(Number(BigInt(ns) / 1000000n));
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function dash(s) { return s === '' || s === null || s === undefined ? '–' : s; }

function shortId(id) { return id.slice(0, 12); }

// ---- API ---------------------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const url = '/api/' + path + (q.toString() ? '?' + q.toString() : '');
  const res = await fetch(url, {credentials: 'same-origin', cache: 'no-store'});
  let body;
  try { body = await res.json(); } catch (e) { throw new ApiError(`${url}: HTTP ${res.status}`); }
  if (!res.ok) throw new ApiError(body && body.error ? body.error.message : `${url}: HTTP ${res.status}`);
  return body;
}

// ---- routing: #/VIEW[/ARG][?filters] -----------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query] = hash.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const params = {};
  for (const [k, v] of new URLSearchParams(query || '')) params[k] = v;
  return {view: parts[0] || 'traces', arg: parts.slice(1).join('/'), params};
}

function filtersOf(params) {
  const f = {};
  for (const k of FILTER_KEYS) if (params[k]) f[k] = params[k];
  return f;
}

function hrefWith(view, filters, arg) {
  const q = new URLSearchParams(filters).toString();
  return '#/' + view + (arg ? '/' + encodeURIComponent(arg) : '') + (q ? '?' + q : '');
}

const form = document.getElementById('filters');

function fillForm(params) {
  for (const k of FILTER_KEYS) form.elements[k].value = params[k] || '';
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = {};
  for (const k of FILTER_KEYS) if (form.elements[k].value.trim()) f[k] = form.elements[k].value.trim();
  const r = route();
  location.hash = hrefWith(LIST_VIEWS.has(r.view) ? r.view : 'traces', f);
});
document.getElementById('clear-filters').addEventListener('click', () => {
  location.hash = hrefWith(LIST_VIEWS.has(route().view) ? route().view : 'traces', {});
});

// ---- views -------------------------------------------------------------------------------------

const view = document.getElementById('view');

function emptyStoreNote(store) {
  if (store && store.present === false)
    return el('p', {class: 'note', id: 'no-store'}, 'Nothing recorded yet (', store.message,
              '). Run `llmtap run -- YOUR_APP` or `llmtap proxy`: this page updates by itself.');
  return null;
}

async function tracesView(r) {
  const filters = filtersOf(r.params);
  const data = await api('traces', Object.assign({limit: 100}, filters));
  const numeric = [false, false, false, false, false, false, false, true, true, true, true];
  const tbody = [];
  const addRows = (traces) => {
    for (const t of traces)
      tbody.push(row([
        fmtTime(t.start_time_unix_nano),
        link('#/trace/' + t.trace_id, shortId(t.trace_id), {class: 'mono'}),
        dash(t.workflow), dash(t.agents.join(', ')), dash(t.models.join(', ')), dash(t.user),
        t.session ? link(hrefWith('session', {}, t.session), t.session) : '–',
        String(t.spans), fmtMs(t.duration_ms), fmtCost(t.cost_usd), t.errors ? String(t.errors) : '–',
      ], numeric, {'data-trace-id': t.trace_id, class: t.errors ? 'has-error' : null}));
  };
  addRows(data.traces);
  const headers = ['Start (UTC)', 'Trace', 'Workflow', 'Agents', 'Models', 'User', 'Session', 'Spans', 'Duration', 'Cost', 'Errors'];
  const out = [el('h1', {}, 'Traces'), emptyStoreNote(data.store)];
  if (data.traces.length === 0 && data.store.present) out.push(el('p', {class: 'note'}, 'No traces match these filters.'));
  const tbl = table('trace-list', headers, tbody, numeric);
  out.push(tbl);
  if (data.more) {
    let cursor = data.next_cursor;
    const more = el('button', {id: 'more', type: 'button'}, 'Load more');
    more.addEventListener('click', async () => {
      const next = await api('traces', Object.assign({limit: 100, cursor}, filters));
      tbody.length = 0;
      addRows(next.traces);
      tbl.tBodies[0].append(...tbody);
      cursor = next.next_cursor;
      if (!next.more) more.remove();
    });
    out.push(more);
  }
  return out;
}

// Spans in tree order (children by start time) with their depth; orphans hang off the root.
function treeOrder(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_span_id && byId.has(s.parent_span_id) && s.parent_span_id !== s.span_id) {
      if (!children.has(s.parent_span_id)) children.set(s.parent_span_id, []);
      children.get(s.parent_span_id).push(s);
    } else roots.push(s);
  }
  const out = [];
  const seen = new Set();
  const walk = (s, depth) => {
    if (seen.has(s.span_id)) return;
    seen.add(s.span_id);
    out.push({span: s, depth});
    for (const c of children.get(s.span_id) || []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  for (const s of spans) if (!seen.has(s.span_id)) walk(s, 0);  // a cycle: still shown
  return out;
}

function parseJson(text) {
  if (typeof text !== 'string') return undefined;
  try { return JSON.parse(text); } catch (e) { return undefined; }
}

function jsonBlock(value, cls) {
  const parsed = typeof value === 'string' ? parseJson(value) : value;
  const text = parsed === undefined ? String(value) : JSON.stringify(parsed, null, 2);
  return el('pre', {class: 'json ' + (cls || '')}, text);
}

// OpenTelemetry GenAI messages ([{role, parts: [{type, content | name+arguments | response}]}]) as chat bubbles.
function chat(messages, cls) {
  const list = parseJson(messages);
  if (!Array.isArray(list)) return jsonBlock(messages);
  return el('div', {class: 'chat ' + (cls || '')}, ...list.map((m) => {
    const role = m && typeof m.role === 'string' ? m.role : 'message';
    const parts = Array.isArray(m && m.parts) ? m.parts : [];
    const body = parts.map((p) => {
      if (p && p.type === 'text') return el('div', {class: 'text'}, String(p.content));
      if (p && p.type === 'reasoning') return el('div', {class: 'reasoning'}, String(p.content));
      if (p && p.type === 'tool_call')
        return el('div', {class: 'tool-call'}, el('div', {class: 'label'}, 'calls ' + String(p.name)), jsonBlock(p.arguments));
      if (p && p.type === 'tool_call_response')
        return el('div', {class: 'tool-response'}, el('div', {class: 'label'}, 'tool result'), jsonBlock(p.response));
      return jsonBlock(p);
    });
    return el('div', {class: 'bubble role-' + role.replace(/[^a-z]/g, '')},
              el('div', {class: 'role'}, role + (m.finish_reason ? ' · ' + m.finish_reason : '')), ...body);
  }));
}

const CONTENT_KEYS = ['gen_ai.system_instructions', 'gen_ai.input.messages', 'gen_ai.output.messages',
                      'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result'];

function spanDetails(s) {
  const a = s.attributes || {};
  const out = [el('h2', {}, s.name),
               el('p', {class: 'muted'}, `${s.kind} · ${fmtMs(s.duration_ms)} · started ${fmtTime(s.start_time_unix_nano)}`)];
  if (s.status && s.status.code === 'ERROR')
    out.push(el('p', {class: 'error-box'}, 'Error: ' + (s.status.message || '(no message)')));
  if (a['gen_ai.system_instructions'] !== undefined)
    out.push(el('h3', {}, 'System instructions'), chat(JSON.stringify([{role: 'system', parts: parseJson(a['gen_ai.system_instructions']) || [{type: 'text', content: a['gen_ai.system_instructions']}]}]), 'system'));
  if (a['gen_ai.input.messages'] !== undefined) out.push(el('h3', {}, 'Input messages'), chat(a['gen_ai.input.messages'], 'input'));
  if (a['gen_ai.output.messages'] !== undefined) out.push(el('h3', {}, 'Output messages'), chat(a['gen_ai.output.messages'], 'output'));
  if (a['gen_ai.tool.call.arguments'] !== undefined) out.push(el('h3', {}, 'Tool arguments'), jsonBlock(a['gen_ai.tool.call.arguments'], 'tool-arguments'));
  if (a['gen_ai.tool.call.result'] !== undefined) out.push(el('h3', {}, 'Tool result'), jsonBlock(a['gen_ai.tool.call.result'], 'tool-result'));
  const keys = Object.keys(a).filter((k) => !CONTENT_KEYS.includes(k)).sort();
  out.push(el('h3', {}, 'Attributes'),
           table('span-attributes', ['Attribute', 'Value'],
                 keys.map((k) => row([el('span', {class: 'mono'}, k),
                                      typeof a[k] === 'string' ? a[k] : JSON.stringify(a[k])]))));
  if (s.events && s.events.length)
    out.push(el('h3', {}, 'Events'),
             table('span-events', ['Time', 'Event', 'Attributes'],
                   s.events.map((e) => row([fmtTime(e.time_unix_nano), el('span', {class: 'mono'}, e.name),
                                            Object.keys(e.attributes || {}).sort()
                                              .map((k) => k + '=' + (typeof e.attributes[k] === 'string' ? e.attributes[k] : JSON.stringify(e.attributes[k])))
                                              .join(' · ')]))));
  out.push(el('p', {class: 'muted mono'}, `span ${s.span_id} · parent ${dash(s.parent_span_id)}`));
  return out;
}

async function traceView(r) {
  const data = await api('traces/' + encodeURIComponent(r.arg));
  const t = data.trace;
  const spans = data.spans;
  const selected = spans.find((s) => s.span_id === r.params.span) || spans[0];
  const t0 = BigInt(t.start_time_unix_nano);
  const total = Math.max(Number(BigInt(t.end_time_unix_nano) - t0), 1);
  const rows = treeOrder(spans).map(({span: s, depth}) => {
    const start = Number(BigInt(s.start_time_unix_nano) - t0);
    const bar = el('div', {class: 'bar kind-' + s.kind + (s.status && s.status.code === 'ERROR' ? ' error' : '')});
    bar.style.left = (100 * start / total).toFixed(3) + '%';
    bar.style.width = Math.max(100 * (s.duration_ms * 1e6) / total, 0.3).toFixed(3) + '%';
    const name = el('div', {class: 'span-name'}, link(hrefWith('trace', {span: s.span_id}, t.trace_id), s.name));
    name.style.paddingLeft = (depth * 16) + 'px';
    if (s.events && s.events.length) name.append(el('span', {class: 'event-mark', title: s.events.map((e) => e.name).join(', ')}, ' ◆'));
    const cost = s.attributes && s.attributes['llm.cost.total'];
    return el('div', {class: 'wf-row' + (s === selected ? ' selected' : ''), 'data-span-id': s.span_id},
              name, el('div', {class: 'wf-track'}, bar),
              el('div', {class: 'wf-dur num'}, fmtMs(s.duration_ms)),
              el('div', {class: 'wf-cost num'}, s.kind === 'generation' && cost !== undefined ? fmtCost(cost) : ''));
  });
  return [
    el('h1', {}, 'Trace ', el('span', {class: 'mono', id: 'trace-id'}, t.trace_id)),
    el('div', {class: 'cards', id: 'trace-summary'},
       card('workflow', dash(t.workflow)), card('duration', fmtMs(t.duration_ms), 'trace-duration'),
       card('cost', fmtCost(t.cost_usd), 'trace-cost'), card('model calls', String(t.model_calls), 'trace-model-calls'),
       card('tool calls', String(t.tool_calls)), card('errors', String(t.errors), 'trace-errors'),
       card('user', dash(t.user)),
       card('session', t.session ? link(hrefWith('session', {}, t.session), t.session) : '–')),
    el('p', {class: 'muted'}, `started ${fmtTime(t.start_time_unix_nano)} · ${t.spans} spans · agents ${dash(t.agents.join(', '))} · models ${dash(t.models.join(', '))}`),
    el('div', {class: 'trace-layout'},
       el('div', {class: 'waterfall', id: 'waterfall'}, ...rows),
       el('div', {class: 'details', id: 'span-details'}, ...spanDetails(selected))),
  ];
}

async function sessionsView(r) {
  const data = await api('sessions', Object.assign({limit: 200}, filtersOf(r.params)));
  const numeric = [false, true, true, true, false, false, true];
  return [el('h1', {}, 'Sessions'), emptyStoreNote(data.store),
          data.sessions.length ? null : el('p', {class: 'note'}, 'No traces with a session or conversation id match these filters.'),
          table('session-list', ['Session', 'Traces', 'Failed', 'Model calls', 'First start (UTC)', 'Users', 'Cost'],
                data.sessions.map((s) => row([link(hrefWith('session', {}, s.session), s.session), String(s.traces),
                                              String(s.failed_traces), String(s.model_calls), fmtTime(s.first_start_unix_nano),
                                              dash(s.users.join(', ')), fmtCost(s.cost_usd)], numeric,
                                             {'data-session': s.session}))),
          data.truncated ? el('p', {class: 'note'}, `Showing the most recent of ${data.total} sessions.`) : null];
}

// The user's last message going in and the final answer coming out: one turn of the conversation.
function turnOf(trace) {
  const gens = trace.spans.filter((s) => s.kind === 'generation');
  const out = [];
  if (!gens.length) return out;
  const input = parseJson(gens[0].attributes['gen_ai.input.messages']);
  if (Array.isArray(input)) {
    const users = input.filter((m) => m && m.role === 'user');
    if (users.length) out.push(users[users.length - 1]);
  }
  const output = parseJson(gens[gens.length - 1].attributes['gen_ai.output.messages']);
  if (Array.isArray(output)) out.push(...output);
  return out;
}

async function sessionView(r) {
  const data = await api('sessions/' + encodeURIComponent(r.arg), filtersOf(r.params));
  const numeric = [false, false, false, true, true, true];
  const out = [el('h1', {}, 'Session ', el('span', {class: 'mono'}, data.session)),
               el('div', {class: 'cards'}, card('traces', String(data.traces.length), 'session-traces'),
                  card('cost', fmtCost(data.cost_usd), 'session-cost')),
               table('session-traces-list', ['Start (UTC)', 'Trace', 'Workflow', 'Duration', 'Cost', 'Errors'],
                     data.traces.map((t) => row([fmtTime(t.start_time_unix_nano), link('#/trace/' + t.trace_id, shortId(t.trace_id), {class: 'mono'}),
                                                 dash(t.workflow), fmtMs(t.duration_ms), fmtCost(t.cost_usd), t.errors ? String(t.errors) : '–'],
                                                numeric, {'data-trace-id': t.trace_id})))];
  const conversation = el('div', {id: 'conversation'});
  out.push(section('Conversation', conversation));
  // One request per turn, at most 20, after the table is on screen.
  (async () => {
    for (const t of data.traces.slice(0, 20)) {
      try {
        const full = await api('traces/' + t.trace_id);
        const turn = turnOf(full);
        conversation.append(el('h3', {}, link('#/trace/' + t.trace_id, fmtTime(t.start_time_unix_nano))),
                            turn.length ? chat(JSON.stringify(turn)) : el('p', {class: 'muted'}, 'no captured messages'));
      } catch (e) { conversation.append(el('p', {class: 'error-box'}, e.message)); }
    }
  })();
  return out;
}

async function healthView(r) {
  const data = await api('dashboards/health', filtersOf(r.params));
  const t = data.total;
  const numeric = [false, true, true, true, true, true, true, true, true];
  return [el('h1', {}, 'Workflow health'), emptyStoreNote(data.store),
          el('div', {class: 'cards', id: 'health-cards'},
             card('runs', String(t.traces), 'health-runs'), card('success rate', t.traces ? fmtPct(t.success_rate) : '–', 'health-success'),
             card('failed runs', String(t.failed_traces), 'health-failed'),
             card('p95 duration', fmtMs(t.duration_ms.p95), 'health-p95'), card('p99 duration', fmtMs(t.duration_ms.p99), 'health-p99'),
             card('model call error rate', fmtPct(t.model_calls.error_rate), 'health-call-errors'),
             card('tool calls per run', fmtNum(t.tool_calls_per_run.avg), 'health-tools-per-run')),
          section('By workflow',
                  table('health-workflows', ['Workflow', 'Runs', 'Success', 'Failed', 'p50', 'p95', 'p99', 'Tool calls/run', 'Model call errors'],
                        data.workflows.map((w) => row([w.workflow, String(w.traces), fmtPct(w.success_rate), String(w.failed_traces),
                                                       fmtMs(w.duration_ms.p50), fmtMs(w.duration_ms.p95), fmtMs(w.duration_ms.p99),
                                                       fmtNum(w.tool_calls_per_run.avg), fmtPct(w.model_calls.error_rate)],
                                                      numeric, {'data-workflow': w.workflow})), numeric))];
}

function rateBar(fraction) {
  const outer = el('div', {class: 'rate'});
  const inner = el('div', {class: 'rate-fill'});
  inner.style.width = Math.min(100, fraction * 100).toFixed(1) + '%';
  outer.append(inner, el('span', {}, fmtPct(fraction)));
  return outer;
}

async function toolsView(r) {
  const data = await api('dashboards/tools', filtersOf(r.params));
  const numeric = [false, true, true, false, true, true, true];
  const loops = data.loops.runs || [];
  return [el('h1', {}, 'Tool risk'), emptyStoreNote(data.store),
          el('div', {class: 'cards'}, card('tool calls', String(data.tool_calls), 'tools-calls'),
             card('failed', String(data.tool_failures), 'tools-failed'), card('failure rate', fmtPct(data.failure_rate), 'tools-failure-rate'),
             card('runs that look like loops', String(data.loops.count), 'tools-loops')),
          section('By tool',
                  table('tool-risk', ['Tool', 'Calls', 'Failed', 'Failure rate', 'Avg', 'p95', 'Requesting cost'],
                        data.tools.map((t) => row([t.tool, String(t.calls), String(t.failures), rateBar(t.failure_rate),
                                                   fmtMs(t.latency_ms.avg), fmtMs(t.latency_ms.p95), fmtCost(t.requesting_cost_usd)],
                                                  numeric, {'data-tool': t.tool})), numeric),
                  el('p', {class: 'muted'}, 'Requesting cost: the cost of the model call that asked for the tool, split over the calls it asked for.')),
          section('Possible loops',
                  loops.length ? table('loops', ['Trace', 'Workflow', 'Model calls', 'Tool calls', 'Why'],
                                       loops.map((l) => row([link('#/trace/' + l.trace_id, shortId(l.trace_id), {class: 'mono'}), l.workflow,
                                                             String(l.model_calls), String(l.tool_calls), l.reason])))
                               : el('p', {class: 'muted'}, 'none'))];
}

function groupTable(id, title, groups) {
  const numeric = [false, true, true, true];
  return section(title, table(id, [title.replace(/^By /, ''), 'Calls', 'Cost', 'Share'],
                              groups.map((g) => row([g.key, String(g.calls), fmtCost(g.cost_usd),
                                                     g.cost_share === null ? '–' : fmtPct(g.cost_share)], numeric,
                                                    {'data-key': g.key})), numeric));
}

async function costView(r) {
  const data = await api('dashboards/cost', filtersOf(r.params));
  const buckets = data.over_time.buckets;
  const max = Math.max(...buckets.map((b) => b.cost_usd), 0);
  const chart = el('div', {class: 'chart', id: 'cost-over-time'}, ...buckets.map((b) => {
    const bar = el('div', {class: 'chart-bar', title: `${fmtTime(b.start_unix_nano)}: ${fmtCost(b.cost_usd)} over ${b.traces} traces`,
                           'data-cost': b.cost_usd});
    bar.style.height = (max > 0 ? Math.max(100 * b.cost_usd / max, b.cost_usd > 0 ? 1 : 0) : 0).toFixed(2) + '%';
    return bar;
  }));
  const tc = data.trace_cost || {usd: {}, top: []};
  const totals = data.totals || {};
  return [el('h1', {}, 'Cost'), emptyStoreNote(data.store),
          el('div', {class: 'cards'}, card('total', fmtCost(totals.cost_usd), 'cost-total'),
             card('traces', String(data.traces || 0), 'cost-traces'),
             card('unpriced calls', String(totals.unpriced_calls || 0)),
             card('p95 per trace', fmtCost(tc.usd.p95), 'cost-p95'), card('max per trace', fmtCost(tc.usd.max))),
          section('Over time', buckets.length ? chart : el('p', {class: 'muted'}, 'no traces'),
                  buckets.length ? el('p', {class: 'muted'}, `${buckets.length} buckets of ${fmtSeconds(data.over_time.bucket_seconds)} from ${fmtTime(buckets[0].start_unix_nano)}; peak ${fmtCost(max)}`) : null),
          el('div', {class: 'grid'}, groupTable('cost-by-workflow', 'By workflow', data.by_workflow || []),
             groupTable('cost-by-agent', 'By agent', data.by_agent || []), groupTable('cost-by-model', 'By model', data.by_model || []),
             groupTable('cost-by-user', 'By user', data.by_user || [])),
          section('Most expensive traces',
                  table('top-traces', ['Trace', 'Workflow', 'Start (UTC)', 'Duration', 'Cost', 'Model calls'],
                        tc.top.map((t) => row([link('#/trace/' + t.trace_id, shortId(t.trace_id), {class: 'mono'}), t.workflow,
                                               fmtTime(t.start_time_unix_nano), fmtMs(t.duration_ms), fmtCost(t.cost_usd),
                                               String(t.model_calls)], [false, false, false, true, true, true],
                                              {'data-trace-id': t.trace_id}))))];
}

// Alerts are written by alerting (alerts/); the panel shows that table's rows as they are.
async function alertsView() {
  const data = await api('alerts', {limit: 200});
  const out = [el('h1', {}, 'Alerts'), emptyStoreNote(data.store)];
  if (!data.available || data.alerts.length === 0) {
    out.push(el('p', {class: 'note', id: 'no-alerts'}, 'no alerts'));
    return out;
  }
  const columns = [];
  for (const a of data.alerts) for (const k of Object.keys(a)) if (!columns.includes(k)) columns.push(k);
  out.push(table('alert-list', columns, data.alerts.map((a) => row(columns.map((c) => {
    const v = a[c];
    if (v === null || v === undefined) return '–';
    if (/_unix_nano$|_ns$/.test(c) && typeof v === 'number') return fmtTime(v);
    if (c === 'trace_id' && typeof v === 'string' && /^[0-9a-f]{32}$/.test(v)) return link('#/trace/' + v, shortId(v), {class: 'mono'});
    return typeof v === 'string' ? v : JSON.stringify(v);
  })))));
  return out;
}

const VIEWS = {traces: tracesView, trace: traceView, sessions: sessionsView, session: sessionView,
               health: healthView, tools: toolsView, cost: costView, alerts: alertsView};

let rendering = 0;
async function render() {
  const r = route();
  const fn = VIEWS[r.view];
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('active', a.dataset.view === r.view || (a.dataset.view === 'sessions' && r.view === 'session'));
  form.hidden = !LIST_VIEWS.has(r.view) && r.view !== 'session';
  fillForm(r.params);
  for (const a of document.querySelectorAll('#nav a')) a.setAttribute('href', hrefWith(a.dataset.view, filtersOf(r.params)));
  const mine = ++rendering;
  let nodes;
  try {
    nodes = fn ? await fn(r) : [el('p', {class: 'error-box'}, 'No such page: ' + r.view)];
  } catch (e) {
    nodes = [el('p', {class: 'error-box', id: 'error'}, e.message)];
  }
  if (mine !== rendering) return;  // a newer navigation won
  clear(view).append(...nodes.filter((n) => n));
  document.body.dataset.rendered = r.view;
}

// ---- live updates: poll the store's stamp, re-render list views when it moves ------------------

let stamp = null;
async function poll() {
  let delay = 2000;
  const live = document.getElementById('live');
  try {
    const meta = await api('meta');
    delay = meta.refresh_ms || delay;
    if (stamp !== null && meta.stamp !== stamp && route().view !== 'trace') await render();
    stamp = meta.stamp;
    live.textContent = 'live · ' + new Date().toISOString().slice(11, 19) + 'Z';
    live.classList.remove('offline');
  } catch (e) {
    live.textContent = 'offline';
    live.classList.add('offline');
  }
  setTimeout(poll, delay);
}

window.addEventListener('hashchange', render);
render().then(poll);
