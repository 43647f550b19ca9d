// The book's layout rules, checked on one drawn plotly figure (`gd`, a .plotly-graph-div) as the reader sees it.
// Returns a list of violations, each a short sentence naming the elements. Evaluated by tests/test_browser.py
// at 1280 px and 400 px, at both ends of every slider. Each rule is tested there on a figure made to break it.
(gd) => {
  const TOLERANCE = 1.5;  // px: text boxes that touch are not an overlap
  const MAX_DECADES_OVER_DATA = 3;  // a log axis may show this many more decades than its data spans
  const MAX_SPAN_OVER_DATA = 25;  // ... a linear axis this many times its data's span
  const problems = [];
  if (!gd._fullLayout) return ['the figure was not drawn'];
  const figure = gd.getBoundingClientRect();
  const layout = gd._fullLayout;

  // --- Text: every text element the reader reads, with what it is.
  const texts = [];
  const add = (selector, kind) => {
    for (const element of gd.querySelectorAll(selector)) {
      const content = element.textContent.trim();
      if (!content) continue;
      const style = window.getComputedStyle(element);
      if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
      if (element.closest('[style*="display: none"], [display="none"], [opacity="0"]')) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      // plotly turns crowded tick labels to an angle where they do not touch, though their upright boxes do
      const rotated = /rotate\((?!0[,)])/.test(element.getAttribute('transform') || '');
      texts.push({kind, content: content.slice(0, 40), box, element, rotated});
    }
  };
  add('.g-gtitle text', 'title');
  add('.infolayer > g[class$="title"]:not(.g-gtitle) text', 'axis title');
  add('.xaxislayer-above text, .yaxislayer-above text', 'tick label');
  add('.legend .legendtext, .legend .legendtitletext', 'legend entry');
  add('.annotation text', 'annotation');
  add('.textpoint text', 'data label');
  add('.colorbar text', 'colourbar');
  add('.slider-container text', 'slider label');
  add('.updatemenu-container text', 'menu label');

  const legend = gd.querySelector('.legend');
  const legendClip = legend && legend.querySelector('.bg');
  const clipBox = legendClip ? legendClip.getBoundingClientRect() : null;
  const inside = (box, outer, slack) => box.left >= outer.left - slack && box.right <= outer.right + slack
    && box.top >= outer.top - slack && box.bottom <= outer.bottom + slack;

  // Math written as code: a raw underscore subscript ("D_i", "‖W‖²_F") where the reader expects Dᵢ.
  for (const text of texts)
    if (/[\p{L}\p{N}‖)²]_[\p{L}\p{N}{]/u.test(text.element.textContent))
      problems.push(`${text.kind} "${text.content}" shows a raw underscore subscript`);

  // Ticks with SI prefixes ("10μ", "500m"): a science reader expects powers of ten (exponentformat "power").
  for (const text of texts)
    if ((text.kind === 'tick label' || text.kind === 'colourbar') && /[0-9][μµmnpf]$/.test(text.content))
      problems.push(`tick "${text.content}" uses an SI prefix (set the axis's exponentformat to "power")`);

  // A text element cut by the figure's bounds (legend entries scrolled out of a legend are counted below).
  for (const text of texts) {
    if (text.kind === 'legend entry' && clipBox && !inside(text.box, clipBox, TOLERANCE)) continue;
    if (!inside(text.box, figure, TOLERANCE))
      problems.push(`${text.kind} "${text.content}" is cut by the figure's bounds`);
  }

  // Two text elements overlapping. Tick labels of one axis may not overlap each other either.
  const visible = texts.filter(t => !(t.kind === 'legend entry' && clipBox && !inside(t.box, clipBox, TOLERANCE)));
  for (let i = 0; i < visible.length; i++) {
    for (let j = i + 1; j < visible.length; j++) {
      if (visible[i].rotated && visible[j].rotated) continue;
      const a = visible[i].box, b = visible[j].box;
      const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (width > TOLERANCE && height > TOLERANCE + 2)  // font boxes of stacked lines share ~2 px of leading
        problems.push(`${visible[i].kind} "${visible[i].content}" overlaps ${visible[j].kind} "${visible[j].content}"`);
    }
  }

  // --- A legend names every trace it is meant to name: none scrolled out of sight.
  if (legend) {
    const entries = [...legend.querySelectorAll('.traces')];
    const shown = entries.filter(entry => clipBox && inside(entry.getBoundingClientRect(), clipBox, TOLERANCE));
    if (shown.length < entries.length)
      problems.push(`the legend shows ${shown.length} of its ${entries.length} entries (the rest are scrolled away)`);
  }

  // --- Axis ranges fit their data: no data outside, no range absurdly wider than the data.
  const extents = {};
  (gd.calcdata || []).forEach(trace => {
    const options = trace[0] && trace[0].trace;
    if (!options || options.visible !== true || !options.xaxis) return;
    if (!['scatter', 'bar', 'scattergl'].includes(options.type)) return;
    const orientation = options.orientation === 'h' ? 'h' : 'v';
    for (const point of trace) {
      let xs = [], ys = [];
      if (options.type === 'bar') {
        const sizes = [point.s0 ?? 0, point.s1 ?? point.s].filter(Number.isFinite);
        if (orientation === 'v') ys = sizes; else xs = sizes;
      } else {
        if (Number.isFinite(point.x)) xs = [point.x];
        if (Number.isFinite(point.y)) ys = [point.y];
      }
      for (const [name, values] of [[options.xaxis, xs], [options.yaxis, ys]]) {
        const axis = layout[name.replace(/^x/, 'xaxis').replace(/^y/, 'yaxis')];
        if (!axis || axis.type === 'category' || axis.type === 'multicategory' || axis.type === 'date') continue;
        const extent = extents[axis._name] = extents[axis._name] || {axis, low: Infinity, high: -Infinity};
        for (const value of values) {
          if (axis.type === 'log' && !(value > 0)) continue;
          const linear = axis.c2l(value);
          extent.low = Math.min(extent.low, linear);
          extent.high = Math.max(extent.high, linear);
        }
      }
    }
  });
  for (const {axis, low, high} of Object.values(extents)) {
    if (!Number.isFinite(low) || axis.visible === false) continue;
    const [start, end] = axis.range.map(axis.r2l);
    const rangeLow = Math.min(start, end), rangeHigh = Math.max(start, end), span = rangeHigh - rangeLow;
    const slack = 0.005 * span;
    const title = (axis.title && axis.title.text) || axis._name;
    if (low < rangeLow - slack || high > rangeHigh + slack)
      problems.push(`${axis._name} ("${title}") shows ${rangeLow.toPrecision(3)}…${rangeHigh.toPrecision(3)} `
        + `but its data run ${low.toPrecision(3)}…${high.toPrecision(3)}`);
    const dataSpan = high - low;
    // A quantity on its natural unit scale (a norm or share on [0, 1], a cosine on [−1, 1]) may be tiny: a model
    // that learned nothing shows short bars there, which is the right reading, not a range to shrink.
    const unitScale = axis.type !== 'log' && span >= 1 && rangeLow >= -1.5 && rangeHigh <= 1.5;
    if (axis.type === 'log' ? span > dataSpan + MAX_DECADES_OVER_DATA
        : !unitScale && dataSpan > 0 && span > MAX_SPAN_OVER_DATA * Math.max(dataSpan, Math.abs(high), Math.abs(low)))
      problems.push(`${axis._name} ("${title}") spans ${span.toPrecision(3)}${axis.type === 'log' ? ' decades' : ''}`
        + ` for data spanning ${dataSpan.toPrecision(3)}`);
  }

  return problems;
}
