/**
 * Working CTAs from the pages: each CTA's live state (from `GET /ctas`) and the actions a CSM
 * takes — start, done, snooze until a date with a reason, dismiss with one of the configured
 * reasons, add a note — sent as `PATCH /ctas/{id}` with the version read, so a change someone
 * else made in between is refused instead of overwritten. Without an API the panel says that
 * actions are unavailable and the page keeps showing the nightly snapshot.
 */
import {html} from "npm:htl";
import {config} from "../rules/config.js";
import {formatDate, parseUtc} from "./format.js";
import {API_KEY_STORAGE, ApiCallError, type LiveApi} from "./live-api.js";

/** A CTA as `GET /ctas` returns it (the fields the panel uses). */
export interface LiveCta {
  cta_id: string;
  customer_id: string;
  company_name: string;
  owner: string | null;
  reason: string;
  playbook: string | null;
  step: string | null;
  priority: string;
  due_date: string;
  overdue: boolean;
  status: string;
  snoozed_until: string | null;
  status_reason: string | null;
  version: number;
}

const STATUS_LABEL: Record<string, string> = {
  open: "Open",
  in_progress: "In progress",
  snoozed: "Snoozed",
  done: "Done",
  dismissed: "Dismissed",
  closed: "Closed (trigger cleared)",
};

