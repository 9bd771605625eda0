import { renderShaderModule } from "../tools/gen_shaders.ts";
import { WGSL } from "../src/gpu/_shaders.generated.ts";
import { assert } from "./_assert.ts";
import { testGpu } from "./_util.ts";

Deno.test("the generated shader module is current (run `deno task shaders`)", async () => {
  const text = await renderShaderModule();
  const current = await Deno.readTextFile(new URL("../src/gpu/_shaders.generated.ts", import.meta.url));
  assert(current === text, "src/gpu/_shaders.generated.ts is stale: run `deno task shaders`");
});

Deno.test("every shader opens with a comment, has one compute entry point `main`, and compiles", async () => {
  const gpu = await testGpu();
  const problems: string[] = [];
  for (const [name, code] of Object.entries(WGSL)) {
    if (!code.startsWith(`// ${name}:`)) {
      problems.push(`${name}: must open with "// ${name}: <what it computes>"`);
    }
    const entries = code.match(/@compute/g)?.length ?? 0;
    if (entries !== 1 || !/fn\s+main\s*\(/.test(code)) {
      problems.push(`${name}: needs exactly one @compute fn main`);
    }
    if (!/Dispatch:/i.test(code)) {
      problems.push(`${name}: opening comment must state the dispatch grid ("Dispatch:")`);
    }
    const module = gpu.device.createShaderModule({ code });
    const info = await module.getCompilationInfo();
    for (const m of info.messages) {
      if (m.type === "error") problems.push(`${name}:${m.lineNum}: ${m.message}`);
    }
  }
  assert(problems.length === 0, problems.join("\n"));
});
