/**
 * The benchmark's time budgets (issue 15): timePerRun predicts a measurement's cost from its warm-up and
 * first timed run and takes fewer samples or throws BudgetSkip instead of running a row that would take
 * longer; probeStep skips a whole-step peer from a small-batch step; RunBudget gives each row what is left
 * of the run's budget and skips every row once it is spent. Fake run times and a fake clock here: no
 * timing asserts. The table shows a skipped row as skipped.
 */
import {
  type BenchRow,
  benchTable,
  BudgetSkip,
  MIN_SAMPLES,
  probeStep,
  RunBudget,
  skippedRow,
  timePerRun,
} from "../src/bench/cases.ts";
import { assert, assertEquals } from "./_assert.ts";

/** A fake op: each run takes `perRun` ms (the first, compiling one, `firstMs`); counts the runs made. */
function fakeOp(perRun: number, firstMs = perRun) {
  let runs = 0;
  const timeReps = (reps: number) => {
    const t = (runs === 0 ? firstMs - perRun : 0) + reps * perRun;
    runs += reps;
    return Promise.resolve(t);
  };
  return { timeReps, runs: () => runs };
}

Deno.test("timePerRun: measures ops that fit the budget, skips one that would not after two runs", async () => {
  const fast = fakeOp(2);
  assertEquals(await timePerRun(fast.timeReps, 5, 150, 60_000), 2, "a 2 ms op is measured");
  const slow = fakeOp(20_000); // a 20 s step: 5 samples would take ~2 minutes
  let err: unknown = null;
  try {
    await timePerRun(slow.timeReps, 5, 150, 60_000);
  } catch (e) {
    err = e;
  }
  assert(err instanceof BudgetSkip, `want BudgetSkip, got ${err}`);
  assertEquals(slow.runs(), 2, "decided after the warm-up and one timed run");
  assert((err as BudgetSkip).estimateMs >= 5 * 20_000, `estimate ${(err as BudgetSkip).estimateMs}`);
  const compiling = fakeOp(1, 90_000); // a warm-up alone over the budget: no further run
  try {
    await timePerRun(compiling.timeReps, 5, 150, 60_000);
  } catch (e) {
    err = e;
  }
  assertEquals(compiling.runs(), 1);
  assertEquals(await timePerRun(fakeOp(20_000).timeReps, 3, 150), 20_000, "no budget: measured");
});

Deno.test("bench table: a skipped row says so instead of a number", () => {
  const e = new BudgetSkip(120_000, 60_000);
  const rows = [
    { op: "gan_step_64", shape: "b32", impl: "medsynth", ms: 100, gflops: null, images_per_s: 320 },
    skippedRow({ op: "gan_step_64", shape: "b32", impl: "tfjs-webgpu" }, e),
  ];
  assertEquals(rows[1].skipped, "time budget");
  assert(rows[1].note!.includes("120 s") && rows[1].note!.includes("60 s"), rows[1].note);
  const t = benchTable(rows);
  assert(t.includes("skipped (time budget)"), t);
});

Deno.test("timePerRun: a tight budget takes fewer samples (down to 3), a slow run takes 3", async () => {
  // 800 ms single runs: warm-up + first + 5 samples = 5.6 s; a 4.5 s budget fits 3 samples
  const op = fakeOp(800);
  assertEquals(await timePerRun(op.timeReps, 5, 150, 4_500), 800);
  assertEquals(op.runs(), 1 + MIN_SAMPLES, "warm-up + 3 samples (the first timed run is one)");
  const slow = fakeOp(1_500); // over SLOW_RUN_MS: 3 samples even with room for 5
  await timePerRun(slow.timeReps, 5, 150, 60_000);
  assertEquals(slow.runs(), 1 + MIN_SAMPLES);
  const fine = fakeOp(800); // no budget: all 5 samples
  await timePerRun(fine.timeReps, 5, 150);
  assertEquals(fine.runs(), 1 + 5);
  // a warm-up of 20 s with a 30 s budget: runs of >= 10 s leave no room for 3 samples; decided at once
  const compiling = fakeOp(100, 20_000);
  let err: unknown = null;
  try {
    await timePerRun(compiling.timeReps, 5, 150, 30_000);
  } catch (e) {
    err = e;
  }
  assert(err instanceof BudgetSkip, String(err));
  assertEquals(compiling.runs(), 1);
});

Deno.test("probeStep: predicts a full step from a small batch, skips before any full-size step", async () => {
  assertEquals(await probeStep(() => Promise.resolve(500), 8, 60_000), 4_000, "4 s steps: 20 s fit 60 s");
  let err: unknown = null;
  try {
    await probeStep(() => Promise.resolve(15_000), 8, 60_000); // a 2-minute step
  } catch (e) {
    err = e;
  }
  assert(err instanceof BudgetSkip, String(err));
  assertEquals((err as BudgetSkip).estimateMs, (MIN_SAMPLES + 1) * 120_000);
});

Deno.test("RunBudget: each row gets what is left of the run, rows after the end are skipped unrun", async () => {
  let clock = 0;
  const budget = new RunBudget(100_000, 60_000, () => clock);
  const base = { op: "conv2d_fwd", shape: "s", impl: "tfjs-wasm" };
  const got: number[] = [];
  const row = (cost: number) => (ms: number): Promise<BenchRow> => {
    got.push(ms);
    clock += cost;
    return Promise.resolve({ ...base, ms: 1, gflops: 1 });
  };
  assertEquals((await budget.measure(base, row(70_000))).ms, 1);
  assertEquals(got[0], 60_000, "the row budget while the run has more left");
  await budget.measure(base, row(30_000));
  assertEquals(got[1], 30_000, "what is left of the run's 100 s");
  let ran = false;
  const late = await budget.measure(base, () => {
    ran = true;
    return Promise.resolve({ ...base, ms: 1, gflops: 1 });
  });
  assert(!ran, "nothing runs once the run's budget is spent");
  assertEquals(late.skipped, "time budget");
  assertEquals(late.ms, null);
  // a BudgetSkip inside a measurement becomes a skipped row; other errors are kept when asked
  const fresh = new RunBudget(100_000, 60_000, () => 0);
  const skipped = await fresh.measure(base, () => Promise.reject(new BudgetSkip(90_000, 60_000)));
  assertEquals(skipped.skipped, "time budget");
  const failed = await fresh.measure(base, () => Promise.reject(new Error("no kernel")), true);
  assertEquals(failed.note, "no kernel");
  assertEquals(failed.skipped, undefined);
});