/** Every live CTA matching `query` (all pages). */
export async function fetchLiveCtas(api: LiveApi, query: Record<string, string>): Promise<LiveCta[]> {
  const out: LiveCta[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({status: "open,in_progress,snoozed", limit: "500", ...query});
    if (cursor) q.set("cursor", cursor);
    const page: {items: LiveCta[]; next_cursor: string | null} = await api.call(`ctas?${q}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** The field a page's API key is typed into, kept for this browser tab only (sessionStorage). */
export function apiKeyInput(): HTMLInputElement {
  const key =
    html`<input type="password" placeholder="API key (if required)" aria-label="API key" autocomplete="off" value=${sessionStorage.getItem(API_KEY_STORAGE) ?? ""}>` as HTMLInputElement;
  key.onchange = () => sessionStorage.setItem(API_KEY_STORAGE, key.value);
  return key;
}

/** The banner saying where actions go, or why there are none. */
export function workBanner(api: LiveApi | {unavailable: string}, asOf: string): HTMLElement {
  if ("unavailable" in api)
    return html`<p class="sg-callout" id="cta-actions-state" data-state="unavailable">Actions are <strong>unavailable</strong>: ${api.unavailable}. This is the nightly snapshot of ${formatDate(parseUtc(asOf))}.</p>` as HTMLElement;
  const key = apiKeyInput();
  return html`<p class="sg-meta" id="cta-actions-state" data-state="live">Live: CTA states from ${api.base.origin}${api.base.pathname}; changes are saved as you make them. ${key}</p>` as HTMLElement;
}

/**
 * A table of CTAs with their live state and actions. `ctas` are the live rows; `onChange`
 * receives each CTA after a successful change.
 */
export function ctaWorkTable(
  api: LiveApi,
  ctas: readonly LiveCta[],
  {asOf, onChange}: {asOf: string; onChange?: (cta: LiveCta) => void},
): HTMLElement {
  const inAWeek = isoDay(new Date(Math.max(Date.now(), parseUtc(asOf).getTime()) + 7 * 86_400_000));
  const rows = ctas.map((cta) => {
    let current = cta;
    const status = html`<td class="cta-status"></td>` as HTMLElement;
    const message = html`<div class="sg-meta cta-message" aria-live="polite"></div>` as HTMLElement;
    const form = html`<div class="cta-form"></div>` as HTMLElement;
    const render = () => {
      status.textContent =
        STATUS_LABEL[current.status] +
        (current.status === "snoozed" && current.snoozed_until
          ? ` until ${formatDate(parseUtc(current.snoozed_until))}`
          : "");
      status.dataset.status = current.status;
    };
    const send = async (body: Record<string, unknown>, done: string) => {
      message.textContent = "Saving…";
      try {
        const next: LiveCta = await api.call(`ctas/${current.cta_id}`, {
          method: "PATCH",
          body: {...body, expected_version: current.version},
        });
        current = next;
        render();
        form.replaceChildren();
        message.textContent = done;
        message.dataset.state = "saved";
        onChange?.(current);
      } catch (e) {
        message.dataset.state = "error";
        message.textContent =
          e instanceof ApiCallError && e.status === 409
            ? `Not saved: ${e.message}. Reload the page to see the latest state.`
            : `Not saved: ${e instanceof Error ? e.message : String(e)}`;
      }
    };
    const button = (label: string, action: string, onclick: () => void) => {
      const b = html`<button type="button" data-action=${action}>${label}</button>` as HTMLButtonElement;
      b.onclick = onclick;
      return b;
    };
    const snoozeForm = () => {
      const until =
        html`<input type="date" aria-label="Snooze until" min=${isoDay(new Date(Date.now() + 86_400_000))} value=${inAWeek}>` as HTMLInputElement;
      const why =
        html`<input type="text" aria-label="Snooze reason" placeholder="Why (e.g. customer on leave)" maxlength=${config.ctaWork.reasonMaxChars}>` as HTMLInputElement;
      form.replaceChildren(
        html`<span>${until}${why}${button("Save snooze", "save-snooze", () => void send({status: "snoozed", snoozed_until: until.value, reason: why.value.trim() || undefined}, "Snoozed."))}</span>` as Node,
      );
    };
    const dismissForm = () => {
      const why =
        html`<select aria-label="Dismiss reason">${config.ctaWork.dismissReasons.map((r) => html`<option value=${r}>${r.replaceAll("_", " ")}</option>`)}</select>` as HTMLSelectElement;
      form.replaceChildren(
        html`<span>${why}${button("Save dismissal", "save-dismiss", () => void send({status: "dismissed", reason: why.value}, "Dismissed."))}</span>` as Node,
      );
    };
    const noteForm = () => {
      const text =
        html`<textarea aria-label="Note" rows="2" maxlength=${config.ctaWork.noteMaxChars} placeholder="What happened, what is next"></textarea>` as HTMLTextAreaElement;
      form.replaceChildren(
        html`<span>${text}${button("Save note", "save-note", () => void send({note: text.value}, "Note added."))}</span>` as Node,
      );
    };
    render();
    return html`<tr data-cta=${cta.cta_id}>
      <td>${cta.company_name}</td><td>${cta.playbook ?? ""}${cta.step ? ` → ${cta.step}` : ""}</td>
      <td>${cta.priority}</td><td>${formatDate(parseUtc(cta.due_date))}${cta.overdue ? " (overdue)" : ""}</td>${status}
      <td>${button("Start", "start", () => void send({status: "in_progress"}, "Started."))}${button("Done", "done", () => void send({status: "done"}, "Marked done."))}${button("Snooze…", "snooze", snoozeForm)}${button("Dismiss…", "dismiss", dismissForm)}${button("Note…", "note", noteForm)}${form}${message}</td>
    </tr>`;
  });
  return html`<table class="sg-table" id="cta-work"><thead><tr><th>Account</th><th>Play → step</th><th>Priority</th><th>Due</th><th>Status</th><th>Work it</th></tr></thead>
    <tbody>${rows}</tbody></table>` as HTMLElement;
}

/**
 * The whole panel: where actions go (or why there are none) and the live CTAs matching `query`
 * (e.g. `{account}` on Customer 360, `{owner}` on the CSM queue).
 */
export async function ctaWorkPanel(
  api: LiveApi | {unavailable: string},
  query: Record<string, string>,
  asOf: string,
  {order}: {order?: readonly string[]} = {},
): Promise<HTMLElement> {
  const banner = workBanner(api, asOf);
  if ("unavailable" in api) return html`<div class="cta-work">${banner}</div>` as HTMLElement;
  try {
    let ctas = await fetchLiveCtas(api, query);
    // a plan's order (e.g. this week's CTAs, most ARR saved per hour first), and only those in it
    if (order) {
      const at = new Map(order.map((id, i) => [id, i]));
      ctas = ctas.filter((c) => at.has(c.cta_id)).sort((a, b) => at.get(a.cta_id)! - at.get(b.cta_id)!);
    }
    if (!ctas.length)
      return html`<div class="cta-work">${banner}<p class="sg-meta">No open calls to action.</p></div>` as HTMLElement;
    return html`<div class="cta-work">${banner}${ctaWorkTable(api, ctas, {asOf})}</div>` as HTMLElement;
  } catch (e) {
    return html`<div class="cta-work"><p class="sg-callout sg-warn" id="cta-actions-state" data-state="error">Could not read the live CTAs: ${e instanceof Error ? e.message : String(e)}. This is the nightly snapshot.</p></div>` as HTMLElement;
  }
}
