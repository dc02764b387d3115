/**
 * Customer 360's assistant card: a CSM or executive brief of the account, follow-up questions,
 * and a rating of every answer — all through the SaaSGuard API the page reached (live-api.ts:
 * the API `npm start` mounts on the site's origin, or an allowed `?api=`). A static copy of the
 * site has no API and says so. The API names the account; the model behind it never saw the name.
 * An API key, when the API needs one, is the one typed into the work card (the same tab storage).
 */
import {html} from "npm:htl";
import type {LiveApi} from "./live-api.js";

/** The API's brief (SummaryResponseSchema in server/api/schemas.ts), as far as the card shows it. */
interface Brief {
  id: string;
  audience: "csm" | "executive";
  generator: "llm" | "builtin";
  llm_model: string | null;
  flagged: boolean;
  fallback_reason: string | null;
  summary: {headline: string; risk_level: string; summary: string; key_points: string[]; recommended_actions: string[]};
  watermark: string;
}

/** The API's answer to a question (AskResponseSchema). */
interface Answer {
  id: string;
  refused: boolean;
  answer: string;
  cited_facts: {fact: string; label: string; value: unknown}[];
  generator: "llm" | "builtin";
  llm_model: string | null;
  flagged: boolean;
  fallback_reason: string | null;
  watermark: string;
}

function isBrief(x: unknown): x is Brief {
  const a = x as Brief | null;
  return (
    typeof a?.id === "string" &&
    typeof a.summary?.headline === "string" &&
    Array.isArray(a.summary.key_points) &&
    Array.isArray(a.summary.recommended_actions) &&
    typeof a.watermark === "string"
  );
}

function isAnswer(x: unknown): x is Answer {
  const a = x as Answer | null;
  return typeof a?.id === "string" && typeof a.answer === "string" && Array.isArray(a.cited_facts);
}

const writer = (a: {generator: string; llm_model: string | null; fallback_reason: string | null}, what: string) =>
  a.generator === "llm"
    ? `written by ${a.llm_model ?? "a language model"}, checked against the account's facts`
    : `written by the built-in ${what}${a.fallback_reason ? ` (${a.fallback_reason})` : ""}`;

