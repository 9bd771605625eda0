/**
 * Mesa's Vulkan/GL drivers print "XDG_RUNTIME_DIR is invalid or not set" unless that variable names a
 * private (0700) folder of this user. Importing this module first in a CLI points it at one before any
 * WebGPU adapter is requested. Harmless otherwise.
 */
function ensureXdgRuntimeDir(): void {
  const cur = Deno.env.get("XDG_RUNTIME_DIR");
  try {
    if (cur && (Deno.statSync(cur).mode! & 0o777) === 0o700) return;
  } catch { /* missing: make one */ }
  const uid = Deno.uid() ?? 0;
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/medsynth-xdg-${uid}`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch { /* read-only tmp: leave it; the driver only prints a warning */ }
}

ensureXdgRuntimeDir();
