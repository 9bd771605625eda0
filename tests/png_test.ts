import { encode as pngEncode } from "fast-png";
import jpeg from "jpeg-js";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose } from "./_util.ts";
import { benchDecodeResize, decodeImage, decodePng, encodePng, toModelInput } from "../src/data/png.ts";
import { decodeJpeg } from "../src/data/jpeg.ts";
import { resizeImage } from "../src/data/resize.ts";
import { Rng } from "../src/util/rng.ts";

const W = 5, H = 3, N = W * H;
const rng = new Rng(7);
const ramp8 = Uint8Array.from({ length: N }, () => rng.int(256));
const ramp16 = Uint16Array.from({ length: N }, () => rng.int(65536));

Deno.test("png: 8-bit grey decodes to v/255", () => {
  const img = decodePng(pngEncode({ width: W, height: H, data: ramp8, depth: 8, channels: 1 }));
  assertEquals([img.channels, img.height, img.width, img.bitDepth], [1, H, W, 8]);
  assertClose(img.data, Array.from(ramp8, (v) => v / 255), { atol: 1e-7, rtol: 0 });
});

Deno.test("png: 16-bit grey decodes to v/65535 at full precision", () => {
  const img = decodePng(pngEncode({ width: W, height: H, data: ramp16, depth: 16, channels: 1 }));
  assertEquals(img.bitDepth, 16);
  assertClose(img.data, Array.from(ramp16, (v) => v / 65535), { atol: 1e-7, rtol: 0 });
});

Deno.test("png: grey+alpha and RGBA ignore alpha; RGB becomes BT.601 luma", () => {
  const ga = new Uint8Array(N * 2), rgba = new Uint8Array(N * 4), rgb = new Uint8Array(N * 3);
  const want: number[] = [];
  for (let i = 0; i < N; i++) {
    ga[2 * i] = ramp8[i];
    ga[2 * i + 1] = i * 10; // alpha varies: must not change the grey value
    const [r, g, b] = [ramp8[i], 255 - ramp8[i], (ramp8[i] * 7) % 256];
    rgba.set([r, g, b, 3 * i], 4 * i);
    rgb.set([r, g, b], 3 * i);
    want.push((0.299 * r + 0.587 * g + 0.114 * b) / 255);
  }
  const g = decodePng(pngEncode({ width: W, height: H, data: ga, depth: 8, channels: 2 }));
  assertClose(g.data, Array.from(ramp8, (v) => v / 255), { atol: 1e-7, rtol: 0 }, "grey+alpha");
  const a = decodePng(pngEncode({ width: W, height: H, data: rgba, depth: 8, channels: 4 }));
  assertClose(a.data, want, { atol: 1e-6, rtol: 0 }, "RGBA");
  const c = decodePng(pngEncode({ width: W, height: H, data: rgb, depth: 8, channels: 3 }));
  assertClose(c.data, want, { atol: 1e-6, rtol: 0 }, "RGB");
  // 3-channel output keeps the planes (C, H, W)
  const c3 = decodePng(pngEncode({ width: W, height: H, data: rgb, depth: 8, channels: 3 }), { channels: 3 });
  assertEquals(c3.channels, 3);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < 3; k++) {
      assert(Math.abs(c3.data[k * N + i] - rgb[3 * i + k] / 255) < 1e-7, `plane ${k}`);
    }
  }
});

Deno.test("png: 16-bit RGBA", () => {
  const d = new Uint16Array(N * 4);
  for (let i = 0; i < N; i++) d.set([ramp16[i], ramp16[i], ramp16[i], 65535], 4 * i);
  const img = decodePng(pngEncode({ width: W, height: H, data: d, depth: 16, channels: 4 }));
  assertClose(img.data, Array.from(ramp16, (v) => v / 65535), { atol: 1e-6, rtol: 0 });
});

