// Shared by every page: the page's words (`t`), the API call with the CSRF header, sign-in.

const LANG_KEY = "kyrios.lang";
let words = {};

/** The chosen language: the switch's last choice, else the browser's, else English. */
export function language() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "en" || saved === "ja") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ja") ? "ja" : "en";
}

/** The page word `key` in the chosen language, its `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Load the words of the chosen language and write them into every `[data-t]` element. */
export async function loadWords() {
  const lang = language();
  const response = await fetch(`/ui/text/${lang}`);
  words = await response.json();
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => {
    el.textContent = t(el.dataset.t);
  });
  document.title = t("title");
}

/** Wire the language switch: a change reloads the words and calls `onChange` to redraw. */
export function languageSwitch(onChange) {
  const select = document.getElementById("lang");
  select.value = language();
  select.addEventListener("change", async () => {
    localStorage.setItem(LANG_KEY, select.value);
    await loadWords();
    onChange();
  });
}

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

/** An API error with the server's message (already in the user's language) and machine code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function send(path, method, body) {
  const headers = { "Accept-Language": language() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const csrf = cookie("kyrios_csrf");
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  return fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Call the API; JSON back, or an `ApiError` from the one error shape. A lapsed sign-in is renewed once. */
export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await send(path, method, body);
    if (response.status === 401 && cookie("kyrios_csrf") && !path.startsWith("/api/v1/auth/")) {
      const renewed = await send("/api/v1/auth/refresh", "POST");
      if (renewed.ok) response = await send(path, method, body);
    }
  } catch {
    throw new ApiError(0, "network", t("network_error"));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: "http", message: response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

/** Who is signed in (`/api/v1/me`), or null. */
export async function whoAmI() {
  if (!cookie("kyrios_csrf")) return null;
  try {
    return await api("/api/v1/me");
  } catch {
    return null;
  }
}

/** Draw the sign-in form (dev login, local mode) or the name and sign-out into `#auth`. */
export function renderAuth(me, onChange) {
  const box = document.getElementById("auth");
  box.replaceChildren();
  if (me) {
    const name = document.createElement("span");
    name.className = "navbar-text text-light small";
    name.id = "whoami";
    name.textContent = t("signed_in_as", { name: me.name });
    const out = document.createElement("button");
    out.className = "btn btn-sm btn-outline-light";
    out.id = "logout";
    out.textContent = t("sign_out");
    out.addEventListener("click", async () => {
      await api("/api/v1/auth/logout", { method: "POST" }).catch(() => null);
      onChange();
    });
    box.className = "d-flex align-items-center gap-2";
    box.append(name, out);
    return;
  }
  const form = document.createElement("form");
  form.className = "d-flex gap-2";
  form.id = "login-form";
  const input = document.createElement("input");
  input.className = "form-control form-control-sm";
  input.id = "login-name";
  input.placeholder = t("your_name");
  input.maxLength = 64;
  input.required = true;
  const button = document.createElement("button");
  button.className = "btn btn-sm btn-light text-nowrap";
  button.type = "submit";
  button.textContent = t("sign_in");
  const error = document.createElement("span");
  error.className = "small text-warning";
  error.id = "login-error";
  form.append(input, button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/v1/auth/dev-login", { method: "POST", body: { name: input.value.trim() } });
      onChange();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  box.replaceChildren(form);
}

/** Cents as money in the chosen language (`12,345.00`). */
export function money(cents) {
  if (cents === null || cents === undefined) return "—";
  const locale = language() === "ja" ? "ja-JP" : "en-US";
  return (cents / 100).toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A whole number with grouping. */
export function units(n) {
  return Number(n).toLocaleString(language() === "ja" ? "ja-JP" : "en-US");
}

/** A table cell with text, optionally right-aligned and classed. */
export function cell(text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/**
 * The account's margin against its shorts, or null without one: its status (a coloured badge) and
 * the levels that decide it. Restricted: only orders that reduce risk are accepted.
 */
export function marginLine(margin) {
  if (!margin || (margin.short_value_cents === 0 && margin.status === "ok")) return null;
  const line = document.createElement("p");
  line.id = "portfolio-margin";
  line.className = "small mb-2";
  const badge = document.createElement("span");
  const colour = { ok: "text-bg-success", warning: "text-bg-warning", restricted: "text-bg-danger" }[margin.status];
  badge.className = `badge ${colour} me-2`;
  badge.dataset.status = margin.status;
  badge.textContent = t(`margin_${margin.status}`);
  const levels = document.createElement("span");
  levels.className = "text-muted";
  levels.textContent = t("margin_levels", {
    requirement: money(margin.requirement_cents),
    maintenance: money(margin.maintenance_cents),
  });
  line.append(badge, levels);
  if (margin.status === "restricted") {
    const only = document.createElement("div");
    only.className = "text-danger";
    only.textContent = t("margin_restricted_help");
    line.append(only);
  }
  return line;
}