/** "Was this accurate?" — one rating per person per text; rating again replaces it. */
function rating(api: LiveApi, id: string): HTMLElement {
  const state = html`<span class="sg-meta" aria-live="polite"></span>` as HTMLElement;
  const reason =
    html`<input type="text" maxlength="500" placeholder="What was wrong? (optional, no personal data)" aria-label="What was wrong" style="display:none">` as HTMLInputElement;
  const send = async (verdict: "accurate" | "inaccurate") => {
    if (verdict === "inaccurate" && reason.style.display === "none") {
      reason.style.display = "";
      reason.focus();
      state.textContent = "Say what was wrong (optional), then press Not accurate again.";
      return;
    }
    state.textContent = "Saving…";
    try {
      await api.call(`summaries/${encodeURIComponent(id)}/feedback`, {
        method: "POST",
        body: {verdict, ...(verdict === "inaccurate" && reason.value.trim() ? {reason: reason.value.trim()} : {})},
      });
      state.textContent = `Thanks: rated ${verdict === "accurate" ? "accurate" : "not accurate"}.`;
      box.dataset.rated = verdict;
    } catch (error) {
      state.textContent = `Rating not saved: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  const box = html`<div class="sg-row assistant-rating">
    <span class="sg-meta">Was this accurate?</span>
    <button data-verdict="accurate" onclick=${() => send("accurate")}>Accurate</button>
    <button data-verdict="inaccurate" onclick=${() => send("inaccurate")}>Not accurate</button>
    ${reason}${state}</div>` as HTMLElement;
  return box;
}

function briefView(api: LiveApi, a: Brief): Node {
  const s = a.summary;
  return html`<div class="sg-callout" data-generator=${a.generator} data-flagged=${String(a.flagged)} data-id=${a.id}>
    <p><strong>${s.headline}</strong> <span class="sg-meta">risk: ${s.risk_level}</span></p>
    <p>${s.summary}</p>
    <ul>${s.key_points.map((k) => html`<li>${k}</li>`)}</ul>
    <p class="sg-meta">${a.audience === "executive" ? "The ask" : "Next steps"}</p>
    <ul>${s.recommended_actions.map((k) => html`<li>${k}</li>`)}</ul>
    <p class="sg-meta">${writer(a, "summariser")}${a.flagged ? " — flagged: the model's answer failed a check and was replaced" : ""}</p>
    <div class="sg-watermark">${a.watermark}</div>
    ${rating(api, a.id)}
  </div>` as Node;
}

function answerView(api: LiveApi, question: string, a: Answer): Node {
  return html`<div class="sg-callout assistant-answer" data-refused=${String(a.refused)} data-generator=${a.generator} data-id=${a.id}>
    <p class="sg-meta">Q: ${question}</p>
    <p>${a.answer}</p>
    ${a.cited_facts.length ? html`<p class="sg-meta">Based on: ${a.cited_facts.map((c) => c.label).join(" · ")}</p>` : ""}
    <p class="sg-meta">${writer(a, "answerer")}</p>
    <div class="sg-watermark">${a.watermark}</div>
    ${a.refused ? "" : rating(api, a.id)}
  </div>` as Node;
}

/**
 * The card. Element ids are what the Chromium tests drive: #c360-summary (with its button),
 * #c360-summary-note (data-state unavailable|refused), #c360-summary-output (data-state
 * loading|done|error), #c360-ask and #c360-answers.
 */
export function assistantPanel(api: LiveApi | {unavailable: string}, customerId: string): HTMLElement {
  if ("unavailable" in api) {
    const refused = /built to call only/.test(api.unavailable);
    return html`<div id="c360-summary"><button disabled aria-describedby="c360-summary-note">Generate brief</button>
      <p class="sg-meta" id="c360-summary-note" data-state=${refused ? "refused" : "unavailable"}>The assistant is <strong>unavailable</strong>: ${api.unavailable}.</p></div>` as HTMLElement;
  }
  const out = html`<div id="c360-summary-output" aria-live="polite"></div>` as HTMLElement;
  const audience = html`<select aria-label="Brief for">
      <option value="csm">CSM brief: the next call</option>
      <option value="executive">Executive brief: ARR at stake and the ask</option>
    </select>` as HTMLSelectElement;
  const generate = html`<button>Generate brief</button>` as HTMLButtonElement;
  generate.onclick = async () => {
    generate.disabled = true;
    out.dataset.state = "loading";
    out.replaceChildren(html`<span class="sg-meta">Writing the brief…</span>` as Node);
    try {
      const body = await api.call<unknown>("summaries/customer", {
        method: "POST",
        body: {customer_id: customerId, audience: audience.value},
      });
      if (!isBrief(body)) throw new Error("the API's answer is not a brief (is this a SaaSGuard API?)");
      out.replaceChildren(briefView(api, body));
      out.dataset.state = "done";
    } catch (error) {
      out.replaceChildren(
        html`<div class="sg-callout sg-warn">Brief failed: ${error instanceof Error ? error.message : String(error)}</div>` as Node,
      );
      out.dataset.state = "error";
    } finally {
      generate.disabled = false;
    }
  };

  const answers = html`<div id="c360-answers" aria-live="polite"></div>` as HTMLElement;
  const question =
    html`<input type="text" maxlength="300" placeholder="Ask about this account, e.g. What drove the ticket surge?" aria-label="Question about this account" style="flex:1">` as HTMLInputElement;
  const ask = html`<button type="submit">Ask</button>` as HTMLButtonElement;
  const form = html`<form id="c360-ask" class="sg-row">${question}${ask}</form>` as HTMLFormElement;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const q = question.value.trim();
    if (!q) return;
    ask.disabled = true;
    answers.dataset.state = "loading";
    try {
      const body = await api.call<unknown>("summaries/customer/ask", {
        method: "POST",
        body: {customer_id: customerId, question: q},
      });
      if (!isAnswer(body)) throw new Error("the API's answer is not an answer (is this a SaaSGuard API?)");
      answers.prepend(answerView(api, q, body));
      question.value = "";
      answers.dataset.state = "done";
    } catch (error) {
      answers.prepend(
        html`<div class="sg-callout sg-warn">Question failed: ${error instanceof Error ? error.message : String(error)}</div>` as Node,
      );
      answers.dataset.state = "error";
    } finally {
      ask.disabled = false;
    }
  };
  return html`<div id="c360-summary">
    <div class="sg-row">${audience}${generate}<span class="sg-meta">API: ${api.base.origin}${api.base.pathname}</span></div>
    ${out}
    <p class="sg-meta">Follow-up questions are answered from this account's facts only, with the facts cited.</p>
    ${form}${answers}
  </div>` as HTMLElement;
}
