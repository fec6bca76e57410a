// The admin page: the token stays in this tab's sessionStorage and goes out only as a bearer
// header to this server's admin API. Everything shown is inserted as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem("fieldcrypt-admin-token"); }

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem("fieldcrypt-admin-token");
    throw new Error("not an admin token");
  }
  if (!response.ok) { throw new Error("HTTP " + response.status); }
  return response.json();
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  row.appendChild(td);
}

async function loadTrail() {
  const params = new URLSearchParams();
  for (const name of ["principal", "column", "outcome"]) {
    const value = $("f-" + name).value.trim();
    if (value) { params.set(name, value); }
  }
  const data = await api("/v1/admin/trail?" + params.toString());
  const body = $("trail").querySelector("tbody");
  body.replaceChildren();
  for (const e of data.entries) {
    const row = document.createElement("tr");
    row.className = "outcome-" + e.outcome;
    for (const v of [e.replica, e.seq, e.time, e.principal, e.operation, e.table + "." + e.column, e.row, e.purpose, e.outcome]) {
      cell(row, v);
    }
    body.appendChild(row);
  }
}

async function loadVerify() {
  const data = await api("/v1/admin/verify");
  const status = $("verify-status");
  if (data.clean) {
    status.textContent = "verified: " + data.entries + " entries, every one covered by a signed checkpoint";
  } else if (data.clean_but_unsigned_tail) {
    status.textContent = "verified up to the last checkpoint; the latest entries await the next one";
  } else {
    status.textContent = data.problems.length + " finding(s) in " + data.entries + " entries";
  }
  status.className = data.clean || data.clean_but_unsigned_tail ? "ok" : "error";
  const list = $("verify-problems");
  list.replaceChildren();
  for (const p of data.problems) {
    const li = document.createElement("li");
    li.textContent = p;
    list.appendChild(li);
  }
}

async function loadOverview() {
  const data = await api("/v1/admin/overview");
  $("who").textContent = "signed in as " + data.you;
  const body = $("budgets").querySelector("tbody");
  body.replaceChildren();
  for (const b of data.budgets) {
    const row = document.createElement("tr");
    for (const v of [b.principal, b.column, b.used, b.limit, b.window_seconds]) { cell(row, v); }
    body.appendChild(row);
  }
  $("policy").textContent = JSON.stringify(data.policy, null, 2);
}

async function refresh() {
  try {
    await Promise.all([loadOverview(), loadTrail(), loadVerify()]);
    $("login").hidden = true;
    $("app").hidden = false;
  } catch (err) {
    $("app").hidden = true;
    $("login").hidden = false;
    const p = $("login-error");
    p.textContent = err.message;
    p.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("fieldcrypt-admin-token", $("token").value);
    $("token").value = "";
    refresh();
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadTrail(); });
  $("refresh").addEventListener("click", () => { refresh(); });
  if (token()) { refresh(); }
});
