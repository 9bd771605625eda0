/**
 * The benchmark's per-row time budget (issue 15): timePerRun predicts a measurement's cost from its
 * warm-up and first timed run (fake run times here: no clock, no timing asserts) and throws BudgetSkip
 * instead of running a row that would take longer; the table shows such a row as skipped.
 */
import { benchTable, BudgetSkip, skippedRow, timePerRun } from "../src/bench/cases.ts";
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
