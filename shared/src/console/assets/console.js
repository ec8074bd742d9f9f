// The console's script: dialogs over the page, the Add Filter picker,
// closing menus, and following a download until its file is ready.
// Every page also works without it, a dialog then opening as a page.
"use strict";

document.addEventListener("click", async (event) => {
  const opener = event.target.closest("[data-open]");
  if (opener) {
    document.getElementById(opener.dataset.open)?.showModal();
    return;
  }
  const closer = event.target.closest("[data-close]");
  if (closer && closer.closest("dialog")) {
    event.preventDefault();
    const dialog = closer.closest("dialog");
    dialog.close();
    if (dialog.dataset.fetched) dialog.remove();
    return;
  }
  const link = event.target.closest("a[data-dialog]");
  if (link) {
    event.preventDefault();
    const response = await fetch(link.href, { headers: { "X-Fragment": "1" } });
    if (!response.ok) { location.href = link.href; return; }
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const dialog = holder.querySelector("dialog");
    dialog.removeAttribute("open");
    dialog.dataset.fetched = "1";
    // Its fields must not share IDs with the page's own.
    dialog.querySelectorAll("[id]").forEach((el) => { el.id = `dialog-${el.id}`; });
    dialog.querySelectorAll("label[for]").forEach((el) => { el.htmlFor = `dialog-${el.htmlFor}`; });
    [dialog, ...dialog.querySelectorAll("[aria-labelledby], [aria-describedby]")].forEach((el) => {
      for (const attr of ["aria-labelledby", "aria-describedby"]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, `dialog-${el.getAttribute(attr)}`);
      }
    });
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    link.closest("details")?.removeAttribute("open");
    dialog.showModal();
    dialog.querySelector("input:not([type=hidden]), button")?.focus();
    return;
  }
  const remove = event.target.closest(".remove-filter");
  if (remove) {
    const filter = remove.closest("[data-filter]");
    filter.querySelectorAll("input, select").forEach((input) => { input.value = ""; });
    filter.hidden = true;
    const picker = document.getElementById("add-filter");
    const label = filter.querySelector("label").textContent;
    picker?.append(new Option(label, filter.dataset.filter));
    return;
  }
  // A click elsewhere closes open menus.
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    menu.removeAttribute("open");
    menu.querySelector("summary")?.focus();
  });
});

document.addEventListener("change", (event) => {
  if (event.target.id !== "add-filter") return;
  const picker = event.target;
  const key = picker.value;
  if (!key) return;
  const filter = document.querySelector(`[data-filter="${CSS.escape(key)}"]`);
  if (filter) {
    filter.hidden = false;
    filter.querySelector("input, select")?.focus();
  }
  picker.selectedOptions[0].remove();
  picker.value = "";
});

// A page still working on something reloads itself until it is done.
const refresh = document.querySelector("[data-refresh]");
if (refresh) setTimeout(() => location.reload(), Number(refresh.dataset.refresh));

// A file that is ready is handed to the browser once.
const ready = document.querySelector("a[data-auto]");
if (ready && !sessionStorage.getItem(ready.href)) {
  sessionStorage.setItem(ready.href, "1");
  ready.click();
}

// The Upload CSV wizard.
const wizard = document.getElementById("upload");
if (wizard) uploadWizard(wizard);

