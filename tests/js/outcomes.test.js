// What the browser's trainer learns, with the chapter's live protocol (node --test tests/js): the paper's
// opening figure at its two ends (dense: two orthogonal features, three dropped; 90 % sparse: a pentagon) and
// a point of the phase diagram on each side of its boundary.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const live = require("../../toymodels/kit/static/toymodels-live.js");

// The protocols the chapters' live widgets use, exported with the fixture (tools/export_live_fixture.py).
const PROTOCOLS = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "parity.json"), "utf8")).protocols;

function intro(density, seed = 0) {
  const n = 5, m = 2;
  const options = Object.assign({}, PROTOCOLS.intro, {
    n, m, seed, importance: [0, 1, 2, 3, 4].map((i) => 0.9 ** i), probability: Array(n).fill(density),
  });
  const best = live.trainBest(options);
  return { best, norms: live.featureNorms(best.W, m, n), D: live.featureDimensionality(best.W, m, n) };
}

for (const seed of [0, 1]) {
  test(`dense: the two most important features, orthogonal, the others dropped (seed ${seed})`, () => {
    const { best, norms } = intro(1.0, seed);
    const W = best.W, n = 5;
    assert.ok(norms[0] > 0.9 && norms[1] > 0.9, `features 0 and 1 should be learned: norms ${norms}`);
    for (const i of [2, 3, 4]) assert.ok(norms[i] < 0.1, `feature ${i} should be dropped: norms ${norms}`);
    const cosine = (W[0] * W[1] + W[n] * W[n + 1]) / (norms[0] * norms[1]);
    assert.ok(Math.abs(cosine) < 0.05, `features 0 and 1 should be orthogonal: cos = ${cosine}`);
  });

  test(`90 % sparse: all five features as a pentagon (seed ${seed})`, () => {
    const { best, norms, D } = intro(0.1, seed);
    const W = best.W, n = 5;
    for (let i = 0; i < n; i++) {
      assert.ok(norms[i] > 0.8, `feature ${i} should be learned: norms ${Array.from(norms)}`);
      assert.ok(Math.abs(D[i] - 0.4) < 0.03, `D_${i} = ${D[i]} should be 2/5 (a pentagon): ${Array.from(D)}`);
    }
    const angles = Array.from({ length: n }, (_, i) => Math.atan2(W[n + i], W[i])).sort((a, b) => a - b);
    const gaps = angles.map((a, k) => ((k + 1 < n ? angles[k + 1] : angles[0] + 2 * Math.PI) - a) * 180 / Math.PI);
    assert.ok(gaps.every((gap) => Math.abs(gap - 72) < 8), `neighbours should be ~72° apart: ${gaps}`);
  });
}

test("80 % sparse: two antipodal pairs and the least important feature dropped", () => {
  const { D } = intro(0.2);
  const rounded = Array.from(D, (d) => Math.round(d * 10) / 10);
  assert.deepEqual(rounded, [0.5, 0.5, 0.5, 0.5, 0], `D = ${Array.from(D)}`);
});

test("a phase point on each side of the boundary: the theory's solution", () => {
  const grams = PROTOCOLS.phase_grams; // (phase, order, n, n), as toymodels.phase.classify
  const point = (r, density) => {
    const best = live.trainBest(Object.assign({}, PROTOCOLS.phase, {
      n: 3, m: 2, importance: [1, 1, r], probability: [density, density, density],
    }));
    return live.classify(best.W, 2, 3, grams).phase;
  };
  const names = PROTOCOLS.phase_names;
  assert.equal(names[point(0.2, 1.0)], "perp_001", "dense, r < 1: the extra feature is not learned");
  assert.equal(names[point(5.0, 1.0)], "perp_100", "dense, r > 1: a regular feature is dropped");
  assert.equal(names[point(0.5, 0.03)], "perp_011", "sparse, r < 1: the extra feature pairs with a regular one");
});

test("the widget's chunks: running in pieces gives the same fits as in one go", () => {
  const options = Object.assign({}, PROTOCOLS.intro, {
    n: 5, m: 2, steps: 200, importance: [1, 0.9, 0.81, 0.73, 0.66], probability: Array(5).fill(0.1),
  });
  const whole = new live.Fits(options).run(200).best();
  const pieces = new live.Fits(options);
  while (!pieces.done) pieces.run(23);
  assert.deepEqual(Array.from(pieces.best().W), Array.from(whole.W));
});

// The playground's presets (toymodels.playground) with the browser's protocol reach what their chapters report.
const playground = require("../../toymodels/kit/static/toymodels-playground.js");
const PLAYGROUND = PROTOCOLS.playground;

