#!/usr/bin/env node
// report.js: turns the measurements bench/run.sh left in WORK_DIR into the
// Markdown table of medians and ratios (printed on stdout).
//
//   node report.js WORK_DIR
//
// Reads WORK_DIR/meta.json, sgemm.json, load_start, load_end, inspect/*.txt
// and runs/CASE.TOOL.REP.{time,rc,out,err}. A `.time` file holds
// "WALL_SECONDS MAX_RSS_KB" from /usr/bin/time -f '%e %M'. ORT runs print a
// JSON line (ort_run.js), sc_infer runs print model_profile's JSON line.
// Medians are taken over the successful repetitions; failed runs are listed.
// MB = 2^20 bytes, GB = 2^30 bytes.
'use strict';

const fs = require('fs');
const path = require('path');

const work = process.argv[2];
if (!work) {
  process.stderr.write('usage: node report.js WORK_DIR\n');
  process.exit(2);
}

function readText(file, fallback = '') {
  try {
    return fs.readFileSync(path.join(work, file), 'utf8');
  } catch (e) {
    return fallback;
  }
}

function readJson(file) {
  const text = readText(file).trim();
  if (!text) return null;
  for (const candidate of [text, text.split('\n').pop()]) {
    try {
      return JSON.parse(candidate);
    } catch (e) {
      // not JSON as a whole: try the last line (a tool's report line)
    }
  }
  return null;
}

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const sum = (a) => a.reduce((x, y) => x + y, 0);

// runs[case][tool] = [{rep, ok, rc, wall, rssKb, json, err}]
function loadRuns() {
  const runs = {};
  const dir = path.join(work, 'runs');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const file of files) {
    const m = /^([^.]+)\.([^.]+)\.(\d+)\.rc$/.exec(file);
    if (!m) continue;
    const [, kase, tool, rep] = m;
    const base = `runs/${kase}.${tool}.${rep}`;
    const rc = Number(readText(`${base}.rc`).trim());
    const timeLines = readText(`${base}.time`).trim().split('\n');
    const [timeWall, rssKb] = timeLines[timeLines.length - 1].split(/\s+/)
                                  .map(Number);
    // run.sh's own clock (ns); /usr/bin/time's %e (10 ms) as a fallback
    const wallText = readText(`${base}.wall`).trim();
    const wall = wallText ? Number(wallText) : timeWall;
    const errLines = readText(`${base}.err`).trim().split('\n')
                         .filter((l) => l && !l.startsWith('Command exited'));
    runs[kase] = runs[kase] || {};
    (runs[kase][tool] = runs[kase][tool] || []).push({
      rep: Number(rep), ok: rc === 0, rc, wall, rssKb,
      json: readJson(`${base}.out`),
      err: errLines.length ? errLines[errLines.length - 1] : '',
    });
  }
  return runs;
}

const meta = readJson('meta.json') || {};
const sgemm = readJson('sgemm.json') || {};
const peak = sgemm.peak_gflops || NaN;
const runs = loadRuns();

function ok(kase, tool) {
  return ((runs[kase] || {})[tool] || []).filter((r) => r.ok);
}
function has(kase, tool) {
  return ((runs[kase] || {})[tool] || []).length > 0;
}
// Median of f(run) over the successful runs of (case, tool).
function med(kase, tool, f) {
  return median(ok(kase, tool).map(f));
}
const wall = (kase, tool) => med(kase, tool, (r) => r.wall);
const rssMb = (kase, tool) => med(kase, tool, (r) => r.rssKb / 1024);
// ORT in-process figures, summed over the models of the process
const ortRun = (kase, tool) => med(kase, tool, (r) =>
    r.json ? sum(r.json.models.map((m) => m.run_ms[0])) / 1e3 : NaN);
const ortCreate = (kase, tool) => med(kase, tool, (r) =>
    r.json ? sum(r.json.models.map((m) => m.create_ms)) / 1e3 : NaN);
const ortOutputs = (kase, tool) => {
  const r = ok(kase, tool).find((x) => x.json);
  return r ? sum(r.json.models.map((m) => m.outputs)) : NaN;
};
const scRun = (kase) => med(kase, 'sc_infer', (r) => r.json ? r.json.run_s : NaN);
const scLoad = (kase) => med(kase, 'sc_infer',
                             (r) => r.json ? r.json.load_s + r.json.prepare_s : NaN);