function uploadWizard(form) {
  const maxBytes = Number(form.dataset.maxBytes);
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const steps = [...form.querySelectorAll("[data-step]")];
  const labels = [...document.querySelectorAll("[data-step-label]")];
  const input = document.getElementById("file");
  const drop = form.querySelector(".drop");
  const fileError = document.getElementById("file-error");
  let file = null;
  let current = 0;

  const show = (index) => {
    current = index;
    steps.forEach((step, i) => { step.hidden = i !== index; });
    labels.forEach((label, i) => {
      if (i === index) label.setAttribute("aria-current", "step");
      else label.removeAttribute("aria-current");
    });
    steps[index].querySelector("h2").focus?.();
  };

  const choose = (chosen) => {
    fileError.textContent = "";
    file = null;
    document.getElementById("file-chosen").textContent = "";
    if (!chosen) return;
    if (!/\.(csv|xlsx)$/i.test(chosen.name)) {
      fileError.textContent = `${chosen.name} is not a .csv or .xlsx file.`;
      return;
    }
    if (chosen.size > maxBytes) {
      fileError.textContent = `${chosen.name} is ${(chosen.size / 1048576).toFixed(1)} MB; the limit is ${maxBytes / 1048576} MB. Split it into smaller files.`;
      return;
    }
    if (chosen.size === 0) {
      fileError.textContent = `${chosen.name} is empty.`;
      return;
    }
    file = chosen;
    document.getElementById("file-chosen").textContent = `${chosen.name} (${(chosen.size / 1024).toFixed(1)} KB)`;
  };
  input.addEventListener("change", () => choose(input.files[0]));
  ["dragenter", "dragover"].forEach((kind) => drop.addEventListener(kind, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((kind) => drop.addEventListener(kind, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files[0]);
  });

  const checked = (name) => form.querySelector(`[name="${name}"]:checked`)?.value;
  form.addEventListener("change", (event) => {
    if (event.target.name === "existing_contacts") {
      document.getElementById("remove-warning").hidden = checked("existing_contacts") !== "remove";
    }
    if (event.target.id === "update-existing") {
      document.getElementById("update-options").hidden = !event.target.checked;
    }
    if (event.target.classList.contains("map")) {
      event.target.closest("td").querySelector(".create").hidden = event.target.value !== "+create";
    }
  });

  const settings = (dryRun) => {
    const columns = {};
    form.querySelectorAll("#mapping-table tbody tr").forEach((row) => {
      const choice = row.querySelector("select.map").value;
      columns[row.dataset.header] = choice === "" ? null
        : choice === "+create" ? {
          create: {
            name: row.querySelector(".create-name").value.trim(),
            label: row.querySelector(".create-label").value.trim(),
            type: row.querySelector(".create-type").value,
          },
        }
        : choice;
    });
    const update = form.querySelector("#update-existing").checked;
    return {
      lists: [...form.querySelectorAll("[name=lists]:checked")].map((box) => box.value),
      timezone: form.querySelector("[name=timezone]").value || null,
      existing_contacts: checked("existing_contacts"),
      update_existing: update ? { match_by: checked("match_by"), missing_attributes: checked("missing_attributes") } : null,
      columns: Object.keys(columns).length ? columns : null,
      replace_invalid_values: form.querySelector("[name=replace_invalid_values]").checked,
      default_consent: Object.fromEntries(["sms", "whatsapp", "email"].map((c) => [c, form.querySelector(`[name="consent.${c}"]`).value])),
      consent_confirmed: form.querySelector("[name=consent_confirmed]").checked,
      dry_run: dryRun,
    };
  };

  const preview = async () => {
    const mapping = document.getElementById("mapping");
    mapping.textContent = "Reading the file…";
    const head = { ...settings(false), columns: null };
    const response = await fetch(`/upload/preview?settings=${encodeURIComponent(JSON.stringify(head))}`, {
      method: "POST",
      headers: { "content-type": "text/csv", "x-csrf-token": csrf },
      body: file.slice(0, 1048576),
    });
    mapping.innerHTML = response.ok ? await response.text() : "<p class=error>The file could not be read. Reload the page and try again.</p>";
  };

  form.addEventListener("click", async (event) => {
    if (event.target.closest("[data-back]")) show(current - 1);
    if (!event.target.closest("[data-next]")) return;
    if (current === 0) {
      if (!file) {
        fileError.textContent ||= "Choose a CSV file first.";
        return;
      }
      show(1);
      await preview();
      return;
    }
    show(current + 1);
  });

  const problems = document.getElementById("start-errors");
  const run = async (dryRun) => {
    problems.hidden = true;
    const response = await fetch("/upload/start", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ settings: settings(dryRun), file_name: file.name, file_size: file.size }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({ errors: ["The import could not start. Reload the page and try again."] }));
      problems.replaceChildren(...body.errors.map((message) => Object.assign(document.createElement("p"), { textContent: message })));
      problems.hidden = false;
      return;
    }
    const started = await response.json();
    show(3);
    document.getElementById("after-dry-run").hidden = true;
    document.getElementById("upload-progress").hidden = false;
    document.getElementById("upload-name").textContent = file.name;
    const bar = document.getElementById("upload-bar");
    const progress = document.getElementById("import-progress");
    progress.textContent = "";
    const uploaded = await new Promise((done) => {
      const put = new XMLHttpRequest();
      put.open("PUT", started.upload_url);
      put.setRequestHeader("content-type", "text/csv");
      put.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
      put.onload = () => done(put.status < 300 ? null : put.responseText);
      put.onerror = () => done("the connection was lost");
      put.send(file);
    });
    if (uploaded !== null) {
      progress.innerHTML = "";
      progress.append(Object.assign(document.createElement("p"), { className: "error", textContent: `The upload failed: ${uploaded}` }));
      return;
    }
    bar.value = 100;
    document.getElementById("upload-progress").hidden = true;
    for (;;) {
      const report = await fetch(started.progress_url, { headers: { "x-fragment": "1" } });
      progress.innerHTML = await report.text();
      const state = progress.querySelector(".import-report");
      if (state?.dataset.finished === "true") {
        document.getElementById("after-dry-run").hidden = !(state.dataset.dryRun === "true" && state.dataset.status === "completed");
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("[name=dry_run]").checked);
  });
  document.getElementById("run-for-real").addEventListener("click", () => run(false));
}

// The merge screen: the After merge cell of a field follows its choice.
document.addEventListener("change", (event) => {
  const choice = event.target.closest("table.merge input[type=radio]");
  if (!choice) return;
  const after = choice.closest("tr").querySelector("td.after");
  if (after) after.textContent = choice.closest("label").textContent.trim();
});