Deno.test("png: 1/2/4-bit grey and palette images", () => {
  for (const depth of [1, 2, 4] as const) {
    const max = (1 << depth) - 1;
    const vals = Array.from({ length: N }, (_, i) => (i * 3) % (max + 1));
    // pack rows MSB first, rows padded to whole bytes
    const rowBytes = Math.ceil((W * depth) / 8);
    const packed = new Uint8Array(rowBytes * H);
    vals.forEach((v, i) => {
      const y = Math.floor(i / W), bit = (i % W) * depth;
      packed[y * rowBytes + (bit >> 3)] |= v << (8 - depth - (bit & 7));
    });
    const img = decodePng(pngEncode({ width: W, height: H, data: packed, depth, channels: 1 }));
    assertClose(img.data, vals.map((v) => v / max), { atol: 1e-7, rtol: 0 }, `${depth}-bit`);
  }
  const palette = [[0, 0, 0], [255, 255, 255], [100, 100, 100]];
  const idx = Uint8Array.from({ length: N }, (_, i) => i % 3);
  const img = decodePng(pngEncode({ width: W, height: H, data: idx, depth: 8, channels: 1, palette }));
  assertClose(img.data, Array.from(idx, (k) => palette[k][0] / 255), { atol: 1e-6, rtol: 0 }, "palette");
});

Deno.test("png: encode round trip (8-bit, 16-bit grey, 8-bit RGB), values clipped to [0, 1]", () => {
  const x = new Rng(3).uniforms(N, -0.2, 1.2);
  const clip = Array.from(x, (v) => Math.min(1, Math.max(0, v)));
  const d8 = decodePng(encodePng(x, 1, H, W));
  assertEquals(d8.bitDepth, 8);
  assertClose(d8.data, clip, { atol: 0.5 / 255 + 1e-7, rtol: 0 }, "8-bit");
  const d16 = decodePng(encodePng(x, 1, H, W, { bitDepth: 16 }));
  assertEquals(d16.bitDepth, 16);
  assertClose(d16.data, clip, { atol: 0.5 / 65535 + 1e-7, rtol: 0 }, "16-bit");
  const x3 = new Rng(4).uniforms(3 * N, 0, 1);
  const d3 = decodePng(encodePng(x3, 3, H, W), { channels: 3 });
  assertClose(d3.data, x3, { atol: 0.5 / 255 + 1e-7, rtol: 0 }, "RGB");
  assertThrows(() => encodePng(new Float32Array(2 * N), 2, H, W), Error, /channels must be 1 or 3/);
});

Deno.test("png: broken files give a clear error naming the file", () => {
  const good = encodePng(new Float32Array(N).fill(0.5), 1, H, W);
  assertThrows(
    () => decodePng(good.slice(0, good.length - 30), { name: "cut.png" }),
    Error,
    /cut\.png: PNG decoding failed/,
  );
  assertThrows(
    () => decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), { name: "x.png" }),
    Error,
    /x\.png: not a PNG/,
  );
  assertThrows(
    () => decodeImage(new TextEncoder().encode("hello world"), { name: "a.txt" }),
    Error,
    /a\.txt: neither PNG nor JPEG/,
  );
  const bad = good.slice();
  bad[bad.length - 20] ^= 0xff; // corrupt the zlib stream / CRC
  assertThrows(() => decodePng(bad, { name: "crc.png" }), Error, /crc\.png/);
});

Deno.test("jpeg: decodes a grey JPEG near its source values", () => {
  const w = 16, h = 8;
  const rgba = new Uint8Array(w * h * 4);
  const vals: number[] = [];
  for (let i = 0; i < w * h; i++) {
    const v = 60 + ((i % w) * 8); // smooth ramp: JPEG at quality 100 keeps it close
    rgba.set([v, v, v, 255], 4 * i);
    vals.push(v / 255);
  }
  const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 100).data);
  const img = decodeImage(bytes, { name: "r.jpg" });
  assertEquals([img.channels, img.height, img.width], [1, h, w]);
  assertClose(img.data, vals, { atol: 4 / 255, rtol: 0 });
  assertThrows(() => decodeJpeg(bytes.slice(0, 40), { name: "cut.jpg" }), Error, /cut\.jpg/);
});

Deno.test("toModelInput: resize with the project filter and map [0,1] to [-1,1]", () => {
  const src = new Rng(5).uniforms(16 * 12, 0, 1);
  const img = { data: src, channels: 1, height: 16, width: 12, bitDepth: 8 };
  const out = toModelInput(img, { channels: 1, height: 8, width: 6 });
  const ref = resizeImage(src, 1, 16, 12, 8, 6);
  assertClose(out, Array.from(ref, (v) => 2 * v - 1), { atol: 1e-6, rtol: 0 });
  assertThrows(() => toModelInput(img, { channels: 3, height: 8, width: 6 }), Error, /1 channels, 3 wanted/);
  const b = benchDecodeResize([encodePng(src, 1, 16, 12)], { channels: 1, height: 8, width: 6 }, 0);
  assert(b.images >= 1 && b.imagesPerSecond > 0, "bench counts images");
});
