// Reading small print: the zoom (the page at full resolution around a field, on F7 or a click on the field's
// outline) and crops sized so that the active field's is large and no wide address or kana line is squeezed thin.
"use strict";
(function () {
  const CURRENT_MIN_SCALE = 0.9; // the active field's crop: at least this share of its pixels
  const CURRENT_MAX_SCALE = 1.5; // small crops (an amount) grow up to this
  const OTHER_MIN_SCALE = 0.6; // the rest fit their column, but never thinner than this

  function sizeCrop(img) {
    if (!img.naturalWidth || !img.parentElement) return;
    const row = img.closest(".field-row");
    const room = Math.max(1, img.parentElement.clientWidth - 4);
    const fit = room / img.naturalWidth;
    const current = row && row.classList.contains("current");
    const scale = current ? Math.min(CURRENT_MAX_SCALE, Math.max(CURRENT_MIN_SCALE, fit))
      : Math.min(1, Math.max(OTHER_MIN_SCALE, fit));
    img.style.width = Math.round(img.naturalWidth * scale) + "px";
    img.style.height = "auto";
    img.dataset.scale = scale.toFixed(3);
  }
  function sizeAll() { document.querySelectorAll("img.crop-image").forEach(sizeCrop); }

  document.querySelectorAll("img.crop-image").forEach((img) => {
    img.addEventListener("load", () => sizeCrop(img));
    if (img.complete) sizeCrop(img);
  });
  // The current row changes on focus (review.js marks it); resize after it has.
  document.addEventListener("focusin", () => setTimeout(sizeAll, 0));
  window.addEventListener("resize", sizeAll);

  // ---- the zoom (form view) -------------------------------------------------------------------------------------
  const zoom = document.getElementById("zoom");
  if (!zoom) return;
  const image = document.getElementById("zoom-image");
  const marker = document.getElementById("zoom-box");
  const frame = document.querySelector(".page-frame");

  function boxOf(name) {
    const outline = document.getElementById("outline-" + name);
    return outline ? outline.dataset.box.split(",").map(Number) : null;
  }
  function centre(name) {
    const box = boxOf(name);
    if (!box || !image.naturalWidth) return;
    const [left, top, width, height] = box;
    const w = image.naturalWidth, h = image.naturalHeight;
    const x = (left / 100) * w, y = (top / 100) * h, bw = (width / 100) * w, bh = (height / 100) * h;
    const offsetX = zoom.clientWidth / 2 - (x + bw / 2);
    const offsetY = zoom.clientHeight / 2 - (y + bh / 2);
    Object.assign(image.style, { left: offsetX + "px", top: offsetY + "px", width: w + "px", height: h + "px" });
    Object.assign(marker.style, { left: offsetX + x - 3 + "px", top: offsetY + y - 3 + "px",
                                  width: bw + 6 + "px", height: bh + 6 + "px" });
  }
  function open(name) {
    if (!name) return;
    zoom.dataset.field = name;
    zoom.hidden = false;
    if (frame) frame.hidden = true;
    if (!image.getAttribute("src")) image.src = zoom.dataset.src;
    if (image.complete && image.naturalWidth) centre(name);
  }
  function close() {
    zoom.hidden = true;
    if (frame) frame.hidden = false;
  }
  image.addEventListener("load", () => { if (!zoom.hidden) centre(zoom.dataset.field); });

  function currentName() {
    const row = document.querySelector(".field-row.current") || document.querySelector(".field-row");
    return row ? row.dataset.name : null;
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "F7") {
      event.preventDefault();
      if (zoom.hidden) open(currentName()); else close();
    } else if (event.key === "Escape" && !zoom.hidden) {
      close();
    }
  });
  // Enter moves to the next field: the zoom follows it.
  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest(".field-row");
    if (row && !zoom.hidden) open(row.dataset.name);
  });
  document.querySelectorAll(".outline").forEach((outline) => {
    outline.addEventListener("click", () => {
      const name = outline.id.replace(/^outline-/, "");
      open(name);
      const input = document.querySelector(`#field-${CSS.escape(name)} input.value`);
      if (input && !input.disabled) { input.focus(); input.select(); }
    });
  });
})();