const gflop = (kase) => med(kase, 'sc_infer', (r) => r.json ? 2 * r.json.gmacs : NaN);

// Three significant digits (no exponent); `digits` = 0 rounds to integers.
function fmt(x, digits = 3) {
  if (!Number.isFinite(x)) return '–';
  if (digits === 0 || Math.abs(x) >= 100) return x.toFixed(0);
  if (x === 0) return '0';
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(decimals, 6));
}
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ?
                         `${(a / b).toFixed(2)}×` : '–');
const rate = (gf, s) => (Number.isFinite(gf) && s > 0 ? gf / s : NaN);
const pct = (g) => (Number.isFinite(g) && peak > 0 ? ` (${(100 * g / peak).toFixed(0)}%)` : '');
function verdict(pass) {
  return pass === null ? '–' : pass ? 'pass' : '**not met**';
}
// Markdown table; the first `textColumns` columns are left-aligned.
function table(header, rows, textColumns = 1) {
  const out = [`| ${header.join(' | ')} |`,
               `|${header.map((h, i) => (i >= textColumns ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}

const labels = {
  det: 'PP-OCRv4 det 640×640', isnet: 'ISNet float32 1024×1024',
  isnet_fp16: 'ISNet float16 1024×1024', isnet_quint8: 'ISNet quint8 1024×1024',
};
const label = (kase) => labels[kase] || `${kase} (generated fixture)`;
const plainCases = Object.keys(runs).filter((k) => k !== 'chain' && k !== 'baseline')
    .sort((a, b) => (labels[a] ? 1 : 0) - (labels[b] ? 1 : 0) || a.localeCompare(b));
const targetCases = {det: true, isnet: true};

const out = [];
const loadStart = readText('load_start').trim();
const loadEnd = readText('load_end').trim();
out.push(`# stagecheck vs ONNX Runtime — ${meta.date || '?'}`);
out.push('');
out.push(`- machine: ${meta.cpu || '?'}, ${meta.cpus || '?'} CPUs; ` +
         `load average (1/5/15 min) ${loadStart || '?'} at start, ${loadEnd || '?'} at end`);
out.push(`- ${meta.stagecheck || 'stagecheck'} (build-bench, Release) vs ONNX Runtime ` +
         `${meta.ort || '?'} (onnxruntime-node); ${meta.threads || '?'} threads each ` +
         `(ORT: intra-op ${meta.threads || '?'}, inter-op 1, sequential); ` +
         `${meta.reps || '?'} interleaved repetitions` +
         (meta.chain_reps !== undefined && meta.chain_reps !== meta.reps ?
              ` (${meta.chain_reps} with the chain)` : '') +
         ', medians shown');
out.push(`- measured sgemm peak (sc_sgemm, ${sgemm.threads || '?'} threads, ` +
         `${sgemm.blas || '?'}): **${fmt(peak)} GFLOP/s**`);
out.push(`- input image: ${meta.image || '?'}`);
if (has('baseline', 'node_start'))
  out.push(`- node start-up (\`node -e 0\`), included in every ORT whole-process ` +
           `figure: ${fmt(wall('baseline', 'node_start'))} s`);
out.push('');

if (plainCases.length) {
  out.push('## Plain inference, whole process (load + one inference)');
  out.push('');
  out.push('`stagecheck run` vs `node ort_run.js --runs 1` (ONNX Runtime session ' +
           'create + one run + node start-up), wall time and peak RSS from ' +
           '/usr/bin/time. Target (issue 8): stagecheck/ORT ≤ 1.0 on PP-OCRv4 det ' +
           'and ISNet.');
  out.push('');
  out.push(table(
      ['model', 'GFLOP', 'ORT s', 'stagecheck s', 'stagecheck/ORT', 'ORT MB',
       'stagecheck MB', 'target ≤ 1.0'],
      plainCases.map((k) => {
        const o = wall(k, 'ort_plain'), s = wall(k, 'sc_run');
        return [label(k), fmt(gflop(k)), fmt(o), fmt(s), ratio(s, o),
                fmt(rssMb(k, 'ort_plain'), 0), fmt(rssMb(k, 'sc_run'), 0),
                targetCases[k] && Number.isFinite(s / o) ? verdict(s / o <= 1.0) : '–'];
      })));
  out.push('');
  out.push('## Inference only (in process, first run after loading)');
  out.push('');
  out.push('ORT: `session.run` time of the same processes as above. stagecheck: ' +
           '`model_profile --plain --warmup 0 --runs 1` (the executor run of `stagecheck run`: ' +
           'prepared for plain runs, no observer). ' +
           'GFLOP/s = 2 × MACs of Conv/ConvTranspose/MatMul/Gemm (and integer ' +
           'variants) / run time; percentage of the measured sgemm peak.');
  out.push('');
  out.push(table(
      ['model', 'ORT create s', 'ORT run s', 'stagecheck load+prepare s',
       'stagecheck run s', 'run ratio', 'ORT GFLOP/s', 'stagecheck GFLOP/s'],
      plainCases.map((k) => {
        const o = ortRun(k, 'ort_plain'), s = scRun(k), g = gflop(k);
        return [label(k), fmt(ortCreate(k, 'ort_plain')), fmt(o), fmt(scLoad(k)),
                fmt(s), ratio(s, o), fmt(rate(g, o)) + pct(rate(g, o)),
                fmt(rate(g, s)) + pct(rate(g, s))];
      })));
  out.push('');
  const allCases = plainCases.filter((k) => has(k, 'ort_all'));
  if (allCases.length) {
    out.push('## ONNX Runtime with every tensor a graph output (the peers\' per-layer tensors)');
    out.push('');
    out.push('Model rewritten by `onnx_edit mark-outputs`; ratios are all-outputs / plain.');
    out.push('');
    out.push(table(
        ['model', 'outputs', 'run s (plain → all)', 'run ×', 'whole process s',
         'whole ×', 'peak MB', 'memory ×'],
        allCases.map((k) => {
          const rp = ortRun(k, 'ort_plain'), ra = ortRun(k, 'ort_all');
          const wp = wall(k, 'ort_plain'), wa = wall(k, 'ort_all');
          const mp = rssMb(k, 'ort_plain'), ma = rssMb(k, 'ort_all');
          return [label(k), fmt(ortOutputs(k, 'ort_all'), 0),
                  `${fmt(rp)} → ${fmt(ra)}`, ratio(ra, rp),
                  `${fmt(wp)} → ${fmt(wa)}`, ratio(wa, wp),
                  `${fmt(mp, 0)} → ${fmt(ma, 0)}`, ratio(ma, mp)];
        })));
    out.push('');
  }
}

if (runs.chain) {
  out.push('## Layer-by-layer verification of the ISNet chain (float32 → float16 → quint8, one image)');
  out.push('');
  out.push('Baseline: ONNX Runtime running the three stages plainly, one after the ' +
           'other in one process (load + one run each). Target (issue 8): ' +
           '`stagecheck verify` ≤ 1.2× its time with peak RSS ≤ 2.0 GB.');
  out.push('');
  const base = wall('chain', 'ort_chain');
  const rows = [['ORT, three stages plainly', fmt(base), fmt(rssMb('chain', 'ort_chain'), 0),
                 '1.00×', '–']];
  if (has('chain', 'ort_chain_all')) {
    const w = wall('chain', 'ort_chain_all');
    rows.push(['ORT, three stages, every tensor an output', fmt(w),
               fmt(rssMb('chain', 'ort_chain_all'), 0), ratio(w, base), '–']);
  }
  for (const tool of Object.keys(runs.chain).filter((t) => t.startsWith('sc_verify_')).sort()) {
    const mode = tool.slice('sc_verify_'.length);
    const w = wall('chain', tool), m = rssMb('chain', tool);
    const n = ok('chain', tool).length;
    rows.push([`stagecheck verify --mode ${mode}` + (n ? '' : ' (every run failed)'),
               fmt(w), fmt(m, 0), ratio(w, base),
               n ? verdict(w / base <= 1.2 && m <= 2048) : '**not met** (failed)']);
  }
  out.push(table(['run', 'wall s', 'peak MB', '× ORT plain', 'target ≤ 1.2×, ≤ 2.0 GB'], rows));
  // What the stage executions a mode needs cost by themselves in stagecheck:
  // each stage loaded and prepared once, plus its inference-only time once
  // per execution (the plain cases above). Isolated re-runs the target on
  // each reference (fp16 on float; quint8 on fp16 and on float) and does not
  // run the last stage end to end; both adds that run.
  const stages = [['isnet', 'float'], ['isnet_fp16', 'fp16'], ['isnet_quint8', 'quint8']];
  const executions = {accumulated: [1, 1, 1], isolated: [1, 2, 2], both: [1, 2, 3]};
  const verifyModes = Object.keys(runs.chain).filter((t) => t.startsWith('sc_verify_'))
      .map((t) => t.slice('sc_verify_'.length)).filter((m) => executions[m]).sort();
  const floor = (mode) => stages.reduce(
      (sum, [k], i) => sum + scLoad(k) + executions[mode][i] * scRun(k), 0);
  if (verifyModes.length && verifyModes.every((m) => Number.isFinite(floor(m)))) {
    out.push('');
    out.push('The same runs against stagecheck\'s own stage executions: each stage ' +
             'loaded and prepared once, plus its inference-only time (the plain cases ' +
             'above) once per execution the mode needs. Isolated re-runs the target on ' +
             'each reference (fp16 on float; quint8 on fp16 and on float) and does not ' +
             'run the last stage end to end; both also runs it. verify / executions is ' +
             'what matching, feeding, comparing and reporting add.');
    out.push('');
    out.push(table(
        ['mode', 'executions (float, fp16, quint8)', 'executions s', 'executions × ORT plain',
         'verify s', 'verify / executions'],
        verifyModes.map((m) => {
          const f = floor(m), w = wall('chain', `sc_verify_${m}`);
          return [m, executions[m].join(', '), fmt(f), ratio(f, base), fmt(w), ratio(w, f)];
        })));
  }
  const stageRuns = ok('chain', 'ort_chain').filter((r) => r.json);
  if (stageRuns.length) {
    const names = stageRuns[0].json.models.map((m) => path.basename(m.model));
    out.push('');
    out.push('ORT per stage (create + run, median): ' + names.map((n, i) =>
        `${n} ${fmt(median(stageRuns.map((r) => r.json.models[i].create_ms / 1e3)))} + ` +
        `${fmt(median(stageRuns.map((r) => r.json.models[i].run_ms[0] / 1e3)))} s`).join('; '));
  }
  out.push('');
}

// unsupported operators
const inspectDir = path.join(work, 'inspect');
if (fs.existsSync(inspectDir)) {
  out.push('## Operators the stagecheck runtime does not support (`stagecheck inspect`)');
  out.push('');
  const rows = [];
  for (const file of fs.readdirSync(inspectDir).sort()) {
    const text = readText(`inspect/${file}`);
    const line = text.split('\n').find((l) => l.startsWith('unsupported:'));
    rows.push([file.replace(/\.txt$/, ''),
               line ? line.slice('unsupported:'.length).trim() :
                      `inspect failed: ${text.trim().split('\n').pop()}`]);
  }
  out.push(table(['model', 'unsupported'], rows, 2));
  out.push('');
}

// every measurement, for judging the noise
out.push('## All measurements (successful repetitions)');
out.push('');
const rows = [];
for (const kase of Object.keys(runs).sort()) {
  for (const tool of Object.keys(runs[kase]).sort()) {
    const all = runs[kase][tool], good = all.filter((r) => r.ok);
    const walls = good.map((r) => r.wall);
    rows.push([kase, tool, `${good.length}/${all.length}`, fmt(median(walls)),
               fmt(Math.min(...walls)), fmt(Math.max(...walls)),
               fmt(median(good.map((r) => r.rssKb / 1024)), 0)]);
  }
}
out.push(table(['case', 'tool', 'ok', 'median s', 'min s', 'max s', 'median peak MB'], rows, 2));
out.push('');

const failed = [];
for (const kase of Object.keys(runs).sort())
  for (const tool of Object.keys(runs[kase]).sort())
    for (const r of runs[kase][tool].filter((x) => !x.ok).sort((a, b) => a.rep - b.rep))
      failed.push([kase, tool, String(r.rep), String(r.rc), r.err.replace(/\|/g, '\\|')]);
if (failed.length) {
  out.push('## Failed runs');
  out.push('');
  out.push(table(['case', 'tool', 'rep', 'exit', 'last stderr line'], failed, 5));
  out.push('');
}
out.push('Tools: `ort_plain`/`ort_all`/`ort_chain*` = node ort_run.js; `sc_run` = ' +
         'stagecheck run; `sc_infer` = model_profile (in-process timing); ' +
         '`sc_verify_MODE` = stagecheck verify --mode MODE. See bench/README.md.');
process.stdout.write(out.join('\n') + '\n');
