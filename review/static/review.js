// The review page's keyboard path: type or accept, Enter saves and moves on; checks as typed (the server checks
// again); seconds each field and form is on screen go back with the saves.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf || "";
  const pageKind = document.body.dataset.page;

  function post(url, data) {
    const body = new FormData();
    for (const [key, value] of Object.entries(data)) body.append(key, value);
    return fetch(url, { method: "POST", body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then(async (response) => {
        let json = {};
        try { json = await response.json(); } catch (e) { json = {}; }
        json.httpStatus = response.status;
        return json;
      })
      .catch(() => ({ ok: false, httpStatus: 0, message: "サーバーに接続できません / cannot reach the server" }));
  }

  // ---- checks as typed (the server repeats them with the reader's own rules) -----------------------------------
  function myNumberValid(s) {
    let total = 0;
    for (let n = 1; n <= 11; n++) total += Number(s[11 - n]) * (n <= 6 ? n + 1 : n - 5);
    const remainder = total % 11;
    return (remainder <= 1 ? 0 : 11 - remainder) === Number(s[11]);
  }
  function corporateNumberValid(s) {
    let total = 0;
    for (let n = 1; n <= 12; n++) total += Number(s[13 - n]) * (n % 2 === 1 ? 1 : 2);
    return 9 - (total % 9) === Number(s[0]);
  }
  function numberProblems(text, length, valid, what) {
    const digits = text.replace(/[\s\-]/g, "");
    if (!/^\d+$/.test(digits)) return ["数字以外の文字があります"];
    if (digits.length !== length) return [`${what}は${length}桁です（いま${digits.length}桁）`];
    if (!valid(digits)) return ["チェックディジットが合いません"];
    return [];
  }
  const DATE_TEXT = /^(明治|大正|昭和|平成|令和|[MTSHR])?\s*(元|\d{1,2})\s*[年.\/]\s*\d{1,2}\s*[月.\/]\s*\d{1,2}\s*日?$/;
  function problemsOf(kind, raw) {
    const text = (raw || "").normalize("NFKC").trim();
    if (text === "") return [];
    switch (kind) {
      case "my_number": return numberProblems(text, 12, myNumberValid, "個人番号");
      case "corporate_number": return numberProblems(text, 13, corporateNumberValid, "法人番号");
      case "amount": {
        const body = text.replace(/[,、]/g, "").replace(/^[△▲\-]/, "").replace(/円$/, "");
        return /^\d+$/.test(body) ? [] : ["金額は数字で入力してください"];
      }
      case "digits": return /^\d+$/.test(text.replace(/[\s\-]/g, "")) ? [] : ["数字以外の文字があります"];
      case "postal_code": return /^〒?\d{3}-?\d{4}$/.test(text) ? [] : ["郵便番号は 123-4567 の形です"];
      case "checkbox": return /^(0|1|true|false)$/i.test(text) ? [] : ["1（あり）か 0（なし）を入力してください"];
      case "date_wareki": {
        const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
        if (iso) {
          const d = new Date(`${text}T00:00:00Z`);
          return !isNaN(d) && d.toISOString().slice(0, 10) === text ? [] : ["存在しない日付です"];
        }
        return DATE_TEXT.test(text) ? [] : ["日付は YYYY-MM-DD か 令和6年4月1日 の形です"];
      }
      default: return [];
    }
  }

  function maskPersonal(row) {
    const mask = (s) => (s.length <= 4 ? "*".repeat(s.length) : "*".repeat(s.length - 4) + s.slice(-4));
    const input = row.querySelector("input.value");
    if (input) input.value = mask(input.value);
    const reading = row.querySelector(".reading-value");
    if (reading && /\d{5,}/.test(reading.textContent)) reading.textContent = mask(reading.textContent);
  }

  // ---- seconds on screen ----------------------------------------------------------------------------------------
  const fieldTimes = new Map();
  function startTimer(row) {
    const t = fieldTimes.get(row) || { total: 0, since: null };
    if (t.since === null) t.since = performance.now();
    fieldTimes.set(row, t);
  }
  function stopTimer(row) {
    const t = fieldTimes.get(row);
    if (t && t.since !== null) { t.total += performance.now() - t.since; t.since = null; }
  }
  function takeSeconds(row) {
    stopTimer(row);
    const t = fieldTimes.get(row) || { total: 0 };
    fieldTimes.set(row, { total: 0, since: null });
    return (t.total / 1000).toFixed(3);
  }

  // ---- one list of fields to go through with Enter (the form view and the group grid) ---------------------------
  function fieldList(options) {
    const rows = () => Array.from(document.querySelectorAll('.field-row[data-open="1"]'));
    let saving = false;

    function show(row, text, kind) {
      const msg = row.querySelector(".msg");
      if (msg) { msg.textContent = text || ""; msg.className = "msg" + (kind ? " " + kind : ""); }
    }
    function focusRow(row) {
      const input = row && row.querySelector("input.value");
      if (input) { input.focus(); input.select(); }
    }
    function nextOpen(after) {
      const open = rows();
      const all = Array.from(document.querySelectorAll(".field-row"));
      const start = all.indexOf(after);
      return open.find((row) => all.indexOf(row) > start) || open[0] || null;
    }
    function markDone(row, text) {
      row.dataset.open = "0";
      row.classList.add("done");
      const input = row.querySelector("input.value");
      if (input) input.disabled = true;
      if (row.dataset.personal === "1") maskPersonal(row);  // saved: no 個人番号 left in clear on the screen
      show(row, text, "ok");
      const outline = document.getElementById("outline-" + row.dataset.name);
      if (outline) outline.classList.add("done");
      const counter = document.getElementById("form-progress");
      if (counter) counter.textContent = String(Number(counter.textContent) + 1);
    }

    async function save(row, force, asWrittenReason) {
      if (saving) return;
      const input = row.querySelector("input.value");
      const hard = asWrittenReason ? [] : problemsOf(row.dataset.kind, input.value);
      if (hard.length) { show(row, hard.join("、"), "error"); return; }
      saving = true;
      row.classList.add("saving");
      const formPk = row.dataset.form || options.formPk;
      const result = await post(`/forms/${formPk}/fields/${encodeURIComponent(row.dataset.name)}`, {
        value: input.value, force: force ? "1" : "0", seconds: takeSeconds(row), view: options.view,
        as_written_reason: asWrittenReason || "",
      });
      row.classList.remove("saving");
      saving = false;
      if (result.ok) {
        markDone(row, result.message + (result.value ? `：${result.value}` : ""));
        options.afterSave(row, result);
        return;
      }
      if (result.httpStatus === 409 && result.resolved) {
        markDone(row, result.message);
        options.afterSave(row, result);
        return;
      }
      const problems = result.problems ? "：" + result.problems.join("、") : "";
      show(row, (result.message || "保存できませんでした") + problems, "error");
      startTimer(row);
      focusRow(row);
    }

    document.querySelectorAll(".field-row").forEach((row) => {
      const input = row.querySelector("input.value");
      if (!input) return;
      input.addEventListener("focus", () => {
        document.querySelectorAll(".field-row.current").forEach((r) => r.classList.remove("current"));
        document.querySelectorAll(".outline.current").forEach((o) => o.classList.remove("current"));
        row.classList.add("current");
        const outline = document.getElementById("outline-" + row.dataset.name);
        if (outline) outline.classList.add("current");
        row.scrollIntoView({ block: "nearest" });
        startTimer(row);
      });
      input.addEventListener("blur", () => stopTimer(row));
      input.addEventListener("input", () => {
        const problems = problemsOf(row.dataset.kind, input.value);
        show(row, problems.join("、"), problems.length ? "error" : "");
        input.setAttribute("aria-invalid", problems.length ? "true" : "false");
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); save(row, event.shiftKey); }
      });
    });
    // F9 (supervisors): 記載どおり確定, the value kept although it fails a check, with a reason from the list.
    document.querySelectorAll(".field-row select.as-written-reason").forEach((select) => {
      const row = select.closest(".field-row");
      select.addEventListener("keydown", (event) => {
        const digit = /^[1-9]$/.test(event.key) ? Number(event.key) : 0;
        if (digit && digit <= select.options.length) select.selectedIndex = digit - 1;
        if (event.key === "Enter" || digit) { event.preventDefault(); select.closest(".as-written").hidden = true; save(row, true, select.value); }
        else if (event.key === "Escape") { event.preventDefault(); select.closest(".as-written").hidden = true; focusRow(row); }
      });
    });
    function asWritten(row) {
      const box = row && row.querySelector(".as-written");
      if (!box) {
        if (row) show(row, "記載どおり確定は監督者のみできます（この項目ではできません）", "error");
        if (row && row.dataset.open === "1") {
          post(`/forms/${row.dataset.form || options.formPk}/fields/${encodeURIComponent(row.dataset.name)}`,
               { value: row.querySelector("input.value").value, as_written_reason: "written_so", view: options.view });
        }
        return;
      }
      box.hidden = false;
      box.querySelector("select").focus();
    }
    return { rows, focusRow, nextOpen, show, asWritten, current: () => document.querySelector(".field-row.current") };
  }

  // ---- the form view ---------------------------------------------------------------------------------------------
  function formView() {
    const view = document.getElementById("form-view");
    const formPk = view.dataset.form;
    const nextUrl = view.dataset.next;
    const inReview = view.dataset.inReview === "1";
    const loaded = performance.now();
    const formMessage = document.getElementById("form-message");

    document.querySelectorAll(".outline").forEach((outline) => {
      const [left, top, width, height] = outline.dataset.box.split(",").map(Number);
      Object.assign(outline.style, { left: left + "%", top: top + "%", width: width + "%", height: height + "%" });
    });
    const frame = document.querySelector(".page-frame");
    if (frame) frame.style.paddingTop = frame.dataset.ratio + "%";

    const list = fieldList({
      formPk, view: "form",
      afterSave(row, result) {
        if (result.form_state === "READY") {
          formMessage.textContent = "この様式の確認が終わりました。次の様式を開きます。";
          location.assign(nextUrl);
          return;
        }
        const next = list.nextOpen(row);
        if (next) { list.focusRow(next); return; }
        formMessage.textContent = "残りは他の確認者の入力待ちです。次の様式を開きます。";
        location.assign(nextUrl);
      },
    });
    const first = list.rows()[0];
    if (first) list.focusRow(first);

    async function reveal(row) {
      if (!row || row.dataset.personal !== "1") return;
      const result = await post(`/forms/${formPk}/fields/${encodeURIComponent(row.dataset.name)}/reveal`, {});
      if (!result.ok) {
        list.show(row, result.message || "表示できません", "error");
        formMessage.textContent = result.message || "表示できません";
        return;
      }
      const img = row.querySelector(".crop-image");
      img.src = result.crop_url;
      img.hidden = false;
      const input = row.querySelector("input.value");
      if (input && result.value !== null && result.value !== undefined && input.value === "") input.value = result.value;
      const reading = row.querySelector(".reading-value");
      if (reading && result.value) reading.textContent = result.value;
      list.focusRow(row);
    }
    document.querySelectorAll("button.reveal").forEach((button) => {
      button.addEventListener("click", () => reveal(button.closest(".field-row")));
    });

    const rejectForm = document.getElementById("reject-form");
    if (rejectForm) {
      rejectForm.addEventListener("submit", () => {
        rejectForm.querySelector('input[name="seconds"]').value = ((performance.now() - loaded) / 1000).toFixed(3);
      });
    }
    document.addEventListener("keydown", (event) => {
      if (event.key === "F2") {
        event.preventDefault();
        const current = list.current();
        const personal = current && current.dataset.personal === "1" ? current
          : document.querySelector('.field-row[data-personal="1"][data-open="1"]')
          || document.querySelector('.field-row[data-personal="1"]');
        if (!personal) { formMessage.textContent = "この様式に個人番号の項目はありません"; return; }
        reveal(personal);
      }
      else if (event.key === "F9") { event.preventDefault(); list.asWritten(list.current()); }
      else if (event.key === "F4" && !rejectForm && inReview) {
        event.preventDefault();
        formMessage.textContent = "差し戻し（保留）は監督者が行います。F8 で飛ばしてください。";
        post(`/forms/${formPk}/reject`, { reason: "(clerk F4)" });
      }
      else if (event.key === "F4" && rejectForm) {
        event.preventDefault();
        rejectForm.hidden = false;
        document.getElementById("reject-reason").focus();
      } else if (event.key === "Escape" && rejectForm && !rejectForm.hidden) {
        rejectForm.hidden = true;
        list.focusRow(list.current() || list.rows()[0]);
      } else if (event.key === "F8") { event.preventDefault(); location.assign(nextUrl); }
    });
    if (inReview) {
      window.addEventListener("pagehide", () => {
        const body = new FormData();
        body.append("csrf_token", csrf);
        body.append("seconds", ((performance.now() - loaded) / 1000).toFixed(3));
        body.append("view", "form");
        navigator.sendBeacon(`/forms/${formPk}/time`, body);
      });
    }
  }

  // ---- group verification ------------------------------------------------------------------------------------------
  function groupView() {
    const list = fieldList({
      view: "group",
      afterSave(row) {
        const next = list.nextOpen(row);
        if (next) { list.focusRow(next); return; }
        const done = document.getElementById("group-done");
        done.hidden = false;
        done.querySelector("a").focus();
      },
    });
    const first = list.rows()[0];
    if (first) list.focusRow(first);
  }

  // ---- the queue ---------------------------------------------------------------------------------------------------
  function queueView() {
    const links = Array.from(document.querySelectorAll("a.queue-link"));
    document.addEventListener("keydown", (event) => {
      const index = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && links.length) { event.preventDefault(); links[Math.min(index + 1, links.length - 1)].focus(); }
      else if (event.key === "ArrowUp" && links.length) { event.preventDefault(); links[Math.max(index - 1, 0)].focus(); }
      else if (event.key === "Enter" && index < 0 && pageKind === "queue" && links.length) { event.preventDefault(); location.assign("/forms/next"); }
    });
  }

  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey && (event.key === "z" || event.key === "Z")) || event.shiftKey) return;
    const active = document.activeElement;
    if (active && active.tagName === "INPUT" && active.value !== active.defaultValue) return;
    const undoForm = document.getElementById("undo-form");
    if (!undoForm) return;
    event.preventDefault();
    undoForm.submit();
  });

  if (pageKind === "form") formView();
  else if (pageKind === "group") groupView();
  else if (pageKind === "queue" || pageKind === "group-index") queueView();
})();
