/* toymodels-playground.js: the playground, a toy model the reader sets up and trains in the page (no kernel,
 * nothing fetched; works from a file:// address). It trains with toymodels-live.js (loaded first) and draws with
 * the plotly.js the book serves: W (arrows in 1 to 3 dimensions, a heat map above), WᵀW, each feature's
 * dimensionality D_i against the polytopes' and the loss, redrawn as it trains.
 *
 * Its configuration (toymodels/kit/playground.py) holds a state: {n, m, kind, activation, importance, density,
 * correlation, setSize, fits, steps, batchSize, lr, weightDecay, evalBatches, seed}; importance and density are
 * text, one number or one per feature (one importance r means I_i = r^i). With config.url the state lives in the
 * page's address (#n=5&m=2&...), checked against config.limits and config.choices like the Python side.
 */
(function (root, factory) {
  const live = typeof module === "object" && module.exports ? require("./toymodels-live.js") : root.ToymodelsLive;
  const api = factory(live);
  if (typeof module === "object" && module.exports) module.exports = api;
  else {
    root.ToymodelsPlayground = api;
    live.widgets.playground = api.Playground; // toymodels-live.js's startAll builds the page's playgrounds
    if (typeof document !== "undefined") live.startAll(document);
  }
})(typeof self !== "undefined" ? self : this, function (live) {
  "use strict";

  const NUMBER_FIELDS = ["n", "m", "setSize", "fits", "steps", "batchSize", "lr", "weightDecay", "evalBatches", "seed"];
  const INTEGER_FIELDS = new Set(["n", "m", "setSize", "fits", "steps", "batchSize", "evalBatches", "seed"]);
  const TEXT_FIELDS = ["importance", "density"];
  const CHOICE_FIELDS = ["kind", "activation", "correlation"];

  /** Per-feature values from a state's text: one number (a density for every feature, or a decay r with
   * I_i = r^i for importance) or n comma-separated numbers; an Error naming the field and its range otherwise. */
  function perFeature(text, n, name, limits) {
    const [low, high] = limits[name];
    const values = String(text).split(",").map((part) => (part.trim() === "" ? NaN : Number(part)));
    if (!(values.length === 1 || values.length === n) || values.some((v) => !(v >= low && v <= high)))
      throw new Error(`${name} must be one number or ${n} comma-separated numbers, each in [${low}, ${high}]; got "${text}"`);
    if (values.length === n) return values;
    if (name === "importance") {
      if (!(values[0] > 0 && values[0] <= 1)) throw new Error(`importance as one number is a decay r (I_i = r^i) in (0, 1]; got ${values[0]}`);
      return Array.from({ length: n }, (_, i) => Math.pow(values[0], i));
    }
    return Array(n).fill(values[0]);
  }

  /** The state checked against limits and choices (as toymodels.kit.playground.check_state): a list of errors, each
   * naming the field and what it allows. */
  function stateErrors(state, config) {
    const errors = [];
    for (const name of NUMBER_FIELDS) {
      const [low, high] = config.limits[name], value = state[name];
      if (typeof value !== "number" || !(value >= low && value <= high) || (INTEGER_FIELDS.has(name) && !Number.isInteger(value)))
        errors.push(`${name} must be ${INTEGER_FIELDS.has(name) ? "an integer" : "a number"} in [${low}, ${high}]; got ${state[name]}`);
    }
    for (const name of CHOICE_FIELDS)
      if (!config.choices[name].includes(state[name])) errors.push(`${name} must be one of ${config.choices[name].join(", ")}; got ${state[name]}`);
    if (errors.length) return errors;
    if (state.correlation !== "none" && state.n % state.setSize !== 0) errors.push(`setSize must divide n = ${state.n}; got ${state.setSize}`);
    for (const name of TEXT_FIELDS)
      try {
        perFeature(state[name], state.n, name, config.limits);
      } catch (error) {
        errors.push(error.message);
      }
    return errors;
  }

  /** The address's text of a state (#n=5&m=2&...), and back: fields missing or unreadable keep the defaults'
   * values, and each unreadable one is reported. */
  function hashOf(state) {
    const fields = [...NUMBER_FIELDS, ...CHOICE_FIELDS, ...TEXT_FIELDS];
    return "#" + fields.map((name) => `${name}=${encodeURIComponent(String(state[name]))}`).join("&");
  }

  function stateFromHash(hash, defaults, config) {
    const state = Object.assign({}, defaults), errors = [];
    const params = new URLSearchParams(String(hash).replace(/^#/, ""));
    for (const [name, raw] of params) {
      if (NUMBER_FIELDS.includes(name)) state[name] = raw.trim() === "" ? NaN : Number(raw);
      else if (CHOICE_FIELDS.includes(name) || TEXT_FIELDS.includes(name)) state[name] = raw;
      else errors.push(`unknown setting "${name}" in the address`);
    }
    const problems = stateErrors(state, config);
    if (problems.length) return { state: Object.assign({}, defaults), errors: errors.concat(problems) };
    return { state, errors };
  }

  /** The trainer's options for a valid state. */
  function fitsOptions(state, config) {
    const { n, m } = state;
    return {
      n, m, kind: state.kind, activation: state.activation, correlation: state.correlation,
      setSize: state.correlation === "none" ? 1 : state.setSize,
      importance: perFeature(state.importance, n, "importance", config.limits),
      probability: perFeature(state.density, n, "density", config.limits),
      fits: state.fits, steps: state.steps, batchSize: state.batchSize, lr: state.lr,
      weightDecay: state.weightDecay, evalBatches: state.evalBatches, seed: state.seed,
    };
  }

  /** Chapter 10's scale-free counts (toymodels.nonlinearities.represented, in_superposition): a feature is
   * represented when ‖W_i‖ > share × max_j ‖W_j‖ (and above zeroNorm), in superposition when represented and
   * Σ_{j≠i} (Ŵ_i·W_j)² / ‖W_i‖² > interfering. measures: {representedShare, interfering, zeroNorm}. */
  function counts(W, m, n, measures) {
    const norms = live.featureNorms(W, m, n), top = Math.max(...norms);
    let represented = 0, superposed = 0;
    for (let i = 0; i < n; i++) {
      if (!(norms[i] > measures.representedShare * top && norms[i] > measures.zeroNorm)) continue;
      represented++;
      let off = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let dot = 0;
        for (let k = 0; k < m; k++) dot += W[k * n + i] * W[k * n + j];
        off += dot * dot;
      }
      if (off / norms[i] ** 4 > measures.interfering) superposed++;
    }
    return { represented, superposed };
  }

  // ---------------------------------------------------------------------------------------------------
  // Figures: plain data for plotly, from W (hidden × feature, row-major) and the setting.

  const PLOT_HEIGHT = 340;
  const CHUNK_MS = 4; // training between two looks at the clock
  const AXIS = { zeroline: false, showgrid: true, gridcolor: "#eee" };
  const MARGIN = { l: 45, r: 15, t: 40, b: 40 };

  /** W as arrows from the origin to each W_i (one line trace with gaps, the tips coloured by importance) in 1, 2
   * or 3 dimensions, or as an m × n heat map above 3. */
  function weightFigure(W, m, n, importance, colorscale, diverging, title) {
    const top = Math.max(...importance);
    const tips = { showscale: false, color: importance, cmin: 0, cmax: top, colorscale, size: 8, line: { width: 0 } };
    const hover = Array.from({ length: n }, (_, i) => `feature ${i}, I = ${importance[i].toPrecision(3)}`);
    if (m > 3) {
      let extreme = 1e-9;
      for (const w of W) extreme = Math.max(extreme, Math.abs(w));
      const z = Array.from({ length: m }, (_, k) => Array.from(W.subarray(k * n, (k + 1) * n)));
      return {
        data: [{ type: "heatmap", z, zmin: -extreme, zmax: extreme, colorscale: diverging, showscale: false,
          hovertemplate: "hidden %{y}, feature %{x}: %{z:.2f}<extra></extra>" }],
        layout: { title: { text: title }, margin: MARGIN, xaxis: { title: { text: "feature i" } },
          yaxis: { title: { text: "hidden dimension" }, autorange: "reversed" } },
      };
    }
    const coordinate = (k) => {
      const line = [];
      for (let i = 0; i < n; i++) line.push(0, k < m ? W[k * n + i] : 0, null);
      return line;
    };
    const tip = (k) => Array.from({ length: n }, (_, i) => (k < m ? W[k * n + i] : 0));
    let reach = 1;
    for (const w of W) reach = Math.max(reach, Math.abs(w) * 1.1);
    const range = [-reach, reach];
    if (m === 3) {
      const axis = Object.assign({}, AXIS, { range, title: { text: "" } });
      return {
        data: [
          { type: "scatter3d", mode: "lines", x: coordinate(0), y: coordinate(1), z: coordinate(2), line: { color: "#888", width: 4 }, hoverinfo: "skip" },
          { type: "scatter3d", mode: "markers", x: tip(0), y: tip(1), z: tip(2), marker: Object.assign({}, tips, { size: 5 }), text: hover, hoverinfo: "text" },
        ],
        layout: { title: { text: title }, margin: { l: 0, r: 0, t: 40, b: 0 }, showlegend: false, uirevision: "keep",
          scene: { xaxis: axis, yaxis: axis, zaxis: axis, aspectmode: "cube" } },
      };
    }
    return {
      data: [
        { type: "scatter", mode: "lines", x: coordinate(0), y: m === 1 ? Array.from({ length: 3 * n }, (_, j) => (j % 3 === 2 ? null : n - 1 - Math.floor(j / 3))) : coordinate(1),
          line: { color: "#888", width: 2 }, hoverinfo: "skip" },
        { type: "scatter", mode: "markers", x: tip(0), y: m === 1 ? Array.from({ length: n }, (_, i) => n - 1 - i) : tip(1), marker: tips, text: hover, hoverinfo: "text" },
      ],
      layout: {
        title: { text: title }, margin: MARGIN, showlegend: false,
        xaxis: Object.assign({}, AXIS, { range, zeroline: true, title: { text: m === 1 ? "W_i (its one dimension)" : "" } }),
        yaxis: m === 1
          ? { title: { text: "feature i" }, range: [-0.5, n - 0.5], tickvals: [0, n - 1], ticktext: [String(n - 1), "0"] }
          : Object.assign({}, AXIS, { range, zeroline: true, scaleanchor: "x" }),
      },
    };
  }

  /** WᵀW, n × n, on a diverging scale centred at 0. */
  function gramFigure(W, m, n, diverging, title) {
    const z = [];
    let extreme = 1;
    for (let i = 0; i < n; i++) {
      const row = [];
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < m; k++) dot += W[k * n + i] * W[k * n + j];
        row.push(dot);
        extreme = Math.max(extreme, Math.abs(dot));
      }
      z.push(row);
    }
    return {
      data: [{ type: "heatmap", z, zmin: -extreme, zmax: extreme, colorscale: diverging, showscale: false,
        hovertemplate: "W<sub>%{y}</sub>·W<sub>%{x}</sub> = %{z:.3f}<extra></extra>" }],
      layout: { title: { text: title }, margin: MARGIN, xaxis: { title: { text: "feature j" }, constrain: "domain" },
        yaxis: { title: { text: "feature i" }, autorange: "reversed", scaleanchor: "x", constrain: "domain" } },
    };
  }

  /** Each feature's dimensionality D_i, coloured by importance, with the polytopes' D = d/k possible in m dimensions
   * as dotted lines labelled on the right. */
  function dimensionalityFigure(W, m, n, importance, colorscale, polytopes, title) {
    const D = live.featureDimensionality(W, m, n);
    const possible = polytopes.filter(([, , dims]) => dims <= m);
    return {
      data: [{ type: "scatter", mode: "markers", x: Array.from({ length: n }, (_, i) => i), y: Array.from(D),
        marker: { color: importance, cmin: 0, cmax: Math.max(...importance), colorscale, size: 9 },
        hovertemplate: "feature %{x}: D = %{y:.3f}<extra></extra>" }],
      layout: {
        title: { text: title }, margin: Object.assign({}, MARGIN, { r: 90 }), showlegend: false,
        xaxis: { title: { text: "feature i" }, range: [-0.5, n - 0.5] },
        yaxis: { title: { text: "D<sub>i</sub>" }, range: [-0.05, 1.1] },
        shapes: possible.map(([, D]) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: D, y1: D, line: { dash: "dot", color: "#999", width: 1 } })),
        // Labels of lines closer than 0.05 (the pentagon's 0.4 and the square antiprism's 0.375) are pushed apart.
        annotations: possible.map(([name, D], j) => ({ xref: "paper", x: 1, xanchor: "left", y: D, text: name, showarrow: false,
          yshift: j > 0 && Math.abs(possible[j - 1][1] - D) < 0.05 ? -8 : 0, font: { size: 10, color: "#666" } })),
      },
    };
  }

  /** Ticks for a log axis over [low, high] that cannot crowd: decades over a wide range, 1-2-5 within two decades,
   * finer within one; the ends themselves when no tick falls inside. */
  function logTicks(low, high) {
    if (!(low > 0 && high >= low)) return undefined;
    const span = Math.log10(high / low);
    const mantissas = span > 2 ? [1] : span > 0.8 ? [1, 2, 5] : [1, 1.5, 2, 3, 5, 7];
    const ticks = [];
    for (let decade = Math.floor(Math.log10(low)); decade <= Math.ceil(Math.log10(high)); decade++)
      for (const mantissa of mantissas) {
        const value = mantissa * Math.pow(10, decade);
        if (value >= low && value <= high) ticks.push(value);
      }
    return ticks.length >= 2 ? ticks : [low, high];
  }

  /** The leading fit's training loss against the step (log axes). */
  function lossFigure(steps, losses, total, title) {
    const finite = losses.filter((v) => v > 0 && Number.isFinite(v));
    return {
      data: [{ type: "scatter", mode: "lines", x: steps, y: losses, line: { color: "#1f77b4" }, hovertemplate: "step %{x}: %{y:.4g}<extra></extra>" }],
      layout: { title: { text: title }, margin: MARGIN, showlegend: false,
        // The whole run's steps, filled as it trains.
        xaxis: { title: { text: "step" }, type: "log", range: [0, Math.log10(total)] },
        yaxis: { title: { text: "loss" }, type: "log", tickformat: ".1e", automargin: true,
          tickvals: logTicks(Math.min(...finite), Math.max(...finite)) } },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // The widget (browser only).

  const element = live.element;

  const CONTROL_LABELS = {
    n: "features n", m: "dimensions m", importance: "importance Iᵢ", density: "density 1−S",
    correlation: "feature sets", activation: "output nonlinearity",
    kind: "model", fits: "best of K fits", steps: "steps", lr: "learning rate",
  };
  const KIND_LABELS = { relu_output: "ReLU output", relu_hidden: "hidden ReLU too" };
  const STEP_CHOICES = [250, 500, 1000, 2000, 4000, 8000, 16000];
  const LR_CHOICES = [0.001, 0.003, 0.01, 0.03];

  class Playground {
    constructor(container, config) {
      this.container = container;
      this.config = config;
      this.generation = 0;
      this.frames = 0;
      container.querySelectorAll(".toymodels-live-fallback").forEach((node) => node.remove());
      const loaded = config.url && typeof location !== "undefined" && location.hash.length > 1
        ? stateFromHash(location.hash, config.state, config) : { state: Object.assign({}, config.state), errors: [] };
      this.state = loaded.state;
      this.inputs = {};
      this.sliders = {};
      this.drawCost = 0;
      const style = "display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; align-items: center; margin: 0.4em 0;";
      if (config.presets.length) {
        const row = element("div", { class: "toymodels-playground-presets", style });
        row.append(element("span", {}, "Presets:"));
        for (const preset of config.presets) {
          const button = element("button", { type: "button", "data-preset": preset.label }, preset.label);
          button.addEventListener("click", () => this.set(Object.assign({}, preset.state)));
          row.append(button);
        }
        container.append(row);
      }
      const controls = element("div", { class: "toymodels-playground-controls", style });
      for (const name of config.controls) controls.append(this.control(name));
      this.errors = element("div", { class: "toymodels-playground-errors", role: "alert", style: "color: #b00; font-size: 0.9em;" });
      this.status = element("div", { class: "toymodels-live-status", style: "margin: 0.4em 0; font-size: 0.9em;" });
      const grid = element("div", { class: "toymodels-playground-figures",
        style: "display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 0.5em;" });
      this.plots = {};
      for (const name of ["weights", "gram", "dimensionality", "loss"]) {
        this.plots[name] = element("div", { class: `toymodels-playground-${name}`, id: `${container.id}-${name}`, style: `height: ${PLOT_HEIGHT}px; width: 100%; min-width: 0;` });
        grid.append(this.plots[name]);
      }
      container.append(controls, this.errors, this.status, grid);
      this.showErrors(loaded.errors);
      // The first figures at once; training at once on the playground's page (the one that keeps its state in the
      // address), else when the widget comes into view (not every widget of a page on load).
      this.options = fitsOptions(this.state, config);
      this.showState();
      this.container.dataset.state = "waiting";
      this.draw(new live.Fits(Object.assign({}, this.options, { fits: 1 })).fits[0].W, [], [], "waiting to come into view\u2026");
      if (config.url) this.train();
      else live.trainWhenSeen(container, this);
      if (typeof addEventListener !== "undefined")
        addEventListener("resize", () => { if (this.last) this.draw(...this.last); });
    }

    /** One labelled control bound to state[name]. */
    control(name) {
      const { limits, choices } = this.config;
      const label = element("label", { class: "toymodels-live-control", style: "display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em;" });
      let input;
      const options = (values, text = String) => values.map((value) => {
        const option = element("option", { value: String(value) }, text(value));
        return option;
      });
      if (name === "n" || name === "m" || name === "fits") {
        input = element("input", { type: "range", min: limits[name][0], max: Math.min(limits[name][1], name === "m" ? 6 : 99), step: 1, "aria-label": name });
      } else if (name === "importance" || name === "density") {
        input = element("input", { type: "text", size: 12, "aria-label": name, spellcheck: "false", style: "max-width: 10em;",
          title: name === "importance" ? "one number r (feature i then has importance r to the power i), or one per feature, separated by commas"
            : "one density for every feature, or one per feature, separated by commas" });
        // Beside the text, a slider over one number: the decay r (0.5 to 1) or the density (log, 0.001 to 1).
        const range = name === "importance" ? { min: 0.5, max: 1, step: 0.01 } : { min: -3, max: 0, step: 0.05 };
        const slide = element("input", Object.assign({ type: "range", name: `${name}-slider`, "aria-label": `${name} slider` }, range));
        slide.addEventListener("input", () => {
          const value = name === "importance" ? Number(slide.value) : Number(Math.pow(10, Number(slide.value)).toPrecision(3));
          this.set(Object.assign({}, this.state, { [name]: String(value) }));
        });
        this.sliders[name] = slide;
      } else if (name === "steps") {
        input = element("select", { "aria-label": name });
        input.append(...options(STEP_CHOICES));
      } else if (name === "lr") {
        input = element("select", { "aria-label": name });
        input.append(...options(LR_CHOICES));
      } else if (name === "correlation") {
        input = element("select", { "aria-label": name });
        const sets = [["none", 1, "independent"]];
        for (const correlation of ["correlated", "anticorrelated"])
          for (const k of [2, 3, 4]) sets.push([correlation, k, `${correlation} sets of ${k}`]);
        for (const [correlation, k, text] of sets) input.append(element("option", { value: `${correlation}:${k}` }, text));
      } else {
        input = element("select", { "aria-label": name });
        input.append(...options(choices[name], (value) => (name === "kind" ? KIND_LABELS[value] : value)));
      }
      input.name = name;
      const readout = element("output");
      label.append(element("span", {}, CONTROL_LABELS[name]), ...(this.sliders[name] ? [this.sliders[name]] : []), input, readout);
      this.inputs[name] = { input, readout };
      input.addEventListener(input.type === "range" ? "input" : "change", () => {
        const state = Object.assign({}, this.state);
        if (name === "correlation") {
          const [correlation, k] = input.value.split(":");
          Object.assign(state, { correlation, setSize: Number(k) });
        } else if (input.tagName === "SELECT" && name !== "activation" && name !== "kind") state[name] = Number(input.value);
        else if (input.type === "range") state[name] = Number(input.value);
        else state[name] = input.value.trim();
        this.set(state);
      });
      return label;
    }

    /** Show a state in the controls (a choice missing from a menu is added to it). */
    showState() {
      for (const [name, { input, readout }] of Object.entries(this.inputs)) {
        let value = name === "correlation" ? `${this.state.correlation}:${this.state.correlation === "none" ? 1 : this.state.setSize}` : String(this.state[name]);
        if (input.tagName === "SELECT" && ![...input.options].some((option) => option.value === value))
          input.append(element("option", { value }, name === "correlation" ? `${this.state.correlation} sets of ${this.state.setSize}` : value));
        input.value = value;
        if (input.type === "range") readout.textContent = value;
      }
      for (const [name, slide] of Object.entries(this.sliders)) {
        const value = Number(this.state[name]); // NaN for a list: the slider stays where it is
        if (Number.isFinite(value)) slide.value = String(name === "importance" ? value : Math.log10(value));
      }
    }

    showErrors(errors) {
      this.errors.textContent = errors.join("; ");
      this.container.dataset.errors = String(errors.length);
    }

    /** A new state: checked, shown, written to the address, trained. An invalid one is refused with its errors
     * (the last valid state stays). */
    set(state) {
      const errors = stateErrors(state, this.config);
      if (state.correlation !== "none" && state.n % state.setSize !== 0 && errors.length === 1) {
        state.n = Math.max(state.setSize, state.n - (state.n % state.setSize)); // keep whole sets
        return this.set(state);
      }
      this.showErrors(errors);
      if (errors.length) {
        this.showState();
        return;
      }
      this.state = state;
      if (this.config.url && typeof history !== "undefined") history.replaceState(null, "", hashOf(state));
      this.train();
    }

    /** Train the state's fits: chunks of steps between paints, the leading fit redrawn every drawMs. */
    train() {
      const generation = ++this.generation;
      this.showState();
      const { chunkSteps, drawMs } = this.config;
      const options = fitsOptions(this.state, this.config);
      this.options = options;
      const fits = new live.Fits(options);
      const started = performance.now();
      const steps = [], losses = [];
      let drawn = performance.now(), frames = 0, stepMs = 0;
      this.container.dataset.state = "training";
      this.container.dataset.hash = hashOf(this.state);
      this.draw(fits.fits[0].W, steps, losses, "training\u2026 step 0");
      const chunk = () => {
        if (generation !== this.generation) return;
        // Train until the next frame is due (one every drawMs), but at least as long as a redraw takes: the
        // figures follow at 1000 / drawMs frames a second while redraws cost under half of drawMs.
        const sliceEnd = Math.max(performance.now() + this.drawCost, drawn + drawMs);
        do {
          // Chunks of about CHUNK_MS (so that a frame is not late by a whole chunk of a large model), at most
          // chunkSteps, and no more than the steps so far (log-spaced points on the loss curve at the start).
          const count = Math.max(1, Math.min(chunkSteps, fits.step, Math.floor(CHUNK_MS / stepMs)));
          const before = performance.now();
          fits.run(count);
          stepMs = Math.max(1e-3, (performance.now() - before) / count);
          steps.push(fits.step);
          losses.push(fits.leader().loss);
        } while (!fits.done && performance.now() < sliceEnd);
        if (!fits.done) {
          drawn = performance.now();
          this.draw(fits.leader().W, steps, losses, `training\u2026 step ${fits.step} of ${fits.steps}, the leading fit shown`, true);
          frames++;
          live.soon(chunk);
          return;
        }
        const best = fits.best();
        const D = live.featureDimensionality(best.W, options.m, options.n);
        const geometries = this.config.geometries.filter(([, , dims]) => dims <= options.m);
        const { text: named } = live.describe(D, geometries);
        // A long list of unnamed dimensionalities says less than the counts beside it.
        const text = named.replace(/(\d+) other \(D = [^)]*\)/, (all, count) => (Number(count) > 6 ? `${count} other` : all));
        const { represented, superposed } = counts(best.W, options.m, options.n, this.config.measures);
        const seconds = (performance.now() - started) / 1000;
        this.draw(best.W, steps, losses, `best of ${fits.fits.length} fits (loss ${best.loss.toPrecision(4)}): ` +
          `${represented} of ${options.n} features represented, ${superposed} in superposition; ${text}; trained in ${seconds.toFixed(2)} s`);
        Object.assign(this.container.dataset, {
          state: "done", seconds: seconds.toFixed(4), frames: String(frames + 1), geometry: named,
          represented: String(represented), superposed: String(superposed),
          loss: best.loss.toPrecision(6), updates: String(Number(this.container.dataset.updates || 0) + 1),
        });
      };
      live.soon(chunk);
    }

    /** The figures for W and the status line; while training (``partial``), W's picture and one other figure in
     * turn (four plotly redraws a frame would halve the frame rate). */
    draw(W, steps, losses, status, partial = false) {
      this.last = [W, steps, losses, status];
      this.status.textContent = this.config.statusPrefix + status;
      if (this.plots.weights.clientWidth === 0) return; // folded away: drawn once it shows (it trains then)
      const { n, m, importance } = this.options, { colorscale, diverging, polytopes } = this.config;
      const title = `${n} features in ${m} dimension${m === 1 ? "" : "s"}`;
      const all = {
        weights: weightFigure(W, m, n, importance, colorscale, diverging, m > 3 ? `W (${m} × ${n})` : `W<sub>i</sub>: ${title}`),
        gram: gramFigure(W, m, n, diverging, "W<sup>T</sup>W"),
        dimensionality: dimensionalityFigure(W, m, n, importance, colorscale, polytopes, "feature dimensionality D<sub>i</sub>"),
        loss: lossFigure(steps.slice(), losses.slice(), this.options.steps, "loss of the leading fit"), // new arrays: plotly.react compares by reference
      };
      const others = ["gram", "dimensionality", "loss"], turn = others[this.frames % others.length];
      const figures = Object.entries(all).filter(([name]) => !partial || name === "weights" || name === turn);
      const started = performance.now();
      for (const [name, figure] of figures) {
        // The cell's width, measured (plotly's autosize can miss a grid cell's and overflow it).
        Object.assign(figure.layout, { width: this.plots[name].clientWidth, height: PLOT_HEIGHT });
        Plotly.react(this.plots[name], figure.data, figure.layout, this.config.plotConfig);
      }
      this.frames++;
      if (!this.container.dataset.firstFrameMs) this.container.dataset.firstFrameMs = performance.now().toFixed(1); // since navigation
      this.drawCost = performance.now() - started;
      this.container.dataset.drawMs = this.drawCost.toFixed(1);
    }
  }

  return { counts, logTicks, perFeature, stateErrors, hashOf, stateFromHash, fitsOptions, weightFigure, gramFigure, dimensionalityFigure, lossFigure, Playground };
});
