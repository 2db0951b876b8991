// Keyward web UI: the usage chart, an SVG built with DOM calls (the CSP allows no inline styles
// or scripts: every look comes from classes in style.css). Pure: data in, element out.
//
// The chart's contract, which the browser test reads back:
// - one <g class="bucket"> per bucket of the usage API's answer, in its order, holding two
//   stacked <rect>s, class "allowed" (at the bottom) and class "denied" (on top), each carrying
//   data-start (the bucket's start, RFC 3339), data-allowed and data-denied (its counts);
// - heights in viewBox units are count / data-max × data-plot-height, where data-max is the
//   largest allowed + denied of any bucket: the tallest bucket fills the plot exactly (all
//   heights 0 when nothing was counted); bars stand on y = data-baseline;
// - the <svg> is role="img", labelled by its <title>: the range's totals in words.

const SVG_NS = 'http://www.w3.org/2000/svg';

// The drawing's fixed vertical layout (viewBox units; the width follows the container).
export const PLOT_TOP = 14;
export const PLOT_HEIGHT = 180;
const AXIS_SPACE = 26; // under the bars: the time labels
const LEFT = 44; // the count labels
const RIGHT = 8;
const MIN_WIDTH = 300;
const MAX_WIDTH = 960;
// Room a time label needs, so that labels never overlap.
const LABEL_ROOM = 52;

export const DENIAL_REASONS = ['expired', 'revoked', 'disabled', 'scope', 'tag', 'address', 'rate_limited'];

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// The denials of a bucket (or of the totals), all reasons added up.
export function deniedTotal(denied) {
  return DENIAL_REASONS.reduce((sum, r) => sum + (denied?.[r] || 0), 0);
}

// 1234 → "1234", 12345 → "12.3k", 2500000 → "2.5M": counts on the axis.
export function compactCount(n) {
  if (n < 10000) return String(n);
  if (n < 1e6) return `${Number((n / 1e3).toFixed(1))}k`;
  return `${Number((n / 1e6).toFixed(1))}M`;
}

// "2026-12-07T10:00:00Z" in words for a bucket of `granularity`.
export function bucketLabel(start, granularity) {
  return granularity === 'day' ? start.slice(0, 10) : `${start.slice(0, 10)} ${start.slice(11, 16)} UTC`;
}

// Which buckets get a time label: every `step`-th, the step the smallest of `steps` that
// leaves LABEL_ROOM per label. Hours are labelled at whole multiples of the step (00:00,
// 06:00, …); days counting back from the newest.
function labelled(buckets, granularity, plotWidth) {
  const fits = Math.max(1, Math.floor(plotWidth / LABEL_ROOM));
  const steps = granularity === 'hour' ? [1, 2, 3, 4, 6, 12, 24] : [1, 2, 5, 7, 10, 14, 30, 60, 90];
  const step = steps.find((s) => Math.ceil(buckets.length / s) <= fits) || steps[steps.length - 1];
  return buckets.map((b, i) => (granularity === 'hour'
    ? new Date(b.start).getUTCHours() % step === 0
    : (buckets.length - 1 - i) % step === 0));
}

// A time label: hours as "10:00" ("12-07" at midnight), days as "12-07".
function axisText(start, granularity) {
  const hour = start.slice(11, 16);
  return granularity === 'hour' && hour !== '00:00' ? hour : start.slice(5, 10);
}

// Two decimals: a height in viewBox units.
const round2 = (x) => Math.round(x * 100) / 100;

// The count axis: grid lines at 0, half and the maximum, labelled (the half only when whole).
function countAxis(svg, max, width) {
  const base = PLOT_TOP + PLOT_HEIGHT;
  const marks = max > 0 ? [0, max / 2, max] : [0];
  for (const v of marks) {
    const y = round2(base - (max > 0 ? (v / max) * PLOT_HEIGHT : 0));
    svg.append(el('line', { class: v === 0 ? 'axis' : 'grid', x1: LEFT, x2: width - RIGHT, y1: y, y2: y }));
    if (Number.isInteger(v)) {
      svg.append(el('text', { class: 'axis-label count', x: LEFT - 6, y: y + 4, 'text-anchor': 'end' }, compactCount(v)));
    }
  }
}

// The chart of `data` (GET …/usage's answer) drawn `width` units wide (clamped to 300…960;
// pass the container's width so that text keeps its size). `rangeWords` ("the last 24 hours")
// starts the summary.
export function usageChart(data, rangeWords, width) {
  const w = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, width || MAX_WIDTH)));
  const height = PLOT_TOP + PLOT_HEIGHT + AXIS_SPACE;
  const buckets = data.buckets || [];
  const counts = buckets.map((b) => ({ allowed: b.allowed, denied: deniedTotal(b.denied) }));
  const max = counts.reduce((m, c) => Math.max(m, c.allowed + c.denied), 0);
  const summary = usageSummary(data, rangeWords);
  const titleId = `chart-title-${Math.random().toString(36).slice(2)}`;
  const svg = el('svg', {
    class: 'usage-chart', viewBox: `0 0 ${w} ${height}`, role: 'img', 'aria-labelledby': titleId,
    'data-max': max, 'data-plot-height': PLOT_HEIGHT, 'data-baseline': PLOT_TOP + PLOT_HEIGHT,
    'data-granularity': data.granularity,
  });
  svg.append(el('title', { id: titleId }, summary));
  countAxis(svg, max, w);
  if (!max) {
    svg.append(el('text', { class: 'axis-label', x: w / 2, y: PLOT_TOP + PLOT_HEIGHT / 2, 'text-anchor': 'middle' },
      'No requests counted in this range'));
  }
  const plotWidth = w - LEFT - RIGHT;
  const slot = buckets.length ? plotWidth / buckets.length : plotWidth;
  const barWidth = round2(Math.max(1, slot * 0.72));
  const base = PLOT_TOP + PLOT_HEIGHT;
  const labels = labelled(buckets, data.granularity, plotWidth);
  buckets.forEach((b, i) => {
    const { allowed, denied } = counts[i];
    const hA = max ? round2((allowed / max) * PLOT_HEIGHT) : 0;
    const hD = max ? round2((denied / max) * PLOT_HEIGHT) : 0;
    const x = round2(LEFT + i * slot + (slot - barWidth) / 2);
    const attrs = { 'data-start': b.start, 'data-allowed': allowed, 'data-denied': denied };
    const g = el('g', { class: 'bucket' });
    g.append(el('title', {}, `${bucketLabel(b.start, data.granularity)}: ${allowed} allowed, ${denied} denied`),
      el('rect', { class: 'allowed', x, y: round2(base - hA), width: barWidth, height: hA, ...attrs }),
      el('rect', { class: 'denied', x, y: round2(base - hA - hD), width: barWidth, height: hD, ...attrs }));
    svg.append(g);
    if (labels[i]) {
      svg.append(el('text', { class: 'axis-label time', x: round2(x + barWidth / 2), y: base + 17, 'text-anchor': 'middle' },
        axisText(b.start, data.granularity)));
    }
  });
  return svg;
}

// "the last 24 hours: 15 allowed, 25 denied (20 rate limited, 5 scope)".
export function usageSummary(data, rangeWords) {
  const totals = data.totals || { allowed: 0, denied: {} };
  const denied = deniedTotal(totals.denied);
  const parts = DENIAL_REASONS.filter((r) => totals.denied?.[r])
    .map((r) => `${totals.denied[r]} ${r.replace('_', ' ')}`);
  return `Requests in ${rangeWords}: ${totals.allowed} allowed, ${denied} denied`
    + (parts.length ? ` (${parts.join(', ')})` : '') + '.';
}
