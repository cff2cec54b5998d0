// The template editor: boxes in mm over the blank (the SVG's viewBox is the page in mm), the selected field's
// settings, cross-field rules checked as typed, saving and a trial read. Everything posts with the CSRF header.
(function () {
  "use strict";
  const body = document.body;
  const csrf = body.dataset.csrf;
  const base = "/admin/templates/" + encodeURIComponent(body.dataset.formId);
  const query = "?version=" + encodeURIComponent(body.dataset.version);
  const svg = document.getElementById("boxes");
  const NS = "http://www.w3.org/2000/svg";
  let tpl = null;
  let selected = -1;
  let drawing = false;
  let gesture = null;

  const $ = (id) => document.getElementById(id);
  const round = (v) => Math.round(v * 10) / 10;
  const list = (text) => text.split(",").map((s) => s.trim()).filter((s) => s);

  function post(path, payload) {
    return fetch(base + path + query, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    }).then((r) => r.json());
  }

  function toMm(event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    const p = point.matrixTransform(svg.getScreenCTM().inverse());
    return [p.x, p.y];
  }

  function el(name, attrs) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function render() {
    svg.replaceChildren();
    tpl.fields.forEach((f, i) => {
      const [x, y, w, h] = f.box;
      const guess = (f.guessed || []).length ? " guess" : "";
      const rect = el("rect", { x, y, width: w, height: h, class: "box" + guess + (i === selected ? " selected" : ""),
                                "data-index": i, "data-name": f.name });
      svg.appendChild(rect);
      for (let c = 1; c < (f.cells || 0); c++) {
        const cx = x + (w * c) / f.cells;
        svg.appendChild(el("line", { x1: cx, y1: y, x2: cx, y2: y + h, class: "cell" }));
      }
      const number = el("text", { x: x + 0.6, y: y + 3, class: "number" });
      number.textContent = String(i + 1);
      svg.appendChild(number);
      if (i === selected) {
        svg.appendChild(el("rect", { x: x + w - 1.5, y: y + h - 1.5, width: 3, height: 3, class: "handle",
                                     "data-index": i }));
      }
    });
    const items = tpl.fields.map((f, i) => {
      const li = document.createElement("li");
      li.textContent = f.label + " (" + f.name + ", " + f.kind + (f.cells ? ", " + f.cells + "桁" : "") + ")";
      li.dataset.index = i;
      if (i === selected) li.className = "selected";
      li.addEventListener("click", () => select(i));
      return li;
    });
    $("field-list").replaceChildren(...items);
  }

  function select(i) {
    selected = i;
    const f = tpl.fields[i];
    const form = $("field-form");
    form.hidden = !f;
    if (f) {
      $("field-number").textContent = String(i + 1);
      $("guessed").textContent = (f.guessed || []).length ? "推定: " + f.guessed.join(", ") + "（未確認）" : "";
      $("f-name").value = f.name; $("f-label").value = f.label; $("f-kind").value = f.kind;
      $("f-cells").value = f.cells || ""; $("f-preprinted-text").value = f.preprinted_text || "";
      $("f-preprinted-suffix").value = f.preprinted_suffix || ""; $("f-era").value = f.era || "";
      $("f-options").value = (f.options || []).join(","); $("f-required").checked = !!f.required;
      $("f-validators").value = (f.validators || []).join(",");
      [$("f-x").value, $("f-y").value, $("f-w").value, $("f-h").value] = f.box;
    }
    render();
  }

  function setOrDrop(f, key, value) {
    if (value === "" || value === null || (Array.isArray(value) && !value.length)) delete f[key];
    else f[key] = value;
  }

  function fromForm() {
    const f = tpl.fields[selected];
    if (!f) return;
    f.name = $("f-name").value.trim(); f.label = $("f-label").value; f.kind = $("f-kind").value;
    setOrDrop(f, "cells", $("f-cells").value ? parseInt($("f-cells").value, 10) : "");
    setOrDrop(f, "preprinted_text", $("f-preprinted-text").value);
    setOrDrop(f, "preprinted_suffix", $("f-preprinted-suffix").value);
    setOrDrop(f, "era", $("f-era").value.trim());
    setOrDrop(f, "options", list($("f-options").value));
    setOrDrop(f, "required", $("f-required").checked || "");
    setOrDrop(f, "validators", list($("f-validators").value));
    f.box = [$("f-x").value, $("f-y").value, $("f-w").value, $("f-h").value].map((v) => round(parseFloat(v) || 0));
    f.guessed = [];  // a person has looked at this field and said what it is
    $("guessed").textContent = "";
    render();
  }

  svg.addEventListener("mousedown", (event) => {
    const [mx, my] = toMm(event);
    const index = event.target.dataset ? event.target.dataset.index : undefined;
    if (drawing) {
      gesture = { kind: "draw", start: [mx, my], sketch: el("rect", { x: mx, y: my, width: 0, height: 0, class: "sketch" }) };
      svg.appendChild(gesture.sketch);
    } else if (index !== undefined) {
      const i = parseInt(index, 10);
      if (i !== selected) select(i);
      const kind = event.target.classList.contains("handle") ? "resize" : "move";
      gesture = { kind, start: [mx, my], box: tpl.fields[i].box.slice() };
    }
    event.preventDefault();
  });

  window.addEventListener("mousemove", (event) => {
    if (!gesture) return;
    const [mx, my] = toMm(event);
    const dx = mx - gesture.start[0], dy = my - gesture.start[1];
    if (gesture.kind === "draw") {
      gesture.sketch.setAttribute("x", Math.min(mx, gesture.start[0]));
      gesture.sketch.setAttribute("y", Math.min(my, gesture.start[1]));
      gesture.sketch.setAttribute("width", Math.abs(dx));
      gesture.sketch.setAttribute("height", Math.abs(dy));
      return;
    }
    const f = tpl.fields[selected];
    const [x, y, w, h] = gesture.box;
    f.box = gesture.kind === "move" ? [round(x + dx), round(y + dy), w, h]
                                    : [x, y, round(Math.max(1, w + dx)), round(Math.max(1, h + dy))];
    [$("f-x").value, $("f-y").value, $("f-w").value, $("f-h").value] = f.box;
    render();
  });

  window.addEventListener("mouseup", (event) => {
    if (gesture && gesture.kind === "draw") {
      const [mx, my] = toMm(event);
      const [sx, sy] = gesture.start;
      if (Math.abs(mx - sx) > 1 && Math.abs(my - sy) > 1) {
        let n = tpl.fields.length + 1;
        while (tpl.fields.some((f) => f.name === "field_" + n)) n++;
        tpl.fields.push({ name: "field_" + n, label: "新しい項目", kind: "text",
                          box: [round(Math.min(sx, mx)), round(Math.min(sy, my)), round(Math.abs(mx - sx)), round(Math.abs(my - sy))] });
        drawing = false;
        svg.classList.remove("drawing");
        $("draw-new").classList.remove("active");
        select(tpl.fields.length - 1);
      }
      render();
    } else if (gesture && selected >= 0) {
      tpl.fields[selected].guessed = (tpl.fields[selected].guessed || []).filter((g) => g !== "box");
    }
    gesture = null;
  });

  $("field-form").addEventListener("input", fromForm);
  $("field-form").addEventListener("submit", (event) => event.preventDefault());
  $("draw-new").addEventListener("click", () => {
    drawing = !drawing;
    svg.classList.toggle("drawing", drawing);
    $("draw-new").classList.toggle("active", drawing);
  });
  $("delete-field").addEventListener("click", () => {
    if (selected < 0) return;
    tpl.fields.splice(selected, 1);
    select(Math.min(selected, tpl.fields.length - 1));
  });

  // ---- cross-field rules ----
  function renderRules() {
    const rows = (tpl.cross_field_rules || []).map((rule, i) => {
      const div = document.createElement("div");
      div.className = "rule";
      div.dataset.index = i;
      const inputs = ["name", "expression", "message"].map((key) => {
        const input = document.createElement("input");
        input.className = "rule-" + key;
        input.placeholder = { name: "名前", expression: "式（例: total = a + b）", message: "合わないときの説明" }[key];
        input.value = rule[key] || "";
        input.addEventListener("input", () => {
          rule[key] = input.value;
          if (key === "expression") checkRule(rule, error);
        });
        return input;
      });
      const error = document.createElement("p");
      error.className = "rule-error";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "削除";
      remove.addEventListener("click", () => { tpl.cross_field_rules.splice(i, 1); renderRules(); });
      div.append(...inputs, error, remove);
      if (rule.expression) checkRule(rule, error);
      return div;
    });
    $("rules").replaceChildren(...rows);
  }

  let ruleSeq = 0;
  function checkRule(rule, errorNode) {
    const seq = ++ruleSeq;
    post("/rule", { expression: rule.expression }).then((answer) => {
      if (seq === ruleSeq || !answer.ok) errorNode.textContent = answer.ok ? "" : "式の誤り: " + answer.error;
      if (seq === ruleSeq && answer.ok) errorNode.textContent = "";
    });
  }

  $("add-rule").addEventListener("click", () => {
    tpl.cross_field_rules = tpl.cross_field_rules || [];
    tpl.cross_field_rules.push({ name: "rule_" + (tpl.cross_field_rules.length + 1), expression: "", message: "" });
    renderRules();
  });

  // ---- save and trial ----
  $("save").addEventListener("click", () => {
    $("message").textContent = "保存中…";
    post("/save", { template: tpl }).then((answer) => {
      $("message").textContent = answer.message;
      const problems = (answer.problems || []).map((p) => {
        const li = document.createElement("li");
        li.textContent = p;
        return li;
      });
      $("problems").replaceChildren(...problems);
      if (answer.ok) (tpl.fields || []).forEach((f) => { if (!f.guessed || !f.guessed.length) delete f.guessed; });
      body.dataset.saved = answer.ok ? "ok" : "refused";
    });
  });

  $("trial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("trial-file").files[0];
    if (!file) return;
    const data = new FormData();
    data.append("scan", file);
    $("trial").textContent = "読取中…";
    fetch(base + "/try" + query, { method: "POST", headers: { "X-CSRF-Token": csrf }, body: data })
      .then((r) => r.json()).then((answer) => {
        const out = [];
        (answer.pages || []).forEach((page) => {
          const h = document.createElement("h3");
          h.textContent = "p" + page.page;
          out.push(h);
          if (page.error) {
            const p = document.createElement("p");
            p.className = "rule-error";
            p.textContent = page.error;
            out.push(p);
            return;
          }
          const table = document.createElement("table");
          table.className = "trial";
          table.innerHTML = "<tr><th>項目</th><th>画像</th><th>読取値</th><th>状態</th><th>確信度</th></tr>";
          page.rows.forEach((row) => {
            const tr = document.createElement("tr");
            tr.dataset.name = row.name;
            const cells = [row.label, null, row.value, row.status, String(row.confidence)].map((text) => {
              const td = document.createElement("td");
              if (text !== null) td.textContent = text;
              return td;
            });
            if (row.crop_url) {
              const img = document.createElement("img");
              img.src = row.crop_url;
              img.alt = row.label;
              cells[1].appendChild(img);
            }
            tr.append(...cells);
            table.appendChild(tr);
          });
          out.push(table);
        });
        $("trial").replaceChildren(...(out.length ? out : [document.createTextNode(answer.message || "")]));
      });
  });

  fetch(base + "/data.json" + query).then((r) => r.json()).then((data) => {
    tpl = data.template;
    tpl.fields = tpl.fields || [];
    svg.setAttribute("viewBox", "0 0 " + tpl.page.width_mm + " " + tpl.page.height_mm);
    select(tpl.fields.length ? 0 : -1);
    renderRules();
    body.dataset.ready = "1";
  });
})();
