// mixviz live scrubber: a Streamlit custom component (v2, no iframe, no build step).
//
// The server sends a sweep: the same picture at many values of one control (λ, a parameter or the seed),
// as one binary file (frames and masks; ui/frames.py) behind `data.url` and a small JSON header in `data`
// (values, label weights, mask means, box sizes). Dragging the range swaps decoded frames and redraws the
// bars here, with no server round trip; on release the component reports the value once (trigger
// "value"); dropping a dragged box reports its centre (trigger "centre").

const SVG = "http://www.w3.org/2000/svg";

function el(tag, cls, parent, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function build(parent) {
  const ui = { index: 0, seq: null, url: null, frames: [], sheet: null, log: [] };
  ui.root = el("div", "mv-root", parent, { "data-testid": "mixviz-scrubber" });
  const grid = el("div", "mv-grid", ui.root);
  ui.stage = el("div", "mv-stage", grid);
  ui.canvas = el("canvas", "mv-live", ui.stage, { "data-testid": "mixviz-live-image", role: "img" });
  ui.box = el("div", "mv-box", ui.stage, { "data-testid": "mixviz-box" });
  ui.hint = el("div", "mv-hint", ui.stage);
  const side = el("div", "mv-side", grid);
  ui.maskRow = el("div", "mv-masks", side);
  ui.barTitle = el("div", "mv-bar-title", side);
  ui.bars = el("div", "mv-bars", side, { "data-testid": "mixviz-label" });
  const control = el("div", "mv-control", ui.root);
  ui.name = el("label", "mv-name", control);
  ui.range = el("input", "mv-range", control, { type: "range", min: "0", step: "1" });
  ui.value = el("output", "mv-value", control, { "data-testid": "mixviz-value" });
  ui.strip = el("div", "mv-strip", ui.root);
  ui.caption = el("div", "mv-caption", ui.root);
  return ui;
}

async function pixels(blob) {
  // The RGBA pixels of a picture file.
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

async function inflate(blob) {
  // The bytes of a zlib ("deflate") stream.
  return new Uint8Array(await new Response(blob.stream().pipeThrough(new DecompressionStream("deflate"))).arrayBuffer());
}

async function composed(layout, part, n, width, height) {
  // The frames of a "switch" file (ui/frames.py): frame i takes each element from the last frame where
  // i >= at (the frame at which it switches), else from the first; `at` has one channel or three.
  const [first, last, at] = await Promise.all([pixels(part(layout.first)), pixels(part(layout.last)),
    inflate(part(layout.at))]);
  const size = width * height;
  const one = layout.channels === 1;
  const frames = [];
  for (let i = 0; i < n; i++) {
    const out = new Uint8ClampedArray(size * 4);
    for (let j = 0; j < size; j++) {
      for (let c = 0; c < 3; c++) {
        const k = 4 * j + c;
        out[k] = i >= at[one ? j : c * size + j] ? last[k] : first[k];
      }
      out[4 * j + 3] = 255;
    }
    frames.push(createImageBitmap(new ImageData(out, width, height)));
  }
  return Promise.all(frames);
}

async function decode(ui, data) {
  // One fetch of the sweep file; each frame and the mask sheet become ImageBitmaps, so drawing one is
  // synchronous. The frames are JPEGs, or composed from the first and last frame (layout "switch").
  const bytes = new Uint8Array(await (await fetch(data.url)).arrayBuffer());
  const layout = data.layout;
  const part = ([offset, length]) => new Blob([bytes.subarray(offset, offset + length)], { type: layout.mime });
  const sheet = createImageBitmap(part(layout.mask_sheet));
  const frames = layout.kind === "switch"
    ? composed(layout, part, data.values.length, data.size[1], data.size[0])
    : Promise.all(layout.frames.map((p) => createImageBitmap(part(p))));
  return { frames: await frames, sheet: await sheet };
}

function layoutMasks(ui, data) {
  ui.smoothed = Boolean(data.smoothing);
  ui.maskRow.replaceChildren();
  ui.maskRow.classList.toggle("mv-four", data.names.length > 2);
  ui.maskCanvases = data.names.map((name, j) => {
    const fig = el("figure", "mv-mask", ui.maskRow);
    const canvas = el("canvas", "", fig, { "data-testid": `mixviz-mask-${j + 1}` });
    canvas.width = data.layout.mask_size[1];
    canvas.height = data.layout.mask_size[0];
    canvas.style.borderColor = data.colours[j];
    const cap = el("figcaption", "", fig);
    return { canvas, cap };
  });
  const ref = data.reference; // another label to compare with (the Lecture page: the slide's), or null
  ui.barRows = data.names.map((name, j) => barRow(ui.bars, name, data.colours[j], ref ? ref.weights[j] : null, ref));
  if (data.smoothing) ui.barRows.push(barRow(ui.bars, "each other class", "#999999"));
}

function barRow(parent, name, colour, refWeight = null, ref = null) {
  const row = el("div", refWeight === null ? "mv-bar-row" : "mv-bar-row mv-with-ref", parent);
  el("span", "mv-bar-name", row).textContent = name;
  const track = el("span", "mv-bar-track", row);
  const fill = el("span", "mv-bar-fill", track);
  fill.style.background = colour;
  const text = el("span", "mv-bar-text", row);
  if (refWeight === null) return { fill, text };
  const mark = el("span", "mv-bar-ref", track, { "data-testid": "mixviz-ref-mark" });
  el("span", "mv-bar-ref-text", row, { "data-testid": "mixviz-ref-text" }).textContent = `${ref.name} ${refWeight.toFixed(2)}`;
  return { fill, text, mark, refWeight };
}

function weightsAt(data, i) {
  // The label's weights at frame i, with label smoothing (1 − ε)·w + ε/K when it is on.
  const w = data.weights[i];
  if (!data.smoothing) return w;
  const { eps, classes } = data.smoothing;
  return w.map((v) => (1 - eps) * v + eps / classes).concat([eps / classes]);
}

function show(ui, i, event) {
  const data = ui.data;
  i = Math.max(0, Math.min(data.values.length - 1, i));
  ui.index = i;
  const frame = ui.frames[i];
  const ctx = ui.canvas.getContext("2d");
  if (frame) ctx.drawImage(frame, 0, 0, ui.canvas.width, ui.canvas.height);
  ui.canvas.dataset.frame = String(frame ? i : -1);
  ui.canvas.dataset.value = String(data.values[i]);
  ui.range.value = String(i);
  ui.value.textContent = data.value_text[i];
  ui.canvas.setAttribute("aria-label", `${data.caption} at ${data.name} = ${data.value_text[i]}`);
  const [mh, mw] = data.layout.mask_size; // the sheet: row i holds frame i's masks, input by input
  (ui.maskCanvases || []).forEach(({ canvas, cap }, j) => {
    if (ui.sheet) canvas.getContext("2d").drawImage(ui.sheet, j * mw, i * mh, mw, mh, 0, 0, canvas.width, canvas.height);
    const mean = data.mask_means[i][j].toFixed(3); // a projector's row of four masks has room for less
    cap.textContent = data.big && data.names.length > 2 ? `${j + 1}: ${mean}` : `mask ${j + 1}: mean ${mean}`;
  });
  const weights = weightsAt(data, i);
  const top = Math.max(1, ...weights);
  const scale = Math.max(top, ...ui.barRows.map((row) => row.refWeight || 0));
  ui.barRows.forEach((row, j) => {
    row.fill.style.width = `${(100 * weights[j]) / scale}%`;
    if (row.mark) row.mark.style.left = `${(100 * row.refWeight) / scale}%`;
    row.text.textContent = weights[j].toFixed(3);
  });
  ui.caption.textContent = data.notes[i] || "";
  drawBox(ui);
  markStrip(ui);
  if (event) {
    // For the benchmark and the browser tests: the input event's time, when its frame was drawn, what the
    // picture shows at the next animation frame (whose paint follows its callbacks) and the start of the
    // frame after it (by then that paint is on screen).
    const drawn = performance.now();
    requestAnimationFrame((raf) => {
      const shown = Number(ui.canvas.dataset.frame);
      const checked = performance.now();
      requestAnimationFrame((painted) => {
        ui.log.push({ index: i, event: event.timeStamp, drawn, raf, checked, painted, shown, ok: frame !== undefined });
        if (ui.log.length > 2000) ui.log.splice(0, ui.log.length - 2000); // the latest 2000 events only
      });
    });
  }
}

function drawBox(ui) {
  const box = ui.data.box;
  if (!box) {
    ui.box.style.display = "none";
    return;
  }
  const [h, w] = box.sizes[ui.index];
  const [cy, cx] = ui.dragCentre || box.centres[ui.index];
  const clip = (v) => Math.max(0, Math.min(1, v)); // the box is cut at the border, as the method cuts it
  const [top, bottom, left, right] = [clip(cy - h / 2), clip(cy + h / 2), clip(cx - w / 2), clip(cx + w / 2)];
  Object.assign(ui.box.style, {
    display: "block", top: `${100 * top}%`, left: `${100 * left}%`,
    height: `${100 * (bottom - top)}%`, width: `${100 * (right - left)}%`,
  });
  ui.box.dataset.centre = `${cy.toFixed(4)},${cx.toFixed(4)}`;
}

function buildStrip(ui) {
  ui.strip.replaceChildren();
  const marks = ui.data.marks;
  if (!marks) return;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 12");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("data-testid", "mixviz-strip");
  ui.strip.appendChild(svg);
  const axis = document.createElementNS(SVG, "line");
  Object.entries({ x1: 0, x2: 100, y1: 11, y2: 11, class: "mv-axis" }).forEach(([k, v]) => axis.setAttribute(k, v));
  svg.appendChild(axis);
  ui.ticks = marks.map((m) => {
    const tick = document.createElementNS(SVG, "line");
    Object.entries({ x1: 100 * m, x2: 100 * m, y1: 2, y2: 11, class: "mv-tick" }).forEach(([k, v]) => tick.setAttribute(k, v));
    svg.appendChild(tick);
    return tick;
  });
  el("div", "mv-strip-caption", ui.strip).textContent = ui.data.marks_caption;
}

function markStrip(ui) {
  (ui.ticks || []).forEach((tick, j) => tick.classList.toggle("mv-current", j === ui.index));
}

function centreOf(ui, event) {
  const r = ui.canvas.getBoundingClientRect();
  const clamp = (v) => Math.max(0, Math.min(1, v));
  return [clamp((event.clientY - r.top) / r.height), clamp((event.clientX - r.left) / r.width)];
}

function wire(ui) {
  ui.range.addEventListener("input", (e) => show(ui, Number(ui.range.value), e));
  ui.range.addEventListener("change", () => {
    const i = Number(ui.range.value);
    ui.setTriggerValue("value", { index: i, value: ui.data.values[i], version: ui.data.version });
  });
  ui.stage.addEventListener("pointerdown", (e) => {
    if (!ui.data.box) return;
    ui.stage.setPointerCapture(e.pointerId);
    ui.dragCentre = centreOf(ui, e);
    ui.root.classList.add("mv-dragging");
    drawBox(ui);
    e.preventDefault();
  });
  ui.stage.addEventListener("pointermove", (e) => {
    if (!ui.dragCentre) return;
    ui.dragCentre = centreOf(ui, e);
    drawBox(ui);
  });
  const drop = (e) => {
    if (!ui.dragCentre) return;
    const centre = centreOf(ui, e);
    ui.dragCentre = centre;
    ui.root.classList.remove("mv-dragging");
    drawBox(ui);
    ui.setTriggerValue("centre", { centre, version: ui.data.version });
  };
  ui.stage.addEventListener("pointerup", drop);
  ui.stage.addEventListener("pointercancel", drop);
}

async function load(ui, data) {
  ui.url = data.url;
  ui.canvas.width = data.size[1];
  ui.canvas.height = data.size[0];
  ui.canvas.style.aspectRatio = `${data.size[1]} / ${data.size[0]}`;
  ui.range.max = String(data.values.length - 1);
  ui.name.textContent = data.name;
  ui.barTitle.textContent = data.bar_title + (data.reference ? ` (black mark: ${data.reference.name}'s)` : "");
  ui.hint.textContent = data.box ? data.box.hint : "";
  ui.bars.replaceChildren();
  layoutMasks(ui, data);
  buildStrip(ui);
  ui.frames = [];
  ui.sheet = null;
  ui.root.dataset.ready = "false";
  show(ui, data.index);
  const url = data.url;
  const decoded = await decode(ui, data);
  if (ui.url !== url) return; // a newer sweep came while this one was decoding
  ui.frames = decoded.frames;
  ui.sheet = decoded.sheet;
  ui.dragCentre = null;
  show(ui, ui.index);
  ui.root.dataset.ready = "true";
  ui.root.dataset.version = data.version;
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = JSON.parse(component.data); // the server sends its data as one JSON string (ui/live.py)
  let ui = parentElement.__mixviz;
  if (!ui) {
    ui = parentElement.__mixviz = build(parentElement);
    wire(ui);
    window.mixvizScrubber = ui; // the benchmark reads ui.log
  }
  ui.setTriggerValue = setTriggerValue;
  ui.root.classList.toggle("mv-big", Boolean(data.big)); // sized for a projector (the Lecture page)
  ui.root.style.setProperty("--mv-aspect", String(data.size[1] / data.size[0])); // the picture's width / height
  const fresh = data.url !== ui.url;
  ui.data = data;
  if (fresh) {
    ui.seq = data.seq;
    ui.index = data.index;
    load(ui, data);
    return;
  }
  if (Boolean(data.smoothing) !== ui.smoothed) {
    ui.bars.replaceChildren();
    layoutMasks(ui, data); // a bar for "each other class" comes or goes with label smoothing
  }
  if (data.seq !== ui.seq) {
    // the server moved the value (another control, a link): follow it
    ui.seq = data.seq;
    show(ui, data.index);
  } else {
    show(ui, ui.index); // the same sweep and value, other settings (label smoothing): redraw the bars
  }
}
