// The signing page: show the challenge, have the browser's wallet sign it, post the signature.
// ETH: EIP-1193 `personal_sign` of the message's UTF-8 bytes; SOL: `signMessage` (Phantom and
// Wallet Standard providers injected as `window.solana` / `window.phantom.solana`).

import { api, ApiError, languageSwitch, loadWords, t } from "./common.js";

const nonce = decodeURIComponent(location.pathname.split("/").pop());
let challenge = null;

function show(kind, text) {
  const box = document.getElementById("status");
  box.className = `alert alert-${kind}`;
  box.textContent = text;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function draw() {
  document.title = t("wallet_title");
  if (!challenge) return;
  document.getElementById("intro").textContent = t("wallet_intro", { address: challenge.address });
  document.getElementById("message").textContent = challenge.message;
  const at = new Date(challenge.expires_at.endsWith("Z") ? challenge.expires_at : `${challenge.expires_at}Z`);
  document.getElementById("expires").textContent = t("wallet_expires", { at: at.toLocaleString() });
  const closed = challenge.used ? "wallet_used" : challenge.expired ? "wallet_expired" : null;
  if (closed) show("warning", t(closed));
  document.getElementById("sign").disabled = Boolean(closed);
}

async function submit(signature) {
  try {
    const done = await api("/api/v1/wallet/verify", { method: "POST", body: { nonce, signature } });
    show("success", t("wallet_done", { address: done.address }));
    document.getElementById("sign").disabled = true;
  } catch (error) {
    show("danger", error instanceof ApiError ? error.message : String(error));
  }
}

async function signEthereum() {
  const provider = window.ethereum;
  if (!provider) return null;
  const accounts = await provider.request({ method: "eth_requestAccounts" });
  const account = accounts.find((a) => a.toLowerCase() === challenge.address.toLowerCase());
  if (!account) {
    show("warning", t("wallet_wrong_account", { account: accounts[0] ?? "?", address: challenge.address }));
    return undefined;
  }
  const data = `0x${hex(new TextEncoder().encode(challenge.message))}`;
  return provider.request({ method: "personal_sign", params: [data, account] });
}

async function signSolana() {
  const provider = window.phantom?.solana ?? window.solana;
  if (!provider) return null;
  const connected = await provider.connect();
  const key = (connected?.publicKey ?? provider.publicKey)?.toString();
  if (key && key !== challenge.address) {
    show("warning", t("wallet_wrong_account", { account: key, address: challenge.address }));
    return undefined;
  }
  const signed = await provider.signMessage(new TextEncoder().encode(challenge.message), "utf8");
  return hex(signed.signature ?? signed);
}

async function sign() {
  show("info", t("wallet_signing"));
  let signature;
  try {
    signature = challenge.chain === "ETH" ? await signEthereum() : await signSolana();
  } catch (error) {
    show("danger", t("wallet_rejected", { reason: error?.message ?? String(error) }));
    return;
  }
  if (signature === null) {
    show("warning", t("wallet_no_provider", { chain: challenge.chain }));
    return;
  }
  if (signature !== undefined) await submit(signature);
}

async function main() {
  await loadWords();
  languageSwitch(draw);
  try {
    challenge = await api(`/api/v1/wallet/challenges/${encodeURIComponent(nonce)}`);
  } catch (error) {
    show("danger", error.message);
    document.getElementById("sign").disabled = true;
  }
  draw();
  document.getElementById("sign").addEventListener("click", sign);
  document.getElementById("paste-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await submit(document.getElementById("signature").value.trim());
  });
  document.body.dataset.ready = "1";
}

main();