function preset(label) {
  const state = PLAYGROUND.presets[label];
  assert.ok(state, `no preset ${label}`);
  const options = playground.fitsOptions(state, PLAYGROUND);
  const best = live.trainBest(options);
  const { n, m } = options, W = best.W;
  const norms = live.featureNorms(W, m, n);
  const cosine = (i, j) => {
    let dot = 0;
    for (let k = 0; k < m; k++) dot += W[k * n + i] * W[k * n + j];
    return dot / (norms[i] * norms[j]);
  };
  const geometries = PLAYGROUND.geometries.filter(([, , dims]) => dims <= m);
  return { norms, cosine, geometry: live.describe(live.featureDimensionality(W, m, n), geometries).text };
}

test("every preset is a valid playground state", () => {
  for (const [label, state] of Object.entries(PLAYGROUND.presets))
    assert.deepEqual(playground.stateErrors(state, PLAYGROUND), [], label);
});

for (const [label, expected] of [["5 → 2 (ch. 1)", "5 pentagon"], ["pentagon (ch. 4)", "5 pentagon"],
  ["two digons (ch. 4)", "1 not learned, 4 antipodal"], ["octahedron, 6 → 3", "6 antipodal"]])
  test(`playground preset ${label}: ${expected}`, () => assert.equal(preset(label).geometry, expected));

test("playground preset correlated pairs: each pair's features orthogonal, the pairs antipodal", () => {
  const { norms, cosine } = preset("correlated pairs (ch. 4)");
  assert.ok(norms.every((v) => v > 0.9), `norms ${norms}`);
  for (const [i, j] of [[0, 1], [2, 3]]) assert.ok(Math.abs(cosine(i, j)) < 0.1, `cos(W${i}, W${j}) = ${cosine(i, j)}`);
});

test("playground preset anticorrelated pairs: each pair's features antipodal", () => {
  const { norms, cosine } = preset("anticorrelated pairs (ch. 4)");
  assert.ok(norms.every((v) => v > 0.9), `norms ${norms}`);
  for (const [i, j] of [[0, 1], [2, 3]]) assert.ok(cosine(i, j) < -0.95, `cos(W${i}, W${j}) = ${cosine(i, j)}`);
});

test("the address round-trips a state, and a bad one is refused with the field's range", () => {
  const defaults = PLAYGROUND.presets["5 → 2 (ch. 1)"], octahedron = PLAYGROUND.presets["octahedron, 6 → 3"];
  assert.deepEqual(playground.stateFromHash(playground.hashOf(octahedron), defaults, PLAYGROUND), { state: octahedron, errors: [] });
  const bad = playground.stateFromHash("#n=40&density=0.5,0.5", defaults, PLAYGROUND);
  assert.deepEqual(bad.state, defaults);
  assert.match(bad.errors.join("; "), /n must be an integer in \[2, 32\]; got 40/);
  assert.throws(() => playground.perFeature("0.1,2", 2, "density", PLAYGROUND.limits), /density must be one number or 2 comma-separated numbers, each in \[0.001, 1\]/);
  assert.deepEqual(playground.perFeature("0.5", 3, "importance", PLAYGROUND.limits), [1, 0.5, 0.25]);
});

test("chapter 10's browser fit: the linear output and tanh keep m features, none in superposition; ReLU packs more", () => {
  const measures = { representedShare: 0.5, interfering: 0.1, zeroNorm: 1e-8 }; // toymodels.vocabulary
  const base = PROTOCOLS.nonlinearity;
  const fit = (activation, density) => {
    const options = playground.fitsOptions(Object.assign({}, base, { activation, density: String(density) }), PLAYGROUND);
    return playground.counts(live.trainBest(options).W, options.m, options.n, measures);
  };
  for (const activation of ["none", "tanh"]) assert.deepEqual(fit(activation, 0.01), { represented: base.m, superposed: 0 }, activation);
  const relu = fit("relu", 0.01);
  assert.ok(relu.represented > base.m + 3 && relu.superposed === relu.represented, `ReLU at 0.01: ${JSON.stringify(relu)}`);
});

test("the loss axis's ticks never crowd: decades, 1-2-5 or finer by the range, the ends if none inside", () => {
  assert.deepEqual(playground.logTicks(2e-4, 0.3), [1e-3, 1e-2, 1e-1]);
  assert.deepEqual(playground.logTicks(0.004, 0.05), [0.005, 0.01, 0.02, 0.05]);
  assert.deepEqual(playground.logTicks(0.0041, 0.0044), [0.0041, 0.0044]);
  for (const [low, high] of [[1e-6, 1], [3e-3, 1.2e-2], [0.5, 0.9]]) {
    const ticks = playground.logTicks(low, high);
    assert.ok(ticks.length >= 2 && ticks.length <= 8, `${low}..${high}: ${ticks}`);
  }
});
