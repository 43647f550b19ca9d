// The live widgets' settings and titles come from their configuration (the Python side writes it): the
// trainer knows no chapter. Checked against what each chapter's widget sends.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const live = require("../../toymodels/kit/static/toymodels-live.js");

test("an importance decay: I_i = decay^i, every feature at the density", () => {
  const setting = { importance: [{ slider: "decay", exponents: [0, 1, 2, 3, 4] }], probability: { slider: "density" } };
  const { importance, probability } = live.settingOf({ decay: 0.9, density: 0.1 }, 5, setting);
  assert.deepEqual(importance, [1, 0.9, 0.9 ** 2, 0.9 ** 3, 0.9 ** 4]);
  assert.deepEqual(probability, [0.1, 0.1, 0.1, 0.1, 0.1]);
});

test("a relative importance on the last feature; factors multiply; none gives 1", () => {
  const r = { importance: [{ slider: "r", exponents: [0, 0, 1] }], probability: { slider: "density" } };
  assert.deepEqual(live.settingOf({ r: 2.5, density: 0.3 }, 3, r).importance, [1, 1, 2.5]);
  const two = { importance: [{ slider: "a", exponents: [1, 0] }, { slider: "b", exponents: [1, 2] }], probability: { slider: "p" } };
  assert.deepEqual(live.settingOf({ a: 3, b: 2, p: 1 }, 2, two).importance, [6, 4]);
  assert.deepEqual(live.settingOf({ p: 1 }, 2, { importance: [], probability: { slider: "p" } }).importance, [1, 1]);
});

test("titles fill each slider's value in the format the template asks", () => {
  const values = { density: 0.1, decay: 0.9, r: 1 };
  assert.equal(live.titleOf("1−S = {density}, I = {decay:.2f}^i", values), "1−S = 0.1, I = 0.90^i");
  assert.equal(live.titleOf("r = {r:.3g}, 1−S = {density:.3g}", values), "r = 1.00, 1−S = 0.100");
  assert.equal(live.titleOf("no sliders", values), "no sliders");
});
